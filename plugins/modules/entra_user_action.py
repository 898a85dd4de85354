#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: entra_user_action
short_description: Revoke the sessions of a Microsoft Entra ID user, or confirm or dismiss their risk
version_added: 1.0.0
description:
  - Runs one native Microsoft Graph directory action on one Microsoft Entra ID user, for what Defender for
    Identity's C(invokeAction) does not cover in Entra ID.
  - V(revoke_sign_in_sessions) - C(POST /users/{id}/revokeSignInSessions). Resets the user's
    C(signInSessionsValidFromDateTime), so every refresh token and browser session cookie issued before it stops
    working and the user must sign in again. The new value is returned when it can be read back.
  - V(confirm_compromised) - C(POST /identityProtection/riskyUsers/confirmCompromised). Sets the user's risk level to
    high, so risk-based Conditional Access policies block or challenge them.
  - V(dismiss_risk) - C(POST /identityProtection/riskyUsers/dismiss). Dismisses the user's risk, for example after
    the investigation.
  - B(Target.) Give exactly one of O(user_id), O(user_principal_name) or O(targets). The user is always read first (also for
    the risk actions); if Graph has no such user, or answers with another one, the task fails before anything is sent.
  - B(Protected accounts.) Users matching O(protected_accounts) are refused before anything is sent, exactly as in
    M(msgraph.security.identity_account_action).
  - B(Commands.) These actions have no readable state to compare, so every run sends them and reports a change.
  - B(Unknown outcome.) A request that times out or gets a server error is never sent again. For
    V(revoke_sign_in_sessions) the user is read again; a newer C(signInSessionsValidFromDateTime) means it took
    effect (RV(outcome=reconciled)). Otherwise the task fails with the C(client-request-id) to look up. The user is
    read again by the object id read before the action, never by O(user_principal_name), which may meanwhile name
    another user.
  - The APIs are generally available in Microsoft Graph v1.0, so the module always calls v1.0, whatever
    O(api_version) says.
author:
  - msgraph.security maintainers (@msgraph-security)
options:
  user_id:
    description:
      - The user's object id (the C(identifier) of the identity's V(entraID) account), or an V(S-1-12-1-...) security
        identifier (Entra ID's SID of a user object), which is converted to the object id. Other cloud SIDs (Microsoft's
        identityAccounts example shows an V(S-1-12-4-...) C(cloud_security_identifier)) are refused.
    type: str
  user_principal_name:
    description:
      - The user's user principal name (case-insensitive).
    type: str
  action:
    description:
      - The action to run.
    type: str
    required: true
    choices: [revoke_sign_in_sessions, confirm_compromised, dismiss_risk]
  targets:
    description:
      - Many users for V(confirm_compromised) or V(dismiss_risk) in one task. Each entry is a dict with exactly one of
        C(user_id) or C(user_principal_name), as the task-level options.
      - Every user is read and checked against O(protected_accounts) first; one that is unknown, another user or
        protected fails the whole task before anything is sent.
      - One request carries up to 60 C(userIds) (the maximum Microsoft documents for these actions), so N users take
        ceil(N / 60) requests, sent at most one a second (Identity Protection's documented rate, whose C(429) has no
        C(Retry-After)).
      - Not with V(revoke_sign_in_sessions), whose request names one user; loop the task for that.
    type: list
    elements: dict
  max_targets:
    description:
      - With O(targets), a safety cap. More targets than this fail the task before any request.
    type: int
    default: 100
  protected_accounts:
    description:
      - Object ids, user principal names, mail addresses, on-premises SIDs or cloud SIDs never to act on
        (case-insensitive). A matching user fails the task before anything is sent.
    type: list
    elements: str
    default: []
