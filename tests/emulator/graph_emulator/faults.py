"""Fault injection: specs posted to the admin API, matched per request, applied around the real handler."""

import random
import re
import threading
import time

from .messages import GRAPH, Response, http_date, status_error

KINDS = ("status", "latency", "drop", "reset", "truncate", "malformed", "timeout", "expire_token", "tls_corrupt", "tls_plaintext")
SPEC_KEYS = {"route", "path_regex", "method", "kind", "times", "probability", "after_processing", "seed", "status", "retry_after",
             "retry_after_format", "code", "message", "latency_ms", "delay_s", "body", "content_type"}
MALFORMED_BODIES = {
    200: ('{"value": [{"id": "unterminated', "application/json"),
    502: ("<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>", "text/html"),
}


class FaultError(ValueError):
    """An invalid fault spec (answered as 400 by the admin API)."""


def _number(spec, key, required=True):
    value = spec.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultError(f"'{key}' must be a number >= 0")
    return value


class Fault:
    def __init__(self, spec, fault_id, route_names):
        unknown = sorted(set(spec) - SPEC_KEYS)
        if unknown:
            raise FaultError(f"unknown fault key(s): {', '.join(unknown)}")
        self.id = fault_id
        self.spec = dict(spec)
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise FaultError(f"'kind' must be one of {', '.join(KINDS)}")
        self.route = spec.get("route")
        if self.route is not None and self.route not in route_names:
            raise FaultError(f"unknown route '{self.route}'; known: {', '.join(route_names)}")
        try:
            self.path_regex = re.compile(spec["path_regex"]) if spec.get("path_regex") else None
        except re.error as exc:
            raise FaultError(f"bad path_regex: {exc}") from None
        self.method = spec["method"].upper() if spec.get("method") else None
        self.times = spec.get("times")
        if self.times is not None and (isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1):
            raise FaultError("'times' must be a positive integer or null (forever)")
        self.probability = _number(spec, "probability", required=False)
        self.probability = 1.0 if self.probability is None else self.probability
        if self.probability > 1:
            raise FaultError("'probability' must be between 0 and 1")
        self.after_processing = bool(spec.get("after_processing", False))
        self.rng = random.Random(spec.get("seed", 0))
        self.hits = 0
        self._check_kind_fields(spec)

    def _check_kind_fields(self, spec):
        if self.kind == "status":
            status = spec.get("status")
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                raise FaultError("kind 'status' needs an HTTP 'status'")
            if spec.get("retry_after") is not None and not isinstance(spec["retry_after"], str):
                _number(spec, "retry_after")
            if spec.get("retry_after_format", "seconds") not in ("seconds", "date"):
                raise FaultError("'retry_after_format' must be 'seconds' or 'date'")
        elif self.kind == "latency":
            _number(spec, "latency_ms")
        elif self.kind == "timeout":
            _number(spec, "delay_s")
        elif self.kind == "malformed" and spec.get("status", 200) not in MALFORMED_BODIES:
            raise FaultError("kind 'malformed' answers with status 200 or 502")

    def matches(self, req):
        if self.times is not None and self.hits >= self.times:
            return False
        if self.kind == "expire_token" and (req.family != GRAPH or req.route is None):
            return False  # only bearer-checked Graph routes can see an expired token
        return ((self.route is None or self.route == req.route) and (self.method is None or self.method == req.method)
                and (self.path_regex is None or self.path_regex.search(req.path) is not None))

    def to_dict(self):
        remaining = None if self.times is None else self.times - self.hits
        return dict(self.spec, id=self.id, hits=self.hits, remaining=remaining)


class FaultSet:
    def __init__(self, route_names):
        self.route_names = route_names
        self._lock = threading.Lock()
        self._faults = []
        self._next_id = 1

    def add(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault spec must be a JSON object")
        with self._lock:
            fault = Fault(spec, self._next_id, self.route_names)
            self._next_id += 1
            self._faults.append(fault)
            return fault.to_dict()

    def remove(self, fault_id):
        with self._lock:
            before = len(self._faults)
            self._faults = [fault for fault in self._faults if fault.id != fault_id]
            return len(self._faults) != before

    def clear(self):
        with self._lock:
            self._faults = []

    def list(self):
        with self._lock:
            return [fault.to_dict() for fault in self._faults]

    def take(self, req):
        """The first matching fault that fires for this request (consumes one of its ``times``)."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(req) and fault.rng.random() < fault.probability:
                    fault.hits += 1
                    return fault
        return None


def apply(fault, req, process):
    """Answer ``req`` through ``fault``; ``process()`` runs the real handler and returns its Response."""
    if fault is None:
        return process()
    spec, kind = fault.spec, fault.kind
    if kind == "latency":
        time.sleep(spec["latency_ms"] / 1000.0)
        return process()
    if kind == "expire_token":
        req.force_expired = True
        return process()
    if kind == "timeout":
        # Without after_processing the server sleeps first, so a write's effect lands only when it wakes.
        if fault.after_processing:
            real = process()
            time.sleep(spec["delay_s"])
            return real
        time.sleep(spec["delay_s"])
        return process()
    # truncate, tls_corrupt and tls_plaintext damage a real answer, so the request is always processed first.
    damaging = ("truncate", "tls_corrupt", "tls_plaintext")
    real = process() if (fault.after_processing or kind in damaging) else None
    if kind in damaging:
        real.transport = kind
        return real
    if kind in ("drop", "reset"):
        return Response(0, transport=kind)
    if kind == "malformed":
        status = spec.get("status", 200)
        default_body, default_type = MALFORMED_BODIES[status]
        return Response(status, spec.get("body", default_body).encode("utf-8"), {"Content-Type": spec.get("content_type", default_type)})
    return status_error(req, req.family, spec["status"], spec.get("code"), spec.get("message"), _retry_after(spec))


def _retry_after(spec):
    value = spec.get("retry_after")
    if value is None:
        return {}
    if isinstance(value, str):
        return {"Retry-After": value}
    if spec.get("retry_after_format") == "date":
        return {"Retry-After": http_date(time.time() + value)}
    return {"Retry-After": str(int(value)) if float(value).is_integer() else str(value)}
