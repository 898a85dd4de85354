"""The admin API under ``/_emulator/`` (authenticated by ``X-Emulator-Key`` only) and its Python client."""

import hmac
import json
import re

import requests

from .config import ConfigError
from .faults import FaultError
from .messages import GRAPH, Response

PREFIX = "/_emulator"


def _error(status, code, message):
    return Response.json(status, {"error": {"code": code, "message": message}})


class Admin:
    """Dispatches admin requests to the emulator's parts; ``emulator`` is the running Emulator."""

    def __init__(self, emulator):
        self.emu = emulator
        self.routes = [
            ("POST", r"/reset", self.reset),
            ("GET", r"/requests", self.requests),
            ("DELETE", r"/requests", self.clear_requests),
            ("GET", r"/counters", lambda req: self.emu.counters.snapshot()),
            ("GET", r"/faults", lambda req: {"value": self.emu.faults.list()}),
            ("POST", r"/faults", self.add_fault),
            ("DELETE", r"/faults", self.clear_faults),
            ("DELETE", r"/faults/(?P<fault_id>\d+)", self.remove_fault),
            ("GET", r"/config", lambda req: self.emu.config.snapshot()),
            ("POST", r"/config", self.configure),
            ("GET", r"/state", lambda req: self.emu.store.snapshot()),
            ("POST", r"/settle", lambda req: {"propagated": self.emu.store.settle()}),
            ("POST", r"/directory_sync", lambda req: {"changed": self.emu.store.directory_sync()}),
            ("POST", r"/identities", lambda req: self.emu.store.put_identity(req.json())),
            ("GET", r"/incidents", lambda req: self.emu.incidents.snapshot()),
            ("POST", r"/incidents", lambda req: self.emu.incidents.put_incident(req.json())),
            ("POST", r"/alerts", lambda req: self.emu.incidents.put_alert(req.json())),
            ("GET", r"/info", lambda req: self.emu.info),
        ]

    def handle(self, req):
        if not hmac.compare_digest(req.header("X-Emulator-Key", "").encode("utf-8"), self.emu.admin_key.encode("utf-8")):
            return _error(401, "Unauthorized", "The admin API needs the X-Emulator-Key header from the info file; Graph tokens are not accepted.")
        sub_path = req.path[len(PREFIX):]
        for method, pattern, handler in self.routes:
            found = re.fullmatch(pattern, sub_path)
            if found and method == req.method:
                try:
                    result = handler(req, **found.groupdict())
                except (ConfigError, FaultError, ValueError) as exc:
                    return _error(400, "BadRequest", str(exc))
                return result if isinstance(result, Response) else Response.json(200, result)
        return _error(404, "NotFound", f"No admin endpoint {req.method} {req.path}.")

    def reset(self, _req):
        self.emu.reset()
        return {"status": "reset"}

    def requests(self, req):
        since = req.query.get("since")
        return {"value": self.emu.log.entries(req.query.get("route"), req.query.get("method"), int(since) if since else None)}

    def clear_requests(self, _req):
        self.emu.log.clear()
        return Response.empty(204)

    def add_fault(self, req):
        return Response.json(201, self.emu.faults.add(req.json()))

    def clear_faults(self, _req):
        self.emu.faults.clear()
        return Response.empty(204)

    def remove_fault(self, _req, fault_id):
        if not self.emu.faults.remove(int(fault_id)):
            return _error(404, "NotFound", f"No fault {fault_id}.")
        return Response.empty(204)

    def configure(self, req):
        return self.emu.configure(req.json())


class AdminError(RuntimeError):
    """The admin API refused a call (bad spec, wrong key...)."""


class AdminClient:
    """Python wrapper of the admin API. Passes ``verify=<ca_path>`` on every call so REQUESTS_CA_BUNDLE cannot override it."""

    def __init__(self, info, timeout=10.0, session=None):
        self.url = info["admin_url"]
        self.key = info["admin_key"]
        self.verify = info["ca_path"]
        self.timeout = timeout
        self.session = session or requests.Session()

    def _call(self, method, path, body=None, params=None):
        response = self.session.request(method, self.url + path, data=None if body is None else json.dumps(body), params=params,
                                        headers={"X-Emulator-Key": self.key, "Content-Type": "application/json"},
                                        verify=self.verify, timeout=self.timeout, proxies={"https": None, "http": None})
        if response.status_code >= 400:
            raise AdminError(f"{method} {path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def reset(self):
        return self._call("POST", "/reset")

    def requests(self, route=None, method=None, since=None):
        params = {key: value for key, value in (("route", route), ("method", method), ("since", since)) if value is not None}
        return self._call("GET", "/requests", params=params)["value"]

    def clear_requests(self):
        self._call("DELETE", "/requests")

    def writes(self):
        """Graph requests that could change state (anything but GET) - e.g. to prove check mode sent none."""
        return [entry for entry in self.requests() if entry["family"] == GRAPH and entry["method"] != "GET"]

    def counters(self):
        return self._call("GET", "/counters")

    def add_fault(self, **spec):
        return self._call("POST", "/faults", spec)

    def faults(self):
        return self._call("GET", "/faults")["value"]

    def remove_fault(self, fault_id):
        self._call("DELETE", f"/faults/{fault_id}")

    def clear_faults(self):
        self._call("DELETE", "/faults")

    def configure(self, **changes):
        return self._call("POST", "/config", changes)

    def config(self):
        return self._call("GET", "/config")

    def state(self):
        return self._call("GET", "/state")

    def settle(self):
        """Let pending disable/enable changes (propagation_delay_s) take effect now; returns how many did."""
        return self._call("POST", "/settle")["propagated"]

    def directory_sync(self):
        """A simulated Entra Connect sync: synchronised users take accountEnabled from AD; returns how many changed."""
        return self._call("POST", "/directory_sync")["changed"]

    def full_scans(self):
        """Unfiltered identityAccounts listings since the last reset: {"scans": first pages, "pages": all pages}."""
        counts = self.counters()
        return {"scans": counts["full_scans"], "pages": counts["full_scan_pages"]}

    def put_identity(self, identity):
        """Insert or replace an identity (seed format) until the next reset."""
        return self._call("POST", "/identities", identity)

    def put_incident(self, incident):
        """Create or update an incident (schema shape; embedded ``alerts`` too); lastUpdateDateTime becomes now unless given."""
        return self._call("POST", "/incidents", incident)

    def put_alert(self, alert):
        """Create or update an alert of an existing incident (``incidentId`` required)."""
        return self._call("POST", "/alerts", alert)

    def incidents(self):
        """Every stored incident and alert, schema shape: ``{"incidents": [...], "alerts": [...]}``."""
        return self._call("GET", "/incidents")

    def info(self):
        return self._call("GET", "/info")

    def close(self):
        self.session.close()
