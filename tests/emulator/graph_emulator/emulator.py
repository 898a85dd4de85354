"""The Emulator: wires directory, tokens, state, routes, faults and observation to the TLS server."""

import json
import os
import secrets
import shutil
import ssl
import sys
import tempfile
import threading
import time
import traceback

import trustme

from . import faults as fault_mod
from .admin import PREFIX, Admin, AdminClient
from .config import Config
from .directory import Directory
from .entra import Entra
from .graph import GraphGuard, IdentityAccounts
from .incidents import IncidentStore, Incidents
from .messages import ENTRA, GRAPH, MSI, HttpError, Response, graph_error
from .observe import Counters, RequestLog
from .routing import Router
from .security_actions import SecurityActions
from .seed import load
from .server import TLSServer
from .state import TenantStore
from .users import EntraUsers
from .tokens import TokenSigner

AGS_DIAGNOSTIC = json.dumps({"ServerInfo": {"DataCenter": "West Europe", "Slice": "E", "Ring": "5", "ScaleUnit": "001",
                                            "RoleInstance": "EMU0GRAPH0001"}}, separators=(",", ":"))
KNOWN_SEGMENTS = {"security", "identities", "identityAccounts", "users", "identityProtection", "riskyUsers", "incidents",
                  "alerts_v2"}


def _family_of(path):
    if path.startswith(("/beta/", "/v1.0/")) or path in ("/beta", "/v1.0"):
        return GRAPH
    if path.startswith(("/msi", "/metadata/")):
        return MSI
    return ENTRA


