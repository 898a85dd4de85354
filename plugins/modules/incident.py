#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: incident
short_description: Update a Microsoft Defender XDR incident and comment on it, idempotently
version_added: 1.0.0
description:
  - Sets the owner (O(assigned_to)), O(classification), O(determination), O(status) and O(custom_tags) of a
    Microsoft Defender XDR incident, and adds a O(comment), the audit trail of a response.
  - B(Idempotent.) The incident is read first; only the properties whose value differs are sent, in one
    C(PATCH /security/incidents/{id}) (as Microsoft asks). Options left unset are not touched.
  - B(Comment once.) The comment is posted (C(POST /security/incidents/{id}/comments)) only when no existing
    comment has the same text. Texts are compared after trimming the ends and collapsing runs of white space
    (spaces, tabs, new lines) to one space; case matters.
  - A write whose outcome is unknown (time-out, HTTP 5xx) is never sent again; the incident is read again and the
    task succeeds (with a warning) only if the change is there.
options:
  incident_id:
    description:
      - The incident id, for example V(2972395).
    type: str
    required: true
  assigned_to:
    description:
      - The owner, free text (usually a user principal name). An empty string V("") removes the owner.
    type: str
  classification:
    description:
      - The classification.
    type: str
    choices: [unknown, falsePositive, truePositive, informationalExpectedActivity]
  determination:
    description:
      - The determination. Case is ignored. The update page's spellings V(compromisedUser) and
        V(confirmedUserActivity) are taken too and sent as the schema's V(compromisedAccount) and V(confirmedActivity).
    type: str
  status:
    description:
      - The status, V(active), V(inProgress) or V(resolved). Case is ignored.
      - V(redirected) is set by the service when it merges incidents and is refused.
      - V(awaitingAction) is refused with the reason, nothing sent; only Microsoft Defender Experts set it (the
        incident resource page, "incidentStatus values").
    type: str
  custom_tags:
    description:
      - The complete list of custom tags (compared as a set; order does not matter). V([]) removes every tag.
    type: list
    elements: str
  comment:
    description:
      - A comment to add, for example the correlation and request ids of a containment run.
    type: str
  api_version:
    description:
      - The Microsoft Graph API version. The incidents API is generally available in V(v1.0).
    type: str
    default: v1.0
    choices: [beta, v1.0]
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.actiongroup_graph
attributes:
  check_mode:
    support: full
    details:
      - Reads the incident and returns in RV(requests) the exact requests it would send; sends nothing else.
  diff_mode:
    support: full
    details:
      - The five properties and the number of comments before and (expected) after.
  idempotent:
    support: full
notes:
  - B(Permissions) C(SecurityIncident.ReadWrite.All). Delegated callers also need the Security Operator or Security
    Administrator Entra role. A missing permission fails with HTTP 403 naming it.
  - Offered in the global cloud and in US Government L4 and L5 (DoD), not in the China (21Vianet) cloud.
seealso:
  - module: msgraph.security.incident_info
  - name: Update incident (Microsoft Graph v1.0)
    description: The PATCH this module sends.
    link: https://learn.microsoft.com/en-us/graph/api/security-incident-update?view=graph-rest-1.0
  - name: Create comment for incident (Microsoft Graph v1.0)
    description: The comment this module posts.
    link: https://learn.microsoft.com/en-us/graph/api/security-incident-post-comments?view=graph-rest-1.0
author:
  - msgraph.security maintainers (@msgraph-security)
"""

EXAMPLES = r"""
- name: Take the incident and mark it in progress
  msgraph.security.incident:
    incident_id: "2972395"
    assigned_to: soc-analyst@contoso.com
    status: inProgress

- name: Resolve it as a compromised account, with the audit trail
  msgraph.security.incident:
    incident_id: "2972395"
    status: resolved
    classification: truePositive
    determination: compromisedAccount
    custom_tags: [ansible, contained]
    comment: "Contained by AWX job {{ awx_job_id | default('n/a') }}: disable alexw@contoso.com, correlation id ..."
"""

RETURN = r"""
incident:
  description: The incident after the task (in check mode, as it would be), as M(msgraph.security.incident_info)
    returns it.
  returned: success
  type: dict
  sample: {id: "2972395", status: inProgress, assigned_to: soc-analyst@contoso.com, custom_tags: [Demo]}
requests:
  description: The requests sent (or, in check mode, that would be sent), in order; empty when nothing differs.
  returned: success
  type: list
  elements: dict
  contains:
    method:
      description: C(PATCH) or C(POST).
      type: str
    url:
      description: The exact URL.
      type: str
    body:
      description: The exact JSON body.
      type: dict
  sample: [{method: PATCH, url: "https://graph.microsoft.com/v1.0/security/incidents/2972395", body: {status: inProgress}}]
outcome:
  description:
    - V(sent) - the requests were sent and Graph accepted them.
    - V(unchanged) - the incident already had every value and the comment; nothing was sent.
    - V(check_mode) - nothing was sent; RV(requests) shows what would be.
    - V(reconciled) - a request's outcome was unknown, and reading the incident again showed the change; see the warning.
  returned: success
  type: str
  sample: sent
request_ids:
  description:
    - The ids of each request sent, in the order of RV(requests), to quote to Microsoft support or to look up in
      the incident's activity log.
    - For a V(reconciled) request, the C(request_id) is that of the answer that left the outcome unknown, when there was one.
  returned: when a request was sent (RV(outcome) is V(sent) or V(reconciled))
  type: list
  elements: dict
  contains:
    request_id:
      description: The service's C(request-id).
      type: str
    client_request_id:
      description: The C(client-request-id) the module generated and sent.
      type: str
patched:
  description: The Graph properties the PATCH changed (or would change), sorted.
  returned: success
  type: list
  elements: str
  sample: [assignedTo, status]
comment_added:
  description: Whether the comment was (or would be) added; false when the same text was already there.
  returned: success
  type: bool
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
  sample: incident_id
"""

from ansible_collections.msgraph.security.plugins.module_utils import _incidents as incidents
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule

ARGUMENT_SPEC: dict[str, dict] = dict(
    incident_id=dict(type="str", required=True),
    assigned_to=dict(type="str"),
    classification=dict(type="str", choices=list(incidents.CLASSIFICATIONS)),
    determination=dict(type="str"),
    status=dict(type="str"),
    custom_tags=dict(type="list", elements="str"),
    comment=dict(type="str"),
)


def main():
    """Run the module: update the incident's properties that differ and add the comment unless it is already there."""
    module = GraphModule(argument_spec=ARGUMENT_SPEC, api="incidents", supports_check_mode=True)
    params = module.params
    try:
        incident_id = incidents.validate_entity_id(params["incident_id"], "incident_id")
        desired = incidents.normalize_desired(params)
        comment = params["comment"]
        if comment is not None and not comment.strip():
            raise InputError("comment", "must not be empty; leave it unset to add no comment")
        if not desired and comment is None:
            raise InputError(["assigned_to", "classification", "determination", "status", "custom_tags", "comment"],
                             "set at least one of them; nothing to do otherwise")
        result = incidents.update_incident(module.graph_client(), incident_id, desired, comment=comment,
                                           check_mode=module.check_mode, warn=module.warn)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    module.exit_with_result(result)


if __name__ == "__main__":
    main()
