# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _graph_client, _identity_vocabulary (enum helpers) and the standard library. No Ansible imports.

"""Domain logic for Microsoft Defender XDR incidents and alerts (``/security/incidents``, ``/security/alerts_v2``).

Every decision of ``incident_info``, ``alert_info``, ``incident`` and the ``incidents`` event source lives here.

Decisions documented once, here (the service contract is docs/service-contract.md, "Incidents and alerts"):

* **Both documented shapes.** The schema (metadata) says camelCase enum members, comments with
  ``createdByDisplayName``/``createdDateTime`` and ``customTags``; the documentation examples show PascalCase
  incident enums (``Active``, ``TruePositive``), comments with ``createdBy``/``createdTime`` and, with
  ``$expand=alerts``, ``tags``. Both are read; results always carry the schema's camelCase members.
* **Filters.** ``severity``, ``status`` and ``lastUpdateDateTime`` are documented ``$filter`` properties. The
  bounds are sent to the service *and* re-checked on every result, so a service that ignores a clause cannot
  widen what a playbook (or a rulebook) acts on.
* **Several values of one property.** Sent first as ``(p eq 'a' or p eq 'b')``. Microsoft's list pages document
  only ``{property} eq '{value}'``, so a 400 to the combined filter is answered by one query per combination of
  values (each the documented form), merged, de-duplicated by id and ordered newest update first; ``top`` then
  applies to the merged list. A 400 to a single-value query is the service's answer and is reported.
* **Idempotent update.** The incident is read first; only the properties whose value differs are PATCHed (enum
  values compared case-insensitively, ``custom_tags`` as a set). A PATCH is a write: its outcome, if unknown, is
  reconciled by reading the incident again, never by sending it again.
* **Evidence to targets.** Only ``userEvidence`` items name people. ``userSid`` (a domain SID
  ``S-1-5-21-...``) becomes ``on_premises_security_identifier``, ``userPrincipalName`` becomes
  ``user_principal_name``, ``azureAdUserId`` (a GUID) becomes the cloud SID ``S-1-12-1-a-b-c-d`` (the object id's 16
  bytes in GUID byte order read as four little-endian unsigned 32-bit integers), compared with the identity's
  ``cloudSecurityIdentifier``. Evidence items sharing any identifier are one person; a person whose evidence
  carries two different values of one identifier is a conflict and is never targeted. Evidence with none of the
  three (or only a well-known SID such as ``S-1-5-18``) is reported as unidentified, never guessed from names.
* **Comment once.** A comment is skipped when an existing comment has the same text after trimming the ends and
  collapsing runs of white space; the comparison is case-sensitive (an audit trail quotes exactly). An unknown
  comment outcome is reconciled by reading the comments again, never by posting again.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime
import functools
import hashlib
import itertools
import json
import re
import uuid
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
    has_unsafe_characters,
    quoted,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import (
    GraphClient,
    first_present,
    odata_string,
    path_segment,
    unwrap_entity,
    validate_path_id,
)
# Public names, kept under this file's own private aliases so nothing below changes (issue 21: the incidents split
# renames them at their uses).
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    LOOKUP_ACCOUNT_IDENTIFIER,
    canonical_lookup as _canonical_lookup,
    match_key,
    normalize_input_enum as _normalize_input_enum,
    normalize_response_enum as _normalize_response_enum,
    validate_sid,
    validate_upn,
)

INCIDENTS_PATH = "/security/incidents"
ALERTS_PATH = "/security/alerts_v2"
INCIDENT_READ_PERMISSION = "SecurityIncident.Read.All"
INCIDENT_WRITE_PERMISSION = "SecurityIncident.ReadWrite.All"
ALERT_READ_PERMISSION = "SecurityAlert.Read.All"
COMMENT_ODATA_TYPE = "microsoft.graph.security.alertComment"
USER_EVIDENCE = "userEvidence"

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
    "severity": _canonical_lookup(SEVERITIES),
    "status": _canonical_lookup(INCIDENT_STATUSES),
    "alert_status": _canonical_lookup(ALERT_STATUSES),
    "classification": _canonical_lookup(CLASSIFICATIONS),
    "determination": _canonical_lookup(DETERMINATIONS),
    "service_source": _canonical_lookup(SERVICE_SOURCES),
}
# The update page's table names two determinations the metadata spells differently; both spellings are taken.
_BY_KEY["determination"].update({"compromiseduser": "compromisedAccount", "confirmeduseractivity": "confirmedActivity"})
_RESPONSE_BY_KEY = dict((name, dict(table, **_canonical_lookup((UNKNOWN_FUTURE_VALUE,)))) for name, table in _BY_KEY.items())

# Incident option -> (Graph property, enum table or None). The five properties the update page documents.
UPDATABLE = (
    ("assigned_to", "assignedTo", None),
    ("classification", "classification", "classification"),
    ("determination", "determination", "determination"),
    ("status", "status", "status"),
    ("custom_tags", "customTags", None),
)

_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------

def normalize_enum(kind: str, value: Any, option: str) -> str:
    """An input enum value in any case -> the schema member; InputError naming ``option`` otherwise."""
    return _normalize_input_enum(value, _BY_KEY[kind], option, kind.replace("_", " "))


def normalize_enum_list(kind: str, values: Iterable[Any] | None, option: str) -> list[str]:
    return [normalize_enum(kind, value, option) for value in values or []]


def validate_entity_id(value: Any, option: str) -> str:
    """An incident or alert id, safe to put in the URL path (see ``validate_path_id``)."""
    return validate_path_id(value, option, "an incident or alert id")


def _utc_datetime(value, option):
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_UTC)
        return moment.astimezone(_UTC)
    text = str(value or "").strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        text += "T00:00:00Z"
    found = _TIMESTAMP.match(text)
    if not found:
        raise InputError(option, f"{value!r} is not an ISO 8601 time; use e.g. 2026-05-01T08:00:00Z")
    day, clock, fraction, zone = found.groups()
    if len(clock) == 5:
        clock += ":00"
    zone = (zone or "Z").upper().replace(":", "")
    offset = datetime.timedelta(0)
    if zone != "Z":
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (1 if zone[0] == "+" else -1)
    micro = int(((fraction or ".")[1:] + "000000")[:6])
    try:
        moment = datetime.datetime.strptime(day + "T" + clock, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise InputError(option, f"{value!r} is not a valid time")
    return moment.replace(microsecond=micro, tzinfo=_FixedOffset(offset)).astimezone(_UTC)


def normalize_timestamp(value: str | datetime.datetime, option: str) -> str:
    """An ISO 8601 time (``2026-05-01T08:00:00Z``, an offset, or a date) -> UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    utc = _utc_datetime(value, option)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += (f".{utc.microsecond:06d}").rstrip("0")
    return text + "Z"