def write_json_atomically(path, payload):
    """Readers polling for the file never see it half written."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".info-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
    os.replace(temp, path)


class Emulator:
    """In-process Graph + Entra emulator. ``Emulator(workdir=..., port=0).start()`` or use it as a context manager.

    Keyword arguments besides the listed ones are start values of the runtime configuration (see config.DEFAULTS),
    e.g. ``profile="docs"``, ``matrix="B"``, ``page_size=5``, ``extra_identities=500``.
    """

    def __init__(self, workdir=None, host="127.0.0.1", port=0, data=None, shape="schema", cloud="global", info_file=None, **config):
        self._options = {"workdir": workdir, "host": host, "port": port, "data": data, "info_file": info_file}
        self.config = Config(shape=shape, cloud=cloud, **config)
        self.info = None
        self.admin = None
        self.admin_key = secrets.token_urlsafe(24)
        self._server = None
        self._thread = None
        self._own_workdir = False
        self._generation = 0  # bumped by reset(): requests from before a reset leave no trace after it
        # Filled by start(): the parts the admin API and tests reach into.
        self.workdir = self.directory = self.signer = self.store = self.incidents = self.router = None
        self.faults = self.log = self.counters = self.admin_api = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self):
        if self._server is not None:
            raise RuntimeError("emulator already started")
        seed = load(self._options["data"])
        workdir = self._options["workdir"]
        if workdir is None:
            workdir, self._own_workdir = tempfile.mkdtemp(prefix="graph-emulator-"), True
        workdir = os.fspath(workdir)  # a pathlib.Path is welcome, the info dict must stay JSON
        os.makedirs(workdir, exist_ok=True)
        host = self._options["host"]
        context, ca_path = self._tls(workdir, host)
        self._server = TLSServer((host, self._options["port"]), context, self)
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        base_url = f"https://{url_host}:{self._server.server_port}"
        self._server.base_url = base_url
        self.workdir = workdir
        self._wire(seed, workdir, base_url)
        self.info = self._build_info(base_url, ca_path)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="graph-emulator", daemon=True)
        self._thread.start()
        if self._options["info_file"]:
            write_json_atomically(self._options["info_file"], self.info)
        self.admin = AdminClient(self.info)
        return self

    @staticmethod
    def _tls(workdir, host):
        ca = trustme.CA(organization_name="Graph Emulator")
        names = ["127.0.0.1", "localhost"] + ([host] if host not in ("", "0.0.0.0", "127.0.0.1", "localhost") else [])
        leaf = ca.issue_cert(*names)
        ca_path = os.path.join(workdir, "ca.pem")
        ca.cert_pem.write_to_path(ca_path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        leaf.configure_cert(context)
        return context, ca_path

    def _wire(self, seed, workdir, base_url):
        self.directory = Directory(seed, workdir, base_url)
        self.signer = TokenSigner()
        self.store = TenantStore(seed, self.config["extra_identities"])
        self.incidents = IncidentStore()
        guard = GraphGuard(self.signer, self.directory, self.config)
        self.entra_users = EntraUsers(guard, self.store.users, self.config)
        self.router = Router(Entra(self.directory, self.signer, self.config).routes()
                             + IdentityAccounts(guard, self.store, self.config).routes()
                             + SecurityActions(guard, self.store, self.config).routes()
                             + self.entra_users.routes()
                             + Incidents(guard, self.incidents, self.config).routes())
        self.faults = fault_mod.FaultSet(self.router.names())
        self.log = RequestLog()
        self.counters = Counters()
        self.admin_api = Admin(self)

    def _build_info(self, base_url, ca_path):
        graph_root = self.config.graph_root()
        info = {"base_url": base_url, "authority_host": base_url, "graph_endpoint": base_url, "admin_url": base_url + PREFIX,
                "admin_key": self.admin_key, "ca_path": ca_path}
        info.update(self.directory.info(base_url))
        info.update({"pid": os.getpid(), "cloud": self.config["cloud"], "graph_root": graph_root, "scope": graph_root + "/.default",
                     "workdir": self.workdir})
        return info

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None
        if self.admin is not None:
            self.admin.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self if self._server is not None else self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def base_url(self):
        return self.info["base_url"]

    # --- admin operations ------------------------------------------------------------------------

    def reset(self):
        """Back to the start state: seed data, no faults, empty log and counters, start configuration."""
        self._generation += 1
        self.config.reset()
        self.store.reset(self.config["extra_identities"])
        self.incidents.reset()
        self.faults.clear()
        self.log.clear()
        self.counters.reset()

    def configure(self, changes):
        snapshot = self.config.update(changes)
        if "extra_identities" in changes:
            self.store.set_extra_identities(snapshot["extra_identities"])
        return snapshot

    # --- request pipeline ------------------------------------------------------------------------

    def handle(self, req):
        if req.path == PREFIX or req.path.startswith(PREFIX + "/"):
            return self._decorate(req, self.admin_api.handle(req))
        started = time.time()
        # extra: the route's path parameters, or (no route) a route with this path but another method
        route, extra = self.router.match(req.method, req.path)
        req.family = route.family if route else _family_of(req.path)
        if route:
            req.route, req.params = route.name, extra
        generation = self._generation
        if route:
            self.entra_users.write_arriving(route.name, extra)
        fault = self.faults.take(req)
        response = fault_mod.apply(fault, req, lambda: self._process(req, route, extra, generation))
        self._decorate(req, response)
        if generation == self._generation:
            self.log.record(req, response, fault, started, time.time() - started)
            self.counters.record(req, fault)
        return response

    def _process(self, req, route, extra, generation):
        if generation != self._generation:
            return Response(0, transport="drop")  # e.g. a slept-on timeout fault outlived a reset: no late write
        try:
            if route is None:
                raise self._no_route(req, extra)
            self._latency(route)
            result = route.handler(req, **req.params)
        except HttpError as exc:
            result = exc.response
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)  # an emulator bug: answer like a real 500 and keep serving
            result = graph_error(req, 500, "InternalServerError", "An internal emulator error occurred.").response
        return Response.graph(200, result) if isinstance(result, dict) else result

    def _latency(self, route):
        key = "graph_latency_ms" if route.family == GRAPH else ("token_latency_ms" if route.name in ("token", "msi_token") else None)
        delay = self.config[key] if key else 0
        if delay:
            time.sleep(delay / 1000.0)

    @staticmethod
    def _no_route(req, path_route):
        if path_route is not None:
            return graph_error(req, 405, "MethodNotAllowed", f"The HTTP method '{req.method}' is not allowed for this resource.")
        if req.family == GRAPH:
            segments = [seg for seg in req.path.split("/")[2:] if seg]
            segment = next((seg for seg in segments if seg not in KNOWN_SEGMENTS), segments[-1] if segments else "")
            return graph_error(req, 400, "BadRequest", f"Resource not found for the segment '{segment}'.")
        return HttpError(Response.json(404, {"error": "not_found", "error_description": f"No emulated endpoint at {req.path}."}))

    @staticmethod
    def _decorate(req, response):
        """Headers every answer carries: request ids, and the Graph or Entra diagnostics headers."""
        headers = {"request-id": req.request_id, "client-request-id": req.client_request_id or req.request_id,
                   "Strict-Transport-Security": "max-age=31536000"}
        if req.family == GRAPH:
            headers.update({"x-ms-ags-diagnostic": AGS_DIAGNOSTIC, "OData-Version": "4.0", "Cache-Control": "no-cache"})
        else:
            headers.update({"x-ms-request-id": req.request_id, "x-ms-ests-server": "2.1.99999.0 - EMU ProdSlices"})
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
