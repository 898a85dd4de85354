"""Defender XDR ``/security/incidents`` and ``/security/alerts_v2`` (v1.0 and beta; Global and US Government clouds).

Shapes (config ``shape``), both taken from Microsoft's pages (docs/service-contract.md, "Incidents and alerts"):

* ``schema``: the CSDL: camelCase enum members, comments with ``createdByDisplayName``/``createdDateTime``,
  ``customTags``, ``@odata.type`` ``#microsoft.graph.security.incident``.
* ``example``: the documentation examples: PascalCase incident enums (``Active``, ``Medium``, ``TruePositive``),
  comments with ``createdBy``/``createdTime``, ``@odata.type`` ``#microsoft.graph.incident`` on a single incident;
  with ``$expand=alerts`` the list example uses camelCase enums and ``tags`` instead of ``customTags``.

Writes: ``PATCH`` takes exactly the five documented properties (enum values case-insensitively, as the
documentation's own request sends ``TruePositive``) and answers the updated incident; ``POST .../comments``
answers the incident's whole comment list in ``value`` (the post-comments example).
"""

import copy
import json
import os
import re
import threading
from urllib.parse import quote, urlencode

from .config import ROLE_ALERT_READ, ROLE_ALERT_WRITE, ROLE_INCIDENT_READ, ROLE_INCIDENT_WRITE
from .graph import VERSION, graph_handler, json_body
from .messages import GRAPH, graph_error, iso_time, new_guid
from .odata import ODataError, Resource, decode_skiptoken, encode_skiptoken, parse_filter, parse_time
from .routing import Route
from .state import StateError

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "incidents.json")
INCIDENTS = VERSION + r"/security/incidents"
ALERTS = VERSION + r"/security/alerts_v2"
INCIDENT_TYPE = "#microsoft.graph.security.incident"
INCIDENT_EXAMPLE_TYPE = "#microsoft.graph.incident"
ALERT_TYPE = "#microsoft.graph.security.alert"

# Enum members of Microsoft's metadata (the SDK models of docs/service-contract.md); unknownFutureValue is never
# accepted in a request.
CLASSIFICATIONS = ("unknown", "falsePositive", "truePositive", "informationalExpectedActivity")
DETERMINATIONS = ("unknown", "apt", "malware", "securityPersonnel", "securityTesting", "unwantedSoftware", "other",
                  "multiStagedAttack", "compromisedAccount", "phishing", "maliciousUserActivity", "notMalicious",
                  "notEnoughDataToValidate", "confirmedActivity", "lineOfBusinessApplication")
INCIDENT_STATUSES = ("active", "resolved", "inProgress", "redirected", "awaitingAction")
SEVERITIES = ("unknown", "informational", "low", "medium", "high")
ENUMS = {"classification": CLASSIFICATIONS, "determination": DETERMINATIONS, "status": INCIDENT_STATUSES, "severity": SEVERITIES}
PATCHABLE = ("assignedTo", "classification", "determination", "status", "customTags")

INCIDENT_RESOURCE = Resource("microsoft.graph.security.incident", {
    "assignedTo": "string", "classification": "string", "createdDateTime": "datetime", "determination": "string",
    "lastUpdateDateTime": "datetime", "severity": "string", "status": "string"}, set())
ALERT_RESOURCE = Resource("microsoft.graph.security.alert", {
    "assignedTo": "string", "classification": "string", "determination": "string", "createdDateTime": "datetime",
    "lastUpdateDateTime": "datetime", "severity": "string", "serviceSource": "string", "status": "string"}, set())