class _FixedOffset(datetime.tzinfo):
    def __init__(self, offset):
        self._offset = offset

    def utcoffset(self, dt):
        return self._offset

    def dst(self, dt):
        return datetime.timedelta(0)

    def tzname(self, dt):
        return None


_UTC = _FixedOffset(datetime.timedelta(0))


def parse_service_time(value: str | datetime.datetime | None) -> datetime.datetime | None:
    """A service timestamp (up to 7 fraction digits) as an aware UTC datetime, or None."""
    try:
        return _utc_datetime(value, "time")
    except InputError:
        return None


def comment_key(text: Any) -> str | None:
    """What "the same comment" means: ends trimmed, white space runs collapsed, case kept."""
    return _WHITESPACE.sub(" ", text).strip() if isinstance(text, str) else None


# ---------------------------------------------------------------------------------------------
# Output: both documented shapes -> snake_case with schema enum members
# ---------------------------------------------------------------------------------------------

def _enum(kind, value):
    return _normalize_response_enum(value, _RESPONSE_BY_KEY[kind])


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
    flat = {"type": evidence_type(raw)}
    flat.update(_properties(raw, plain=("createdDateTime", "verdict", "remediationStatus"), lists=("roles", "detailedRoles", "tags")))
    flat.update(_properties(account, plain=_USER_ACCOUNT_PROPERTIES))
    flat["properties"] = {key: value for key, value in raw.items() if key not in _EVIDENCE_COMMON}
    return flat


def parse_alert(raw: Any) -> dict[str, Any]:
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
    return f"{INCIDENTS_PATH}/{path_segment(incident_id)}"


def build_filter(severities: list[str] | None = None, statuses: list[str] | None = None, updated_since: str | None = None,
                 service_sources: list[str] | None = None, odata_filter: str | None = None) -> str | None:
    """The ``$filter`` for the documented properties: values of one property joined with ``or``, properties with ``and``."""
    clauses = []
    for prop, values in (("severity", severities), ("status", statuses), ("serviceSource", service_sources)):
        if values:
            joined = " or ".join(f"{prop} eq {odata_string(value)}" for value in values)
            clauses.append(f"({joined})" if len(values) > 1 else joined)
    if updated_since:
        clauses.append(f"lastUpdateDateTime ge {updated_since}")
    if odata_filter:
        clauses.append(f"({odata_filter})" if clauses else odata_filter)
    return " and ".join(clauses) or None


def matches_bounds(item: Mapping[str, Any], severities: list[str] | None = None, statuses: list[str] | None = None, updated_since: str | None = None,
                   service_sources: list[str] | None = None) -> bool:
    """The local re-check of the bounds sent in ``$filter`` (item: a parsed incident or alert)."""
    if severities and item.get("severity") not in severities:
        return False
    if statuses and item.get("status") not in statuses:
        return False
    if service_sources and item.get("service_source") not in service_sources:
        return False
    if updated_since:
        updated = parse_service_time(item.get("last_update_date_time"))
        if updated is None or updated < parse_service_time(updated_since):
            return False
    return True


def get_incident(client: GraphClient, incident_id: str, expand_alerts: bool = False,
                 permission: str = INCIDENT_READ_PERMISSION) -> dict[str, Any] | None:
    """The parsed incident, or None for a 404."""
    params = {"$expand": "alerts"} if expand_alerts else None
    try:
        response = client.get(incident_path(incident_id), params=params, permission=permission)
    except GraphError as error:
        if error.status == 404:
            return None
        raise
    return parse_incident(response.body)


