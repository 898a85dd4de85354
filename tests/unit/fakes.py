# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-ins the unit tests inject instead of time, tokens, the network and Graph; one home for each.

* ``FakeClock``: injected as ``sleep``, ``clock`` and ``now``; sleeping advances time, nothing really waits.
* ``FakeTokens``: a token provider handing out ``FAKE_JWT``-token-1, then token-2 after a forced refresh.
* ``ssl_error_raised_in(function_name)``: a requests ``SSLError`` as raised inside the handshake or a read.
* ``FakeResponse``, ``FakeGraphClient``: records calls and answers from canned Graph-shaped bodies, with the methods
  the domain layers use (``get``, ``get_all``, ``post``, ``url_for``).
* ``FakeIdentityTenant`` and the ``*_body`` builders: Defender for Identity identities in both response shapes.
* ``FakeUsersGraph``, ``user_body``: Entra ID users (``MEGAN``) behind a client that also answers PATCH.
* ``FakeSecurityActionsGraph``, ``stored_action``: the legacy securityActions collection; ``jwt(payload)``: a token
  carrying the claims a delegated or application token would.

Fixtures stay in the conftest files (tests/unit/conftest.py, tests/unit/plugins/modules/conftest.py); running a
module's ``main()`` is tests/unit/module_runner.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import re

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.plugins.module_utils._security_actions import COLLECTION_PATH as SECURITY_ACTIONS_PATH

IDENTITY_ACCOUNTS_PATH = "/security/identities/identityAccounts"
# The OData cast to the derived type that holds userPrincipalName and emailAddress.
USERS_PATH = IDENTITY_ACCOUNTS_PATH + "/microsoft.graph.security.user"
# The $filter by clientContext the securityActions collection answers.
_CLIENT_CONTEXT_FILTER_RE = re.compile(r"^clientContext eq '((?:[^']|'')*)'$")
# A JWT-shaped token (header.payload.signature), so redaction is tested on what a real token looks like.
FAKE_JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJl"


class FakeClock:
    """Injected as ``sleep``, ``clock`` and ``now``: sleeping advances time, nothing really waits.

    ``now`` is the monotonic reading ``clock()`` returns, ``wall`` the epoch seconds ``wall_time()`` returns (for
    HTTP dates; the same as ``now`` unless given); both advance when sleeping. ``sleeps`` records each pause.
    """

    def __init__(self, now=1000.0, wall=None):
        self.now = now
        self.wall = now if wall is None else wall
        self.sleeps = []

    def clock(self):
        """The monotonic reading."""
        return self.now

    def wall_time(self):
        """The wall-clock reading, in seconds since the epoch."""
        return self.wall

    def sleep(self, seconds):
        """Record the pause and advance both readings by it."""
        self.sleeps.append(seconds)
        self.now += seconds
        self.wall += seconds


class FakeTokens:
    """A token provider handing out ``FAKE_JWT``-token-1, then token-2 after a forced refresh; ``calls`` records
    each request's ``force_refresh``."""

    auth_method = "client_secret"

    def __init__(self, refreshable=True):
        self.refreshable = refreshable
        self.calls = []
        self.generation = 1

    def get_token(self, force_refresh=False):
        """The current token; a new generation when ``force_refresh``."""
        self.calls.append(force_refresh)
        if force_refresh:
            self.generation += 1
        return "%s-token-%d" % (FAKE_JWT, self.generation)


def ssl_error_raised_in(function_name, message="[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:2580)"):
    """A requests ``SSLError`` wrapping an ssl error raised inside a function of that name (``do_handshake`` or
    ``getresponse``, as urllib3 and the ssl module name them): where it happened is all that tells the two apart."""
    import ssl

    import requests

    def raiser():
        raise ssl.SSLError(1, message)

    namespace = {}
    exec(f"def {function_name}(inner):\n    inner()\n", namespace)  # pylint: disable=exec-used
    try:
        namespace[function_name](raiser)
    except ssl.SSLError as original:
        try:
            raise requests.exceptions.SSLError(original) from original
        except requests.exceptions.SSLError as wrapped:
            return wrapped
    raise AssertionError("nothing was raised")