# Evolvable enums (v1.0 metadata): the members after unknownFutureValue. Without the request header
# "Prefer: include-unknown-enum-members" Graph answers them as unknownFutureValue (best practices, "Handling future
# members in evolvable enumerations"; the incident and alert resource pages), in both profiles.
PREFER_UNKNOWN_MEMBERS = "include-unknown-enum-members"
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
EVOLVABLE_INCIDENT = {"status": ("awaitingAction",)}
EVOLVABLE_ALERT = {
    "serviceSource": ("microsoftDefenderForCloud", "microsoftSentinel", "microsoftInsiderRiskManagement",
                      "microsoftThreatIntelligence", "microsoftSecurityForAI"),
    "detectionSource": ("microsoftDefenderForCloud", "microsoftDefenderForIoT", "microsoftDefenderForServers",
                        "microsoftDefenderForStorage", "microsoftDefenderForDNS", "microsoftDefenderForDatabases",
                        "microsoftDefenderForContainers", "microsoftDefenderForNetwork", "microsoftDefenderForAppService",
                        "microsoftDefenderForKeyVault", "microsoftDefenderForResourceManager",
                        "microsoftDefenderForApiManagement", "nrtAlerts", "scheduledAlerts",
                        "microsoftDefenderThreatIntelligenceAnalytics", "builtInMl", "microsoftInsiderRiskManagement",
                        "microsoftThreatIntelligence", "microsoftDefenderForAIServices", "securityCopilot", "microsoftSentinel"),
}


def prefers_unknown_members(req):
    """True when the request's Prefer header (comma-separated preferences) includes include-unknown-enum-members."""
    value = req.headers.get("Prefer") or ""
    return any(part.strip().lower() == PREFER_UNKNOWN_MEMBERS for part in value.split(","))


def _hide_members(item, evolvable):
    for name, members in evolvable.items():
        value = item.get(name)
        if isinstance(value, str) and value.lower() in (member.lower() for member in members):
            item[name] = UNKNOWN_FUTURE_VALUE
    return item


def hide_evolvable(rendered, req):
    """An incident or alert as Graph answers a request without the preference: evolvable members hidden."""
    if prefers_unknown_members(req):
        return rendered
    if "alerts" in rendered or rendered.get("@odata.type", "").endswith("incident"):
        _hide_members(rendered, EVOLVABLE_INCIDENT)
        for alert in rendered.get("alerts") or []:
            _hide_members(alert, EVOLVABLE_ALERT)
    else:
        _hide_members(rendered, EVOLVABLE_ALERT)
    return rendered


INCIDENT_OPTIONS = ("$filter", "$top", "$skip", "$skiptoken", "$count", "$expand")
ALERT_OPTIONS = ("$filter", "$top", "$skip", "$skiptoken", "$count")


def _pascal(value):
    return value[:1].upper() + value[1:] if isinstance(value, str) else value


def _canonical(name, value):
    """The schema member for an enum value given in any case; StateError otherwise."""
    members = ENUMS[name]
    if isinstance(value, str):
        for member in members:
            if member.lower() == value.lower():
                return member
    raise StateError(400, "BadRequest", f"Requested value '{value}' was not found in enum for property '{name}'. "
                                        f"Supported values: {', '.join(members)}.")


