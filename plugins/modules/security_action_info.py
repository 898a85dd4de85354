#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: security_action_info
short_description: Read legacy Microsoft Graph security actions (deprecated API)
version_added: 1.0.0
description:
  - Gets one legacy Microsoft Graph C(securityAction) by O(id) or by O(client_context), or lists them with an
    optional OData O(filter), following every page.
  - B(Microsoft deprecated this API.) Every run warns and points to the Microsoft Defender for Endpoint
    indicators API (C(GET https://api.securitycenter.microsoft.com/api/indicators)). See O(ignore:notes).
  - Uses Microsoft Graph C(beta) and the Global cloud only; other clouds fail before any request.
options:
  id:
    description:
      - The id of one action. An id that does not exist returns an empty RV(security_actions) list.
    type: str
  client_context:
    description:
      - Return the action(s) with exactly this client context, for example the one
        M(msgraph.security.security_action) derived (its RV(msgraph.security.security_action#module:security_action.client_context)).
      - Uses the server-side filter C(clientContext eq '...'), checks every result, and reads every page
        without the filter if the service refuses it (HTTP 400 or 501).
    type: str
  filter:
    description:
      - An OData C($filter) expression passed to Microsoft Graph as given, for example
        V(status eq 'Completed'). The service documents only "some" query options for this API; an
        unsupported one fails with HTTP 400.
    type: str
  top:
    description:
      - Return at most this many actions. Sent as C($top); the module also stops following pages once it has
        this many. Without it, every page is read.
    type: int
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.info_module
  - msgraph.security.attributes.actiongroup_graph
notes:
  - B(Deprecated by Microsoft.) The legacy Microsoft Graph security API, C(securityActions) included, is
    deprecated (the beta SDKs announce removal on 2026-04-10). Use the Microsoft Defender for Endpoint
    indicators API for new automation.
  - B(Permissions), application permissions only (the API rejects delegated tokens), with admin consent,
    C(SecurityActions.Read.All) (or C(SecurityActions.ReadWrite.All)). An O(access_token) carrying an C(scp)
    claim (a delegated token) is refused before any request.
  - The API is offered in the Global cloud only; O(cloud_environment) other than V(global) fails before any
    request. It exists in Microsoft Graph beta only; O(api_version=v1.0) fails before any request too.
  - Microsoft Graph throttles C(securityActions) at 150 requests per minute per application per tenant; reading
    many pages counts one request per page.
  - Status values are returned in the documented spelling (C(NotStarted), C(Running), C(Completed), C(Failed)),
    whatever case the service used; any other value as the service wrote it. Microsoft documents no status for a
    canceled action (the documented values have no canceled member), so none is assumed.
seealso:
  - module: msgraph.security.security_action
  - name: List securityActions (Microsoft Graph beta)
    description: The legacy API this module reads.
    link: https://learn.microsoft.com/en-us/graph/api/securityactions-list?view=graph-rest-beta
author:
  - msgraph.security maintainers (@msgraph-security)
"""

EXAMPLES = r"""
- name: Get one action by id
  msgraph.security.security_action_info:
    id: 7c1b8e0a-6a8f-4f4c-9d1e-2a9b8c7d6e5f
  register: one

- name: Find the action a security_action task created without an explicit client context
  msgraph.security.security_action_info:
    client_context: "{{ block.security_action.client_context }}"
  register: found

- name: List every failed action
  msgraph.security.security_action_info:
    filter: "status eq 'Failed'"
  register: failed

- name: Show what failed and why
  ansible.builtin.debug:
    msg: "{{ item.name }} {{ item.parameters | items2dict(key_name='name', value_name='value') }}: {{ item.error_info.message }}"
  loop: "{{ failed.security_actions }}"
  loop_control:
    label: "{{ item.id }}"

- name: The first 50 actions
  msgraph.security.security_action_info:
    top: 50
"""

RETURN = r"""
security_actions:
  description:
    - The actions in snake_case; empty when none matched. See M(msgraph.security.security_action) for the
      meaning of each key.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The action's id.
      type: str
      sample: 7c1b8e0a-6a8f-4f4c-9d1e-2a9b8c7d6e5f
    name:
      description: The action name.
      type: str
      sample: BlockIp
    status:
      description: C(NotStarted), C(Running), C(Completed) or C(Failed); another value as the service wrote it.
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
      description: The client context.
      type: str
      sample: INC-4711-block-203.0.113.46
    action_reason:
      description: The reason given when it was created.
      type: str
      sample: "INC-4711: brute force from this address"
    app_id:
      description: The application that created it.
      type: str
      sample: 11111111-2222-3333-4444-555555555555
    azure_tenant_id:
      description: The tenant.
      type: str
      sample: 00000000-0000-0000-0000-000000000001
    user:
      description: The submitter's user principal name; null for application tokens.
      type: str
      sample: null
    created_date_time:
      description: When it was created, UTC ISO 8601.
      type: str
      sample: "2026-05-01T10:00:00Z"
    completed_date_time:
      description: When it finished, UTC ISO 8601.
      type: str
      sample: "2026-05-01T10:00:01Z"
    last_action_date_time:
      description: When it was last updated, UTC ISO 8601.
      type: str
      sample: "2026-05-01T10:00:01Z"
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
  sample: top
"""

from ansible.module_utils.common.warnings import warn

from ansible_collections.msgraph.security.plugins.module_utils import _security_action_requests as action_requests
from ansible_collections.msgraph.security.plugins.module_utils import _security_actions as actions
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule

ARGUMENT_SPEC: dict[str, dict] = dict(
    id=dict(type="str"),
    client_context=dict(type="str"),
    filter=dict(type="str"),
    top=dict(type="int"),
)


def validate_input(params):
    """Refuse a bad option (top, client_context, id, filter) before any request."""
    if params["top"] is not None and params["top"] < 1:
        raise InputError("top", "must be 1 or more")
    if params["client_context"] is not None:
        action_requests.validate_client_context(params["client_context"])
    # Empty values are refused, not taken as "list everything".
    if params["id"] is not None:
        action_requests.validate_action_id(params["id"])
    if params["filter"] is not None and not params["filter"].strip():
        raise InputError("filter", "must be a non-empty OData filter, e.g. status eq 'Completed'")


def main():
    # Warned before GraphModule exists so that even a refused cloud or a bad option shows it.
    """Run the module: read the security actions and return them (never a change)."""
    warn(actions.DEPRECATION_WARNING)
    module = GraphModule(
        argument_spec=ARGUMENT_SPEC,
        api="security_actions",
        supports_check_mode=True,
        mutually_exclusive=[("id", "client_context", "filter"), ("id", "top")],
    )
    params = module.params
    try:
        validate_input(params)
        action_requests.refuse_delegated_token(params["access_token"], module.auth_method())
        found = actions.read_actions(module.graph_client(), action_id=params["id"],
                                     client_context=params["client_context"], odata_filter=params["filter"],
                                     top=params["top"])
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    module.exit_json(changed=False, security_actions=found)


if __name__ == "__main__":
    main()
