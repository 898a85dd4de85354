#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: incident_info
short_description: Read Microsoft Defender XDR incidents
version_added: 1.0.0
description:
  - Gets one Microsoft Defender XDR incident by O(incident_id), or lists incidents filtered by O(severity),
    O(status), O(updated_since) and a raw OData O(filter), following every page
    (C(GET /security/incidents)).
  - With O(include_alerts=true) each incident carries its alerts and their evidence (C($expand=alerts)), in the
    flat form M(msgraph.security.alert_info) documents.
  - Both response shapes Microsoft documents are understood (the schema's camelCase values, and the examples'
    PascalCase values, C(createdBy)/C(createdTime) comments and C(tags)); results always carry the schema's
    camelCase values, for example V(inProgress) and V(truePositive).
options:
  incident_id:
    description:
      - The incident id, for example V(2972395). An id that does not exist returns an empty RV(incidents) list.
      - Not together with the list options.
    type: str
  severity:
    description:
      - List only incidents of these severities (C(severity) is a documented C($filter) property).
    type: list
    elements: str
    choices: [unknown, informational, low, medium, high]
  status:
    description:
      - List only incidents in these statuses.
    type: list
    elements: str
    choices: [active, resolved, inProgress, redirected, awaitingAction]
  updated_since:
    description:
      - List only incidents updated at or after this time (C(lastUpdateDateTime ge ...)), ISO 8601, for example
        V(2026-05-01T08:00:00Z) or V(2026-05-01). Times with an offset are converted to UTC.
    type: str
  filter:
    description:
      - A raw OData C($filter) expression, combined with the options above by C(and). Microsoft documents
        C($filter) on assignedTo, classification, createdDateTime, determination, lastUpdateDateTime, severity and
        status.
    type: str
  top:
    description:
      - Return at most this many incidents (sent as C($top); paging stops there).
    type: int
  include_alerts:
    description:
      - Include each incident's alerts with their evidence (C($expand=alerts)).
    type: bool
    default: false
  api_version:
    description:
      - The Microsoft Graph API version. The incidents API is generally available in V(v1.0).
    type: str
    default: v1.0
    choices: [beta, v1.0]
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.info_module
  - msgraph.security.attributes.actiongroup_graph
notes:
  - B(Permissions) C(SecurityIncident.Read.All) (application or delegated). With O(include_alerts=true) the alerts
    also need C(SecurityAlert.Read.All). A missing permission fails with HTTP 403 naming it.
  - Offered in the global cloud and in US Government L4 and L5 (DoD), not in the China (21Vianet) cloud; there the
    module fails before any request.
  - The bounds O(severity), O(status) and O(updated_since) are sent to the service and checked again on every
    result.
  - B(Several values.) Several values of one option are sent as C((severity eq 'high' or severity eq 'medium')).
    Microsoft documents only C({property} eq '{value}'), so if the service answers 400 to that, the module sends one
    query per combination of values, merges them, keeps each item once (by id), newest update first, applies
    O(top) to the merged list, and warns.
seealso:
  - module: msgraph.security.incident
  - module: msgraph.security.alert_info
  - name: List incidents (Microsoft Graph v1.0)
    description: The API this module reads.
    link: https://learn.microsoft.com/en-us/graph/api/security-list-incidents?view=graph-rest-1.0
author:
  - msgraph.security maintainers (@msgraph-security)
"""

EXAMPLES = r"""
- name: One incident with its alerts and evidence
  msgraph.security.incident_info:
    incident_id: "2972395"
    include_alerts: true
  register: found

- name: High-severity incidents still open, updated in the last day
  msgraph.security.incident_info:
    severity: [high]
    status: [active, inProgress]
    updated_since: "{{ '%Y-%m-%dT%H:%M:%SZ' | strftime(now(utc=true).timestamp() - 86400) }}"
  register: open_high
