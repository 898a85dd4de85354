#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: identity_account_action
short_description: Run a Microsoft Defender for Identity response action on an identity (disable, enable, force password reset, ...)
version_added: 1.0.0
description:
  - Runs one response action on one account of an identity observed by Microsoft Defender for Identity, through
    Microsoft Graph C(POST /security/identities/identityAccounts/{id}/invokeAction). Defender for Identity then
    carries it out in Active Directory (through its sensors' action account), Microsoft Entra ID or Okta.
  - B(Target.) Give exactly one of O(identity_account_id), O(user_principal_name),
    O(on_premises_security_identifier) or O(display_name). A lookup must match exactly one identity; if it
    matches none or several, the task fails before anything is sent and lists what matched (RV(matches)).
  - B(Many targets.) Or give O(targets), a list of targets, to act on many accounts in one task, for example
    every account of a password spray. The targets are looked up in batches and the actions are sent
    concurrently (O(max_concurrency)) with one token and one connection pool. Every target gets its own entry
    in RV(results), and RV(summary) counts them. A target that is refused or fails does not stop the others
    (unless O(fail_fast)); the task fails if any target did not succeed, and RV(results) still reports every
    target. Running the task again acts only on what is still needed (V(disable) and V(enable) are idempotent).
    When Microsoft Graph throttles (HTTP 429 with C(Retry-After)), the whole batch pauses and then carries on;
    throttled targets are retried, not failed, within O(max_retries) and O(retry_budget).
  - B(Account.) The action applies to the identity's account for O(identity_provider). If the identity has
    several accounts for that provider, choose one with O(account_id).
  - B(Checks before sending.) The action must be one that O(identity_provider) supports in the chosen
    O(action_matrix). Identities matching O(protected_accounts) are refused. Nothing is sent when a check fails.
  - B(The account's listed actions are evidence, not a gate.) Microsoft's own examples list no actions
    (C(accounts[].actions) empty) or actions that contradict C(isEnabled), so an empty or missing list never
    stops an action, and a list that lacks the action only warns and the request is sent; the service's own
    refusal is then reported as it is. O(require_offered_action=true) refuses instead.
  - B(Idempotency.) V(disable) and V(enable) read the identity first and report C(changed=false) with a
    RV(reason) only when both readable signals agree that it is already in that state - C(isEnabled) and the
    account's listed actions (offering V(enable) but not V(disable) means disabled). When a signal is missing or
    they disagree, the action is sent (a repeated containment is harmless, a skipped one is not), and
    RV(state_evidence) and a warning say which evidence disagreed. The other actions (V(forcePasswordReset),
    V(revokeAllSessions), V(requireUserToSignInAgain), V(markUserAsCompromised)) are commands with no readable
    state, so they are sent on every run and always report C(changed=true).
  - B(Unknown outcome.) If the request times out or Graph answers with a server error (5xx), it is never sent a
    second time. For V(disable) and V(enable) the module reads the identity again, and again with a growing pause
    for up to O(reconcile_timeout) seconds, because Defender for Identity applies actions asynchronously; once it
    shows the new state the task succeeds with a warning (RV(outcome=reconciled)); otherwise it fails, saying the
    action may still be applied. For command actions it fails with the C(client-request-id) to look up in the
    Microsoft Defender Action center.
  - Requests always use the schema's spelling (C(identityProvider) with V(activeDirectory), V(entraID),
    V(okta); camelCase actions), whatever spelling was given. Responses are understood in both shapes Microsoft
    documents.
author:
  - msgraph.security maintainers (@msgraph-security)
options:
  identity_account_id:
    description:
      - The identity account ID in Defender for Identity (RV(msgraph.security.identity_account_info#module:identity_accounts[].id)).
        The identity is read first, to check it and to decide idempotency.
      - Must not contain V(/), V(?), V(#), V(\\) or spaces.
    type: str
  user_principal_name:
    description:
      - Target the identity with this user principal name, for example V(alice@contoso.com).
      - Compared exactly after Unicode NFC normalization, ignoring the case of the letters A-Z only, so a look-alike
        (a ligature, another script's letter) never matches. Must match exactly one identity.
      - Looked up with Microsoft Graph's query for the derived type C(microsoft.graph.security.user) (the property
        belongs to it), then a plain C($filter); if the service answers neither, by one scan of every identity.
    type: str
  on_premises_security_identifier:
    description:
      - Target the identity with this on-premises security identifier (SID), for example
        V(S-1-5-21-1004336348-1177238915-682003330-1105).
      - Must match exactly one identity.
    type: str
  display_name:
    description:
      - Target the identity with this display name (compared like O(user_principal_name)).
      - Display names are not unique; when several identities share it the task fails and lists them in
        RV(matches), so you can use O(identity_account_id) instead.
    type: str
  identity_provider:
    description:
      - The identity provider whose account the action applies to.
      - One of V(activeDirectory), V(entraID), V(okta). The documentation's spellings are accepted too;
        case is ignored, and so are V(_), V(-) and spaces, so V(ActiveDirectory), V(active_directory), V(EntraID),
        V(entra_id) and V(Okta) all work. The request always sends the schema's spelling.
      - Required, unless every target of O(targets) sets its own.
    type: str
  action:
    description:
      - The response action.
      - V(disable) - the account can no longer authenticate. Idempotent.
      - V(enable) - re-enable a disabled account. Idempotent.
      - V(forcePasswordReset) - the user must change the password at next sign-in (Active Directory). A command.
      - V(revokeAllSessions) - end the user's active sessions. A command.
      - V(requireUserToSignInAgain) - the user must sign in again (Entra ID, O(action_matrix=extended) only). A command.
      - V(markUserAsCompromised) - mark the user as compromised (Entra ID, O(action_matrix=extended) only). A command.
      - Case, V(_), V(-) and spaces are ignored, so V(Disable) and V(force_password_reset) work too.
      - Required, unless every target of O(targets) sets its own.
    type: str
  account_id:
    description:
      - The provider account to act on (C(accounts[].identifier) of the identity, sent as C(accountId)).
      - By default, the identity's only account for O(identity_provider). Required when the identity has several
        accounts for that provider.
      - Must be one of the identity's own accounts, for O(identity_provider); an identity that lists no accounts
        takes none. This keeps O(protected_accounts) checked against the account's owner.
      - Not with O(targets); set C(account_id) on a target instead.
    type: str
  protected_accounts:
    description:
      - Identities the module must never act on, for example break-glass administrators, even when a lookup or
        a variable targets them.
      - Each entry is compared whole with the identity's ID, user principal name, email address, on-premises and
        cloud security identifiers, and each of its provider account identifiers, after Unicode NFC normalization
        and ignoring the case of A-Z only.
      - An entry that can never equal one of those (it holds a space or a backslash, like a display name or
        C(DOMAIN\sam)) protects nothing; the task warns and names it.
      - A match fails the task before anything is sent, also in check mode. With O(targets), it applies to every
        target, and a matching target is refused (RV(results[].status=refused)) without stopping the others.
    type: list
    elements: str
    default: []
  action_matrix:
    description:
      - Which documented list of supported O(identity_provider) and O(action) pairs to enforce before sending.
      - V(documented) - the invokeAction page, which says "Actions related to Entra ID are not covered in the
        current scope". Active Directory - V(disable), V(enable), V(forcePasswordReset); Okta - V(disable),
        V(enable), V(revokeAllSessions); Entra ID - none.
      - V(extended) - the C(account) resource page, which adds Entra ID - V(disable), V(enable),
        V(revokeAllSessions), V(requireUserToSignInAgain), V(markUserAsCompromised). The service may still refuse
        these; its error is then reported as it is.
    type: str
    choices: [documented, extended]
    default: documented
  targets:
    description:
      - Act on many targets in one task. Each target names one identity, like the task-level options, and may
        override O(identity_provider) and O(action); the task-level values are the defaults.
      - Not together with O(identity_account_id), O(user_principal_name), O(on_premises_security_identifier),
        O(display_name) or O(account_id).
      - Targets looked up by user principal name, SID or display name are read in batches of up to 15 with one
        C($filter) joining them with C(or). The first batch finds the query the service answers (for user
        principal names, the derived-type query first); if it answers none, every identity is read once and all
        targets are matched on that one scan (RV(lookups)).
      - The same identity, account and action given twice is sent once.
      - An empty list does nothing.
    type: list
    elements: dict
    suboptions:
      identity_account_id:
        description: The identity account ID, as O(identity_account_id).
        type: str
      user_principal_name:
        description: The user principal name, as O(user_principal_name).
        type: str
      on_premises_security_identifier:
        description: The on-premises SID, as O(on_premises_security_identifier).
        type: str
      display_name:
        description: The display name, as O(display_name). Must match exactly one identity.
        type: str
      identity_provider:
        description: The identity provider for this target; defaults to O(identity_provider).
        type: str
      action:
        description: The action for this target; defaults to O(action).
        type: str
      account_id:
        description: The provider account of this target's identity, as O(account_id).
        type: str
  max_concurrency:
    description:
      - With O(targets), how many actions (and lookups) are in flight at once, between V(1) and V(50).
        The HTTP connection pool is sized to match.
      - Higher values finish sooner until Microsoft Graph starts throttling; then the whole batch pauses as
        C(Retry-After) asks.
    type: int
    default: 10
  max_targets:
    description:
      - With O(targets), a safety cap. When the list holds more targets than this, the task fails before any
        request, so that a wrong variable cannot disable a whole directory.
      - Raise it deliberately for large incidents.
    type: int
    default: 100
  require_offered_action:
    description:
      - Refuse to send an action that the account's non-empty C(actions) list does not include.
      - By default (V(false)) such an action is sent with a warning, because Microsoft's own examples show lists
        that contradict the identity's state; the service then decides. An empty or missing list never refuses.
    type: bool
    default: false
  reconcile_timeout:
    description:
      - After an unknown outcome of V(disable) or V(enable) (a timeout or a server error once the request was sent),
        how many seconds to keep reading the identity until it shows the action took effect.
      - V(0) reads it once. Between 0 and 3600.
    type: int
    default: 30
  fail_fast:
    description:
      - With O(targets), stop at the first target that is refused or fails. Targets whose action was not sent
        yet are reported as V(not_started); actions already in flight finish.
      - Every target is looked up and checked before any action is sent, so a refused target stops the batch
        before anything is sent.
      - By default (V(false)) every target is processed, and the task fails at the end if any did not succeed.
    type: bool
    default: false
notes:
  - B(Permissions.) The application (or delegated) Microsoft Graph permissions C(SecurityIdentitiesActions.ReadWrite.All)
    (to act) and C(SecurityIdentitiesAccount.Read.All) (to read the identity first), with admin consent. Delegated
    callers also need at least the Security Administrator Entra role. A missing permission fails with HTTP status
    C(403), RV(error.required_permission) and the C(request-id).
  - B(Entra ID.) Microsoft's invokeAction page says Entra ID actions are not covered yet, so the default
    O(action_matrix=documented) refuses them. O(action_matrix=extended) sends them anyway.
  - B(Active Directory.) Defender for Identity runs AD actions through its sensors' action account, which must
    be configured (sensor v3.x does not support a gMSA action account). For users with the C(Password never
    expires) flag, V(forcePasswordReset) only takes effect once the flag is removed, although the request
    succeeds.
  - B(Results.) Graph accepting the request (RV(invoke_action_result)) means Defender for Identity accepted
    it, not that the provider carried it out. Follow it in the Microsoft Defender portal's Action center and
    audit log (search for RV(invoke_action_result.correlation_id)). Graph offers no way to read an action's
    outcome.
  - B(Propagation.) C(isEnabled) and the account's available actions can take a while to reflect a completed
    V(disable) or V(enable). A run soon after another may therefore send the action again; that is harmless.
    Reconciliation of an unknown outcome waits for it (O(reconcile_timeout)).
  - B(Clouds.) In the global cloud on both API versions. The China (21Vianet) cloud does not offer this API; the
    module fails before sending any request there.
  - B(US Government L4 and L5.) With O(api_version=v1.0) the module fails before sending any request, because
    Microsoft's US Government v1.0 metadata has no identityAccounts and no invokeAction. With O(api_version=beta) it
    runs, with a warning, since the rendered beta pages list US Government L4 and L5 while the pinned beta revision
    and the v1.0 pages say global only. If the tenant lacks the API, Graph answers 404 or 400 and the error's hint says it may not be
    offered in this cloud, citing both sources (docs/service-contract.md row 23a).
  - B(API version.) invokeAction and identityAccounts are in Microsoft Graph beta (O(api_version=beta), the default)
    and generally available in v1.0 (O(api_version=v1.0), where Microsoft's v1.0 pages list the global cloud only).
    Both are tested; the request and both response shapes are the same.
seealso:
  - module: msgraph.security.identity_account_info
  - name: "identityAccounts: invokeAction (Microsoft Graph beta)"
    description: The API this module calls.
    link: https://learn.microsoft.com/graph/api/security-identityaccounts-invokeaction?view=graph-rest-beta
  - name: Remediation actions in Microsoft Defender for Identity
    description: What each action does in each provider, and the action account.
    link: https://learn.microsoft.com/defender-for-identity/remediation-actions
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.actiongroup_graph
attributes:
  check_mode:
    support: full
    details:
      - Resolves the target, runs every check and returns in RV(request) the exact request it would send. Sends no
        POST; only reads (GET).
      - With O(targets), each target that would be acted on is reported as V(would_run).
  diff_mode:
    support: partial
    details:
      - For V(disable) and V(enable), shows C(is_enabled) and the account's C(actions) before and as expected after.
      - Command actions change no readable state, so before and after are equal.
      - With O(targets), one diff per target that is (or would be) acted on.
  idempotent:
    support: partial
    details:
      - V(disable) and V(enable) are idempotent when the identity's readable state agrees - a second run reports no
        change. When its evidence is missing or contradictory the action is sent again (harmless).
      - V(forcePasswordReset), V(revokeAllSessions), V(requireUserToSignInAgain) and V(markUserAsCompromised) are
        commands - every run sends them again and reports a change.
"""

EXAMPLES = r"""
# Set authentication once for every msgraph.security task of the play. In AWX/AAP, leave these out and attach a
# credential that sets AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET instead.
- name: Contain a compromised Active Directory user
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/msgraph.security.graph:
      tenant_id: "{{ graph_tenant_id }}"
      client_id: "{{ graph_client_id }}"
      client_secret: "{{ graph_client_secret }}"
  vars:
    # Never touched by any task, whatever the variables say.
    break_glass_accounts:
      - breakglass1@contoso.com
      - S-1-5-21-1004336348-1177238915-682003330-500
  tasks:
    - name: Preview the request (check mode sends nothing)
      msgraph.security.identity_account_action:
        user_principal_name: alice@contoso.com
        identity_provider: activeDirectory
        action: disable
        protected_accounts: "{{ break_glass_accounts }}"
      check_mode: true
      register: preview

    - name: Show what would be sent
      ansible.builtin.debug:
        msg: "{{ preview.request.method }} {{ preview.request.url }} {{ preview.request.body | to_json }}"
      when: preview.request is defined

    - name: Disable the user's Active Directory account
      msgraph.security.identity_account_action:
        user_principal_name: alice@contoso.com
        identity_provider: activeDirectory
        action: disable
        protected_accounts: "{{ break_glass_accounts }}"
      register: disabled

    - name: Record the correlation id for the incident (find it in the Defender Action center)
      ansible.builtin.debug:
        msg: >-
          {{ disabled.identity_account.user_principal_name }}: {{ disabled.invoke_action_result.action }}
          sent, correlation id {{ disabled.invoke_action_result.correlation_id }},
          request id {{ disabled.invoke_action_result.request_id }}
      when: disabled.invoke_action_result is defined

    - name: Say why nothing was sent on a re-run
      ansible.builtin.debug:
        msg: "{{ disabled.reason }}"
      when: disabled is not changed

    - name: Force a password change at next sign-in (a command, sent on every run)
      msgraph.security.identity_account_action:
        user_principal_name: alice@contoso.com
        identity_provider: activeDirectory
        action: forcePasswordReset
        protected_accounts: "{{ break_glass_accounts }}"

- name: End a user's Okta sessions, targeting the identity by its on-premises SID
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Revoke all Okta sessions
      msgraph.security.identity_account_action:
        on_premises_security_identifier: S-1-5-21-1004336348-1177238915-682003330-1105
        identity_provider: okta
        action: revokeAllSessions

- name: Act on an ambiguous display name safely
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Try the display name first
      block:
        - name: Disable Chris Smith in Active Directory
          msgraph.security.identity_account_action:
            display_name: Chris Smith
            identity_provider: activeDirectory
            action: disable
      rescue:
        - name: Several identities share that name; pick one by id
          ansible.builtin.debug:
            msg: "{{ ansible_failed_result.matches | default([]) }}"

- name: Re-enable after the investigation, on an account chosen by id
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Find the identity
      msgraph.security.identity_account_info:
        user_principal_name: alice@contoso.com
      register: found

    - name: Enable its Active Directory account
      msgraph.security.identity_account_action:
        identity_account_id: "{{ found.identity_accounts[0].id }}"
        identity_provider: activeDirectory
        action: enable
      diff: true

- name: Respond to a password spray - contain every sprayed account in one task
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    # For example exported from the sign-in logs or the SIEM alert.
    sprayed_upns:
      - adele.vance@contoso.com
      - alex.wilber@contoso.com
      - diego.siciliani@contoso.com
    break_glass_accounts:
      - breakglass1@contoso.com
  tasks:
    - name: Turn the list of UPNs into targets
      ansible.builtin.set_fact:
        spray_targets: "{{ spray_targets | default([]) + [{'user_principal_name': item}] }}"
      loop: "{{ sprayed_upns }}"

    - name: Preview (check mode looks every account up and sends nothing)
      msgraph.security.identity_account_action:
        targets: "{{ spray_targets }}"
        identity_provider: activeDirectory
        action: forcePasswordReset
        protected_accounts: "{{ break_glass_accounts }}"
      check_mode: true
      register: preview

    - name: Force a password reset on every sprayed account, 10 at a time
      msgraph.security.identity_account_action:
        targets: "{{ spray_targets }}"
        identity_provider: activeDirectory
        action: forcePasswordReset
        protected_accounts: "{{ break_glass_accounts }}"
        max_concurrency: 10
        max_targets: 500
      register: reset
      ignore_errors: true  # report every account below, then fail

    - name: Report each account's outcome for the incident record
      ansible.builtin.debug:
        msg: >-
          {{ item.target.user_principal_name }}: {{ item.status }}
          {{ item.correlation_id | default('', true) }} {{ item.error_message | default('', true) }}
      loop: "{{ reset.results }}"
      loop_control:
        label: "{{ item.target.user_principal_name }}"

    - name: Stop here if any account was not handled
      ansible.builtin.assert:
        that: reset.summary.succeeded + reset.summary.unchanged == reset.summary.total
        fail_msg: "{{ reset.msg }}"

- name: Mixed targets - per-target provider and action override the task's defaults
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Disable the AD accounts of two users and end one user's Okta sessions
      msgraph.security.identity_account_action:
        identity_provider: activeDirectory
        action: disable
        targets:
          - user_principal_name: adele.vance@contoso.com
          - on_premises_security_identifier: S-1-5-21-1004336348-1177238915-682003330-1105
          - user_principal_name: alex.wilber@contoso.com
            identity_provider: okta
            action: revokeAllSessions
        fail_fast: true

- name: Entra ID actions are outside the documented matrix and must be asked for
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Require the user to sign in again in Entra ID
      msgraph.security.identity_account_action:
        user_principal_name: alice@contoso.com
        identity_provider: entraID
        action: requireUserToSignInAgain
        action_matrix: extended
"""

RETURN = r"""
outcome:
  description:
    - What the module did.
    - V(sent) - the action was sent and Graph accepted it.
    - V(unchanged) - V(disable) or V(enable) found the account already in that state; nothing was sent.
    - V(check_mode) - check mode; nothing was sent, RV(request) shows what would be.
    - V(reconciled) - the request's outcome was unknown (timeout or 5xx), and reading the identity again showed the
      new state; see the warning.
  returned: success, without O(targets)
  type: str
  sample: sent
reason:
  description: Why nothing was sent (C(changed=false)).
  returned: when nothing needed to be sent
  type: str
  sample: "already disabled: isEnabled is false and the activeDirectory account 256db173-930a-4991-9061-0d51a9a93ba5 offers enable"
state_evidence:
  description:
    - For V(disable) and V(enable), what the identity's readable state said before the action, and whether the
      signals agreed. The action is skipped only when both say it is already done.
  returned: with O(action=disable) or O(action=enable), without O(targets)
  type: dict
  contains:
    is_enabled:
      description: The identity's C(isEnabled), or V(null).
      type: bool
      sample: true
    account_actions:
      description: The actions the account listed, or V(null).
      type: list
      elements: str
      sample: [enable]
    is_enabled_says_done:
      description: V(true) when C(isEnabled) already has the target value, V(false) when not, V(null) when absent.
      type: bool
      sample: false
    account_actions_say_done:
      description:
        - V(true) when the account offers only the opposite action, V(false) when it offers only this one, V(null)
          when its list says neither (empty, missing, or both).
      type: bool
      sample: true
    note:
      description: Which evidence was missing or disagreed, when the action was sent because of it; else V(null).
      type: str
      sample: "the evidence disagrees (isEnabled is true and the activeDirectory account 256db173 offers enable): ..."
identity_account:
  description:
    - The target identity as it was read before the action, in the same form as
      RV(msgraph.security.identity_account_info#module:identity_accounts).
  returned: success, without O(targets)
  type: dict
  contains:
    id:
      description: The identity account ID.
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
      description: Whether the identity was enabled before the action (Graph C(isEnabled)), or V(null).
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
      description: The identity's provider accounts.
      type: list
      elements: dict
      contains:
        identifier:
          description: The provider's account ID.
          type: str
          sample: 256db173-930a-4991-9061-0d51a9a93ba5
        identity_provider:
          description: V(activeDirectory), V(entraID) or V(okta); later values unchanged.
          type: str
          sample: activeDirectory
        actions:
          description: The actions the service listed for the account, or V(null) when it lists none.
          type: list
          elements: str
          sample: [disable, forcePasswordReset]
request:
  description:
    - The request sent, or in check mode the request that would be sent. The body is shown exactly as sent,
      with Graph's camelCase names.
  returned: when the action is sent or would be sent
  type: dict
  contains:
    method:
      description: The HTTP method.
      type: str
      sample: POST
    url:
      description: The full URL.
      type: str
      sample: https://graph.microsoft.com/beta/security/identities/identityAccounts/0104216-0539-4838-88b1-55baafdc296b/invokeAction
    body:
      description: The JSON body - C(accountId), C(action) and C(identityProvider).
      type: dict
      sample: {accountId: 256db173-930a-4991-9061-0d51a9a93ba5, action: disable, identityProvider: activeDirectory}
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
invoke_action_result:
  description:
    - Graph's answer (C(invokeActionResult)), with the request ids to quote in the incident and to Microsoft support.
  returned: when the action was sent (not in check mode)
  type: dict
  contains:
    account_id:
      description: The account the action was sent for.
      type: str
      sample: 256db173-930a-4991-9061-0d51a9a93ba5
    action:
      description: The action, in the schema's spelling.
      type: str
      sample: disable
    identity_provider:
      description: The identity provider, in the schema's spelling.
      type: str
      sample: activeDirectory
    correlation_id:
      description:
        - Defender for Identity's identifier for tracking the action, or V(null) when the service gave none (always
          V(null) with RV(outcome=reconciled)).
      type: str
      sample: ed2f052b-2a01-4cd9-acb3-f6145f83e1a5
    request_id:
      description: The C(request-id) Graph gave the request, or V(null).
      type: str
      sample: 9f6b3c21-1e0a-4a55-b7de-3c1f0e8a1d2b
    client_request_id:
      description: The C(client-request-id) the module generated for this request (a new one per run).
      type: str
      sample: 7c0a8e5e-4b1d-4f43-9d0c-6f5e2d9b8a11
results:
  description:
    - With O(targets), one entry per target, in the order given, whether the task succeeded or failed.
  returned: when O(targets) is given (also when the task fails because of a target)
  type: list
  elements: dict
  contains:
    index:
      description: The target's position in O(targets), from V(0).
      type: int
      sample: 0
    target:
      description: The target as given (keys left out or empty are not shown).
      type: dict
      sample: {user_principal_name: adele.vance@contoso.com}
    status:
      description:
        - V(succeeded) - the action was sent and Graph accepted it (or, after an unknown outcome, reading the
          identity again showed it took effect).
        - V(unchanged) - nothing to do - V(disable) or V(enable) found the account already in that state, or the
          same identity, account and action came earlier in the list; see RV(results[].reason).
        - V(would_run) - check mode - the action would be sent.
        - V(refused) - nothing was sent for this target - bad input, no identity or several matched the lookup,
          a protected account, or an action the account does not offer.
        - V(failed) - Graph answered the lookup or the action with an error.
        - V(outcome_unknown) - the action was sent but its outcome is unknown (timeout or 5xx) and reading the
          identity again did not show it; it was not resent. Look up RV(results[].client_request_id) in the
          Microsoft Defender Action center.
        - V(not_started) - O(fail_fast) stopped the batch before this target's action was sent.
      type: str
      sample: succeeded
    changed:
      description: Whether the action was (or in check mode would be) sent, or may have been (V(outcome_unknown)).
      type: bool
      sample: true
    reason:
      description: Why nothing was sent (V(unchanged), V(not_started)) or how a success was confirmed, else V(null).
      type: str
    identity_account_id:
      description: The identity the lookup found, or V(null).
      type: str
      sample: 0104216-0539-4838-88b1-55baafdc296b
    account_id:
      description: The provider account the action applies to, or V(null).
      type: str
      sample: 256db173-930a-4991-9061-0d51a9a93ba5
    identity_provider:
      description: The identity provider, in the schema's spelling, or V(null) when the input was refused.
      type: str
      sample: activeDirectory
    action:
      description: The action, in the schema's spelling, or V(null) when the input was refused.
      type: str
      sample: forcePasswordReset
    correlation_id:
      description: Defender for Identity's identifier for tracking the action, or V(null).
      type: str
      sample: ed2f052b-2a01-4cd9-acb3-f6145f83e1a5
    request_id:
      description: The C(request-id) of the action (or of the failed request), or V(null).
      type: str
    client_request_id:
      description: The C(client-request-id) of the action (or of the failed request), or V(null).
      type: str
    error_code:
      description:
        - Why the target did not succeed - Graph's C(error.code), or V(IdentityNotFound), V(IdentityAmbiguous),
          V(ProtectedAccount), V(InvalidInput) for refused input. V(null) otherwise.
      type: str
      sample: IdentityNotFound
    error_message:
      description: The error, naming the option at fault for refused input; V(null) otherwise.
      type: str
    warnings:
      description: Warnings about this target (for example a contradiction between C(isEnabled) and the account's actions).
      type: list
      elements: str
lookups:
  description:
    - With O(targets), how the identities were found - the query the service answered for each lookup kind, and
      how many times every identity was read (V(0) or V(1)).
  returned: with O(targets)
  type: dict
  contains:
    scans:
      description: Full reads of every identity (at most one per task).
      type: int
      sample: 0
    queries:
      description: Per lookup kind, the query used.
      type: dict
      sample: {"user_principal_name": "the derived-type query (identityAccounts/microsoft.graph.security.user)"}
summary:
  description: With O(targets), how many targets ended in each RV(results[].status), and V(total).
  returned: when O(targets) is given
  type: dict
  contains:
    total:
      description: The number of targets.
      type: int
    succeeded:
      description: Targets whose action was sent.
      type: int
    unchanged:
      description: Targets already in the requested state, or repeated.
      type: int
    would_run:
      description: Targets whose action would be sent (check mode).
      type: int
    refused:
      description: Targets refused before anything was sent for them.
      type: int
    failed:
      description: Targets whose lookup or action failed.
      type: int
    outcome_unknown:
      description: Targets whose action may or may not have taken effect.
      type: int
    not_started:
      description: Targets not started because of O(fail_fast).
      type: int
  sample: {total: 3, succeeded: 2, unchanged: 0, would_run: 0, refused: 1, failed: 0, outcome_unknown: 0, not_started: 0}
matches:
  description:
    - When a lookup matched no identity or several, the identities it matched (the task fails).
  returned: failure, when the target lookup did not match exactly one identity
  type: list
  elements: dict
  contains:
    id:
      description: The identity account ID.
      type: str
    display_name:
      description: The display name.
      type: str
    user_principal_name:
      description: The user principal name.
      type: str
  sample:
    - {id: c1c1c1c1-0000-4000-8000-000000000003, display_name: Chris Smith, user_principal_name: chris.smith@contoso.com}
    - {id: c2c2c2c2-0000-4000-8000-000000000004, display_name: Chris Smith, user_principal_name: chris.smith@fabrikam.com}
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
"""

from ansible_collections.msgraph.security.plugins.module_utils._identity_bulk import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_TARGETS,
    BulkOptions,
    check_limits,
    run_bulk,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import (
    ACTION_TARGET_OPTIONS,
    ActionRequest,
    ReconcileWait,
    run_identity_action,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import IdentityResolutionError
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    ACTION_MATRICES,
    DEFAULT_ACTION_MATRIX,
    selector_from_params,
)
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule

# Option name -> lookup kind. Exactly one must be given, or targets.
TARGET_OPTIONS = ACTION_TARGET_OPTIONS
LOOKUP_OR_TARGETS = list(TARGET_OPTIONS) + ["targets"]

# One target's options, at the top level and in each entry of targets.
TARGET_SPEC = dict(
    identity_account_id=dict(type="str"),
    user_principal_name=dict(type="str"),
    on_premises_security_identifier=dict(type="str"),
    display_name=dict(type="str"),
    # Plain strings, validated in the domain layer: Ansible's choices are case-sensitive and the
    # documentation's spellings (ActiveDirectory, ForcePasswordReset) must work too. Not required:
    # with targets, each target may set its own (the domain layer refuses a target left without one).
    identity_provider=dict(type="str"),
    action=dict(type="str"),
    account_id=dict(type="str"),
)

ARGUMENT_SPEC: dict[str, dict] = dict(
    TARGET_SPEC,
    protected_accounts=dict(type="list", elements="str", default=[]),
    action_matrix=dict(type="str", default=DEFAULT_ACTION_MATRIX, choices=sorted(ACTION_MATRICES)),
    targets=dict(type="list", elements="dict", options=TARGET_SPEC,
                 mutually_exclusive=[list(TARGET_OPTIONS)], required_one_of=[list(TARGET_OPTIONS)]),
    require_offered_action=dict(type="bool", default=False),
    reconcile_timeout=dict(type="int", default=30),
    max_concurrency=dict(type="int", default=DEFAULT_MAX_CONCURRENCY),
    max_targets=dict(type="int", default=DEFAULT_MAX_TARGETS),
    fail_fast=dict(type="bool", default=False),
)


def build_request(params):
    """Every input check, before any request is sent."""
    return ActionRequest(
        selector_from_params(params, TARGET_OPTIONS), params["identity_provider"], params["action"],
        reconcile=ReconcileWait(params["reconcile_timeout"]),
        **{name: params[name] for name in ("account_id", "protected_accounts", "action_matrix", "require_offered_action")}
    )


def bulk_options(params):
    """The module options that apply to every target of a bulk run."""
    names = ("identity_provider", "action", "protected_accounts", "action_matrix", "max_concurrency", "max_targets", "fail_fast",
             "require_offered_action")
    return BulkOptions(reconcile=ReconcileWait(params["reconcile_timeout"]), **{name: params[name] for name in names})


def run_targets(module):
    """``targets``: the whole batch in the domain layer; the task fails if any target did not succeed."""
    try:
        options = bulk_options(module.params)
        check_limits(module.params["targets"], options)  # before the client: not even a token request
        client = module.graph_client(pool_size=options.max_concurrency)
        outcome = run_bulk(client, module.params["targets"], options, check_mode=module.check_mode)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    module.exit_with_result(outcome)


def run_single(module):
    """Act on the one identity the options select and exit with the result (or fail with the error)."""
    try:
        request = build_request(module.params)
        result = run_identity_action(module.graph_client(), request, check_mode=module.check_mode)
    except IdentityResolutionError as error:
        module.fail_on_error(error, matches=error.matches)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    else:
        module.exit_with_result(result)


def main():
    """Run the module: one target, or every entry of ``targets``."""
    module = GraphModule(
        argument_spec=ARGUMENT_SPEC,
        api="identity_accounts",
        supports_check_mode=True,
        mutually_exclusive=[LOOKUP_OR_TARGETS, ["targets", "account_id"]],
        required_one_of=[LOOKUP_OR_TARGETS],
    )
    if module.params["targets"] is not None:
        run_targets(module)
    else:
        run_single(module)


if __name__ == "__main__":
    main()