notes:
  - B(Permissions.) V(revoke_sign_in_sessions) needs C(User.RevokeSessions.All) (least privileged). The risk actions
    need C(IdentityRiskyUser.ReadWrite.All) and a Microsoft Entra ID P2 license; without P2 Graph answers HTTP 403 and
    RV(error.hint) says it is the license. Reading the user first needs C(User.Read.All) for every action. All with admin
    consent.
  - B(Administrators.) Graph refuses (HTTP 403 C(Authorization_RequestDenied)) to revoke the sessions of users who
    hold privileged administrator roles unless the app holds a directory role at least as privileged; RV(error.hint) says so.
  - B(Propagation.) Microsoft notes a small delay of a few minutes before revoked tokens stop working. Access tokens
    already issued stay valid until they expire (typically about an hour), unless the application supports
    continuous access evaluation.
  - B(External users.) Graph does not revoke the sessions of external (guest) users, who sign in at their home
    tenant; the module warns.
  - B(Answers.) Microsoft documents C(revokeSignInSessions) answering C(200) with a C(value) of V(true) and, in other
    revisions, C(204 No Content); both are success. A C(value) of V(false) fails the task.
  - B(Clouds.) V(revoke_sign_in_sessions) is available in every cloud. The risk actions are not offered in the
    China (21Vianet) cloud; the module fails there before sending any request.
seealso:
  - module: msgraph.security.entra_user
  - module: msgraph.security.identity_account_action
  - name: "user: revokeSignInSessions (Microsoft Graph v1.0)"
    description: The session revocation API.
    link: https://learn.microsoft.com/graph/api/user-revokesigninsessions?view=graph-rest-1.0
  - name: "riskyUser: confirmCompromised (Microsoft Graph v1.0)"
    description: The risk API.
    link: https://learn.microsoft.com/graph/api/riskyuser-confirmcompromised?view=graph-rest-1.0
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.actiongroup_graph
attributes:
  check_mode:
    support: full
    details:
      - Reads the user and returns in RV(request) the exact request it would send (with O(targets), every user and
        RV(batch_requests)); sends no C(POST).
  diff_mode:
    support: partial
    details:
      - V(revoke_sign_in_sessions) shows C(sign_in_sessions_valid_from_date_time) before and after (read back).
      - The risk actions show the risk state and level Microsoft documents for the action; the state before is not read.
  idempotent:
    support: none
    details:
      - These actions are commands - every run sends them again and reports a change.
"""

EXAMPLES = r"""
- name: End a compromised user's Entra ID sessions and raise their risk
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    break_glass_accounts:
      - breakglass@contoso.com
  tasks:
    - name: Revoke every refresh token and session cookie
      msgraph.security.entra_user_action:
        user_principal_name: alice@contoso.com
        action: revoke_sign_in_sessions
        protected_accounts: "{{ break_glass_accounts }}"
      register: revoked

    - name: Record when the old sessions stopped being valid
      ansible.builtin.debug:
        msg: "sessions valid from {{ revoked.sign_in_sessions_valid_from_date_time }}"

    - name: Confirm the user compromised (needs Entra ID P2)
      msgraph.security.entra_user_action:
        user_principal_name: alice@contoso.com
        action: confirm_compromised
        protected_accounts: "{{ break_glass_accounts }}"

- name: After the investigation, dismiss the user's risk, targeting the identity's cloud SID
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Dismiss the risk
      msgraph.security.entra_user_action:
        user_id: S-1-12-1-814122558-1380653063-1995399818-1993843017
        action: dismiss_risk

- name: Confirm every user of an incident compromised in ceil(N / 60) requests
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Confirm the users compromised
      msgraph.security.entra_user_action:
        action: confirm_compromised
        targets:
          - user_principal_name: alice@contoso.com
          - user_id: 3086863e-1807-524b-8a62-ef7649a1d776
        protected_accounts:
          - breakglass@contoso.com
"""

RETURN = r"""
outcome:
  description:
    - V(sent) - Graph accepted the request.
    - V(check_mode) - nothing was sent; RV(request) shows what would be.
    - V(reconciled) - the revocation's outcome was unknown, and reading the user again showed a newer
      C(signInSessionsValidFromDateTime).
  returned: success
  type: str
  sample: sent
action:
  description: The action run.
  returned: success
  type: str
  sample: revoke_sign_in_sessions
users:
  description: With O(targets), every user as read before the action (the keys of RV(user)), each once.
  returned: success, with O(targets)
  type: list
  elements: dict