class IncidentStore:
    """Incidents and alerts as stored (schema shape); one lock guards both."""

    def __init__(self, path=None):
        with open(path or DEFAULT_DATA, encoding="utf-8") as handle:
            self._seed = json.load(handle)
        self._lock = threading.RLock()
        self._incidents, self._alerts = {}, {}
        self.reset()

    def reset(self):
        with self._lock:
            self._incidents = {entry["id"]: copy.deepcopy(entry) for entry in self._seed["incidents"]}
            self._alerts = {entry["id"]: copy.deepcopy(entry) for entry in self._seed["alerts"]}

    def incidents(self):
        with self._lock:
            found = copy.deepcopy(list(self._incidents.values()))
        return sorted(found, key=lambda item: parse_time(item["createdDateTime"]), reverse=True)

    def incident(self, incident_id):
        with self._lock:
            found = self._incidents.get(incident_id)
            if found is None:
                raise StateError(404, "NotFound", f"Incident '{incident_id}' was not found.")
            return copy.deepcopy(found)

    def alerts(self, incident_id=None):
        with self._lock:
            found = [copy.deepcopy(item) for item in self._alerts.values() if incident_id is None or item.get("incidentId") == incident_id]
        return sorted(found, key=lambda item: parse_time(item["createdDateTime"]), reverse=True)

    def alert(self, alert_id):
        with self._lock:
            found = self._alerts.get(alert_id)
            if found is None:
                raise StateError(404, "NotFound", f"Alert '{alert_id}' was not found.")
            return copy.deepcopy(found)

    def update(self, incident_id, body, modified_by):
        extra = sorted(set(body) - set(PATCHABLE) - {"@odata.type"})
        if extra:
            raise StateError(400, "BadRequest", f"Property '{extra[0]}' cannot be updated; updatable properties: {', '.join(PATCHABLE)}.")
        changes = {}
        for name in PATCHABLE:
            if name not in body:
                continue
            value = body[name]
            if name in ENUMS:
                value = _canonical(name, value)
            elif name == "customTags" and not (isinstance(value, list) and all(isinstance(tag, str) for tag in value)):
                raise StateError(400, "BadRequest", "customTags must be a collection of strings.")
            elif name == "assignedTo" and value is not None and not isinstance(value, str):
                raise StateError(400, "BadRequest", "assignedTo must be a string or null.")
            changes[name] = value
        with self._lock:
            stored = self._incidents.get(incident_id)
            if stored is None:
                raise StateError(404, "NotFound", f"Incident '{incident_id}' was not found.")
            stored.update(changes)
            stored["lastUpdateDateTime"] = iso_time()
            stored["lastModifiedBy"] = modified_by
            return copy.deepcopy(stored)

    def add_comment(self, incident_id, text, author):
        if not isinstance(text, str) or not text.strip():
            raise StateError(400, "BadRequest", "The comment must be a non-empty string.")
        with self._lock:
            stored = self._incidents.get(incident_id)
            if stored is None:
                raise StateError(404, "NotFound", f"Incident '{incident_id}' was not found.")
            stored.setdefault("comments", []).append({"comment": text, "createdByDisplayName": author, "createdDateTime": iso_time()})
            stored["lastUpdateDateTime"] = iso_time()
            return copy.deepcopy(stored["comments"])

    # --- admin API ---------------------------------------------------------------------------------

    def put_incident(self, entry):
        """Create (no or unknown ``id``) or update an incident; embedded ``alerts`` are stored too. Bumps lastUpdateDateTime."""
        if not isinstance(entry, dict):
            raise ValueError("an incident must be a JSON object")
        entry = copy.deepcopy(entry)
        alerts = entry.pop("alerts", None) or []
        for name in ENUMS:
            if name in entry:
                entry[name] = _canonical(name, entry[name])
        with self._lock:
            incident_id = str(entry.get("id") or (max([int(i) for i in self._incidents if i.isdigit()] or [0]) + 1))
            now = iso_time()
            stored = self._incidents.get(incident_id) or {
                "id": incident_id, "displayName": "Incident " + incident_id, "tenantId": None, "createdDateTime": now,
                "assignedTo": None, "classification": "unknown", "determination": "unknown", "status": "active",
                "severity": "medium", "customTags": [], "comments": [], "systemTags": [], "description": None}
            stored.update(entry)
            stored["id"] = incident_id
            stored["lastUpdateDateTime"] = entry.get("lastUpdateDateTime") or now
            self._incidents[incident_id] = stored
            for alert in alerts:
                self.put_alert(dict(alert, incidentId=incident_id))
            return copy.deepcopy(stored)

    def put_alert(self, entry):
        if not isinstance(entry, dict) or not entry.get("incidentId"):
            raise ValueError("an alert must be a JSON object with incidentId")
        with self._lock:
            now = iso_time()
            alert_id = entry.get("id") or ("da" + new_guid().replace("-", "")[:18])
            stored = self._alerts.get(alert_id) or {
                "id": alert_id, "status": "new", "severity": "medium", "classification": "unknown", "determination": "unknown",
                "serviceSource": "microsoftDefenderForIdentity", "title": "Alert " + alert_id, "createdDateTime": now, "evidence": []}
            stored.update(copy.deepcopy(entry))
            stored["id"] = alert_id
            stored["lastUpdateDateTime"] = entry.get("lastUpdateDateTime") or now
            self._alerts[alert_id] = stored
            return copy.deepcopy(stored)

    def snapshot(self):
        with self._lock:
            return {"incidents": copy.deepcopy(list(self._incidents.values())), "alerts": copy.deepcopy(list(self._alerts.values()))}


# --- shapes -----------------------------------------------------------------------------------------

def _comment(comment, shape):
    if shape == "schema":
        return dict(comment)
    return {"comment": comment.get("comment"), "createdBy": comment.get("createdByDisplayName"), "createdTime": comment.get("createdDateTime")}