class FakeResponse:
    def __init__(self, body, status=200, request_id="req-fake", client_request_id=None):
        self.body = body
        self.status = status
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.headers = {}


class FakeGraphClient:
    """A stand-in for GraphClient.

    ``routes`` maps (method, path) to a body, a FakeResponse, an exception instance to raise, or a
    callable ``(path, params_or_body) -> any of those``. ``collections`` maps a path to the list of
    items ``get_all`` returns (a callable ``(params) -> list`` is allowed). Every call is recorded in
    ``calls`` as dicts {method, path, params | body, client_request_id, permission}.
    """

    base_url = "https://graph.fake.test/beta"

    def __init__(self, routes=None, collections=None):
        self.routes = dict(routes or {})
        self.collections = dict(collections or {})
        self.calls = []

    def url_for(self, path, params=None):
        url = self.base_url + path
        if params:
            url += "?" + "&".join("{0}={1}".format(key, value) for key, value in sorted(params.items()))
        return url

    def _answer(self, answer, *args):
        if callable(answer) and not isinstance(answer, Exception):
            answer = answer(*args)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def get(self, path, params=None, permission=None, client_request_id=None):
        self.calls.append({"method": "GET", "path": path, "params": params, "permission": permission})
        if ("GET", path) not in self.routes:
            raise AssertionError("unexpected GET {0}".format(path))
        answer = self._answer(self.routes[("GET", path)], path, params)
        return answer if isinstance(answer, FakeResponse) else FakeResponse(answer)

    def get_all(self, path, params=None, max_items=None, permission=None):
        self.calls.append({"method": "GET_ALL", "path": path, "params": params, "permission": permission})
        if path not in self.collections:
            raise AssertionError("unexpected get_all {0}".format(path))
        return list(self._answer(self.collections[path], params))

    def post(self, path, body=None, client_request_id=None, permission=None):
        self.calls.append({"method": "POST", "path": path, "body": body, "client_request_id": client_request_id,
                           "permission": permission})
        if ("POST", path) not in self.routes:
            raise AssertionError("unexpected POST {0}".format(path))
        answer = self._answer(self.routes[("POST", path)], path, body)
        if isinstance(answer, FakeResponse):
            return answer
        return FakeResponse(answer, client_request_id=client_request_id)

    def calls_of(self, method):
        return [call for call in self.calls if call["method"] == method]

    @property
    def posts(self):
        return self.calls_of("POST")


# --- Graph-shaped identityAccounts bodies, in the schema shape and the documentation-example shape ---


def account_body(identifier, provider, actions=None):
    """One accounts[] entry in the schema shape; ``actions=None`` leaves the key out."""
    body = {"identifier": identifier, "identityProvider": provider}
    if actions is not None:
        body["actions"] = list(actions)
    return body


def identity_body(identity_id, display_name, upn=None, sid=None, is_enabled=True, accounts=(), domain="contoso.com"):
    """An identityAccounts object (derived type security.user) in the schema shape."""
    return {
        "@odata.type": "#microsoft.graph.security.user",
        "id": identity_id,
        "displayName": display_name,
        "domain": domain,
        "isEnabled": is_enabled,
        "onPremisesSecurityIdentifier": sid,
        "cloudSecurityIdentifier": "S-1-12-1-" + identity_id[:8] if sid else None,
        "userPrincipalName": upn,
        "emailAddress": upn,
        "accounts": list(accounts),
    }


def pascal(value):
    return value[:1].upper() + value[1:] if isinstance(value, str) else value


def documentation_shape(body):
    """The documentation examples' spelling: ``provider`` keys and PascalCase enum values (not wrapped)."""
    body = dict(body)
    if "accounts" in body:
        body["accounts"] = [_documentation_account(account) for account in body["accounts"] or []]
    for key in ("identityProvider",):
        if key in body:
            body["provider"] = pascal(body.pop(key))
    if "action" in body:
        body["action"] = pascal(body["action"])
    return body


