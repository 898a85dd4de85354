# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _graph_client, _filtered_lists, _identity_vocabulary (enum helpers) and the standard library.
# No Ansible imports.

"""Microsoft Defender XDR incidents and alerts (``/security/incidents``, ``/security/alerts_v2``): their
vocabulary, both documented shapes, reads, the idempotent update and the comment sent once.

``incident_info``, ``alert_info``, ``incident`` and the ``incidents`` event source use it. Elsewhere:
lists by ``$filter`` in ``_filtered_lists``, evidence to identities in ``_evidence``, the event source's watermark
in ``_event_position``, ISO 8601 times in ``_timestamps``.

Decisions documented once, here (the service contract is docs/service-contract.md, "Incidents and alerts"):

* **Both documented shapes.** The schema (metadata) says camelCase enum members, comments with
  ``createdByDisplayName``/``createdDateTime`` and ``customTags``; the documentation examples show PascalCase
  incident enums (``Active``, ``TruePositive``), comments with ``createdBy``/``createdTime`` and, with
  ``$expand=alerts``, ``tags``. Both are read; results always carry the schema's camelCase members.
* **Idempotent update.** The incident is read first; only the properties whose value differs are PATCHed (enum
  values compared case-insensitively, ``custom_tags`` as a set). A PATCH is a write: its outcome, if unknown, is
  reconciled by reading the incident again, never by sending it again.
* **Comment once.** A comment is skipped when an existing comment has the same text after trimming the ends and
  collapsing runs of white space; the comparison is case-sensitive (an audit trail quotes exactly). An unknown
  comment outcome is reconciled by reading the comments again, never by posting again.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import functools
import re
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._filtered_lists import list_filtered, matches_bounds, parse_each
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import ALERTS, INCIDENTS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import (
    GraphClient,
    first_present,
    path_segment,
    read_one,
    unwrap_entity,
    validate_path_id,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    canonical_lookup,
    normalize_input_enum,
    normalize_response_enum,
)
from ansible_collections.msgraph.security.plugins.module_utils._writes import (
    OUTCOME_CHECK_MODE,
    OUTCOME_RECONCILED,
    OUTCOME_SENT,
    OUTCOME_UNCHANGED,
    Write,
    send_once,
)

INCIDENTS_PATH = "/security/incidents"
ALERTS_PATH = "/security/alerts_v2"
INCIDENT_READ_PERMISSION = INCIDENTS.permissions["read"]
INCIDENT_WRITE_PERMISSION = INCIDENTS.permissions["write"]
ALERT_READ_PERMISSION = ALERTS.permissions["read"]
COMMENT_ODATA_TYPE = "microsoft.graph.security.alertComment"

# Schema members (Microsoft's metadata, through the SDK models of docs/service-contract.md); unknownFutureValue is never sent.
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
SEVERITIES = ("unknown", "informational", "low", "medium", "high")
INCIDENT_STATUSES = ("active", "resolved", "inProgress", "redirected", "awaitingAction")
ALERT_STATUSES = ("unknown", "new", "inProgress", "resolved")
CLASSIFICATIONS = ("unknown", "falsePositive", "truePositive", "informationalExpectedActivity")
DETERMINATIONS = ("unknown", "apt", "malware", "securityPersonnel", "securityTesting", "unwantedSoftware", "other",
                  "multiStagedAttack", "compromisedAccount", "phishing", "maliciousUserActivity", "notMalicious",
                  "notEnoughDataToValidate", "confirmedActivity", "lineOfBusinessApplication")
SERVICE_SOURCES = ("unknown", "microsoftDefenderForEndpoint", "microsoftDefenderForIdentity",
                   "microsoftDefenderForCloudApps", "microsoftDefenderForOffice365", "microsoft365Defender",
                   "azureAdIdentityProtection", "microsoftAppGovernance", "dataLossPrevention", "microsoftDefenderForCloud",
                   "microsoftSentinel", "microsoftInsiderRiskManagement", "microsoftThreatIntelligence",
                   "microsoftSecurityForAI")

_BY_KEY = {
    "severity": canonical_lookup(SEVERITIES),
    "status": canonical_lookup(INCIDENT_STATUSES),
    "alert_status": canonical_lookup(ALERT_STATUSES),
    "classification": canonical_lookup(CLASSIFICATIONS),
    "determination": canonical_lookup(DETERMINATIONS),
    "service_source": canonical_lookup(SERVICE_SOURCES),
}
# The update page's table names two determinations the metadata spells differently; both spellings are taken.
_BY_KEY["determination"].update({"compromiseduser": "compromisedAccount", "confirmeduseractivity": "confirmedActivity"})
_RESPONSE_BY_KEY = dict((name, dict(table, **canonical_lookup((UNKNOWN_FUTURE_VALUE,)))) for name, table in _BY_KEY.items())

# Incident option -> (Graph property, enum table or None). The five properties the update page documents.
UPDATABLE = (
    ("assigned_to", "assignedTo", None),
    ("classification", "classification", "classification"),
    ("determination", "determination", "determination"),
    ("status", "status", "status"),
    ("custom_tags", "customTags", None),
)

_WHITESPACE = re.compile(r"\s+")


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------

def normalize_enum(kind: str, value: Any, option: str) -> str:
    """An input enum value in any case -> the schema member; InputError naming ``option`` otherwise."""
    return normalize_input_enum(value, _BY_KEY[kind], option, kind.replace("_", " "))


def normalize_enum_list(kind: str, values: Iterable[Any] | None, option: str) -> list[str]:
    """Each of ``values`` as :func:`normalize_enum` spells it (None: an empty list)."""
    return [normalize_enum(kind, value, option) for value in values or []]


def validate_entity_id(value: Any, option: str) -> str:
    """An incident or alert id, safe to put in the URL path (see ``validate_path_id``)."""
    return validate_path_id(value, option, "an incident or alert id")


def comment_key(text: Any) -> str | None:
    """What "the same comment" means: ends trimmed, white space runs collapsed, case kept."""
    return _WHITESPACE.sub(" ", text).strip() if isinstance(text, str) else None


# ---------------------------------------------------------------------------------------------
# Output: both documented shapes -> snake_case with schema enum members
# ---------------------------------------------------------------------------------------------

def _enum(kind, value):
    return normalize_response_enum(value, _RESPONSE_BY_KEY[kind])


@functools.lru_cache(maxsize=None)
def _snake(camel):
    """``lastUpdateDateTime`` -> ``last_update_date_time`` (cached: the property tables name a few dozen, read per item)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _properties(raw, plain=(), enums=(), lists=()):
    """The camelCase properties of ``raw`` under snake_case names: ``plain`` as sent, ``enums`` (property, enum kind)
    normalized to the schema's spelling, ``lists`` never None."""
    parsed = {_snake(name): raw.get(name) for name in plain}
    parsed.update({_snake(name): _enum(kind, raw.get(name)) for name, kind in enums})
    parsed.update({_snake(name): list(raw.get(name) or []) for name in lists})
    return parsed