def render_alert(alert):
    out = {"@odata.type": ALERT_TYPE, "providerAlertId": alert["id"], "comments": []}
    out.update(copy.deepcopy(alert))
    return out


def render_incident(incident, shape, alerts=None, single=False):
    out = copy.deepcopy(incident)
    expanded = alerts is not None
    if shape == "example":
        out["comments"] = [_comment(comment, shape) for comment in incident.get("comments") or []]
        if expanded:  # security-list-incidents.md example 2: camelCase enums, "tags"
            out["tags"] = out.pop("customTags", [])
        else:
            for name in ENUMS:
                out[name] = _pascal(out.get(name))
    odata_type = INCIDENT_EXAMPLE_TYPE if shape == "example" and single else INCIDENT_TYPE
    out = dict({"@odata.type": odata_type}, **out)
    out.setdefault("incidentWebUrl", f"https://security.microsoft.com/incidents/{incident['id']}?tid={incident.get('tenantId')}")
    out.setdefault("redirectIncidentId", None)
    if expanded:
        out["alerts"] = [render_alert(alert) for alert in alerts]
    return out


def _without_literals(text):
    """A filter with its string literals blanked, so that ``'a or b'`` inside a value is not an operator."""
    return re.sub(r"'(?:[^']|'')*'", "''", text)


# --- routes -----------------------------------------------------------------------------------------

_OR = re.compile(r"\)?\s+or\s+\(?", re.IGNORECASE)


def _page(req, items, resource, options, default_size, max_size, refuse_or=False):
    """$filter, $skip, $top and server-driven paging; returns (page, next_link, count). ``refuse_or``: a filter joining
    values with ``or`` is refused (the list pages document only ``{property} eq '{value}'``)."""
    unsupported = sorted(key for key in req.query if key.startswith("$") and key not in options)
    if unsupported:
        raise ODataError(f"Query option '{unsupported[0]}' is not supported by this API.")
    if refuse_or and _OR.search(_without_literals(req.query.get("$filter") or "")):
        raise ODataError("Invalid filter clause: the 'or' operator is not supported for this API; use {property} eq '{value}'.")
    predicate = parse_filter(req.query.get("$filter"), resource)
    matching = [item for item in items if predicate(item)]
    size = default_size
    for name in ("$top", "$skip"):
        if name in req.query and not req.query[name].isdigit():
            raise ODataError(f"Invalid value '{req.query[name]}' for query option {name}.")
    top = int(req.query["$top"]) if "$top" in req.query else None
    skip = int(req.query.get("$skip") or 0)
    offset = decode_skiptoken(req.query["$skiptoken"]) if "$skiptoken" in req.query else skip
    limit = len(matching) if top is None else min(len(matching), skip + top)
    size = min(size if top is None else min(top, max_size), max_size)
    page = matching[offset:min(offset + size, limit)]
    next_link = None
    if offset + size < limit:
        params = {key: value for key, value in req.query.items() if key != "$skiptoken"}
        params["$skiptoken"] = encode_skiptoken(offset + size)
        next_link = f"{req.base_url}{req.path}?{urlencode(params, quote_via=quote, safe='$,()')}"
    return page, next_link, len(matching)


def _expand_alerts(req):
    expand = req.query.get("$expand")
    if expand is None:
        return False
    if expand.strip() != "alerts":
        raise ODataError(f"Could not find a property named '{expand}' on type 'microsoft.graph.security.incident' to expand.")
    return True