def _documentation_account(account):
    account = dict(account)
    account["provider"] = pascal(account.pop("identityProvider"))
    if "actions" in account:
        account["actions"] = [pascal(action) for action in account["actions"]]
    return account


def wrap_value(body):
    """The documentation's Get and invokeAction examples wrap a single entity in "value"."""
    return {"value": body}


_CLAUSE_RE = re.compile(r"(\w+) eq '((?:[^']|'')*)'")
_FILTER_RE = re.compile(r"^\w+ eq '(?:[^']|'')*'(?: or \w+ eq '(?:[^']|'')*')*$")


class FakeIdentityTenant:
    """Identities behind a FakeGraphClient (``.client``): $filter eq, GET by id, invokeAction and its effects.

    ``shape``: "schema" or "example" (documentation shape); ``ignore_filter``: answer every identity
    whatever the $filter; ``refuse_filters``: properties whose filter gets a 400; ``refuse_or``: a $filter
    joining clauses with ``or`` gets a 400; ``post_error``: an exception every invokeAction raises, after
    applying its effect when ``apply_on_error``. Filters are ``prop eq 'value'`` clauses joined with `` or ``.
    ``cast``: how the derived-type route (USERS_PATH) answers - "answer", "refuse" (400), "not_implemented" (501),
    "server_error" (503) or "ignore" (its filter ignored). An unknown id answers 404. ``lists`` counts the
    get_all calls per path, ``scans`` the unfiltered ones.
    """

    def __init__(self, identities, shape="schema", ignore_filter=False, refuse_filters=(), post_error=None,
                 apply_on_error=False, refuse_or=False, cast="answer"):
        self.refuse_or = refuse_or
        self.cast = cast
        self.shape = shape
        self.identities = dict((i["id"], copy.deepcopy(i)) for i in identities)
        self.ignore_filter = ignore_filter
        self.refuse_filters = refuse_filters
        self.post_error = post_error
        self.apply_on_error = apply_on_error
        self.filters_seen = []
        self.client = FakeGraphClient(collections={IDENTITY_ACCOUNTS_PATH: self._list, USERS_PATH: self._list_users})
        for identity_id in self.identities:
            path = IDENTITY_ACCOUNTS_PATH + "/" + identity_id
            self.client.routes[("GET", path)] = self._getter(identity_id)
            self.client.routes[("POST", path + "/invokeAction")] = self._invoker(identity_id)

    def render(self, identity):
        return documentation_shape(identity) if self.shape == "example" else copy.deepcopy(identity)

    @property
    def scans(self):
        return sum(1 for call in self.client.calls_of("GET_ALL") if not (call["params"] or {}).get("$filter"))

    def _list_users(self, params):
        statuses = {"refuse": (400, "BadRequest"), "not_implemented": (501, "NotImplemented"), "server_error": (503, "ServiceUnavailable")}
        if self.cast in statuses:
            status, code = statuses[self.cast]
            raise GraphError("the derived-type query failed", status=status, code=code, request_id="req-cast")
        users = [i for i in self._list(params, ignore=self.cast == "ignore") if i.get("userPrincipalName") is not None]
        return users

    def _list(self, params, ignore=False):
        odata_filter = (params or {}).get("$filter")
        self.filters_seen.append(odata_filter)
        items = list(self.identities.values())
        if odata_filter and not (self.ignore_filter or ignore):
            if not _FILTER_RE.match(odata_filter):
                raise AssertionError("the fake tenant does not understand $filter {0!r}".format(odata_filter))
            clauses = [(prop, value.replace("''", "'")) for prop, value in _CLAUSE_RE.findall(odata_filter)]
            if any(prop in self.refuse_filters for prop, dummy in clauses) or (self.refuse_or and len(clauses) > 1):
                raise GraphError("Invalid filter clause", status=400, code="BadRequest", request_id="req-400")
            items = [i for i in items if any((i.get(prop) or "").lower() == value.lower() for prop, value in clauses)]
        return [self.render(i) for i in items]

    def unknown_id(self, identity_id):
        """Make GET of ``identity_id`` answer 404, as Graph does for an id that does not exist."""
        error = GraphError("Identity account '{0}' was not found.".format(identity_id), status=404, code="NotFound",
                           request_id="req-404")
        self.client.routes[("GET", IDENTITY_ACCOUNTS_PATH + "/" + identity_id)] = error

    def _getter(self, identity_id):
        def get(path, params):
            body = self.render(self.identities[identity_id])
            return wrap_value(body) if self.shape == "example" else body
        return get

    def _apply(self, identity_id, body):
        identity = self.identities[identity_id]
        action = body["action"]
        if action in ("disable", "enable"):
            identity["isEnabled"] = action == "enable"
            for account in identity["accounts"]:
                if account["identifier"] == body["accountId"] and "actions" in account:
                    opposite = "enable" if action == "disable" else "disable"
                    account["actions"] = [opposite if a == action else a for a in account["actions"]]

    def _invoker(self, identity_id):
        def post(path, body):
            if self.post_error is not None:
                if self.apply_on_error:
                    self._apply(identity_id, body)
                raise self.post_error
            self._apply(identity_id, body)
            result = {"accountId": body["accountId"], "action": body["action"],
                      "identityProvider": body["identityProvider"], "correlationId": "corr-" + body["accountId"]}
            if self.shape == "example":
                result = wrap_value(documentation_shape(result))
            return FakeResponse(result, request_id="req-post-1")
        return post