def parse_comment(raw: Any) -> dict[str, Any]:
    """An incident or alert comment, in either documented shape, as ``comment``, ``created_by_display_name``, ``created_date_time``."""
    raw = raw if isinstance(raw, dict) else {}
    return {
        "comment": raw.get("comment"),
        "created_by_display_name": first_present(raw, "createdByDisplayName", "createdBy"),
        "created_date_time": first_present(raw, "createdDateTime", "createdTime"),
    }


# Properties of microsoft.graph.security.userAccount, flattened into each evidence item.
_USER_ACCOUNT_PROPERTIES = ("accountName", "domainName", "userSid", "azureAdUserId", "userPrincipalName", "displayName")
_EVIDENCE_COMMON = ("@odata.type", "createdDateTime", "verdict", "remediationStatus", "remediationStatusDetails", "roles",
                    "detailedRoles", "tags", "userAccount")
_SEVERITY_CLASSIFICATION_DETERMINATION = (("severity", "severity"), ("classification", "classification"),
                                          ("determination", "determination"))
_ALERT_PLAIN = ("id", "providerAlertId", "incidentId", "title", "description", "detectionSource", "category", "assignedTo",
                "alertWebUrl", "incidentWebUrl", "createdDateTime", "lastUpdateDateTime", "firstActivityDateTime",
                "lastActivityDateTime", "resolvedDateTime")
