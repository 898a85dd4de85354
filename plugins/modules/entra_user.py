#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: entra_user
short_description: Enable or disable a Microsoft Entra ID user account (allow or block sign in)
version_added: 1.0.0
description:
  - Sets C(accountEnabled) of one Microsoft Entra ID user through Microsoft Graph C(PATCH /users/{id}), the native
    directory action for what Defender for Identity's C(invokeAction) does not cover in Entra ID.
  - B(Target.) Give exactly one of O(user_id) or O(user_principal_name). The user is read first; if Graph has no such
    user, or answers with another one, the task fails before anything is sent.
  - B(Idempotency.) The user's C(accountEnabled) is read first and the C(PATCH) is sent only when it differs.
  - B(Protected accounts.) Users whose object id, user principal name, mail, on-premises SID or cloud SID
    (C(S-1-12-1-...)) is listed in O(protected_accounts) are refused before anything is sent, exactly as in
    M(msgraph.security.identity_account_action).
  - B(Synchronised users.) For a user synchronised from on-premises Active Directory (C(onPremisesSyncEnabled)),
    C(accountEnabled) is mastered in AD. No Microsoft page says whether Graph then refuses the change (HTTP 400) or
    accepts it until the next directory sync puts AD's value back. When Graph accepts it the module warns; when it
    refuses, the task fails and RV(error.hint) names the fix. Either way, disable the Active Directory account
    (M(msgraph.security.identity_account_action) with V(activeDirectory)).
  - B(Reading back.) After an unknown outcome the user is read again by the object id read before the change, never
    by O(user_principal_name), which may meanwhile name another user. If that read fails, the outcome stays unknown.
  - B(Administrators.) Graph refuses (HTTP 403 C(Authorization_RequestDenied)) to change users who hold privileged
    administrator roles unless the app holds a directory role at least as privileged. The task fails and RV(error.hint)
    explains this.
  - B(Unknown outcome.) If the C(PATCH) times out or Graph answers with a server error, it is never sent again; the
    user is read again and the task succeeds with a warning only if it shows the new state.
  - The API is generally available in Microsoft Graph v1.0, so the module always calls v1.0, whatever O(api_version)
    says.
author:
  - msgraph.security maintainers (@msgraph-security)
