#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alert_info
short_description: Read Microsoft Defender XDR alerts and their evidence
version_added: 1.0.0
description:
  - Gets one Microsoft Defender XDR alert by O(alert_id), the alerts of one incident by O(incident_id), or lists
    alerts filtered by O(severity), O(status), O(service_source), O(updated_since) and a raw OData O(filter),
    following every page (C(GET /security/alerts_v2)).
  - Evidence is returned in one flat form whatever its type (RV(alerts[].evidence)); user accounts
    (C(userAccount) of C(userEvidence) and other evidence types) are flattened to C(account_name), C(domain_name),
    C(user_sid), C(azure_ad_user_id), C(user_principal_name) and C(display_name). Turn user evidence into
    persons to look up and confirm with the P(msgraph.security.evidence_targets#filter) and
    P(msgraph.security.evidence_identities#filter) filters.
options:
  alert_id:
    description:
      - The alert id, for example V(da637578995287051192_756343937). An unknown id returns an empty RV(alerts) list.
    type: str
  incident_id:
    description:
      - Return the alerts of this incident. Read with C(GET /security/incidents/{id}?$expand=alerts), because
        Microsoft documents no C($filter) on an alert's incident id. An unknown incident returns an empty list.
    type: str
  severity:
    description:
      - List only alerts of these severities.
    type: list
    elements: str
    choices: [unknown, informational, low, medium, high]
  status:
    description:
      - List only alerts in these statuses.
    type: list
    elements: str
    choices: [unknown, new, inProgress, resolved]
  service_source:
    description:
      - List only alerts from these services, for example V(microsoftDefenderForIdentity).
    type: list
    elements: str
    choices: [unknown, microsoftDefenderForEndpoint, microsoftDefenderForIdentity, microsoftDefenderForCloudApps,
              microsoftDefenderForOffice365, microsoft365Defender, azureAdIdentityProtection, microsoftAppGovernance,
              dataLossPrevention, microsoftDefenderForCloud, microsoftSentinel, microsoftInsiderRiskManagement,
              microsoftThreatIntelligence, microsoftSecurityForAI]
  updated_since:
    description:
      - List only alerts updated at or after this ISO 8601 time (C(lastUpdateDateTime ge ...)).
    type: str
  filter:
    description:
      - A raw OData C($filter), combined with the options above by C(and).
    type: str
  top:
    description:
      - Return at most this many alerts.
    type: int
  api_version:
    description:
      - The Microsoft Graph API version. The alerts_v2 API is generally available in V(v1.0).
    type: str
    default: v1.0
    choices: [beta, v1.0]
extends_documentation_fragment:
  - msgraph.security.connection
  - msgraph.security.attributes
  - msgraph.security.attributes.info_module
  - msgraph.security.attributes.actiongroup_graph
notes:
  - B(Permissions) C(SecurityAlert.Read.All) (application or delegated); O(incident_id) also needs
    C(SecurityIncident.Read.All). A missing permission fails with HTTP 403 naming it.
  - Offered in the global cloud and in US Government L4 and L5 (DoD), not in the China (21Vianet) cloud.
  - B(Several values.) Several values of one option are sent as C((severity eq 'high' or severity eq 'medium')).
    Microsoft documents only C({property} eq '{value}'), so if the service answers 400 to that, the module sends one
    query per combination of values, merges them, keeps each item once (by id), newest update first, applies
    O(top) to the merged list, and warns.
seealso:
  - module: msgraph.security.incident_info
  - name: List alerts_v2 (Microsoft Graph v1.0)
    description: The API this module reads.
    link: https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2?view=graph-rest-1.0
author:
  - msgraph.security maintainers (@msgraph-security)
"""

EXAMPLES = r"""
- name: The alerts of an incident
  msgraph.security.alert_info:
    incident_id: "2972395"
  register: incident_alerts

- name: The user accounts named in them
  ansible.builtin.debug:
    msg: "{{ incident_alerts.alerts | map(attribute='evidence') | flatten | selectattr('type', 'equalto', 'userEvidence')
             | map(attribute='user_principal_name') | list }}"

- name: New high-severity alerts from Defender for Identity
  msgraph.security.alert_info:
    service_source: [microsoftDefenderForIdentity]
    severity: [high]
    status: [new]
