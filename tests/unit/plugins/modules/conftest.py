# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for module-level unit tests, shared by every module of the collection.

* ``run_module(main, args) -> dict``: runs a module's ``main()`` with ``args`` as its parameters and
  returns the parsed JSON result (``failed: True`` for ``fail_json``). Works on ansible-core 2.16 and
  2.19+ (through ``module_args`` of tests/unit/conftest.py).
* ``FakeGraphClient``: records calls and answers from canned Graph-shaped bodies, with the methods
  the domain layers use (``get``, ``get_all``, ``post``, ``url_for``).
* ``fake_graph`` fixture: makes ``GraphModule.graph_client()`` return a FakeGraphClient, so module
  tests run without a network, token or emulator.
* ``FakeIdentityTenant`` and the ``*_body`` builders: Defender for Identity identities in both response shapes.
* ``documented_return_keys(module)``, ``undocumented_keys(module, result)``: RETURN against a real result.
* ``warning_messages(result)``: warning texts, whatever form the ansible-core version gives them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import io
import json
import re

import pytest
import yaml

# The parameter injection that works on ansible-core 2.16 and 2.19+ lives in tests/unit/conftest.py.
from ansible_collections.msgraph.security.tests.unit.conftest import module_args

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError

IDENTITY_ACCOUNTS_PATH = "/security/identities/identityAccounts"
# The OData cast to the derived type that holds userPrincipalName and emailAddress.
USERS_PATH = IDENTITY_ACCOUNTS_PATH + "/microsoft.graph.security.user"

# Keys every module result may carry without documenting them in RETURN.
STANDARD_RESULT_KEYS = frozenset(["changed", "failed", "msg", "warnings", "deprecations", "diff", "invocation", "skipped"])


def run_module(main, args, check_mode=False, diff=False):
    """Run ``main()`` with ``args`` and return the module's JSON result as a dict."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    stdout = io.StringIO()
    with module_args(args), contextlib.redirect_stdout(stdout):
        try:
            main()
        except SystemExit:
            pass
        else:
            raise AssertionError("the module returned without calling exit_json or fail_json")
    output = stdout.getvalue()
    try:
        return json.loads(output)
    except ValueError:
        raise AssertionError("the module printed no JSON result: {0!r}".format(output))


def warning_messages(result):
    """The warning texts of a result: plain strings on ansible-core < 2.19, WarningSummary objects on 2.19+."""
    messages = []
    for warning in result.get("warnings") or []:
        if isinstance(warning, dict):
            warning = (warning.get("event") or {}).get("msg") or warning.get("msg")
        messages.append(warning)
    return messages


def documented_return_keys(module):
    """Top-level keys of ``module.RETURN`` (YAML)."""
    return set((yaml.safe_load(module.RETURN) or {}).keys())


def undocumented_keys(module, result):
    return sorted(set(result) - STANDARD_RESULT_KEYS - documented_return_keys(module))


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


@pytest.fixture
def fake_graph(monkeypatch):
    """Returns a function ``install(client)`` that makes GraphModule use ``client``."""
    from ansible_collections.msgraph.security.plugins.module_utils import _module

    def install(client):
        monkeypatch.setattr(_module.GraphModule, "graph_client", lambda self, **kwargs: client)
        return client

    return install


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
