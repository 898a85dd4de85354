"""Entra ID directory routes: users (GET, PATCH accountEnabled, revokeSignInSessions) and Identity Protection's
riskyUsers confirmCompromised / dismiss.

Microsoft sources (vendored under tests/contract/payloads/entra/, see its README for revisions):
* ``GET /users/{id | userPrincipalName}`` and ``PATCH`` -> ``204 No Content`` (user-get.md, user-update.md);
* ``POST /users/{id | userPrincipalName}/revokeSignInSessions``: ``200`` with ``{"value": true}`` in the page's
  example, ``204 No Content`` in other revisions (the known issue "revoke sign-in sessions returns wrong HTTP
  code"); ``revoke_sessions_response`` picks which one is served. External (guest) users are not revoked.
* ``POST /identityProtection/riskyUsers/confirmCompromised`` and ``/dismiss`` with ``{"userIds": [...]}`` ->
  ``204 No Content``; the riskyUsers API requires Microsoft Entra ID P2 (riskyuser-confirmcompromised.md). Without
  it (``entra_id_p2: false``) the service answers 403 ``Forbidden`` "Your tenant is not licensed for this
  feature." (the wording integrations observe; Microsoft documents the license, not the error body).
* A PATCH of ``accountEnabled`` on a user mastered on-premises (``onPremisesSyncEnabled`` true): accountEnabled is
  a synchronised attribute (Entra Connect, "Attributes synchronized to Microsoft Entra ID"), and no Microsoft page
  says whether Graph refuses the change or accepts it until the next sync. ``synced_account_enabled`` serves either:
  ``accept`` (the admin API's ``directory_sync`` later puts the Active Directory value back) or ``refuse``: 400
  ``Request_BadRequest`` "Unable to update the specified properties for on-premises mastered Directory Sync objects
  or objects currently undergoing migration." (the wording integrators report).
* Acting on a privileged administrator (``accountEnabled``, refresh-token invalidation are "sensitive actions")
  without a sufficient directory role answers 403 ``Authorization_RequestDenied`` "Insufficient privileges to
  complete the operation."
"""

import copy
import re
import threading
import time
import uuid

from .config import (
    ROLE_DIRECTORY_READ,
    ROLE_DIRECTORY_READWRITE,
    ROLE_RISKY_USER_WRITE,
    ROLE_USER_ENABLE_DISABLE,
    ROLE_USER_READ,
    ROLE_USER_READWRITE,
    ROLE_USER_REVOKE_SESSIONS,
)
from .graph import VERSION, graph_handler, json_body
from .messages import GRAPH, Response, graph_error, iso_time
from .odata import Resource, apply_select, check_options, parse_select
from .routing import Route
from .state import StateError

USERS = VERSION + r"/users"
RISKY_USERS = VERSION + r"/identityProtection/riskyUsers"
# "The maximum count of users to dismiss in one call is 60." (beta riskyusers-dismiss.md); the confirmCompromised
# pages state no number, so the one documented maximum serves both actions.
MAX_RISKY_USER_IDS = 60
SESSIONS_VALID_FROM_SEED = "2026-01-05T08:00:00Z"
PRIVILEGED_DENIED = "Insufficient privileges to complete the operation."
NOT_LICENSED = "Your tenant is not licensed for this feature."
ON_PREMISES_MASTERED = ("Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently "
                        "undergoing migration.")