class Incidents:
    def __init__(self, guard, store, config):
        self.guard = guard
        self.store = store
        self.config = config

    def routes(self):
        item = INCIDENTS + r"/(?P<incident_id>[^/]+)"
        return [
            Route("list_incidents", GRAPH, "GET", INCIDENTS, self.list_incidents),
            Route("get_incident", GRAPH, "GET", item, self.get_incident),
            Route("update_incident", GRAPH, "PATCH", item, self.update_incident),
            Route("add_incident_comment", GRAPH, "POST", item + r"/comments", self.add_comment),
            Route("list_alerts", GRAPH, "GET", ALERTS, self.list_alerts),
            Route("get_alert", GRAPH, "GET", ALERTS + r"/(?P<alert_id>[^/]+)", self.get_alert),
        ]

    @staticmethod
    def _context(req, version, suffix):
        return f"{req.base_url}/{version}/$metadata#{suffix}"

    def _collection(self, req, version, suffix, rendered, next_link, count):
        body = {"@odata.context": self._context(req, version, suffix)}
        if req.query.get("$count") == "true":
            body["@odata.count"] = count
        body["value"] = rendered
        if next_link:
            body["@odata.nextLink"] = next_link
        return body

    @graph_handler
    def list_incidents(self, req, version):
        self.guard.authorize(req, "incidents", (ROLE_INCIDENT_READ, ROLE_INCIDENT_WRITE))
        expand = _expand_alerts(req)
        page, next_link, count = _page(req, self.store.incidents(), INCIDENT_RESOURCE, INCIDENT_OPTIONS, self.config["page_size"],
                                       self.config["max_page_size"], refuse_or=self.config["incident_filter_or"] == "refuse")
        shape = self.config["shape"]
        rendered = [hide_evolvable(render_incident(item, shape, self.store.alerts(item["id"]) if expand else None), req) for item in page]
        return self._collection(req, version, "security/incidents", rendered, next_link, count)

    @graph_handler
    def get_incident(self, req, version, incident_id):
        self.guard.authorize(req, "incidents", (ROLE_INCIDENT_READ, ROLE_INCIDENT_WRITE))
        unsupported = sorted(key for key in req.query if key.startswith("$") and key != "$expand")
        if unsupported:
            raise ODataError(f"Query option '{unsupported[0]}' is not supported by this API.")
        expand = _expand_alerts(req)
        incident = self.store.incident(incident_id)
        body = hide_evolvable(render_incident(incident, self.config["shape"], self.store.alerts(incident_id) if expand else None,
                                              single=True), req)
        return dict({"@odata.context": self._context(req, version, "security/incidents/$entity")}, **body)

    @graph_handler
    def update_incident(self, req, version, incident_id):
        claims = self.guard.authorize(req, "incidents", (ROLE_INCIDENT_WRITE,))
        body = json_body(req)
        if not isinstance(body, dict):
            raise graph_error(req, 400, "BadRequest", "The request body must be a JSON object.")
        updated = self.store.update(incident_id, body, claims.get("appid"))
        rendered = hide_evolvable(render_incident(updated, self.config["shape"], single=True), req)
        return dict({"@odata.context": self._context(req, version, "security/incidents/$entity")}, **rendered)

    @graph_handler
    def add_comment(self, req, version, incident_id):
        claims = self.guard.authorize(req, "incidents", (ROLE_INCIDENT_WRITE,))
        body = json_body(req)
        if not isinstance(body, dict) or sorted(set(body) - {"@odata.type"}) != ["comment"]:
            raise graph_error(req, 400, "BadRequest", "The request body must be an alertComment with exactly 'comment'.")
        comments = self.store.add_comment(incident_id, body["comment"], claims.get("appid"))
        return {"@odata.context": self._context(req, version, f"security/incidents('{incident_id}')/comments"), "value": comments}

    @graph_handler
    def list_alerts(self, req, version):
        self.guard.authorize(req, "alerts", (ROLE_ALERT_READ, ROLE_ALERT_WRITE))
        page, next_link, count = _page(req, self.store.alerts(), ALERT_RESOURCE, ALERT_OPTIONS, self.config["page_size"],
                                       self.config["max_page_size"], refuse_or=self.config["incident_filter_or"] == "refuse")
        return self._collection(req, version, "security/alerts_v2", [hide_evolvable(render_alert(item), req) for item in page], next_link, count)

    @graph_handler
    def get_alert(self, req, version, alert_id):
        self.guard.authorize(req, "alerts", (ROLE_ALERT_READ, ROLE_ALERT_WRITE))
        unsupported = sorted(key for key in req.query if key.startswith("$"))
        if unsupported:
            raise ODataError(f"Query option '{unsupported[0]}' is not supported by this API.")
        alert = hide_evolvable(render_alert(self.store.alert(alert_id)), req)
        return dict({"@odata.context": self._context(req, version, "security/alerts_v2/$entity")}, **alert)
