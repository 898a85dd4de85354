"""Graph side: bearer token checks shared by every Graph route, and the identityAccounts routes."""

import functools
import time

import jwt

from . import shapes
from .config import ACTIONS, API_CLOUDS, PROVIDERS, ROLE_ACCOUNT_READ, ROLE_ACTIONS_WRITE, US_GOVERNMENT
from .messages import GRAPH, graph_error
from .odata import ODataError, Resource, apply_select, check_options, filter_names, parse_select, query_page
from .routing import Route
from .state import StateError

VERSION = r"/(?P<version>beta|v1\.0)"
ACCOUNTS = VERSION + r"/security/identities/identityAccounts"
IDENTITY_RESOURCE = Resource(
    "microsoft.graph.security.user",
    {"id": "string", "onPremisesSecurityIdentifier": "string", "displayName": "string", "userPrincipalName": "string",
     "cloudSecurityIdentifier": "string", "emailAddress": "string", "domain": "string", "isEnabled": "bool"},
    {"id", "accounts", "cloudSecurityIdentifier", "displayName", "domain", "isEnabled", "onPremisesSecurityIdentifier", "emailAddress",
     "userPrincipalName"},
)
USER_CAST = "microsoft.graph.security.user"
# identityAccounts is abstract; userPrincipalName and emailAddress live on the derived type security.user
# (msgraph-metadata beta and v1.0 CSDL). A plain $filter on them is what the docs profile refuses.
USER_ONLY_PROPERTIES = {"userPrincipalName", "emailAddress"}
PLAIN_FILTER_REFUSED = "Could not find a property named '{name}' on type 'microsoft.graph.security.identityAccounts'."
NOT_IMPLEMENTED = "The requested feature isn't implemented."  # errors page, HTTP 501
SCAN_ROUTES = ("list_identity_accounts", "list_identity_accounts_cast")
API_SEGMENT = {"identity_accounts": "identities", "security_actions": "securityActions", "entra_users": "users",
               "risky_users": "identityProtection", "incidents": "incidents", "alerts": "alerts_v2"}
NOT_ONBOARDED = ("Tenant is not onboarded to Microsoft Defender for Identity. After license is purchased, first login to portal and "
                 "sensor are required.")
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
                                        'client_id="00000003-0000-0000-c000-000000000000"'}


def graph_handler(method):
    """Turn store and query errors into Graph error responses."""
    @functools.wraps(method)
    def wrapper(self, req, *args, **kwargs):
        try:
            return method(self, req, *args, **kwargs)
        except StateError as exc:
            raise graph_error(req, exc.status, exc.code, exc.message) from None
        except ODataError as exc:
            raise graph_error(req, 400, "BadRequest", str(exc)) from None
    return wrapper


def json_body(req):
    """Parse a JSON request body the way Graph complains about it."""
    if not req.body.strip():
        raise graph_error(req, 400, "BadRequest", "Empty Payload. JSON content expected.")
    try:
        return req.json()
    except ValueError:
        raise graph_error(req, 400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and "
                          "payload is of valid JSON format.") from None