batch_requests:
  description: With O(targets), the requests sent (or, in check mode, that would be), up to 60 C(userIds) each.
  returned: success, with O(targets)
  type: list
  elements: dict
  sample: [{method: POST, url: "https://graph.microsoft.com/v1.0/identityProtection/riskyUsers/confirmCompromised",
            body: {userIds: [3086863e-1807-524b-8a62-ef7649a1d776]}}]
batch_request_ids:
  description: With O(targets), the C(request-id) and C(client-request-id) of each request of RV(batch_requests).
  returned: when O(targets) were sent
  type: list
  elements: dict
sign_in_sessions_valid_from_date_time:
  description:
    - The user's C(signInSessionsValidFromDateTime) read after the revocation; refresh tokens issued before it are
      invalid. V(null) when it could not be read back (see the warning).
  returned: when V(revoke_sign_in_sessions) was sent
  type: str
  sample: "2026-11-30T05:12:44Z"
user:
  description: The user as read before the action.
  returned: success, without O(targets)
  type: dict
  contains:
    id:
      description: The object id.
      type: str
      sample: 3086863e-1807-524b-8a62-ef7649a1d776
    user_principal_name:
      description: The user principal name.
      type: str
    display_name:
      description: The display name.
      type: str
    mail:
      description: The mail address, or V(null).
      type: str
    account_enabled:
      description: C(accountEnabled).
      type: bool
    user_type:
      description: V(Member) or V(Guest).
      type: str
    on_premises_sync_enabled:
      description: V(true) when the user is synchronised from on-premises Active Directory.
      type: bool
    on_premises_security_identifier:
      description: The on-premises SID of a synchronised user, or V(null).
      type: str
    cloud_security_identifier:
      description: The V(S-1-12-1) form of the object id.
      type: str
    sign_in_sessions_valid_from_date_time:
      description: C(signInSessionsValidFromDateTime) before the action.
      type: str
request:
  description: The request sent, or in check mode the request that would be sent (body V(null) when there is none).
  returned: success, without O(targets)
  type: dict
  sample: {method: POST, url: "https://graph.microsoft.com/v1.0/identityProtection/riskyUsers/confirmCompromised",
           body: {userIds: [3086863e-1807-524b-8a62-ef7649a1d776]}}
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
matches:
  description: The user Graph answered with, when it was not the one asked for.
  returned: failure, when the lookup did not find exactly the user asked for
  type: list
  elements: dict
"""

from ansible_collections.msgraph.security.plugins.module_utils._entra_users import (
    USER_ACTIONS,
    USER_TARGET_OPTIONS,
    validate_user_action,
    run_bulk_risk_action,
    run_user_action,
    target_selectors,
    user_selector,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import IdentityResolutionError
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule

ARGUMENT_SPEC: dict[str, dict] = dict(
    user_id=dict(type="str"),
    user_principal_name=dict(type="str"),
    action=dict(type="str", required=True, choices=list(USER_ACTIONS)),
    targets=dict(type="list", elements="dict"),
    max_targets=dict(type="int", default=100),
    protected_accounts=dict(type="list", elements="str", default=[]),
)
TARGET_OPTIONS = list(USER_TARGET_OPTIONS) + ["targets"]


def main():
    """Run the module: the action on one user, or the risk action on every entry of ``targets``."""
    module = GraphModule(
        argument_spec=ARGUMENT_SPEC,
        api="entra_users",
        supports_check_mode=True,
        mutually_exclusive=[TARGET_OPTIONS],
        required_one_of=[TARGET_OPTIONS],
    )
    params = module.params
    try:
        if params["targets"] is not None:
            selectors = target_selectors(params["targets"], params["max_targets"])
            action = validate_user_action(module.connection_settings.cloud, params["action"])
            result = run_bulk_risk_action(module.graph_client(), selectors, action, params["protected_accounts"],
                                          check_mode=module.check_mode)
        else:
            selector = user_selector(params)
            action = validate_user_action(module.connection_settings.cloud, params["action"])
            result = run_user_action(module.graph_client(), selector, action, params["protected_accounts"],
                                     check_mode=module.check_mode)
    except IdentityResolutionError as error:
        module.fail_on_error(error, matches=error.matches)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    else:
        module.exit_with_result(result)


if __name__ == "__main__":
    main()