# An enabled identity with an Active Directory and an Okta account, used by both identity modules' tests.
ALICE = identity_body("a1a1a1a1-0000-4000-8000-000000000001", "Alice Adams", upn="alice@contoso.com",
                      sid="S-1-5-21-1-2-3-1101",
                      accounts=[account_body("ad-alice", "activeDirectory", ["disable", "forcePasswordReset"]),
                                account_body("okta-alice", "okta", ["disable", "revokeAllSessions"])])


# --- Entra ID users --------------------------------------------------------------------------------------------

# The seed's Megan Bowen: an Entra ID object id.
MEGAN = "3086863e-1807-524b-8a62-ef7649a1d776"


class FakeUsersGraph(FakeGraphClient):
    """A FakeGraphClient that also answers PATCH (``routes[("PATCH", path)]``; a body-less answer is a 204)."""

    def patch(self, path, body=None, client_request_id=None, permission=None):
        """Record the PATCH and answer it from ``routes``."""
        self.calls.append({"method": "PATCH", "path": path, "body": body, "client_request_id": client_request_id,
                           "permission": permission})
        answer = self._answer(self.routes[("PATCH", path)], path, body)
        return answer if isinstance(answer, FakeResponse) else FakeResponse(answer, status=204)


def user_body(**changes):
    """MEGAN as GET /users/{id} answers her (cloud-only, enabled member), with ``changes`` applied."""
    body = {"id": MEGAN, "userPrincipalName": "meganb@contoso.com", "displayName": "Megan Bowen", "mail": "meganb@contoso.com",
            "accountEnabled": True, "userType": "Member", "onPremisesSyncEnabled": None, "onPremisesSecurityIdentifier": None,
            "signInSessionsValidFromDateTime": "2026-01-05T08:00:00Z"}
    body.update(changes)
    return body


# --- the legacy securityActions collection ----------------------------------------------------------------------