_ALERT_ENUMS = (("status", "alert_status"), ("serviceSource", "service_source")) + _SEVERITY_CLASSIFICATION_DETERMINATION
_INCIDENT_PLAIN = ("id", "displayName", "description", "assignedTo", "createdDateTime", "lastUpdateDateTime", "lastModifiedBy",
                   "incidentWebUrl", "redirectIncidentId", "tenantId")
_INCIDENT_ENUMS = (("status", "status"),) + _SEVERITY_CLASSIFICATION_DETERMINATION


def evidence_type(raw: Any) -> str | None:
    """``#microsoft.graph.security.userEvidence`` -> ``userEvidence``."""
    odata_type = raw.get("@odata.type") if isinstance(raw, dict) else None
    return odata_type.rsplit(".", 1)[-1] if isinstance(odata_type, str) and odata_type else None


def parse_evidence(raw: Any) -> dict[str, Any]:
    """One evidence item in the flat form alert_info documents: common fields, the user account flattened, and
    every other property of the evidence type under ``properties`` (camelCase, as the service sent it)."""
    raw = raw if isinstance(raw, dict) else {}
    account = raw.get("userAccount") if isinstance(raw.get("userAccount"), dict) else {}
    flat: dict[str, Any] = {"type": evidence_type(raw)}
    flat.update(_properties(raw, plain=("createdDateTime", "verdict", "remediationStatus"), lists=("roles", "detailedRoles", "tags")))
    flat.update(_properties(account, plain=_USER_ACCOUNT_PROPERTIES))
    flat["properties"] = {key: value for key, value in raw.items() if key not in _EVIDENCE_COMMON}
    return flat


def parse_alert(raw: Any) -> dict[str, Any]:
    """A Graph alert (bare or ``value``-wrapped) -> snake_case, with its comments and evidence parsed."""
    raw = unwrap_entity(raw)
    alert = _properties(raw, plain=_ALERT_PLAIN, enums=_ALERT_ENUMS, lists=("mitreTechniques",))
    alert["comments"] = [parse_comment(item) for item in raw.get("comments") or []]
    alert["evidence"] = [parse_evidence(item) for item in raw.get("evidence") or []]
    return alert


def parse_incident(raw: Any) -> dict[str, Any]:
    """A Graph incident (schema or example shape, bare or ``value``-wrapped) -> snake_case."""
    raw = unwrap_entity(raw)
    incident = _properties(raw, plain=_INCIDENT_PLAIN, enums=_INCIDENT_ENUMS, lists=("systemTags",))
    # customTags in the metadata; "tags" in the list example with $expand=alerts (docs/service-contract.md).
    incident["custom_tags"] = list(first_present(raw, "customTags", "tags") or [])
    incident["comments"] = [parse_comment(item) for item in raw.get("comments") or []]
    if isinstance(raw.get("alerts"), list):
        incident["alerts"] = [parse_alert(item) for item in raw["alerts"]]
    return incident


# ---------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------

def incident_path(incident_id: str) -> str:
    """``/security/incidents/{id}``, the id escaped for the path."""
    return f"{INCIDENTS_PATH}/{path_segment(incident_id)}"


def get_incident(client: GraphClient, incident_id: str, expand_alerts: bool = False,
                 permission: str = INCIDENT_READ_PERMISSION) -> dict[str, Any] | None:
    """The parsed incident, or None for a 404."""
    params = {"$expand": "alerts"} if expand_alerts else None
    response = read_one(client, incident_path(incident_id), params=params, permission=permission)
    return None if response is None else parse_incident(response.body)


