"""Observation: the request log (secrets redacted) and the counters the admin API exposes."""

import collections
import json
import threading

from .messages import GRAPH

REDACTED = "<redacted>"
SECRET_HEADERS = {"x-identity-header", "secret", "x-emulator-key"}
SECRET_FIELDS = {"client_secret", "client_assertion"}
TOKEN_ROUTES = {"token", "msi_token"}
DISCOVERY_ROUTES = {"openid_config", "jwks", "instance_discovery"}
MAX_BODY_TEXT = 4096


def redact_headers(headers):
    out = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered == "authorization":
            value = value.split(" ", 1)[0] + " " + REDACTED if " " in value else REDACTED
        elif lowered in SECRET_HEADERS:
            value = REDACTED
        out[name] = value
    return out


def logged_body(req):
    """Parsed JSON, or form fields with credentials redacted, or (short) text, or None."""
    if not req.body:
        return None
    content_type = (req.header("Content-Type") or "").lower()
    if "application/x-www-form-urlencoded" in content_type:
        return {key: (REDACTED if key in SECRET_FIELDS else value) for key, value in req.form().items()}
    try:
        return json.loads(req.body.decode("utf-8"))
    except ValueError:
        return req.body[:MAX_BODY_TEXT].decode("utf-8", "replace")


class RequestLog:
    """Bounded in-memory log; ``seq`` keeps growing across clears so callers can ask for newer entries."""

    def __init__(self, limit=20000):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=limit)
        self._seq = 0

    def record(self, req, response, fault, started, duration_s):
        with self._lock:
            self._seq += 1
            self._entries.append({
                "seq": self._seq,
                "time": started,
                "duration_ms": round(duration_s * 1000, 3),
                "method": req.method,
                "path": req.path,
                "query": dict(req.query),
                "route": req.route,
                "family": req.family,
                "status": response.status if response.transport not in ("drop", "reset") else None,
                "headers": redact_headers(req.headers),
                "body": logged_body(req),
                "client_request_id": req.client_request_id,
                "request_id": req.request_id,
                "client_id": req.client_id,
                "fault": fault.kind if fault else None,
                "fault_id": fault.id if fault else None,
                "full_scan": req.full_scan,
            })

    def entries(self, route=None, method=None, since=None):
        with self._lock:
            items = list(self._entries)
        return [entry for entry in items
                if (route is None or entry["route"] == route) and (method is None or entry["method"] == method.upper())
                and (since is None or entry["seq"] > since)]

    def clear(self):
        with self._lock:
            self._entries.clear()


def full_scans(entries):
    """From request log entries: (scans, pages) of unfiltered identityAccounts listings; a scan is its first page."""
    pages = [entry for entry in entries if entry.get("full_scan")]
    return sum("$skiptoken" not in entry["query"] for entry in pages), len(pages)


class Counters:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {}
        self.reset()

    def reset(self):
        with self._lock:
            self._counts = {"token_requests": 0, "token_requests_by_client": collections.Counter(), "discovery_requests": 0,
                            "graph_requests": 0, "graph_writes": 0, "faults_fired": 0, "by_route": collections.Counter(),
                            "full_scans": 0, "full_scan_pages": 0}

    def record(self, req, fault):
        with self._lock:
            counts = self._counts
            counts["by_route"][req.route or "unknown"] += 1
            if req.route in TOKEN_ROUTES:
                counts["token_requests"] += 1
                counts["token_requests_by_client"][req.client_id or "unknown"] += 1
            elif req.route in DISCOVERY_ROUTES:
                counts["discovery_requests"] += 1
            if req.family == GRAPH:
                counts["graph_requests"] += 1
                counts["graph_writes"] += req.method != "GET"
            counts["faults_fired"] += fault is not None
            if req.full_scan:  # every page of an unfiltered identityAccounts listing; a scan starts without $skiptoken
                counts["full_scan_pages"] += 1
                counts["full_scans"] += "$skiptoken" not in req.query

    def snapshot(self):
        with self._lock:
            return {key: dict(value) if isinstance(value, collections.Counter) else value for key, value in self._counts.items()}