USER_RESOURCE = Resource(
    "microsoft.graph.user", {},
    {"id", "displayName", "userPrincipalName", "mail", "accountEnabled", "userType", "onPremisesSyncEnabled",
     "onPremisesSecurityIdentifier", "signInSessionsValidFromDateTime"},
)
# GET /users/{id} without $select returns the default property set, which has neither accountEnabled nor the
# on-premises properties (user-get.md: "only a limited set of properties are returned by default").
DEFAULT_PROPERTIES = ("id", "displayName", "userPrincipalName", "mail")
READ_ROLES = (ROLE_USER_READ, ROLE_USER_READWRITE, ROLE_DIRECTORY_READ, ROLE_DIRECTORY_READWRITE)
# accountEnabled: User.EnableDisableAccount.All together with User.Read.All, or a broader write permission.
ENABLE_ROLES = (ROLE_USER_ENABLE_DISABLE, ROLE_USER_READWRITE, ROLE_DIRECTORY_READWRITE)
REVOKE_ROLES = (ROLE_USER_REVOKE_SESSIONS, ROLE_USER_READWRITE, ROLE_DIRECTORY_READWRITE)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def user_from_identity(identity, override=None):
    """The Entra ID user behind a seed identity's entraID account (its identifier is the user's object id), or None.

    Hybrid (the identity also has an activeDirectory account) -> synchronised from AD: onPremisesSyncEnabled true
    and the AD SID; cloud-only -> onPremisesSyncEnabled null.
    """
    entra = next((a for a in identity.get("accounts", []) if a["identityProvider"] == "entraID"), None)
    if entra is None:
        return None
    hybrid = any(a["identityProvider"] == "activeDirectory" for a in identity["accounts"])
    upn = identity.get("userPrincipalName")
    user = {
        "id": entra["identifier"],
        "displayName": identity.get("displayName"),
        "userPrincipalName": upn,
        "mail": identity.get("emailAddress"),
        "accountEnabled": identity.get("isEnabled", True),
        "userType": "Guest" if upn and "#EXT#" in upn.upper() else "Member",
        "onPremisesSyncEnabled": True if hybrid else None,
        "onPremisesSecurityIdentifier": identity.get("onPremisesSecurityIdentifier") if hybrid else None,
        "signInSessionsValidFromDateTime": SESSIONS_VALID_FROM_SEED,
        "_directoryRoles": [],
        "_riskState": "none",
        "_riskLevel": "none",
    }
    for key, value in (override or {}).items():
        user["_directoryRoles" if key == "directoryRoles" else key] = copy.deepcopy(value)
    return user


def public(user):
    """The user as Graph shows it (emulator bookkeeping keys start with ``_``)."""
    return {key: value for key, value in user.items() if not key.startswith("_")}