def list_incidents(client: GraphClient, severities: list[str] | None = None, statuses: list[str] | None = None, updated_since: str | None = None,
                   odata_filter: str | None = None, top: int | None = None, expand_alerts: bool = False,
                   warn: Callable[[str], None] | None = None, malformed: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every matching incident (all pages, at most ``top``), newest first as the service orders them.
    ``malformed``: see ``_filtered_lists.parse_each`` (the event source skips a bad item; modules let it fail)."""
    raw = list_filtered(client, INCIDENTS_PATH, INCIDENT_READ_PERMISSION, severities, statuses, None, updated_since, odata_filter, top,
                        params={"$expand": "alerts"} if expand_alerts else None, warn=warn)
    parsed = parse_each(raw, parse_incident, malformed)
    return [item for item in parsed if matches_bounds(item, severities, statuses, updated_since)]


def get_alert(client: GraphClient, alert_id: str) -> dict[str, Any] | None:
    """The parsed alert, or None for a 404."""
    response = read_one(client, f"{ALERTS_PATH}/{path_segment(alert_id)}", permission=ALERT_READ_PERMISSION)
    return None if response is None else parse_alert(response.body)


def list_alerts(client: GraphClient, severities: list[str] | None = None, statuses: list[str] | None = None, service_sources: list[str] | None = None,
                updated_since: str | None = None, odata_filter: str | None = None, top: int | None = None,
                warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every matching alert (all pages, at most ``top``), each re-checked against the bounds (see ``_filtered_lists``)."""
    raw = list_filtered(client, ALERTS_PATH, ALERT_READ_PERMISSION, severities, statuses, service_sources, updated_since, odata_filter,
                        top, warn=warn)
    parsed = [parse_alert(item) for item in raw]
    return [item for item in parsed if matches_bounds(item, severities, statuses, updated_since, service_sources)]


def alerts_of_incident(client: GraphClient, incident_id: str) -> list[dict[str, Any]] | None:
    """The incident's alerts (``$expand=alerts``: alerts_v2 documents no ``$filter`` on incidentId); None if no incident."""
    incident = get_incident(client, incident_id, expand_alerts=True)
    return None if incident is None else incident.get("alerts", [])


# ---------------------------------------------------------------------------------------------
# Update
# ---------------------------------------------------------------------------------------------

def normalize_desired(params: Mapping[str, Any]) -> dict[str, Any]:
    """Module options -> the desired values (schema spellings); None = leave as is. ``assigned_to: ''`` unassigns."""
    desired = {}
    for option, _prop, kind in UPDATABLE:
        value = params.get(option)
        if value is None:
            continue
        if kind:
            value = normalize_enum(kind, value, option)
        elif option == "assigned_to":
            value = value.strip() or ""
        elif option == "custom_tags":
            value = [str(tag) for tag in value]
            if any(not tag.strip() for tag in value):
                raise InputError("custom_tags", "tags must be non-empty strings")
        desired[option] = value
    if desired.get("status") == "redirected":
        raise InputError("status", "'redirected' is set by the service when it merges incidents; it cannot be requested")
    if desired.get("status") == "awaitingAction":
        raise InputError("status", "'awaitingAction' cannot be requested: only Microsoft Defender Experts set it (incident resource, "
                                   "incidentStatus values: https://learn.microsoft.com/graph/api/resources/security-incident); "
                                   "use active, inProgress or resolved")
    return desired


def _differs(option, current, wanted):
    if option == "custom_tags":
        return sorted(set(current or [])) != sorted(set(wanted))
    if option == "assigned_to":
        return (current or "") != wanted
    return (current or "").lower() != wanted.lower()


def plan_patch(incident: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body: only the properties whose value differs, in Graph spelling."""
    body = {}
    for option, prop, _kind in UPDATABLE:
        if option in desired and _differs(option, incident.get(option), desired[option]):
            wanted = desired[option]
            body[prop] = (wanted or None) if option == "assigned_to" else wanted
    return body


def has_comment(incident: Mapping[str, Any], text: str) -> bool:
    """Whether ``incident`` already carries a comment with the same text as ``text`` (see :func:`comment_key`)."""
    key = comment_key(text)
    return any(comment_key(item.get("comment")) == key for item in incident.get("comments") or [])


def diff_fields(incident: Mapping[str, Any]) -> dict[str, Any]:
    """The updatable fields of ``incident``, for the module's diff."""
    return dict((option, incident.get(option)) for option, _prop, _kind in UPDATABLE)


def _apply(incident, body):
    after = dict(incident)
    for option, prop, _kind in UPDATABLE:
        if prop in body:
            after[option] = body[prop]
    return after


AUDIT_TRAIL = "the incident's activity log in the Microsoft Defender portal"


AUDIT_TRAIL = "the incident's activity log in the Microsoft Defender portal"


def update_incident(client: GraphClient, incident_id: str, desired: Mapping[str, Any], comment: str | None = None, check_mode: bool = False,
                    warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Read, PATCH what differs, add the comment unless present, each through the one write protocol. Returns the
    module result (changed, outcome, incident, requests, request_ids, diff, patched, comment_added)."""
    path = incident_path(incident_id)

    def missing(error):  # Graph's own error (code, request ids), with the fix
        error.message = f"Incident {incident_id} was not found: {error.message}"
        error.hint = "check incident_id; find it with msgraph.security.incident_info"
        return error

    response = read_one(client, path, permission=INCIDENT_WRITE_PERMISSION, missing=missing)
    before = parse_incident(response.body if response is not None else None)
    body = plan_patch(before, desired)
    wants_comment = bool(comment and not has_comment(before, comment))

    def read_back():
        return get_incident(client, incident_id, permission=INCIDENT_WRITE_PERMISSION)

    writes = []
    if body:
        writes.append(Write("PATCH", path, body, INCIDENT_WRITE_PERMISSION, what=f"the PATCH of incident {incident_id}",
                            audit_trail=AUDIT_TRAIL, read_what="the incident", read_back=read_back,
                            proves=lambda now: now is not None and not plan_patch(now, desired)))
    if comment and wants_comment:
        text = comment
        comment_body = {"@odata.type": COMMENT_ODATA_TYPE, "comment": text}
        writes.append(Write("POST", path + "/comments", comment_body, INCIDENT_WRITE_PERMISSION,
                            what=f"the comment on incident {incident_id}", audit_trail=AUDIT_TRAIL, read_what="the incident",
                            read_back=read_back, proves=lambda now: now is not None and has_comment(now, text)))
    after = _apply(before, body)
    result: dict[str, Any] = {"changed": bool(writes), "requests": [write.preview(client) for write in writes], "patched": sorted(body),
                              "comment_added": wants_comment, "outcome": OUTCOME_UNCHANGED if not writes else OUTCOME_CHECK_MODE}
    if check_mode:
        if wants_comment:
            pending = {"comment": comment, "created_by_display_name": None, "created_date_time": None}
            after["comments"] = list(before["comments"]) + [pending]
    elif writes:
        result["request_ids"], outcomes = [], set()
        for write in writes:
            sent = send_once(client, write)
            result["request_ids"].append(sent.request_ids)
            outcomes.add(sent.outcome)
            if sent.warning and warn:
                warn(sent.warning)
            if write.method == "PATCH":
                after = sent.state if sent.reconciled else _patched(client, incident_id, sent.answer)
            else:
                after["comments"] = sent.state["comments"] if sent.reconciled else _comments_after(client, incident_id, sent.answer)
        result["outcome"] = OUTCOME_RECONCILED if OUTCOME_RECONCILED in outcomes else OUTCOME_SENT
    result["incident"] = after
    result["diff"] = {"before": dict(diff_fields(before), comments=len(before["comments"])),
                      "after": dict(diff_fields(after), comments=len(after["comments"]))}
    return result


def _patched(client, incident_id, response):
    updated = parse_incident(response.body)
    if updated.get("id") is None:  # an empty 204-style answer: read what the service now holds
        updated = get_incident(client, incident_id, permission=INCIDENT_WRITE_PERMISSION) or updated
    return updated


def _comments_after(client, incident_id, response):
    value = response.body.get("value") if isinstance(response.body, dict) else response.body
    if isinstance(value, list):
        return [parse_comment(item) for item in value]
    now = get_incident(client, incident_id, permission=INCIDENT_WRITE_PERMISSION)
    return now["comments"] if now else []