def _value_combinations(severities, statuses, service_sources):
    """Each combination of one value per property (None: the property is not filtered)."""
    return list(itertools.product(*[[[value] for value in values] if values else [None]
                                    for values in (severities, statuses, service_sources)]))


def _newest_first(item):
    moment = parse_service_time(item.get("lastUpdateDateTime")) if isinstance(item, dict) else None
    return (moment or parse_service_time("1970-01-01")).timestamp()


def list_filtered(client: GraphClient, path: str, permission: str, severities: list[str] | None = None, statuses: list[str] | None = None,
                  service_sources: list[str] | None = None, updated_since: str | None = None, odata_filter: str | None = None,
                  top: int | None = None, params: Mapping[str, Any] | None = None,
                  warn: Callable[[str], None] | None = None) -> list[Any]:
    """The raw items of ``path`` matching the filter: one combined query, or, when the service answers 400 to a filter
    joining several values with ``or``, one documented ``eq`` query per combination, merged and de-duplicated by id."""
    query = dict(params or {}, **{"$filter": build_filter(severities, statuses, updated_since, service_sources, odata_filter)})
    if top:
        query["$top"] = top
    try:
        return client.get_all(path, params=query, max_items=top, permission=permission)
    except GraphError as error:
        combinations = _value_combinations(severities, statuses, service_sources)
        if error.status != 400 or len(combinations) < 2:
            raise
        refused = error
    if warn:
        warn(f"the service refused the filter joining several values with 'or' (HTTP 400 {refused.code}, request-id "
             f"{refused.request_id}); sent {len(combinations)} queries of one value each instead and merged them")
    merged, seen = [], set()
    for severity, status, source in combinations:
        single = dict(query, **{"$filter": build_filter(severity, status, updated_since, source, odata_filter)})
        for item in client.get_all(path, params=single, max_items=top, permission=permission):
            key = item.get("id") if isinstance(item, dict) else None
            if key is None or key not in seen:
                seen.add(key)
                merged.append(item)
    merged.sort(key=_newest_first, reverse=True)
    return merged[:top] if top else merged