"""

RETURN = r"""
incidents:
  description: The incidents in snake_case, newest first; empty when none matched.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The incident id.
      type: str
      sample: "2972395"
    display_name:
      description: The incident name.
      type: str
    description:
      description: The incident description.
      type: str
    status:
      description: C(active), C(resolved), C(inProgress), C(redirected), C(awaitingAction) or C(unknownFutureValue).
      type: str
      sample: active
    severity:
      description: C(unknown), C(informational), C(low), C(medium) or C(high).
      type: str
      sample: high
    classification:
      description: C(unknown), C(falsePositive), C(truePositive) or C(informationalExpectedActivity).
      type: str
    determination:
      description: The determination, for example C(compromisedAccount).
      type: str
    assigned_to:
      description: The owner, or null.
      type: str
    custom_tags:
      description: The custom tags (C(customTags), or C(tags) in the documentation's expanded example).
      type: list
      elements: str
    system_tags:
      description: The system tags.
      type: list
      elements: str
    comments:
      description: The comments, oldest first.
      type: list
      elements: dict
      contains:
        comment:
          description: The text.
          type: str
        created_by_display_name:
          description: Who wrote it (C(createdByDisplayName), or C(createdBy) in the examples).
          type: str
        created_date_time:
          description: When (C(createdDateTime), or C(createdTime) in the examples).
          type: str
    created_date_time:
      description: When the incident was created, UTC ISO 8601.
      type: str
    last_update_date_time:
      description: When it was last updated, UTC ISO 8601.
      type: str
    last_modified_by:
      description: Who last modified it.
      type: str
    incident_web_url:
      description: The incident in the Microsoft Defender portal.
      type: str
    redirect_incident_id:
      description: The incident this one was merged into, if any.
      type: str
    tenant_id:
      description: The tenant.
      type: str
    alerts:
      description: The alerts, as M(msgraph.security.alert_info) returns them.
      returned: with O(include_alerts=true)
      type: list
      elements: dict
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
  sample: updated_since
"""

from ansible_collections.msgraph.security.plugins.module_utils import _incidents as incidents
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._module import GraphModule
from ansible_collections.msgraph.security.plugins.module_utils._timestamps import normalize_timestamp

LIST_OPTIONS = ("severity", "status", "updated_since", "filter", "top")
ARGUMENT_SPEC: dict[str, dict] = dict(
    incident_id=dict(type="str"),
    severity=dict(type="list", elements="str", choices=list(incidents.SEVERITIES)),
    status=dict(type="list", elements="str", choices=list(incidents.INCIDENT_STATUSES)),
    updated_since=dict(type="str"),
    filter=dict(type="str"),
    top=dict(type="int"),
    include_alerts=dict(type="bool", default=False),
)


def read(client, params, warn=None):
    """The incidents the options ask for: one by id (none when missing) or a filtered list; options checked first."""
    if params["incident_id"] is not None:
        incident_id = incidents.validate_entity_id(params["incident_id"], "incident_id")
        found = incidents.get_incident(client, incident_id, expand_alerts=params["include_alerts"])
        return [] if found is None else [found]
    if params["top"] is not None and params["top"] < 1:
        raise InputError("top", "must be 1 or more")
    if params["filter"] is not None and not params["filter"].strip():
        raise InputError("filter", "must be a non-empty OData filter, e.g. assignedTo eq 'soc@contoso.com'")
    since = normalize_timestamp(params["updated_since"], "updated_since") if params["updated_since"] else None
    return incidents.list_incidents(client, severities=params["severity"], statuses=params["status"], updated_since=since,
                                    odata_filter=params["filter"], top=params["top"], expand_alerts=params["include_alerts"],
                                    warn=warn)


def main():
    """Run the module: read the incidents and return them (never a change)."""
    module = GraphModule(argument_spec=ARGUMENT_SPEC, api="incidents", supports_check_mode=True,
                         mutually_exclusive=[("incident_id", option) for option in LIST_OPTIONS])
    try:
        found = read(module.graph_client(), module.params, warn=module.warn)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    module.exit_json(changed=False, incidents=found)


if __name__ == "__main__":
    main()