class UserStore:
    """Entra ID users derived from the seed identities, plus the ``entra_users`` overrides of the data file."""

    def __init__(self, seed):
        self._overrides = {entry["id"]: {k: v for k, v in entry.items() if k != "id"} for entry in seed.get("entra_users", [])}
        self._lock = threading.RLock()
        self._users = {}

    def reset(self, identities):
        with self._lock:
            self._users = {}
            self.add_from(identities)

    def add_from(self, identities):
        with self._lock:
            for identity in identities:
                user = user_from_identity(identity, self._overrides.get(self._entra_id(identity)))
                if user is not None:
                    self._users[user["id"]] = user

    @staticmethod
    def _entra_id(identity):
        return next((a["identifier"] for a in identity.get("accounts", []) if a["identityProvider"] == "entraID"), None)

    def _find(self, key, fold=str.lower):
        """By object id, or by userPrincipalName (case-insensitive), as ``/users/{id | userPrincipalName}``. ``fold``:
        how UPNs compare (``upn_fold: casefold`` makes U+FB01 'ﬁ' equal 'fi', as a service that folds fully would)."""
        user = self._users.get(key) or self._users.get(key.lower())
        if user is None:
            user = next((u for u in self._users.values() if fold(u["userPrincipalName"] or "") == fold(key)), None)
        if user is None:
            raise StateError(404, "Request_ResourceNotFound",
                             f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.")
        return user

    def get(self, key, fold=str.lower):
        with self._lock:
            return copy.deepcopy(self._find(key, fold))

    def set_enabled(self, key, enabled):
        with self._lock:
            user = self._find(key)
            user["accountEnabled"] = enabled
            return copy.deepcopy(user)

    def sync_from_active_directory(self, active_directory_enabled):
        """A simulated directory sync: every synchronised user gets accountEnabled from its AD account's current state
        (``active_directory_enabled``: object id -> the identity's isEnabled); returns how many changed."""
        with self._lock:
            changed = 0
            for user in self._users.values():
                enabled = active_directory_enabled.get(user["id"])
                if user["onPremisesSyncEnabled"] is True and enabled is not None and user["accountEnabled"] != enabled:
                    user["accountEnabled"] = enabled
                    changed += 1
            return changed

    def after_write(self, key, change):
        """``user_after_write``: rename the target, and optionally give its old UPN to another user, disabled."""
        if change == "none":
            return
        with self._lock:
            user = self._find(key)
            old_upn = user["userPrincipalName"]
            local, dummy, domain = (old_upn or "user@contoso.com").partition("@")
            user["userPrincipalName"] = f"{local}.renamed@{domain}"
            if change == "upn_moved":
                other = next(u for u in self._users.values() if u is not user and not u["_directoryRoles"])
                other["userPrincipalName"], other["accountEnabled"] = old_upn, False

    def revoke_sessions(self, key):
        with self._lock:
            user = self._find(key)
            if user["userType"] != "Guest":  # external users sign in at their home tenant: nothing revoked here
                user["signInSessionsValidFromDateTime"] = iso_time(digits=0)
            return copy.deepcopy(user)

    def set_risk(self, user_ids, state, level):
        with self._lock:
            for user_id in user_ids:
                user = self._users.get(user_id.lower())
                if user is not None:  # unknown ids are ignored, as the action takes a list
                    user["_riskState"], user["_riskLevel"] = state, level

    def snapshot(self):
        with self._lock:
            return [dict(public(user), directoryRoles=list(user["_directoryRoles"]), riskState=user["_riskState"],
                         riskLevel=user["_riskLevel"]) for user in self._users.values()]


class EntraUsers:
    """The routes. Roles follow each page's permission table; P2 and the privileged-target rule are tenant facts."""

    def __init__(self, guard, users, config):
        self.guard = guard
        self.users = users
        self.config = config
        self._risk_lock = threading.Lock()
        self._last_risk_request = None

    def routes(self):
        user = USERS + r"/(?P<user_key>[^/]+)"
        return [
            Route("get_user", GRAPH, "GET", user, self.get),
            Route("update_user", GRAPH, "PATCH", user, self.update),
            Route("revoke_sign_in_sessions", GRAPH, "POST", user + r"/(?:microsoft\.graph\.)?revokeSignInSessions", self.revoke),
            Route("confirm_compromised", GRAPH, "POST", RISKY_USERS + r"/(?:microsoft\.graph\.)?confirmCompromised",
                  lambda req, version: self.risk(req, version, "confirmedCompromised", "high")),
            Route("dismiss_risk", GRAPH, "POST", RISKY_USERS + r"/(?:microsoft\.graph\.)?dismiss",
                  lambda req, version: self.risk(req, version, "dismissed", "none")),
        ]

    @graph_handler
    def get(self, req, version, user_key):
        self.guard.authorize(req, "entra_users", READ_ROLES)
        check_options(req, ("$select",))
        select = parse_select(req.query.get("$select"), USER_RESOURCE) or list(DEFAULT_PROPERTIES)
        fold = str.casefold if self.config["upn_fold"] == "casefold" else str.lower
        entity = apply_select(public(self.users.get(user_key, fold)), select)
        return dict({"@odata.context": f"{req.base_url}/{version}/$metadata#users(" + ",".join(select) + ")/$entity"}, **entity)

    @graph_handler
    def update(self, req, version, user_key):
        claims = self.guard.authorize(req, "entra_users", ENABLE_ROLES)
        roles = set(claims.get("roles") or [])
        if not roles & {ROLE_USER_READWRITE, ROLE_DIRECTORY_READWRITE} and ROLE_USER_READ not in roles:
            # User.EnableDisableAccount.All alone cannot read the user it updates (user-update.md).
            raise graph_error(req, 403, "Authorization_RequestDenied", PRIVILEGED_DENIED)
        body = json_body(req)
        if not isinstance(body, dict) or not body:
            raise graph_error(req, 400, "BadRequest", "The request body must be a JSON object with the properties to update.")
        unknown = sorted(set(body) - {"accountEnabled"})
        if unknown:
            raise graph_error(req, 400, "Request_BadRequest", f"Property '{unknown[0]}' is not supported by the emulator's user "
                              "update; it only changes accountEnabled.")
        if not isinstance(body["accountEnabled"], bool):
            raise graph_error(req, 400, "Request_BadRequest", "Invalid value specified for property 'accountEnabled' of resource 'User'.")
        self._refuse_privileged(req, user_key)
        if self.users.get(user_key)["onPremisesSyncEnabled"] is True and self.config["synced_account_enabled"] == "refuse":
            raise graph_error(req, 400, "Request_BadRequest", ON_PREMISES_MASTERED)
        self.users.set_enabled(user_key, body["accountEnabled"])
        return Response.empty(204)

    @graph_handler
    def revoke(self, req, version, user_key):
        self.guard.authorize(req, "entra_users", REVOKE_ROLES)
        self._refuse_privileged(req, user_key)
        self.users.revoke_sessions(user_key)
        if self.config["revoke_sessions_response"] == "no_content":
            return Response.empty(204)
        return {"@odata.context": f"{req.base_url}/{version}/$metadata#Edm.Boolean", "value": True}

    @graph_handler
    def risk(self, req, version, state, level):
        self.guard.authorize(req, "risky_users", (ROLE_RISKY_USER_WRITE,))
        if not self.config["entra_id_p2"]:
            raise graph_error(req, 403, "Forbidden", NOT_LICENSED)
        self._pace_identity_protection(req)
        body = json_body(req)
        ids = body.get("userIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(item, str) and _GUID.match(item) for item in ids):
            raise graph_error(req, 400, "BadRequest", "The parameter 'userIds' must be a non-empty collection of user object ids.")
        if len(ids) > MAX_RISKY_USER_IDS:
            raise graph_error(req, 400, "BadRequest", f"The maximum count of users in one call is {MAX_RISKY_USER_IDS}; {len(ids)} were given.")
        extra = sorted(set(body) - {"userIds"})
        if extra:
            raise graph_error(req, 400, "BadRequest", f"The parameter '{extra[0]}' in the request payload is not a valid parameter.")
        self.users.set_risk([str(uuid.UUID(item)) for item in ids], state, level)
        return Response.empty(204)

    def write_arriving(self, route_name, params):
        """``user_after_write``, applied when a write to a user arrives, before it runs and whether or not a fault
        stops it: what a read-back then finds is the directory as it is after the write, not the task's picture."""
        if route_name in ("update_user", "revoke_sign_in_sessions"):
            try:
                self.users.after_write(params["user_key"], self.config["user_after_write"])
            except StateError:
                pass  # an unknown user: the handler answers its 404

    def _pace_identity_protection(self, req):
        """``identity_protection_rps``: a request sooner than 1/rps s after the previous one gets 429, no Retry-After."""
        rps = self.config["identity_protection_rps"]
        if not rps:
            return
        with self._risk_lock:
            now = time.monotonic()
            if self._last_risk_request is not None and now - self._last_risk_request < 1.0 / rps:
                raise graph_error(req, 429, "TooManyRequests", "Too many requests.")
            self._last_risk_request = now

    def _refuse_privileged(self, req, user_key):
        """An app without a privileged directory role cannot change an administrator (sensitive actions)."""
        if self.users.get(user_key)["_directoryRoles"]:
            raise graph_error(req, 403, "Authorization_RequestDenied", PRIVILEGED_DENIED)
