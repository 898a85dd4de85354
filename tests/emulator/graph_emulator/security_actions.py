"""Legacy ``/beta/security/securityActions`` routes (Global cloud only, application tokens only)."""

from . import shapes
from .config import ROLE_SA_READ, ROLE_SA_WRITE
from .graph import graph_handler, json_body
from .messages import GRAPH, Response
from .odata import Resource, apply_select, check_options, parse_select, query_page
from .routing import Route

BASE = r"/beta/security/securityActions"
API = "security_actions"
READ_ROLES = (ROLE_SA_READ, ROLE_SA_WRITE)
WRITE_ROLES = (ROLE_SA_WRITE,)
SECURITY_ACTION_RESOURCE = Resource(
    "microsoft.graph.securityAction",
    {"id": "string", "clientContext": "string", "status": "string", "name": "string"},
    {"id", "actionReason", "appId", "azureTenantId", "clientContext", "completedDateTime", "createdDateTime", "errorInfo",
     "lastActionDateTime", "name", "parameters", "states", "status", "user", "vendorInformation"},
)


class SecurityActions:
    def __init__(self, guard, store, config):
        self.guard = guard
        self.store = store
        self.config = config

    def routes(self):
        item = BASE + r"/(?P<action_id>[^/]+)"
        return [
            Route("list_security_actions", GRAPH, "GET", BASE, self.list),
            Route("create_security_action", GRAPH, "POST", BASE, self.create),
            Route("get_security_action", GRAPH, "GET", item, self.get),
            Route("cancel_security_action", GRAPH, "POST", item + r"/(?:microsoft\.graph\.)?cancelSecurityAction", self.cancel),
        ]

    @staticmethod
    def _context(req, suffix=""):
        return f"{req.base_url}/beta/$metadata#security/securityActions{suffix}"

    @graph_handler
    def list(self, req):
        tenant = self.guard.authorize(req, API, READ_ROLES)["tid"]
        page, select, next_link = query_page(req, self.store.security_actions(tenant), SECURITY_ACTION_RESOURCE, self.config["page_size"],
                                             self.config["max_page_size"])
        body = {"@odata.context": self._context(req), "value": [apply_select(item, select) for item in page]}
        if next_link:
            body["@odata.nextLink"] = next_link
        return body

    @graph_handler
    def get(self, req, action_id):
        tenant = self.guard.authorize(req, API, READ_ROLES)["tid"]
        check_options(req, ("$select",))
        select = parse_select(req.query.get("$select"), SECURITY_ACTION_RESOURCE)
        action = apply_select(self.store.security_action(action_id, tenant), select)
        return dict({"@odata.context": self._context(req, "/$entity")}, **action)

    @graph_handler
    def create(self, req):
        claims = self.guard.authorize(req, API, WRITE_ROLES)
        action = self.store.create_security_action(json_body(req), claims.get("appid"), claims["tid"],
                                                   self.config["security_action_timing"], self.config.failing_networks())
        body = dict({"@odata.context": self._context(req, "/$entity")}, **shapes.created_security_action(action, self.config["shape"]))
        location = f"{req.base_url}/beta/security/securityActions('{action['id']}')"
        return Response.graph(201, body, headers={"Location": location})

    @graph_handler
    def cancel(self, req, action_id):
        tenant = self.guard.authorize(req, API, WRITE_ROLES)["tid"]
        self.store.cancel_security_action(action_id, tenant, self.config["security_action_cancel"])
        return Response.empty(200)