options:
  user_id:
    description:
      - The user's object id, for example V(3086863e-1807-524b-8a62-ef7649a1d776). This is the C(identifier) of the
        identity's V(entraID) account in RV(msgraph.security.identity_account_info#module:identity_accounts[].accounts).
      - An V(S-1-12-1-...) security identifier (Entra ID's SID of a user object) is accepted too and converted to the
        object id. Other cloud SIDs (Microsoft's identityAccounts example shows an V(S-1-12-4-...)
        C(cloud_security_identifier)) do not identify the user and are refused.
    type: str
  user_principal_name:
    description:
      - The user's user principal name, for example V(alice@contoso.com) (case-insensitive).
    type: str
  account_enabled:
    description:
      - V(false) blocks sign-in (disables the account); V(true) allows it again.
    type: bool
    required: true
  protected_accounts:
    description:
      - Object ids, user principal names, mail addresses, on-premises SIDs or cloud SIDs never to act on
        (case-insensitive). A matching user fails the task before anything is sent.
    type: list
    elements: str
    default: []
notes:
  - B(Permissions.) The application permissions C(User.EnableDisableAccount.All) and C(User.Read.All) (least
    privileged; C(User.ReadWrite.All) also works), with admin consent. C(User.Read.All) alone is enough in check mode.
  - B(Propagation.) Blocking sign-in stops new sign-ins; existing refresh tokens stay valid until they are revoked.
    Revoke them with M(msgraph.security.entra_user_action) (V(revoke_sign_in_sessions)).
  - B(Clouds.) Available in the global, US Government L4 and L5 (DoD) and China (21Vianet) clouds.
seealso:
  - module: msgraph.security.entra_user_action
  - module: msgraph.security.identity_account_action
  - name: "Update user (Microsoft Graph v1.0)"
    description: The API this module calls.
    link: https://learn.microsoft.com/graph/api/user-update?view=graph-rest-1.0
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.actiongroup_graph
attributes:
  check_mode:
    support: full
    details:
      - Reads the user and returns in RV(request) the exact request it would send; sends no C(PATCH).
  diff_mode:
    support: full
    details:
      - Shows C(account_enabled) before and after.
  idempotent:
    support: full
    details:
      - A second run finds C(accountEnabled) already set and reports no change.
"""

EXAMPLES = r"""
- name: Block a compromised user's sign-in in Entra ID
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Preview (check mode sends nothing)
      msgraph.security.entra_user:
        user_principal_name: alice@contoso.com
        account_enabled: false
        protected_accounts:
          - breakglass@contoso.com
      check_mode: true
      register: preview

    - name: Block sign-in
      msgraph.security.entra_user:
        user_principal_name: alice@contoso.com
        account_enabled: false
        protected_accounts:
          - breakglass@contoso.com
      diff: true

- name: Allow sign-in again after the investigation, by the identity's Entra ID account
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Enable the user
      msgraph.security.entra_user:
        user_id: 3086863e-1807-524b-8a62-ef7649a1d776
        account_enabled: true
"""

RETURN = r"""
outcome:
  description:
    - V(sent) - the change was sent and Graph accepted it.
    - V(unchanged) - C(accountEnabled) already had the value; nothing was sent.
    - V(check_mode) - nothing was sent; RV(request) shows what would be.
    - V(reconciled) - the request's outcome was unknown, and reading the user again showed the new value.
  returned: success
  type: str
  sample: sent
reason:
  description: Why nothing was sent.
  returned: when nothing needed to be sent
  type: str
  sample: accountEnabled is already false
user:
  description: The user as read before the change.
  returned: success
  type: dict
  contains:
    id:
      description: The object id.
      type: str
      sample: 3086863e-1807-524b-8a62-ef7649a1d776
    user_principal_name:
      description: The user principal name.
      type: str
      sample: meganb@contoso.com
    display_name:
      description: The display name.
      type: str
    mail:
      description: The mail address, or V(null).
      type: str
    account_enabled:
      description: C(accountEnabled) before the change.
      type: bool
    user_type:
      description: V(Member) or V(Guest).
      type: str
    on_premises_sync_enabled:
      description: V(true) when the user is synchronised from on-premises Active Directory, else V(null) or V(false).
      type: bool
    on_premises_security_identifier:
      description: The on-premises SID of a synchronised user, or V(null).
      type: str
    cloud_security_identifier:
      description: The V(S-1-12-1) form of the object id (Entra ID's SID of the user object).
      type: str
    sign_in_sessions_valid_from_date_time:
      description: C(signInSessionsValidFromDateTime) - refresh tokens issued before it are invalid.
      type: str
request:
  description: The request sent, or in check mode the request that would be sent, with Graph's camelCase body.
  returned: when the change is sent or would be sent
  type: dict
  sample: {method: PATCH, url: "https://graph.microsoft.com/v1.0/users/3086863e-1807-524b-8a62-ef7649a1d776",
           body: {accountEnabled: false}}
request_ids:
  description:
    - The ids of the write, to quote to Microsoft support or to look up in the service's audit trail.
    - For V(reconciled), the C(request_id) is that of the answer that left the outcome unknown, when there was one.
  returned: when the write was sent (RV(outcome) is V(sent) or V(reconciled))
  type: dict
  contains:
    request_id:
      description: The service's C(request-id).
      type: str
      sample: 5e3fa1b2-7c44-4d0e-9f1a-2b6c8d9e0f11
    client_request_id:
      description: The C(client-request-id) the module generated and sent with the write.
      type: str
      sample: 0d6f3c1e-9a2b-4c7d-8e5f-1a2b3c4d5e6f
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
  sample: protected_accounts
matches:
  description: The user Graph answered with, when it was not the one asked for.
  returned: failure, when the lookup did not find exactly the user asked for
  type: list
  elements: dict
"""

from ansible_collections.msgraph.security.plugins.module_utils._entra_users import (
    USER_TARGET_OPTIONS,
    run_account_enabled,
    user_selector,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import IdentityResolutionError
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule

ARGUMENT_SPEC: dict[str, dict] = dict(
    user_id=dict(type="str"),
    user_principal_name=dict(type="str"),
    account_enabled=dict(type="bool", required=True),
    protected_accounts=dict(type="list", elements="str", default=[]),
)


def main():
    """Run the module: set the user's accountEnabled unless it already has that value."""
    module = GraphModule(
        argument_spec=ARGUMENT_SPEC,
        api="entra_users",
        supports_check_mode=True,
        mutually_exclusive=[list(USER_TARGET_OPTIONS)],
        required_one_of=[list(USER_TARGET_OPTIONS)],
    )
    try:
        selector = user_selector(module.params)
        result = run_account_enabled(module.graph_client(), selector, module.params["account_enabled"],
                                     module.params["protected_accounts"], check_mode=module.check_mode)
    except IdentityResolutionError as error:
        module.fail_on_error(error, matches=error.matches)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    else:
        module.exit_with_result(result)


if __name__ == "__main__":
    main()
