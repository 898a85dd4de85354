#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: identity_account_info
short_description: Find Microsoft Defender for Identity identity accounts
version_added: 1.0.0
description:
  - Looks up the identities that Microsoft Defender for Identity observes (the Microsoft Graph
    C(identityAccounts) resource, C(GET /security/identities/identityAccounts)), with the accounts
    each identity has in Active Directory, Microsoft Entra ID and Okta and the response actions each
    account offers.
  - Give at most one of O(id), O(user_principal_name), O(email_address), O(on_premises_security_identifier),
    O(display_name), O(account_identifier) or O(filter). Without any of them every identity is listed.
  - Every page of results is read (C(@odata.nextLink) is followed to the end).
  - Both response shapes Microsoft documents are understood (the schema's bare object with
    C(identityProvider) and camelCase values, and the documentation examples' C(value)-wrapped object with
    C(provider) and PascalCase values). Results are always returned with snake_case keys and the schema's
    camelCase values, for example V(activeDirectory) and V(forcePasswordReset).
  - Use the result to pick the RV(identity_accounts[].id) to give to M(msgraph.security.identity_account_action).
author:
  - msgraph.security maintainers (@msgraph-security)
options:
  id:
    description:
      - The identity account ID (the C(id) of the identity in Defender for Identity, not an Entra object ID).
      - Read with C(GET /security/identities/identityAccounts/{id}). An unknown ID returns an empty
        RV(identity_accounts) list.
      - Must not contain V(/), V(?), V(#), V(\\) or spaces, and must not be a dot segment (V(.), V(..)).
      - The alias O(identity_account_id) is the name M(msgraph.security.identity_account_action) uses.
    type: str
    aliases: [identity_account_id]
  user_principal_name:
    description:
      - The user principal name, for example V(alice@contoso.com).
      - Compared exactly after Unicode NFC normalization, ignoring the case of the letters A-Z only, so a
        look-alike (the ligature U+FB01 for V(fi), V(ß) for V(ss), another script's letter) never matches.
      - In Microsoft's metadata C(identityAccounts) is abstract and C(userPrincipalName) belongs to its derived type
        C(microsoft.graph.security.user), so the lookup is first sent as
        C(GET /security/identities/identityAccounts/microsoft.graph.security.user?$filter=userPrincipalName eq '...'),
        then as a plain C($filter) on C(identityAccounts); if the service refuses both (HTTP 400 or 501) or ignores
        the filter, every identity is read once and matched locally (with a warning). Results are always matched
        again locally. Any other error is reported.
      - Must contain exactly one V(@).
    type: str
  email_address:
    description:
      - The e-mail address (C(emailAddress) of C(microsoft.graph.security.user)), looked up and compared like
        O(user_principal_name).
    type: str
  on_premises_security_identifier:
    description:
      - The on-premises Active Directory security identifier (SID), for example V(S-1-5-21-1004336348-1177238915-682003330-1105).
      - Sent as the documented server filter C(onPremisesSecurityIdentifier eq '...').
    type: str
  display_name:
    description:
      - The display name, compared like O(user_principal_name). Several identities may share one display name; all are returned.
      - Sent as the server filter C(displayName eq '...'), with the same local re-check and fallback as O(user_principal_name).
    type: str
  account_identifier:
    description:
      - The identifier of one of the identity's provider accounts (C(accounts[].identifier)), for example the
        Active Directory object GUID or the Okta user ID. Compared like O(user_principal_name).
      - Microsoft documents no server filter on it, so every identity is read and matched locally; this is the
        slowest lookup on a large tenant.
    type: str
  filter:
    description:
      - A raw OData C($filter) expression sent unchanged, for example V(domain eq 'contoso.com').
      - Microsoft documents only C(onPremisesSecurityIdentifier eq '...'); other filters depend on the service.
        Quote string literals with single quotes and double any single quote inside them.
    type: str
notes:
  - Needs the Microsoft Graph permission C(SecurityIdentitiesAccount.Read.All) (application or delegated,
    with admin consent). Delegated callers also need at least the Security Administrator Entra role.
    A missing permission fails with HTTP status C(403), the permission's name and the C(request-id).
  - The tenant must be onboarded to Microsoft Defender for Identity; otherwise Graph answers 403 and the
    module says so instead of blaming permissions.
  - Available in the global cloud on both API versions. The China (21Vianet) cloud does not offer this API; the
    module fails before sending any request there.
  - In US Government L4 and L5 (DoD), O(api_version=v1.0) fails before any request (Microsoft's US Government v1.0
    metadata has no identityAccounts); O(api_version=beta) runs with a warning that Microsoft's sources disagree, and
    a 404 or 400 there is explained as "may not be offered in this cloud" (docs/service-contract.md row 23a).
  - The API is in Microsoft Graph beta (O(api_version=beta), the default) and generally available in v1.0
    (O(api_version=v1.0)); both are tested with the same results.
seealso:
  - module: msgraph.security.identity_account_action
  - name: List identityAccounts (Microsoft Graph beta)
    description: The API this module calls.
    link: https://learn.microsoft.com/graph/api/security-identitycontainer-list-identityaccounts?view=graph-rest-beta
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.info_module
  - msgraph.security.attributes.actiongroup_graph
"""

EXAMPLES = r"""
# Authentication is usually set once for the play. The values below come from AWX/AAP credentials or
# environment variables (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET); see the connection options.
- name: Look up identities in Defender for Identity
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/msgraph.security.graph:
      tenant_id: "{{ graph_tenant_id }}"
      client_id: "{{ graph_client_id }}"
      client_secret: "{{ graph_client_secret }}"
  tasks:
    - name: Find the identity of a user principal name
      msgraph.security.identity_account_info:
        user_principal_name: alice@contoso.com
      register: found

    - name: Show its id and what each account can do
      ansible.builtin.debug:
        msg: >-
          {{ found.identity_accounts[0].id }}:
          {{ found.identity_accounts[0].accounts | items2dict(key_name='identity_provider', value_name='actions') }}

    - name: Find an identity by its on-premises SID
      msgraph.security.identity_account_info:
        on_premises_security_identifier: S-1-5-21-1004336348-1177238915-682003330-1105

    - name: Find the identity that owns an Okta account
      msgraph.security.identity_account_info:
        account_identifier: 00u1abcd2EFGH3ijk4l5

    - name: Everyone called "Chris Smith" (display names are not unique)
      msgraph.security.identity_account_info:
        display_name: Chris Smith
      register: chris

    - name: Fail if the name is ambiguous before acting on it
      ansible.builtin.assert:
        that: chris.identity_accounts | length == 1
        fail_msg: "{{ chris.identity_accounts | map(attribute='user_principal_name') | list }} share that name"

    - name: Identities of one domain, with a raw OData filter
      msgraph.security.identity_account_info:
        filter: "domain eq 'contoso.com'"
      register: contoso

    - name: List the disabled ones
      ansible.builtin.debug:
        msg: "{{ contoso.identity_accounts | rejectattr('is_enabled') | map(attribute='display_name') | list }}"
"""

RETURN = r"""
identity_accounts:
  description:
    - The identities found, in the order the service returned them. Empty when nothing matches.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The identity account ID; give it to O(msgraph.security.identity_account_action#module:identity_account_id).
      type: str
      sample: 0104216-0539-4838-88b1-55baafdc296b
    display_name:
      description: The Active Directory display name.
      type: str
      sample: Alice Adams
    domain:
      description: The Active Directory domain name.
      type: str
      sample: contoso.com
    is_enabled:
      description:
        - Whether the identity is enabled, as Defender for Identity reports it (Graph C(isEnabled)).
        - V(null) if the service left it out.
      type: bool
      sample: true
    on_premises_security_identifier:
      description: The on-premises security identifier (SID), or V(null).
      type: str
      sample: S-1-5-21-1004336348-1177238915-682003330-1105
    cloud_security_identifier:
      description: The cloud security identifier, or V(null).
      type: str
      sample: S-1-12-1-1234567890-1234567890-1234567890-1234567890
    user_principal_name:
      description: The user principal name, or V(null).
      type: str
      sample: alice@contoso.com
    email_address:
      description: The email address, or V(null).
      type: str
      sample: alice@contoso.com
    accounts:
      description: The identity's accounts in each identity provider. Empty if the service lists none.
      type: list
      elements: dict
      contains:
        identifier:
          description: The provider's account ID; the C(accountId) that invokeAction acts on.
          type: str
          sample: 256db173-930a-4991-9061-0d51a9a93ba5
        identity_provider:
          description:
            - The identity provider, in the schema's spelling (V(activeDirectory), V(entraID), V(okta)) whatever
              spelling the service used.
            - Values Microsoft adds later (and V(unknownFutureValue)) are returned unchanged.
          type: str
          sample: activeDirectory
        actions:
          description:
            - The response actions the service lists for this account, in the schema's spelling
              (V(disable), V(enable), V(forcePasswordReset), V(revokeAllSessions), V(requireUserToSignInAgain),
              V(markUserAsCompromised)). Unknown values are returned unchanged.
            - V(null) when the service does not list them.
          type: list
          elements: str
          sample: [disable, forcePasswordReset]
  sample:
    - id: 0104216-0539-4838-88b1-55baafdc296b
      display_name: Alice Adams
      domain: contoso.com
      is_enabled: true
      on_premises_security_identifier: S-1-5-21-1004336348-1177238915-682003330-1105
      cloud_security_identifier: null
      user_principal_name: alice@contoso.com
      email_address: alice@contoso.com
      accounts:
        - identifier: 256db173-930a-4991-9061-0d51a9a93ba5
          identity_provider: activeDirectory
          actions: [disable, forcePasswordReset]
error:
  description:
    - The failed request, reported once. What Microsoft Graph (or the token service) said, the request ids to
      quote to Microsoft support, and what to do. C(msg) says the same in one line.
  returned: failure, for a Microsoft Graph or token service error
  type: dict
  contains:
    status:
      description: The HTTP status of the failed request, when there was one.
      returned: when known
      type: int
      sample: 403
    error_code:
      description:
        - Graph's C(error.code), the C(AADSTS) code when the token request failed, or the collection's own code for a
          failure it found itself (for example C(Timeout), C(RetriesExhausted) or C(UnsupportedCloud);
          M(msgraph.security.security_action) answers C(securityActionFailed) or C(waitTimeout) for an action that
          failed or did not finish in time).
      returned: when known
      type: str
      sample: Forbidden
    error_message:
      description: Graph's C(error.message), or what failed when Graph gave no message.
      returned: always
      type: str
    request_id:
      description: The C(request-id) of the failed request, for Microsoft support.
      returned: when known
      type: str
    client_request_id:
      description:
        - The C(client-request-id) of the failed request. For an unknown outcome, the one to look up where
          C(hint) says before running the task again.
      returned: when known
      type: str
    date:
      description: The date of the failed response.
      returned: when known
      type: str
    method:
      description: The HTTP method of the failed request.
      returned: when known
      type: str
    url:
      description: The URL of the failed request.
      returned: when known
      type: str
    required_permission:
      description: The Microsoft Graph permission (or permissions) the failed call needs; the module's notes list them.
      returned: on HTTP 403
      type: str
      sample: SecurityIncident.Read.All
    hint:
      description: What to do about the failure (for example the permission, license or directory role it needs).
      returned: when there is advice
      type: str
    outcome:
      description:
        - C(unknown) when the request was sent but whether Graph carried it out is not known (a time-out, an HTTP 5xx
          or a connection reset after sending) and reading the target again did not settle it. The request was not
          sent again; read the target before running the task again.
      returned: when the outcome of a write is unknown (a module that only reads never returns it)
      type: str
      sample: unknown
    request:
      description:
        - The write whose outcome is unknown, exactly as it was sent once - C(method), C(url) and C(body).
      returned: when the outcome of a write is unknown
      type: dict
option:
  description: The option at fault, when the input was refused before any request.
  returned: failure, for bad input
  type: str
  sample: on_premises_security_identifier
"""

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import INFO_LOOKUP_OPTIONS, find_identities
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import selector_from_params
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule

# Option name -> lookup kind. At most one may be given.
LOOKUP_OPTIONS = INFO_LOOKUP_OPTIONS


def main():
    """Run the module: look the identity accounts up and return them (never a change)."""
    module = GraphModule(
        argument_spec=dict((option, dict(type="str", aliases=["identity_account_id"] if option == "id" else []))
                           for option in LOOKUP_OPTIONS),
        api="identity_accounts",
        supports_check_mode=True,
        mutually_exclusive=[list(LOOKUP_OPTIONS)],
    )
    try:
        selector = selector_from_params(module.params, LOOKUP_OPTIONS, required=False)
        identities = find_identities(module.graph_client(), selector, warn=module.warn)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    else:
        module.exit_json(changed=False, identity_accounts=identities)


if __name__ == "__main__":
    main()