class GraphGuard:
    """Checks a bearer token: signature, expiry, audience of the current cloud, API availability, roles, onboarding."""

    def __init__(self, signer, directory, config):
        self.signer = signer
        self.directory = directory
        self.config = config

    def authorize(self, req, api, roles):
        claims = self._claims(req)
        if self.config["cloud"] not in API_CLOUDS[api]:
            raise graph_error(req, 404, "BadRequest", f"Resource not found for the segment '{API_SEGMENT[api]}'.")
        if api == "identity_accounts" and self.config["cloud"] in US_GOVERNMENT:
            self._us_government_identity_accounts(req)
        if not set(roles) & set(claims.get("roles") or []):
            if api == "identity_accounts" and self.config["identity_forbidden_style"] == "mdi":
                raise graph_error(req, 403, "UnknownError", "")
            raise graph_error(req, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        if api == "identity_accounts" and not self._onboarded(claims.get("tid")):
            raise graph_error(req, 403, "Forbidden", NOT_ONBOARDED)
        return claims

    def _claims(self, req):
        scheme, _sep, token = (req.header("Authorization") or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self._unauthorized(req, "Access token is empty.")
        if token.count(".") != 2:
            raise self._unauthorized(req, "IDX14100: JWT is not well formed, there are no dots (.). The token needs to be in JWS or JWE "
                                          "Compact Serialization Format.")
        try:
            claims = self.signer.decode(token)
        except jwt.PyJWTError:
            raise self._unauthorized(req, "Access token validation failure. Invalid signature.") from None
        if req.force_expired or time.time() >= claims.get("exp", 0):
            raise self._unauthorized(req, "Lifetime validation failed, the token is expired.")
        if claims.get("aud") != self.config.graph_root():
            raise self._unauthorized(req, "Access token validation failure. Invalid audience.")
        return claims

    def _us_government_identity_accounts(self, req):
        """Never in v1.0 (v1.0-Fairfax.csdl lacks it); in beta as ``us_gov_beta_identity_accounts`` says."""
        mode = "absent" if req.path.startswith("/v1.0/") else self.config["us_gov_beta_identity_accounts"]
        if mode != "offered":
            raise graph_error(req, 400 if mode == "absent_400" else 404, "BadRequest",
                              "Resource not found for the segment 'identityAccounts'.")

    @staticmethod
    def _unauthorized(req, message):
        return graph_error(req, 401, "InvalidAuthenticationToken", message, headers=WWW_AUTHENTICATE)

    def _onboarded(self, tenant_id):
        tenant = self.directory.tenant(tenant_id)
        if tenant is None or not tenant.onboarded:
            return False
        return tenant.id != self.directory.tenant_id or self.config["onboarded"]


class IdentityAccounts:
    def __init__(self, guard, store, config):
        self.guard = guard
        self.store = store
        self.config = config

    def routes(self):
        # The cast route comes before the item route, whose {id} pattern would match the cast segment.
        return [
            Route("list_identity_accounts", GRAPH, "GET", ACCOUNTS, self.list),
            Route("list_identity_accounts_cast", GRAPH, "GET", ACCOUNTS + r"/microsoft\.graph\.security\.user", self.list_cast),
            Route("get_identity_account", GRAPH, "GET", ACCOUNTS + r"/(?P<identity_id>[^/]+)", self.get),
            Route("invoke_action", GRAPH, "POST", ACCOUNTS + r"/(?P<identity_id>[^/]+)/(?:microsoft\.graph\.security\.)?invokeAction",
                  self.invoke),
        ]

    @staticmethod
    def _context(req, version, suffix):
        return f"{req.base_url}/{version}/$metadata#{suffix}"

    @graph_handler
    def list(self, req, version):
        self.guard.authorize(req, "identity_accounts", (ROLE_ACCOUNT_READ, ROLE_ACTIONS_WRITE))
        mode = "answer"
        named = filter_names(req.query.get("$filter")) & USER_ONLY_PROPERTIES
        if named:
            mode = self.config["filter_support"]["plain"]
            self._refuse(req, mode, PLAIN_FILTER_REFUSED.format(name=sorted(named)[-1]))
        return self._listing(req, version, "security/identities/identityAccounts", mode == "ignore")

    @graph_handler
    def list_cast(self, req, version):
        """The OData type-cast segment: only security.user items, with their own properties filterable."""
        self.guard.authorize(req, "identity_accounts", (ROLE_ACCOUNT_READ, ROLE_ACTIONS_WRITE))
        mode = self.config["filter_support"]["cast"]
        self._refuse(req, mode, f"Resource not found for the segment '{USER_CAST}'.")
        return self._listing(req, version, f"security/identities/identityAccounts/{USER_CAST}", mode == "ignore")

    @staticmethod
    def _refuse(req, mode, message):
        if mode == "refuse":
            raise graph_error(req, 400, "BadRequest", message)
        if mode == "not_implemented":
            raise graph_error(req, 501, "NotImplemented", NOT_IMPLEMENTED)

    def _listing(self, req, version, context, ignore_filter):
        page, select, next_link = query_page(req, self.store.identities(), IDENTITY_RESOURCE, self.config["page_size"],
                                             self.config["max_page_size"], ignore_filter=ignore_filter)
        # A full scan: a page of the whole collection (no $filter, or one the service ignored); counted by observe.
        req.full_scan = ignore_filter or not (req.query.get("$filter") or "").strip()
        shape = self.config["shape"]
        body = {"@odata.context": self._context(req, version, context),
                "value": [apply_select(shapes.identity(self._presented(item, "list"), shape), select) for item in page]}
        if next_link:
            body["@odata.nextLink"] = next_link
        return body

    def _presented(self, entity, view):
        """What the profile shows: List results with empty actions (the List example), and on the
        contradictory identities the Get example 1 picture (isEnabled against the offered toggle)."""
        if view == "list" and self.config["list_actions"] == "empty":
            return dict(entity, accounts=[dict(account, actions=[]) for account in entity["accounts"]])
        if entity["id"] in self.config["contradictory_identities"]:
            return shapes.contradictory(entity)
        return entity

    @graph_handler
    def get(self, req, version, identity_id):
        self.guard.authorize(req, "identity_accounts", (ROLE_ACCOUNT_READ, ROLE_ACTIONS_WRITE))
        check_options(req, ("$select",))
        select = parse_select(req.query.get("$select"), IDENTITY_RESOURCE)
        entity = self.store.identity(identity_id)
        if entity is None:
            raise StateError(404, "NotFound", f"Identity account '{identity_id}' was not found.")
        shape = self.config["shape"]
        return shapes.single(apply_select(shapes.identity(self._presented(entity, "get"), shape), select), shape,
                             self._context(req, version, "security/identities/identityAccounts/$entity"))

    @graph_handler
    def invoke(self, req, version, identity_id):
        claims = self.guard.authorize(req, "identity_accounts", (ROLE_ACTIONS_WRITE,))
        body = _invoke_parameters(req, json_body(req))
        result = self.store.invoke(identity_id, body["accountId"], body["action"], body["identityProvider"], self.config["matrix"],
                                   claims.get("appid"), self.config["propagation_delay_s"], self.config["enforce_offered_actions"])
        out = shapes.invoke_result(result, self.config["shape"])
        out["@odata.context"] = self._context(req, version, "microsoft.graph.security.invokeActionResult")
        return out


def _invoke_parameters(req, body):
    """Exactly accountId, action, identityProvider; enums are case-sensitive schema values."""
    required = ("accountId", "action", "identityProvider")
    if not isinstance(body, dict):
        raise graph_error(req, 400, "BadRequest", "The request body must be a JSON object with accountId, action and identityProvider.")
    for name in required:
        if body.get(name) is None:
            raise graph_error(req, 400, "BadRequest", f"The parameter '{name}' is missing in the request body. invokeAction requires "
                              "accountId, action and identityProvider.")
    extra = sorted(set(body) - set(required) - {"@odata.type"})
    if extra:
        raise graph_error(req, 400, "BadRequest", f"The parameter '{extra[0]}' in the request payload is not a valid parameter for the "
                          "operation 'invokeAction'.")
    for name in required:
        if not isinstance(body[name], str) or not body[name]:
            raise graph_error(req, 400, "BadRequest", f"The parameter '{name}' must be a non-empty string.")
    for name, enum, members in (("action", "action", ACTIONS), ("identityProvider", "identityProvider", PROVIDERS)):
        if body[name] not in members:
            raise graph_error(req, 400, "BadRequest", f"Requested value '{body[name]}' was not found in enum "
                              f"'microsoft.graph.security.{enum}'. Supported values: {', '.join(members)}.")
    return body