def jwt(payload):
    """An unsigned JWT carrying ``payload`` (claims such as ``scp`` or ``roles``), as the modules decode it."""
    def segment(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return "%s.%s.signature" % (segment({"alg": "RS256", "typ": "JWT"}), segment(payload))


def stored_action(action_id, client_context, status="NotStarted", ip="203.0.113.45", created="2026-05-01T10:00:00Z",
                  error_info=None, name="BlockIp"):
    """A securityAction as the service stores it (schema shape)."""
    return {
        "@odata.type": "#microsoft.graph.securityAction",
        "id": action_id, "name": name, "status": status, "clientContext": client_context,
        "parameters": [{"name": "IP", "value": ip}],
        "vendorInformation": {"vendor": "Microsoft", "provider": "Windows Defender ATP", "subProvider": None,
                              "providerVersion": None},
        "actionReason": "test", "appId": "app-1", "azureTenantId": "tenant-1", "user": None,
        "createdDateTime": created, "completedDateTime": None, "lastActionDateTime": created,
        "errorInfo": error_info, "states": [{"appId": "app-1", "status": status, "updatedDateTime": created, "user": None}],
    }


class FakeSecurityActionsGraph(FakeGraphClient):
    """A small stateful model of /security/securityActions on top of the shared FakeGraphClient.

    ``filter_error``: a GraphError raised when ``$filter`` is used (a service refusing it); ``ignore_filter``:
    the filter is accepted but ignored (every action returned); ``post_faults``: exceptions the next creates
    raise, as (exception, created_anyway); ``progress``: action id -> statuses successive GETs move it through;
    ``cancel_error``: an exception the cancel raises (after ``cancel_then`` status is applied, if set).
    """

    def __init__(self, actions=(), filter_error=None, ignore_filter=False):
        super(FakeSecurityActionsGraph, self).__init__()
        self.actions = [copy.deepcopy(action) for action in actions]
        self.filter_error = filter_error
        self.ignore_filter = ignore_filter
        self.post_faults = []
        self.progress = {}
        self.cancel_error = None
        self.cancel_then = None
        self.cancel_to = None
        self.create_body = None  # None = answer the created entity; {} = an empty 201
        self._next_id = 0

    def _find(self, action_id):
        return next((a for a in self.actions if a["id"] == action_id), None)

    def _record(self, method, path, **details):
        self.calls.append(dict(details, method=method, path=path))

    def get(self, path, params=None, permission=None, client_request_id=None):
        self._record("GET", path, params=params, permission=permission)
        action = self._find(path.rsplit("/", 1)[1])
        if action is None:
            raise GraphError("Security action was not found", status=404, code="ResourceNotFound")
        if self.progress.get(action["id"]):
            action["status"] = self.progress[action["id"]].pop(0)
            if action["status"].lower() == "failed" and not action.get("errorInfo"):
                action["errorInfo"] = {"code": 400, "message": "Cannot block IP address", "subcode": 1}
        return FakeResponse(copy.deepcopy(action))

    def get_all(self, path, params=None, max_items=None, permission=None):
        self._record("GET_ALL", path, params=params, max_items=max_items, permission=permission)
        assert path == SECURITY_ACTIONS_PATH
        items = [copy.deepcopy(a) for a in self.actions]
        odata_filter = (params or {}).get("$filter")
        if odata_filter:
            if self.filter_error is not None:
                raise self.filter_error
            by_context = _CLIENT_CONTEXT_FILTER_RE.match(odata_filter)
            if by_context and not self.ignore_filter:  # other filters are not modelled: everything is returned
                wanted = by_context.group(1).replace("''", "'")
                items = [a for a in items if a["clientContext"] == wanted]
        return items[:max_items] if max_items else items

    def post(self, path, body=None, client_request_id=None, permission=None):
        self._record("POST", path, body=copy.deepcopy(body), permission=permission, client_request_id=client_request_id)
        if path == SECURITY_ACTIONS_PATH:
            return self._create(body)
        action_id = re.match(SECURITY_ACTIONS_PATH + r"/([^/]+)/cancelSecurityAction$", path).group(1)
        if self.cancel_then:
            self._find(action_id).update(self.cancel_then)
        if self.cancel_error is not None:
            raise self.cancel_error
        # Microsoft documents no resulting status; this fake leaves it to ``cancel_to`` (None: unchanged).
        if self.cancel_to:
            self._find(action_id).update(status=self.cancel_to)
        return FakeResponse(None, request_id="req-cancel")

    def _create(self, body):
        self._next_id += 1
        action = stored_action("new-%d" % self._next_id, body["clientContext"],
                               ip=body["parameters"][0]["value"], created="2026-05-02T00:00:%02dZ" % self._next_id)
        if self.post_faults:
            fault, created_anyway = self.post_faults.pop(0)
            if created_anyway:
                self.actions.append(action)
            raise fault
        self.actions.append(action)
        return FakeResponse(copy.deepcopy(action) if self.create_body is None else self.create_body, status=201)
