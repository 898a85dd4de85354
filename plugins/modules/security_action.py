#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: security_action
short_description: Create or cancel a legacy Microsoft Graph security action (deprecated API)
version_added: 1.0.0
description:
  - Creates a legacy Microsoft Graph C(securityAction) (C(POST /security/securityActions)), for example
    C(BlockIp) on Microsoft Defender for Endpoint, or cancels one (C(cancelSecurityAction)).
  - B(Microsoft deprecated this API.) Every run warns and points to the Microsoft Defender for Endpoint
    indicators API (C(POST https://api.securitycenter.microsoft.com/api/indicators)), the supported way to
    block an IP address, URL, domain or file. See O(ignore:notes).
  - Idempotent through the client context. O(client_context) identifies an action; when you give none, the
    module derives one from O(name), O(parameters) and O(vendor_information) (see O(client_context)). Before
    creating, the module looks for an action with that client context and reports no change when it exists.
  - Exactly once. When the outcome of the create request is unknown (timeout, 5xx, connection reset after
    sending), the request is never sent again. The module looks the client context up; if the action exists
    the task reports it with a warning, otherwise the task fails with the C(client-request-id). Running the
    task again is safe because it looks before it creates.
  - Uses Microsoft Graph C(beta) and the Global cloud only; other clouds fail before any request.
options:
  state:
    description:
      - V(present) creates the action unless one with the same client context exists.
      - V(canceled) cancels the action named by O(id) or by its client context (O(client_context), or derived
        from O(name), O(parameters) and O(vendor_information)). Only an action that is C(NotStarted) or C(Running) is
        canceled; any other is left alone (no change, with the reason). When no action has the client context, nothing
        changes either; an O(id) that does not exist fails the task.
    type: str
    choices: [present, canceled]
    default: present
  name:
    description:
      - The action name, for example V(BlockIp). Required with O(state=present).
      - Only C(BlockIp) on Microsoft Defender for Endpoint is known to have ever worked; other names are sent as
        given and the service may answer C(400 Cannot find a provider for this request).
    type: str
  parameters:
    description:
      - The action's parameters (Graph C(keyValuePair) collection), for example the IP address to block.
        Required with O(state=present).
      - Either a dictionary of parameter names and values (for C(BlockIp), the key C(IP) and the address) or a list
        of dictionaries with exactly the keys C(name) and C(value). Values are sent as strings (V(true)/V(false) for booleans); nested lists or dictionaries are
        refused.
      - Read-only securityAction properties (C(id), C(appId), C(azureTenantId), C(user), C(status), C(states),
        C(errorInfo), the date-times) are refused as parameter names; the service sets them itself.
    type: raw
  action_reason:
    description:
      - Why the action is taken (C(actionReason)). Not part of the derived client context, so changing it does
        not create another action.
    type: str
  vendor_information:
    description:
      - The security product that carries the action out (C(securityVendorInformation)). Required with
        O(state=present).
      - For Microsoft Defender for Endpoint use C(vendor=Microsoft) and C(provider=Windows Defender ATP).
    type: dict
    suboptions:
      vendor:
        description: The vendor, for example V(Microsoft).
        type: str
        required: true
      provider:
        description: The provider, for example V(Windows Defender ATP).
        type: str
        required: true
      sub_provider:
        description: The sub-provider, if any. Not part of the derived client context.
        type: str
      provider_version:
        description: The provider version, if any. Not part of the derived client context.
        type: str
  client_context:
    description:
      - A unique string of at most 256 characters identifying this action (C(clientContext)). Re-running a task
        with the same client context never creates a second action.
      - When omitted, it is derived as C(msgraph.security:v1:) followed by the SHA-256 hex digest of the
        canonical JSON of the lower-cased action name, the sorted parameters (lower-cased names, values as
        given), and the lower-cased vendor and provider. The same request therefore always maps to the same
        action; to repeat an action (for example after it Failed), give a new client context.
      - With O(state=present), a client context that already names an action with a different name, parameters
        or vendor fails the task (actions cannot be changed).
      - The module finds actions with the server-side filter C(clientContext eq '...') and checks every result
        itself; if the service refuses the filter (HTTP 400 or 501) it reads every page instead.
    type: str
  id:
    description:
      - The id of the action to cancel, with O(state=canceled). Mutually exclusive with O(client_context).
    type: str
  wait:
    description:
      - With O(state=present), wait until the action is Completed or Failed. A Failed action fails the task with
        its C(error_info) (code, message, subcode).
      - Also applies when the action already existed.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds O(wait) waits before the task fails. The action keeps running; re-run the task to wait
        again (it finds the same action).
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between two reads of the action while waiting. The legacy API allows 150 requests per minute per
        application and tenant; keep this at 2 seconds or more.
    type: int
    default: 5
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.actiongroup_graph
attributes:
  check_mode:
    support: full
    details:
      - Reads (looking the client context up) still happen; no POST is sent. The result's RV(request) shows the
        request that would be sent.
  diff_mode:
    support: full
    details:
      - The diff shows the existing action (or nothing) before, and the created action, or the action as read
        after the cancel, after. In check mode the after side is a projection (a new action C(NotStarted)); for a
        cancel it equals the before side, because Microsoft documents no status for a canceled action.
  idempotent:
    support: full
    details:
      - O(state=present) is idempotent through the client context (given or derived).
      - O(state=canceled) sends the cancel only while the action is C(NotStarted) or C(Running); an action in any
        other status is reported unchanged. Repeating a cancel is harmless.
notes:
  - B(Deprecated by Microsoft.) The legacy Microsoft Graph security API, C(securityActions) included, is
    deprecated (the beta SDKs announce removal on 2026-04-10). This module exists for completeness and for
    tenants where the endpoint still answers. It warns on every run. Use the Microsoft Defender for Endpoint
    indicators API (C(POST https://api.securitycenter.microsoft.com/api/indicators)) for new automation.
  - Only C(BlockIp) on Microsoft Defender for Endpoint (C(vendor=Microsoft), C(provider=Windows Defender ATP)) is
    known to have ever worked. The documented example has been answered with
    C(400 Cannot find a provider for this request).
  - B(Permissions), application permissions only (the API rejects delegated tokens), with admin consent.
    C(SecurityActions.ReadWrite.All) to create and cancel. An O(access_token) carrying an C(scp) claim
    (a delegated token) is refused before any request; its payload is decoded without checking the signature,
    and a token that is not a readable JWT is passed on for the service to judge.
  - The API is offered in the Global cloud only; O(cloud_environment) other than V(global) fails before any
    request. It exists in Microsoft Graph beta only; O(api_version=v1.0) fails before any request too.
  - Microsoft Graph throttles C(securityActions) at 150 requests per minute per application per tenant; the
    module retries throttled requests after C(Retry-After).
  - The documented status values are C(NotStarted), C(Running), C(Completed) and C(Failed) (the service has
    also answered C(notStarted)); the module compares them case-insensitively and returns the documented
    spelling. A status outside that list is returned as the service wrote it, and counts as final.
  - B(Cancel.) C(cancelSecurityAction) answers C(200 OK) with no body, and Microsoft documents no status for a
    canceled action (the enum has no canceled value). The module therefore reports what Graph returned
    (RV(outcome), RV(request_ids)) and the action as read right after (RV(security_action)), status as it is; it never
    invents a canceled state. Read the action later with M(msgraph.security.security_action_info) to see where it
    ended.
seealso:
  - module: msgraph.security.security_action_info
  - name: Microsoft Defender for Endpoint indicators API (the replacement)
    description: Submit or update an indicator (IP, URL, domain, file) to allow, block or warn.
    link: https://learn.microsoft.com/en-us/defender-endpoint/api/post-ti-indicator
  - name: securityAction resource type (Microsoft Graph beta)
    description: The legacy entity this module manages.
    link: https://learn.microsoft.com/en-us/graph/api/resources/securityaction?view=graph-rest-beta
author:
  - msgraph.security maintainers (@msgraph-security)
"""

EXAMPLES = r"""
- name: Block an attacker's IP address on Microsoft Defender for Endpoint (legacy API) and wait for it
  msgraph.security.security_action:
    name: BlockIp
    parameters:
      IP: 203.0.113.45
    action_reason: "INC-4711: brute force from this address"
    vendor_information:
      vendor: Microsoft
      provider: Windows Defender ATP
    wait: true
    wait_timeout: 120
  register: block

- name: Show the action
  ansible.builtin.debug:
    msg: "{{ block.security_action.id }} is {{ block.security_action.status }}"

- name: The same with an explicit client context and the key/value list form
  msgraph.security.security_action:
    name: BlockIp
    parameters:
      - name: IP
        value: 203.0.113.46
    client_context: "INC-4711-block-203.0.113.46"
    vendor_information:
      vendor: Microsoft
      provider: Windows Defender ATP

- name: Preview the request without sending it
  msgraph.security.security_action:
    name: BlockIp
    parameters:
      IP: 203.0.113.47
    vendor_information:
      vendor: Microsoft
      provider: Windows Defender ATP
  check_mode: true
  register: preview

- name: Cancel an action that has not finished, by id
  msgraph.security.security_action:
    state: canceled
    id: "{{ block.security_action.id }}"

- name: Cancel by client context
  msgraph.security.security_action:
    state: canceled
    client_context: "INC-4711-block-203.0.113.46"

- name: Authenticate once for every msgraph.security task (AWX injects AZURE_* variables for you)
  module_defaults:
    group/msgraph.security.graph:
      tenant_id: "{{ azure_tenant_id }}"
      client_id: "{{ azure_client_id }}"
      client_secret: "{{ azure_client_secret }}"
  block:
    - name: Block an IP address
      msgraph.security.security_action:
        name: BlockIp
        parameters:
          IP: 198.51.100.7
        vendor_information:
          vendor: Microsoft
          provider: Windows Defender ATP
"""

RETURN = r"""
security_action:
  description:
    - The action in snake_case, as last read from Microsoft Graph.
    - Empty in check mode when the action would be created, and with O(state=canceled) when no action has the
      client context.
    - On failure it is empty, except when the action Failed or O(wait_timeout) ran out; then it is the action
      as last read.
  returned: success, and on failure once the options were accepted
  type: dict
  contains:
    id:
      description: The action's id.
      type: str
      sample: 7c1b8e0a-6a8f-4f4c-9d1e-2a9b8c7d6e5f
    name:
      description: The action name as the service stores it.
      type: str
      sample: BlockIp
    status:
      description:
        - C(NotStarted), C(Running), C(Completed) or C(Failed), in this spelling whatever case the service used.
        - A status outside these is returned as the service wrote it (see O(ignore:notes) on cancel).
      type: str
      sample: Completed
    states:
      description: The status history.
      type: list
      elements: dict
      contains:
        app_id:
          description: The application that changed the status.
          type: str
        status:
          description: The status.
          type: str
        updated_date_time:
          description: When, in UTC ISO 8601.
          type: str
        user:
          description: The user principal name, if any.
          type: str
      sample: [{app_id: 11111111-2222-3333-4444-555555555555, status: NotStarted,
                updated_date_time: "2026-05-01T10:00:00Z", user: null}]
    error_info:
      description: Why the action failed; null unless it Failed.
      type: dict
      contains:
        code:
          description: The error code.
          type: int
        message:
          description: The error message.
          type: str
        subcode:
          description: The error subcode.
          type: int
      sample: {code: 400, message: "IP address 10.1.2.3 is private and cannot be blocked", subcode: 1}
    parameters:
      description: The parameters as name/value pairs.
      type: list
      elements: dict
      contains:
        name:
          description: The parameter name.
          type: str
        value:
          description: The value, always a string.
          type: str
      sample: [{name: IP, value: 203.0.113.45}]
    vendor_information:
      description: The product carrying out the action.
      type: dict
      contains:
        vendor:
          description: The vendor.
          type: str
        provider:
          description: The provider.
          type: str
        sub_provider:
          description: The sub-provider.
          type: str
        provider_version:
          description: The provider version.
          type: str
      sample: {vendor: Microsoft, provider: Windows Defender ATP, sub_provider: null, provider_version: null}
    client_context:
      description: The client context identifying the action.
      type: str
      sample: msgraph.security:v1:5d41402abc4b2a76b9719d911017c592a4b6c2f1e8d9f0a7b6c5d4e3f2a1b0c9
    action_reason:
      description: The reason given when it was created.
      type: str
      sample: "INC-4711: brute force from this address"
    app_id:
      description: The application that created it (from its token).
      type: str
      sample: 11111111-2222-3333-4444-555555555555
    azure_tenant_id:
      description: The tenant (from the token).
      type: str
      sample: 00000000-0000-0000-0000-000000000001
    user:
      description: The user principal name of the submitter; null for application tokens.
      type: str
      sample: null
    created_date_time:
      description: When it was created, UTC ISO 8601.
      type: str
      sample: "2026-05-01T10:00:00Z"
    completed_date_time:
      description: When it finished, UTC ISO 8601; null before.
      type: str
      sample: "2026-05-01T10:00:01Z"
    last_action_date_time:
      description: When it was last updated, UTC ISO 8601.
      type: str
      sample: "2026-05-01T10:00:01Z"
outcome:
  description:
    - V(sent) - the create or cancel was sent and Graph accepted it.
    - V(unchanged) - nothing to do (the action exists, is final, or there is none to cancel); see RV(reason).
    - V(check_mode) - nothing was sent; RV(request) shows what would be.
    - V(reconciled) - the create's outcome was unknown, and a lookup by client context found the action; see the warning.
  returned: success
  type: str
  sample: sent
reason:
  description: Why nothing changed (the action exists, is already finished, or was not found).
  returned: when the task changed nothing
  type: str
  sample: "security action 7c1b8e0a-6a8f-4f4c-9d1e-2a9b8c7d6e5f is already Completed; nothing to cancel"
request:
  description: The request sent, or in check mode the request that would be sent. No token is shown.
  returned: when changed
  type: dict
  contains:
    method:
      description: The HTTP method.
      type: str
      sample: POST
    url:
      description: The exact URL.
      type: str
      sample: https://graph.microsoft.com/beta/security/securityActions
    body:
      description: The JSON body (null for a cancel).
      type: dict
      sample: {name: BlockIp, parameters: [{name: IP, value: 203.0.113.45}],
               vendorInformation: {vendor: Microsoft, provider: Windows Defender ATP},
               clientContext: "msgraph.security:v1:5d41402abc4b2a76b9719d911017c592a4b6c2f1e8d9f0a7b6c5d4e3f2a1b0c9"}
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
  description: The option at fault, for invalid input.
  returned: on invalid input
  type: str
  sample: client_context
"""

from ansible.module_utils.common.warnings import warn

from ansible_collections.msgraph.security.plugins.module_utils import _security_action_requests as action_requests
from ansible_collections.msgraph.security.plugins.module_utils import _security_actions as actions
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule

ARGUMENT_SPEC: dict[str, dict] = dict(
    state=dict(type="str", default="present", choices=["present", "canceled"]),
    name=dict(type="str"),
    parameters=dict(type="raw"),
    action_reason=dict(type="str"),
    vendor_information=dict(
        type="dict",
        options=dict(
            vendor=dict(type="str", required=True),
            provider=dict(type="str", required=True),
            sub_provider=dict(type="str"),
            provider_version=dict(type="str"),
        ),
    ),
    client_context=dict(type="str"),
    id=dict(type="str"),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=300),
    poll_interval=dict(type="int", default=5),
)


def _vendor(vendor_information):
    """Ansible fills unset suboptions with None; the domain expects only what was given."""
    return dict((key, value) for key, value in (vendor_information or {}).items() if value is not None)


def _create_body(params):
    return action_requests.build_create_body(
        name=params["name"],
        parameters=params["parameters"],
        vendor_information=_vendor(params["vendor_information"]),
        client_context=params["client_context"],
        action_reason=params["action_reason"],
    )


def _cancel_context(params):
    """The client context to cancel by: given, or derived exactly as state=present derives it."""
    if params["id"] or params["client_context"]:
        return params["client_context"]
    return _create_body(params)["clientContext"]


def plan(params):
    """Every check that needs no request, so bad input never reaches Graph.

    Returns the create body (state=present) or the client context to cancel by (state=canceled, None with id).
    """
    if params["state"] == "present" and params["id"]:
        raise InputError("id", "is only used with state=canceled; state=present identifies actions by client_context")
    if params["id"] is not None:
        action_requests.validate_action_id(params["id"])
    if params["wait_timeout"] < 0:
        raise InputError("wait_timeout", "must be 0 or more seconds")
    if params["poll_interval"] < 1:
        raise InputError("poll_interval", "must be at least 1 second")
    if params["state"] == "present":
        return _create_body(params)
    return _cancel_context(params)


def run(module, client, planned):
    """``planned``: what plan() returned for this state."""
    params = module.params
    if params["state"] == "canceled":
        return actions.ensure_canceled(client, action_id=params["id"], client_context=planned,
                                       check_mode=module.check_mode, warn=module.warn)
    return actions.ensure_present(client, planned, check_mode=module.check_mode, wait=params["wait"],
                                  wait_timeout=params["wait_timeout"], poll_interval=params["poll_interval"],
                                  warn=module.warn)


def main():
    # Warned before GraphModule exists so that even a refused cloud or a bad option shows it.
    """Run the module: create the security action once (state present) or cancel it (state canceled)."""
    warn(actions.DEPRECATION_WARNING)
    module = GraphModule(
        argument_spec=ARGUMENT_SPEC,
        api="security_actions",
        supports_check_mode=True,
        required_if=[
            ("state", "present", ("name", "parameters", "vendor_information")),
            ("state", "canceled", ("id", "client_context", "name"), True),
        ],
        mutually_exclusive=[("id", "client_context")],
    )
    try:
        planned = plan(module.params)
        action_requests.refuse_delegated_token(module.params["access_token"], module.auth_method())
        result = run(module, module.graph_client(), planned)
    except (GraphError, InputError) as error:
        # An action that Failed or outlived wait_timeout is returned with the failure.
        module.fail_on_error(error, security_action=getattr(error, "action", {}))
    module.exit_with_result(result)


if __name__ == "__main__":
    main()