"""

RETURN = r"""
alerts:
  description: The alerts in snake_case, newest first; empty when none matched.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The alert id.
      type: str
    provider_alert_id:
      description: The id in the detecting product.
      type: str
    incident_id:
      description: The incident the alert belongs to.
      type: str
    title:
      description: The alert title.
      type: str
    description:
      description: The description.
      type: str
    status:
      description: C(unknown), C(new), C(inProgress), C(resolved) or C(unknownFutureValue).
      type: str
    severity:
      description: C(unknown), C(informational), C(low), C(medium) or C(high).
      type: str
    classification:
      description: The classification.
      type: str
    determination:
      description: The determination.
      type: str
    service_source:
      description: The service that raised it, for example C(microsoftDefenderForIdentity).
      type: str
    detection_source:
      description: The detection technology, for example C(antivirus).
      type: str
    category:
      description: The attack category.
      type: str
    mitre_techniques:
      description: MITRE ATT&CK technique ids.
      type: list
      elements: str
    assigned_to:
      description: The owner.
      type: str
    alert_web_url:
      description: The alert in the Microsoft Defender portal.
      type: str
    incident_web_url:
      description: The incident in the portal.
      type: str
    created_date_time:
      description: Created, UTC ISO 8601.
      type: str
    last_update_date_time:
      description: Last updated, UTC ISO 8601.
      type: str
    first_activity_date_time:
      description: First activity.
      type: str
    last_activity_date_time:
      description: Last activity.
      type: str
    resolved_date_time:
      description: Resolved, if it is.
      type: str
    comments:
      description: The comments (C(comment), C(created_by_display_name), C(created_date_time)).
      type: list
      elements: dict
    evidence:
      description: The evidence, flat.
      type: list
      elements: dict
      contains:
        type:
          description: The evidence type, the last part of C(@odata.type), for example C(userEvidence) or C(deviceEvidence).
          type: str
        created_date_time:
          description: When the evidence was created.
          type: str
        verdict:
          description: C(unknown), C(suspicious), C(malicious) or C(noThreatsFound).
          type: str
        remediation_status:
          description: The remediation status.
          type: str
        roles:
          description: The evidence roles, for example C(compromised).
          type: list
          elements: str
        detailed_roles:
          description: The detailed roles.
          type: list
          elements: str
        tags:
          description: The tags.
          type: list
          elements: str
        account_name:
          description: C(userAccount.accountName), for evidence with a user account; else null.
          type: str
        domain_name:
          description: C(userAccount.domainName).
          type: str
        user_sid:
          description: C(userAccount.userSid), the on-premises SID.
          type: str
        azure_ad_user_id:
          description: C(userAccount.azureAdUserId), the Microsoft Entra object id.
          type: str
        user_principal_name:
          description: C(userAccount.userPrincipalName).
          type: str
        display_name:
          description: C(userAccount.displayName).
          type: str
        properties:
          description: Every other property of the evidence, as the service sent it (camelCase), for example
            C(deviceDnsName) or C(fileDetails).
          type: dict
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

LIST_OPTIONS = ("severity", "status", "service_source", "updated_since", "filter", "top")
ARGUMENT_SPEC: dict[str, dict] = dict(
    alert_id=dict(type="str"),
    incident_id=dict(type="str"),
    severity=dict(type="list", elements="str", choices=list(incidents.SEVERITIES)),
    status=dict(type="list", elements="str", choices=list(incidents.ALERT_STATUSES)),
    service_source=dict(type="list", elements="str", choices=list(incidents.SERVICE_SOURCES)),
    updated_since=dict(type="str"),
    filter=dict(type="str"),
    top=dict(type="int"),
)


def read(client, params, warn=None):
    """The alerts the options ask for: one by id (none when missing), an incident's, or a filtered list; options checked first."""
    if params["alert_id"] is not None:
        found = incidents.get_alert(client, incidents.validate_entity_id(params["alert_id"], "alert_id"))
        return [] if found is None else [found]
    if params["incident_id"] is not None:
        return incidents.alerts_of_incident(client, incidents.validate_entity_id(params["incident_id"], "incident_id")) or []
    if params["top"] is not None and params["top"] < 1:
        raise InputError("top", "must be 1 or more")
    if params["filter"] is not None and not params["filter"].strip():
        raise InputError("filter", "must be a non-empty OData filter, e.g. assignedTo eq 'soc@contoso.com'")
    since = normalize_timestamp(params["updated_since"], "updated_since") if params["updated_since"] else None
    return incidents.list_alerts(client, severities=params["severity"], statuses=params["status"],
                                 service_sources=params["service_source"], updated_since=since, odata_filter=params["filter"],
                                 top=params["top"], warn=warn)


def main():
    """Run the module: read the alerts and return them (never a change)."""
    exclusive = [("alert_id", "incident_id")] + [(single, option) for single in ("alert_id", "incident_id") for option in LIST_OPTIONS]
    module = GraphModule(argument_spec=ARGUMENT_SPEC, api="alerts", supports_check_mode=True,
                         mutually_exclusive=exclusive)
    try:
        found = read(module.graph_client(), module.params, warn=module.warn)
    except (GraphError, InputError) as error:
        module.fail_on_error(error)
    module.exit_json(changed=False, alerts=found)


if __name__ == "__main__":
    main()