def list_incidents(client: GraphClient, severities: list[str] | None = None, statuses: list[str] | None = None, updated_since: str | None = None,
                   odata_filter: str | None = None, top: int | None = None, expand_alerts: bool = False,
                   warn: Callable[[str], None] | None = None, malformed: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every matching incident (all pages, at most ``top``), newest first as the service orders them.
    ``malformed``: see :func:`parse_each` (the event source skips a bad item; modules let it fail)."""
    raw = list_filtered(client, INCIDENTS_PATH, INCIDENT_READ_PERMISSION, severities, statuses, None, updated_since, odata_filter, top,
                        params={"$expand": "alerts"} if expand_alerts else None, warn=warn)
    parsed = parse_each(raw, parse_incident, malformed)
    return [item for item in parsed if matches_bounds(item, severities, statuses, updated_since)]


def get_alert(client: GraphClient, alert_id: str) -> dict[str, Any] | None:
    try:
        response = client.get(f"{ALERTS_PATH}/{path_segment(alert_id)}", permission=ALERT_READ_PERMISSION)
    except GraphError as error:
        if error.status == 404:
            return None
        raise
    return parse_alert(response.body)


def list_alerts(client: GraphClient, severities: list[str] | None = None, statuses: list[str] | None = None, service_sources: list[str] | None = None,
                updated_since: str | None = None, odata_filter: str | None = None, top: int | None = None,
                warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
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
    key = comment_key(text)
    return any(comment_key(item.get("comment")) == key for item in incident.get("comments") or [])


def diff_fields(incident: Mapping[str, Any]) -> dict[str, Any]:
    return dict((option, incident.get(option)) for option, _prop, _kind in UPDATABLE)


def _apply(incident, body):
    after = dict(incident)
    for option, prop, _kind in UPDATABLE:
        if prop in body:
            after[option] = body[prop]
    return after


def _preview(client, method, path, body):
    return {"method": method, "url": client.url_for(path), "body": body}


def update_incident(client: GraphClient, incident_id: str, desired: Mapping[str, Any], comment: str | None = None, check_mode: bool = False,
                    warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Read, PATCH what differs, add the comment unless present. Returns the module result (changed, incident,
    requests, diff, patched, comment_added). Raises GraphError; an unknown write outcome is reconciled by reading."""
    path = incident_path(incident_id)
    try:
        before = parse_incident(client.get(path, permission=INCIDENT_WRITE_PERMISSION).body)
    except GraphError as error:
        if error.status == 404:  # Graph's own error (code, request ids), with the fix
            error.message = f"Incident {incident_id} was not found: {error.message}"
            error.hint = "check incident_id; find it with msgraph.security.incident_info"
        raise
    body = plan_patch(before, desired)
    wants_comment = bool(comment) and not has_comment(before, comment)
    comment_body = {"@odata.type": COMMENT_ODATA_TYPE, "comment": comment} if wants_comment else None
    requests = []
    if body:
        requests.append(_preview(client, "PATCH", path, body))
    if comment_body:
        requests.append(_preview(client, "POST", path + "/comments", comment_body))
    after = _apply(before, body)
    if check_mode:
        if comment_body:
            pending = {"comment": comment, "created_by_display_name": None, "created_date_time": None}
            after["comments"] = list(before["comments"]) + [pending]
    else:
        if body:
            after = _patch(client, incident_id, path, body, desired, warn)
        if comment_body:
            after["comments"] = _comment(client, incident_id, path, comment_body, warn)
    return {
        "changed": bool(body or comment_body),
        "incident": after,
        "requests": requests,
        "patched": sorted(body),
        "comment_added": bool(comment_body),
        "diff": {"before": dict(diff_fields(before), comments=len(before["comments"])),
                 "after": dict(diff_fields(after), comments=len(after["comments"]))},
    }


def _reread_after_unknown(client, incident_id, error, what):
    """The incident read again after ``what`` had an unknown outcome; a failed read leaves the outcome unknown."""
    try:
        return get_incident(client, incident_id, permission=INCIDENT_WRITE_PERMISSION)
    except GraphError as read_error:
        raise GraphOutcomeUnknownError.after_reconciling(
            error, f"The {what} of incident {incident_id} was sent but its outcome is unknown ({error}); reading the incident again "
                   f"failed too ({read_error})", error.client_request_id, "the incident's activity log in the Microsoft Defender portal") from read_error


def _patch(client, incident_id, path, body, desired, warn):
    try:
        response = client.patch(path, body=body, permission=INCIDENT_WRITE_PERMISSION)
    except GraphOutcomeUnknownError as error:
        now = _reread_after_unknown(client, incident_id, error, "PATCH")
        if now is None or plan_patch(now, desired):
            raise error
        if warn:
            warn(f"the PATCH outcome was unknown ({error.code}); reading the incident again shows the change took effect "
                 f"(client-request-id {error.client_request_id})")
        return now
    updated = parse_incident(response.body)
    if updated.get("id") is None:  # an empty 204-style answer: read what the service now holds
        updated = get_incident(client, incident_id, permission=INCIDENT_WRITE_PERMISSION) or updated
    return updated


def _comment(client, incident_id, path, comment_body, warn):
    try:
        response = client.post(path + "/comments", body=comment_body, permission=INCIDENT_WRITE_PERMISSION)
    except GraphOutcomeUnknownError as error:
        now = _reread_after_unknown(client, incident_id, error, "comment")
        if now is None or not has_comment(now, comment_body["comment"]):
            raise error
        if warn:
            warn(f"the comment's outcome was unknown ({error.code}); reading the incident again shows it was added "
                 f"(client-request-id {error.client_request_id})")
        return now["comments"]
    value = response.body.get("value") if isinstance(response.body, dict) else response.body
    if isinstance(value, list):
        return [parse_comment(item) for item in value]
    now = get_incident(client, incident_id, permission=INCIDENT_WRITE_PERMISSION)
    return now["comments"] if now else []


# ---------------------------------------------------------------------------------------------
# Evidence -> identities and identity_account_action targets
# ---------------------------------------------------------------------------------------------

# The identifiers a person is known by, least spoofable first: the Entra ID object id (no account chooses it), the
# on-premises SID, then the UPN (an attribute an administrator, a sync rule or an attacker with rights can set).
IDENTIFIERS = ("azure_ad_user_id", "on_premises_security_identifier", "user_principal_name")
# The identity_account_info option each identifier is looked up with. The object id is an entraID account's
# documented ``identifier`` (docs/service-contract.md); no server filter on it is documented, so that lookup reads
# every identity and matches locally.
LOOKUP_OPTIONS = {"azure_ad_user_id": LOOKUP_ACCOUNT_IDENTIFIER, "on_premises_security_identifier": "on_premises_security_identifier",
                  "user_principal_name": "user_principal_name"}
_EVIDENCE_NAMES = {"azure_ad_user_id": "azureAdUserId", "on_premises_security_identifier": "userSid",
                   "user_principal_name": "userPrincipalName"}
# Microsoft's alertEvidence page and the v1.0 metadata (evidenceRole, evidenceVerdict; docs/service-contract.md).
EVIDENCE_ROLES = ("unknown", "contextual", "scanned", "source", "destination", "created", "added", "compromised", "edited",
                  "attacked", "attacker", "commandAndControl", "loaded", "suspicious", "policyViolator")
EVIDENCE_VERDICTS = ("unknown", "suspicious", "malicious", "noThreatsFound")
# What the page calls benign: role contextual ("arose likely benign"), verdict noThreatsFound ("the evidence is benign").
BENIGN_ROLES = ("contextual",)
BENIGN_VERDICTS = ("noThreatsFound",)
_DOMAIN_SID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-\d+$", re.IGNORECASE)
_EVIDENCE_ENUMS = {"roles": dict((member.lower(), member) for member in EVIDENCE_ROLES),
                   "verdicts": dict((member.lower(), member) for member in EVIDENCE_VERDICTS)}


def _user_evidence(source):
    """(alert id, flat evidence) for every userEvidence of an incident (with alerts), alerts, or evidence items."""
    if isinstance(source, dict):
        source = source.get("alerts") if isinstance(source.get("alerts"), list) else [source]
    found = []
    for item in source or []:
        if not isinstance(item, dict):
            raise InputError("evidence_targets", "expects an incident with alerts, a list of alerts or a list of "
                                                 f"evidence items, got an item of type {type(item).__name__}")
        if "evidence" in item and isinstance(item["evidence"], list):
            found.extend((item.get("id"), _flat(evidence)) for evidence in item["evidence"])
        else:
            found.append((item.get("alert_id"), _flat(item)))
    return [(alert_id, evidence) for alert_id, evidence in found if evidence.get("type") == USER_EVIDENCE]


def _flat(evidence):
    return parse_evidence(evidence) if isinstance(evidence, dict) and "@odata.type" in evidence else dict(evidence or {})


def _object_id(value):
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def _identifiers(evidence):
    """The usable identifiers of one user evidence, and why others were not used."""
    found, reasons = {}, []
    object_id = evidence.get("azure_ad_user_id")
    if object_id:
        if _object_id(object_id) and re.fullmatch(r"[0-9A-Fa-f-]{36}", str(object_id)):
            found["azure_ad_user_id"] = _object_id(object_id)
        else:
            reasons.append(f"azureAdUserId {quoted(object_id)} is not an object id (GUID)")
    sid = evidence.get("user_sid")
    if sid:
        if _DOMAIN_SID.match(str(sid)):
            found["on_premises_security_identifier"] = validate_sid(sid, "user_sid")
        else:
            reasons.append(f"userSid {quoted(sid)} is not a domain account SID (S-1-5-21-...)")
    upn = evidence.get("user_principal_name")
    if upn:
        try:
            found["user_principal_name"] = validate_upn(upn, "user_principal_name")
        except InputError:
            reasons.append(f"userPrincipalName {quoted(upn)} is not a user principal name")
        else:
            if has_unsafe_characters(upn):
                del found["user_principal_name"]
                reasons.append(f"userPrincipalName {quoted(upn)} contains control or formatting characters")
    return found, reasons


def _key(name, value):
    return (name, match_key(value))


def evidence_members(values: Iterable[Any] | str | None, kind: str, option: str) -> list[str]:
    """Evidence roles or verdicts (``kind``) as the metadata spells them; a misspelt one is refused."""
    if isinstance(values, str):
        values = [part for part in re.split(r"[,;\s]+", values) if part]
    if not isinstance(values, (list, tuple)):
        raise InputError(option, f"must be a list of evidence {kind}; got {values!r}")
    members = []
    for value in values:
        member = _EVIDENCE_ENUMS[kind].get(str(value).strip().lower())
        if member is None:
            raise InputError(option, f"'{value}' is not an evidence {kind[:-1]}; use one of {', '.join(_EVIDENCE_ENUMS[kind].values())}")
        members.append(member)
    return members


def _benign_reason(evidence, benign_roles, benign_verdicts):
    """Why Microsoft's verdict or roles make one evidence item benign, or None."""
    verdict = evidence.get("verdict")
    if isinstance(verdict, str) and verdict.lower() in [member.lower() for member in benign_verdicts]:
        return f"verdict {verdict}"
    roles = [role for role in evidence.get("roles") or [] if isinstance(role, str)]
    if roles and all(role.lower() in [member.lower() for member in benign_roles] for role in roles):
        return f"roles {', '.join(roles)}"
    return None


def evidence_targets(source: dict[str, Any] | list[dict[str, Any]] | None, benign_roles: Iterable[str] | str | None = None,
                     benign_verdicts: Iterable[str] | str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Turn user evidence into persons to look up, each identifier separately.

    Returns ``{"persons", "excluded", "unidentified", "conflicts"}`` (see the evidence_targets filter's documentation).
    Evidence whose verdict is in ``benign_verdicts`` or whose roles are all in ``benign_roles`` (default: what
    Microsoft calls benign) names no target; a person named only by such evidence is in ``excluded``.
    """
    benign_roles = BENIGN_ROLES if benign_roles is None else evidence_members(benign_roles, "roles", "benign_roles")
    benign_verdicts = BENIGN_VERDICTS if benign_verdicts is None else evidence_members(benign_verdicts, "verdicts", "benign_verdicts")
    groups = []  # [{"keys": set, "evidence": [(alert_id, evidence, identifiers)]}]
    unidentified = []
    for alert_id, evidence in _user_evidence(source):
        identifiers, reasons = _identifiers(evidence)
        if not identifiers:
            unidentified.append({
                "alert_id": alert_id, "account_name": evidence.get("account_name"), "domain_name": evidence.get("domain_name"),
                "display_name": evidence.get("display_name"), "user_sid": evidence.get("user_sid"),
                "benign": _benign_reason(evidence, benign_roles, benign_verdicts),
                "reason": "; ".join(reasons) or "the evidence has no azureAdUserId, userSid or userPrincipalName",
            })
            continue
        keys = set(_key(name, value) for name, value in identifiers.items())
        joined = [group for group in groups if group["keys"] & keys]
        merged = {"keys": set(keys), "evidence": []}
        for group in joined:
            merged["keys"] |= group["keys"]
            merged["evidence"].extend(group["evidence"])
        merged["evidence"].append((alert_id, evidence, identifiers))
        position = groups.index(joined[0]) if joined else len(groups)  # first-seen order
        groups[position:position] = [merged]
        for group in joined:
            groups.remove(group)
    persons, excluded, conflicts = [], [], []
    for group in groups:
        values = dict((name, []) for name in IDENTIFIERS)
        for _alert, _evidence, identifiers in group["evidence"]:
            for name, value in identifiers.items():
                if match_key(value) not in [match_key(known) for known in values[name]]:
                    values[name].append(value)
        alerts = sorted(set(str(alert) for alert, _e, _i in group["evidence"] if alert is not None))
        names = sorted(set(e.get("display_name") for _a, e, _i in group["evidence"] if isinstance(e.get("display_name"), str)))
        accounts = sorted(set(f"{e.get('domain_name') or ''}\\{e.get('account_name')}"
                              for _a, e, _i in group["evidence"] if e.get("account_name")))
        benign = [_benign_reason(e, benign_roles, benign_verdicts) for _a, e, _i in group["evidence"]]
        first = next(values[name][0] for name in IDENTIFIERS if values[name])
        if all(benign):
            excluded.append({"input": first, "identifiers": values, "alerts": alerts, "display_names": names,
                             "reason": f"every evidence item of this person is benign ({'; '.join(sorted(set(benign)))}); "
                                       "not a target (benign_roles / benign_verdicts)"})
            continue
        several = [name for name in IDENTIFIERS if len(values[name]) > 1]
        if several:
            kinds = " and more than one ".join(_EVIDENCE_NAMES[name] for name in several)
            conflicts.append({"input": first, "identifiers": values, "alerts": alerts, "display_names": names,
                              "reason": f"the evidence gives this person more than one {kinds}; not contained"})
            continue
        identifiers = dict((name, values[name][0] if values[name] else None) for name in IDENTIFIERS)
        lookups = [{"person": first, "by": name, LOOKUP_OPTIONS[name]: identifiers[name]} for name in IDENTIFIERS if identifiers[name]]
        persons.append({"input": first, "identifiers": identifiers, "lookups": lookups, "display_names": names,
                        "accounts": accounts, "alerts": alerts})
    return {"persons": persons, "excluded": excluded, "unidentified": unidentified, "conflicts": conflicts}


def _confirms(identity, name, value):
    """None when ``identity`` carries the evidence identifier ``name`` = ``value``, else why it does not."""
    if name == "azure_ad_user_id":
        entra = [account.get("identifier") for account in identity.get("accounts") or [] if account.get("identity_provider") == "entraID"]
        if any(_object_id(identifier) == value for identifier in entra):
            return None
        if not entra:
            return f"it has no entraID account, so nothing confirms azureAdUserId {value}"
        return f"its entraID account is {', '.join(str(identifier) for identifier in entra)}, not azureAdUserId {value}"
    actual = identity.get(name)
    if not isinstance(actual, str) or not actual:
        return f"it has no {_EVIDENCE_NAMES[name]} to confirm {value}"
    if match_key(actual) != match_key(value):
        return f"its {_EVIDENCE_NAMES[name]} is {actual}, not {value}"
    return None


def _summary(identity):
    return {"id": identity.get("id"), "display_name": identity.get("display_name"), "user_principal_name": identity.get("user_principal_name")}


def _resolve(person, answers):
    """(identity, None) when every lookup of ``person`` found the same one identity and it confirms every identifier;
    else (None, rejection)."""
    found_by, nobody, failed = {}, [], []
    for lookup, result in answers:
        result = result or {}
        found = result.get("identity_accounts")
        if result.get("failed") or found is None:
            failed.append(f"the {_EVIDENCE_NAMES[lookup['by']]} lookup failed: {result.get('msg') or 'no identity_accounts returned'}")
        elif not found:
            nobody.append(lookup["by"])
        found_by[lookup["by"]] = list(found or [])
    matches = []
    for found in found_by.values():
        for identity in found:
            if identity.get("id") not in [match.get("id") for match in matches]:
                matches.append(identity)
    reasons = list(failed)
    kind = "contradicting"
    if nobody and len(nobody) == len(answers):
        kind = "not_found"
        reasons.append("no identity has " + " or ".join(f"{_EVIDENCE_NAMES[name]} {person['identifiers'][name]}" for name in nobody))
    else:
        reasons.extend(f"no identity has {_EVIDENCE_NAMES[name]} {person['identifiers'][name]}" for name in nobody)
        several = [name for name, found in found_by.items() if len(found) > 1]
        if several:
            kind = "several"
            reasons.extend(f"{len(found_by[name])} identities have {_EVIDENCE_NAMES[name]} {person['identifiers'][name]}" for name in several)
        elif len(matches) > 1:
            reasons.append("the identifiers name different identities: " + "; ".join(
                f"{_EVIDENCE_NAMES[name]} finds {found[0].get('id')}" for name, found in found_by.items() if found))
    if not reasons and len(matches) == 1:
        unconfirmed = [why for why in (_confirms(matches[0], name, value) for name, value in person["identifiers"].items() if value) if why]
        if not unconfirmed:
            return matches[0], None
        reasons.extend(f"identity {matches[0].get('id')}: {why}" for why in unconfirmed)
    return None, dict(person, kind=kind, matches=[_summary(identity) for identity in matches],
                      reason="; ".join(reasons) + "; not contained")


def evidence_identities(persons: list[dict[str, Any]] | None, lookups: dict[str, Any] | list[dict[str, Any]] | None) -> dict[str, list[dict[str, Any]]]:
    """Pair ``persons`` (evidence_targets) with the identity_account_info results of their lookups, failing closed.

    ``lookups``: the registered result of identity_account_info looped over every person's ``lookups`` (its
    ``results``) or that list. A person is an identity only when all its lookups found the same single identity and
    that identity confirms each identifier. Returns ``{"identities": [identity + "input"], "rejected": [person +
    "kind", "matches", "reason"], "not_found": [...], "ambiguous": [...]}`` (the rejected, split by kind).
    """
    persons = list(persons or [])
    results = lookups.get("results") if isinstance(lookups, dict) else lookups
    results = list(results or [])
    wanted = [(person, lookup) for person in persons for lookup in person.get("lookups") or []]
    if len(results) != len(wanted):
        raise InputError("evidence_identities", f"expects one identity_account_info result per lookup ({len(persons)} persons with {len(wanted)} "
                                                f"lookups, {len(results)} results); loop the lookup over the persons' lookups")
    identities, rejected = [], []
    for person in persons:
        answers = [(lookup, result) for (owner, lookup), result in zip(wanted, results) if owner is person]
        identity, rejection = _resolve(person, answers)
        if identity is not None:
            identities.append(dict(identity, input=person["input"]))
        else:
            rejected.append(rejection)
    return {"identities": identities, "rejected": rejected, "not_found": [item for item in rejected if item["kind"] == "not_found"],
            "ambiguous": [item for item in rejected if item["kind"] != "not_found"]}


# ---------------------------------------------------------------------------------------------
# Watermark of the incidents event source
# ---------------------------------------------------------------------------------------------

# The first line of every audit comment respond_to_incident writes (docs/eda.md, "Why it cannot loop").
OWN_COMMENT_PREFIX = "msgraph.security respond_to_incident"
# Incidents whose last emitted content is remembered (oldest update forgotten first): about 200 bytes each.
MAX_REMEMBERED = 10000
# How far ahead of this host's clock a stored watermark may be before it is refused (clock skew between hosts).
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
# Changed by the runbook's own write (the incident module PATCHes status/assignedTo in the task that posts the audit
# comment) and, in Defender, by an incident status change cascading to its alerts.
_WRITTEN_WITH_COMMENT = ("status", "assigned_to")
_ALERT_WRITTEN_WITH_COMMENT = ("status", "assigned_to", "resolved_date_time")
# Never a change of the incident's content: they move with every write, ours included.
_BOOKKEEPING = ("last_update_date_time", "last_modified_by")


def is_own_comment(comment: Any) -> bool:
    """A comment whose first line starts with the collection's audit marker (a parsed comment or its text)."""
    text = comment.get("comment") if isinstance(comment, dict) else comment
    return isinstance(text, str) and text.lstrip().startswith(OWN_COMMENT_PREFIX)


def _digest(value):
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def change_fingerprint(incident: Mapping[str, Any]) -> dict[str, Any]:
    """What tells a person's change from the collection's own write, for :meth:`Watermark.decide`.

    ``content``: a digest of everything but the bookkeeping times, the collection's own comments and what its
    runbook writes together with its comment (incident status/assignedTo and the alerts' status/assignedTo/
    resolvedDateTime, digested as ``written``, kept for diagnostics); ``own_comments``: how many of the
    collection's comments the incident (and its alerts) carry.
    """
    content, written, own = {}, {}, 0
    for key, value in incident.items():
        if key in _BOOKKEEPING:
            continue
        if key in _WRITTEN_WITH_COMMENT:
            written[key] = value
        elif key == "comments":
            own += sum(1 for item in value or [] if is_own_comment(item))
            content[key] = [item for item in value or [] if not is_own_comment(item)]
        elif key == "alerts":
            content[key], written[key] = [], []
            for alert in value or []:
                alert = alert if isinstance(alert, dict) else {"value": alert}
                comments = alert.get("comments") or []
                own += sum(1 for item in comments if is_own_comment(item))
                content[key].append(dict(((name, item) for name, item in alert.items()
                                          if name not in _ALERT_WRITTEN_WITH_COMMENT + _BOOKKEEPING + ("comments",)),
                                         comments=[item for item in comments if not is_own_comment(item)]))
                written[key].append([alert.get(name) for name in _ALERT_WRITTEN_WITH_COMMENT])
        else:
            content[key] = value
    return {"content": _digest(content), "written": _digest(written), "own_comments": own}


class Watermark:
    """What the event source has emitted: the newest ``lastUpdateDateTime`` and, per incident, the update and
    content last seen.

    The next poll asks for ``lastUpdateDateTime ge <watermark>`` (``ge``, not ``gt``: two incidents may share the
    newest time and one of them may arrive after the poll). :meth:`decide` tells a new or changed incident from
    one already emitted and from one whose only change is the collection's own write. ``to_dict``/``from_dict``
    persist it between restarts (version 1 files, without content, are read: their incidents count as changed).
    """

    def __init__(self, since: str | datetime.datetime, emitted: Mapping[str, Any] | None = None) -> None:
        self.since = normalize_timestamp(since, "updated_since")
        self.emitted = {}  # incident id -> {"updated", "content", "written", "own_comments"}
        for key, record in (emitted or {}).items():
            record = {"updated": record} if isinstance(record, str) else record
            if isinstance(record, dict) and isinstance(record.get("updated"), str):
                self.emitted[str(key)] = dict(record)

    @classmethod
    def from_dict(cls, data: Any, default_since: str | datetime.datetime) -> Watermark:
        if not isinstance(data, dict) or not data.get("since"):
            return cls(default_since)
        emitted = data.get("emitted")
        return cls(data["since"], emitted if isinstance(emitted, dict) else None)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 2, "since": self.since, "emitted": dict(self.emitted)}

    def decide(self, incident: Mapping[str, Any]) -> str:
        """``new`` (never emitted, or a change a person or Defender made), ``seen`` (this update was already
        handled) or ``own_write`` (a new audit comment of the collection is the only change, besides the status
        and owner its runbook sets in the same task)."""
        record = self.emitted.get(str(incident.get("id")))
        if record is None:
            return "new"
        if parse_service_time(record["updated"]) == parse_service_time(incident.get("last_update_date_time")):
            return "seen"
        if "content" not in record:
            return "new"
        now = change_fingerprint(incident)
        if now["content"] != record["content"]:
            return "new"
        # Our write always shows as a new audit comment; without one, a status/owner change (or a change nothing
        # shows) is someone else's and is emitted.
        return "own_write" if now["own_comments"] > int(record.get("own_comments") or 0) else "new"

    def is_new(self, incident: Mapping[str, Any]) -> bool:
        return self.decide(incident) == "new"

    def mark(self, incident: Mapping[str, Any]) -> None:
        """Record ``incident`` as handled (emitted, or absorbed as our own write) and move the watermark up."""
        updated = incident.get("last_update_date_time")
        moment = parse_service_time(updated)
        if moment is None:
            return
        incident_id = str(incident.get("id"))
        self.emitted.pop(incident_id, None)
        self.emitted[incident_id] = dict(change_fingerprint(incident), updated=updated)
        if moment > parse_service_time(self.since):
            self.since = normalize_timestamp(moment, "since")
        if len(self.emitted) > MAX_REMEMBERED:
            oldest = sorted(self.emitted, key=lambda key: parse_service_time(self.emitted[key]["updated"]) or moment)
            for key in oldest[:len(self.emitted) - MAX_REMEMBERED]:
                del self.emitted[key]

    def refuse_future(self, now: datetime.datetime, fallback: str | datetime.datetime) -> str | None:
        """A watermark later than ``now`` (beyond clock skew) would hide every incident until then: it is replaced
        by ``fallback`` (the time of the file's last save, or the start time) and the warning is returned."""
        since = parse_service_time(self.since)
        if since is None or since <= now + FUTURE_TOLERANCE:
            return None
        planted = self.since
        self.since = normalize_timestamp(fallback, "since")
        return (f"the state file's watermark {planted} is in the future (this host's clock says {normalize_timestamp(now, 'now')}); "
                f"it was refused and polling starts from {self.since}")


def plan_emission(incidents: Iterable[dict[str, Any]], watermark: Watermark,
                  service_sources: list[str] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(emit, absorb)``: the new or changed incidents (optionally only those with an alert from
    ``service_sources``) and those whose only change is the collection's own write (recorded, never emitted);
    each oldest update first."""
    emit, absorb = [], []
    for incident in incidents:
        verdict = watermark.decide(incident)
        if verdict == "own_write":
            absorb.append(incident)
        elif verdict == "new" and not (service_sources and not any(
                alert.get("service_source") in service_sources for alert in incident.get("alerts") or [])):
            emit.append(incident)
    return _oldest_first(emit), _oldest_first(absorb)


def incidents_to_emit(incidents: Iterable[dict[str, Any]], watermark: Watermark, service_sources: list[str] | None = None) -> list[dict[str, Any]]:
    """The new or changed incidents, oldest update first (see :func:`plan_emission`)."""
    return plan_emission(incidents, watermark, service_sources)[0]


def _oldest_first(items):
    return sorted(items, key=lambda item: (parse_service_time(item.get("last_update_date_time")) or parse_service_time("1970-01-01"),
                                           str(item.get("id"))))


def parse_each(raw_items: Iterable[Any], parse: Callable[[Any], dict[str, Any]],
               malformed: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """``parse`` every item; with ``malformed(message)`` an item that cannot be parsed is skipped with a message
    naming its id (a long-running source must not end on one bad item), without it the error propagates."""
    parsed = []
    for item in raw_items:
        try:
            parsed.append(parse(item))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            if malformed is None:
                raise
            item_id = item.get("id") if isinstance(item, dict) else None
            malformed(f"skipped a malformed item (id {item_id!r}): {type(exc).__name__}: {exc}")
    return parsed
