# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Defender for Identity identity accounts: reading, parsing and finding them.

Layer 2 (see docs/architecture.md): no Ansible imports. identity_account_info is this file and the vocabulary;
identity_account_action and its bulk form find their targets here. Unit tests reach it with a fake client that has
the GraphClient methods used below (get, get_all).

Facts this file relies on, each with its Microsoft source in docs/service-contract.md:
* identities: GET /security/identities/identityAccounts[/{id}], documented $filter example on
  onPremisesSecurityIdentifier only (rows 1, 6 and 7);
* userPrincipalName and emailAddress belong to the derived type microsoft.graph.security.user (row 5);
* responses come in two shapes: schema (bare object, identityProvider, camelCase enums) and
  documentation example (wrapped in "value", "provider", PascalCase enums) (row 9).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import threading
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import IDENTITY_ACCOUNTS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import (
    GraphClient,
    first_present,
    odata_string,
    path_segment,
    read_one,
    unwrap_entity,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    LOOKUP_ACCOUNT_IDENTIFIER,
    LOOKUP_DISPLAY_NAME,
    LOOKUP_EMAIL,
    LOOKUP_FILTER,
    LOOKUP_ID,
    LOOKUP_SID,
    LOOKUP_UPN,
    Selector,
    match_key,
    normalize_response_action,
    normalize_response_provider,
    same_identifier,
    validate_identity_id,
)

IDENTITY_ACCOUNTS_PATH = "/security/identities/identityAccounts"

# Least-privileged application permission (docs/service-contract.md row 22); passed to the client so a 403 names it.
READ_PERMISSION = IDENTITY_ACCOUNTS.permissions["read"]

# identity_account_info's lookup options -> lookup kind (at most one may be given).
INFO_LOOKUP_OPTIONS = {
    "id": LOOKUP_ID,
    "user_principal_name": LOOKUP_UPN,
    "email_address": LOOKUP_EMAIL,
    "on_premises_security_identifier": LOOKUP_SID,
    "display_name": LOOKUP_DISPLAY_NAME,
    "account_identifier": LOOKUP_ACCOUNT_IDENTIFIER,
    "filter": LOOKUP_FILTER,
}

# Graph property compared server side ($filter ... eq ...) and again client side for each kind.
FILTER_PROPERTY = {
    LOOKUP_UPN: "userPrincipalName",
    LOOKUP_EMAIL: "emailAddress",
    LOOKUP_SID: "onPremisesSecurityIdentifier",
    LOOKUP_DISPLAY_NAME: "displayName",
}
# Snake_case field of a parsed identity that must equal the looked-up value (see match_key).
_MATCH_FIELD = {
    LOOKUP_UPN: "user_principal_name",
    LOOKUP_EMAIL: "email_address",
    LOOKUP_SID: "on_premises_security_identifier",
    LOOKUP_DISPLAY_NAME: "display_name",
}

# In the metadata identityAccounts is abstract; userPrincipalName and emailAddress belong to the derived type
# microsoft.graph.security.user (docs/service-contract.md row 5), so a lookup on them first addresses that type by an OData cast.
USER_TYPE_CAST = "microsoft.graph.security.user"
DERIVED_TYPE_KINDS = (LOOKUP_UPN, LOOKUP_EMAIL)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class IdentityResolutionError(InputError):
    """A lookup that must find exactly one identity found none or several.

    ``matches`` lists what was found (id, display_name, user_principal_name) so the operator can
    pick the right identity_account_id.
    """

    def __init__(self, option: str | list[str] | tuple[str, ...], message: str, matches: Iterable[dict[str, Any]] | None = None) -> None:
        super().__init__(option, message)
        self.matches = list(matches or [])


# ---------------------------------------------------------------------------------------------
# Response parsing (both documented shapes)
# ---------------------------------------------------------------------------------------------


def response_entity(body: Any) -> dict[str, Any]:
    """The single entity of a response in either shape ({"value": {...}} or bare); {} when there is none."""
    entity = unwrap_entity(body)
    return entity if isinstance(entity, dict) else {}


def parse_account(raw: Any) -> dict[str, Any]:
    """One entry of accounts[]: provider from identityProvider or provider, enums in camelCase.

    ``actions`` stays None when the service does not list it, so callers can tell "unknown" from "none".
    """
    raw = raw if isinstance(raw, dict) else {}
    actions = raw.get("actions")
    return {
        "identifier": raw.get("identifier"),
        "identity_provider": normalize_response_provider(first_present(raw, "identityProvider", "provider")),
        "actions": None if not isinstance(actions, list) else [normalize_response_action(a) for a in actions],
    }


def parse_identity(raw: Any) -> dict[str, Any]:
    """A Graph identityAccounts object (either shape) -> snake_case dict with every documented field."""
    raw = response_entity(raw)
    return {
        "id": raw.get("id"),
        "display_name": raw.get("displayName"),
        "domain": raw.get("domain"),
        "is_enabled": raw.get("isEnabled"),
        "on_premises_security_identifier": raw.get("onPremisesSecurityIdentifier"),
        "cloud_security_identifier": raw.get("cloudSecurityIdentifier"),
        "user_principal_name": raw.get("userPrincipalName"),
        "email_address": raw.get("emailAddress"),
        "accounts": [parse_account(account) for account in raw.get("accounts") or []],
    }


def identity_summary(identity: Mapping[str, Any]) -> dict[str, Any]:
    """What an operator needs to tell identities apart in an error message."""
    return {
        "id": identity.get("id"),
        "display_name": identity.get("display_name"),
        "user_principal_name": identity.get("user_principal_name"),
    }

# ---------------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------------


def identity_path(identity_id: str) -> str:
    """The URL path of one identity, its id percent-encoded as one segment."""
    return f"{IDENTITY_ACCOUNTS_PATH}/{path_segment(identity_id)}"


def matches_selector(identity: Mapping[str, Any], selector: Selector) -> bool:
    """True when a parsed identity matches the selector locally (a server filter may have been ignored)."""
    if selector.kind == LOOKUP_ACCOUNT_IDENTIFIER:
        return any(same_identifier(account["identifier"], selector.value) for account in identity["accounts"])
    if selector.kind in _MATCH_FIELD:
        return same_identifier(identity.get(_MATCH_FIELD[selector.kind]), selector.value)
    return True  # a raw filter is the service's to apply


def get_identity(client: GraphClient, identity_id: str, option: str = "id") -> dict[str, Any]:
    """GET one identity by id. A 404 is raised as the client's GraphError (code, request id), with a hint."""
    identity_id = validate_identity_id(identity_id, option)

    def missing(error):
        error.hint = f"no identity account has id '{identity_id}'; find it with msgraph.security.identity_account_info"
        return error

    response = read_one(client, identity_path(identity_id), permission=READ_PERMISSION, missing=missing)
    return parse_identity(response.body if response is not None else None)  # ``missing`` raises: never None


def find_identity_by_id(client: GraphClient, identity_id: str, option: str = "id") -> dict[str, Any] | None:
    """One identity by id, or None when Graph answers 404."""
    response = read_one(client, identity_path(validate_identity_id(identity_id, option)), permission=READ_PERMISSION)
    return None if response is None else parse_identity(response.body)


def list_identities(client: GraphClient, params: dict[str, Any] | None = None, path: str = IDENTITY_ACCOUNTS_PATH) -> list[dict[str, Any]]:
    """Every identity (all pages), optionally with raw query ``params`` such as {"$filter": ...}."""
    return [parse_identity(item) for item in client.get_all(path, params=params, permission=READ_PERMISSION)]


# How a lookup by a property can be asked of the service, best first; SCAN (list everything once) always works.
QUERY_CAST = f"the derived-type query (identityAccounts/{USER_TYPE_CAST})"
QUERY_PLAIN = "a $filter on identityAccounts"
QUERY_SCAN = "one scan of every identity"
# 400: the service does not understand the query; 501: it does not implement it. Any other error stays an error,
# except a 404 on the cast segment: a service that routes it as an identity id ("not found") does not know the cast.
_FALLBACK_STATUSES = {QUERY_CAST: (400, 404, 501), QUERY_PLAIN: (400, 501)}


class _ScanIndex:
    """Every identity of the tenant, read once, indexed by each lookup kind's match key."""

    def __init__(self, identities):
        self.identities = identities
        self._by_kind = {}

    def find(self, kind, value):
        index = self._by_kind.get(kind)
        if index is None:
            index = {}
            for identity in self.identities:
                if kind == LOOKUP_ACCOUNT_IDENTIFIER:
                    keys = [account["identifier"] for account in identity["accounts"]]
                else:
                    keys = [identity.get(_MATCH_FIELD[kind])]
                for key in set(match_key(key) for key in keys if isinstance(key, str)):
                    index.setdefault(key, []).append(identity)
            self._by_kind[kind] = index
        return list(index.get(match_key(value), []))


class IdentityFinder:
    """Finds identities by UPN, e-mail address, SID, display name or account identifier, with the fewest scans.

    Per lookup kind it tries the queries the service may answer, best first (QUERIES), and keeps the first that
    works for the rest of the task, so a bulk task asks once. A query falls back to the next on 400 and 501, and
    when its answer holds an identity that does not match (the service ignored the filter: that answer is then the
    whole collection, and serves as the scan). The last resort is one paged scan of the tenant, indexed, shared by
    every target of the task. Results are always matched again locally (match_key): exact, no look-alike.
    Thread-safe: bulk lookups call it from several threads.
    """

    QUERIES = {
        LOOKUP_UPN: (QUERY_CAST, QUERY_PLAIN, QUERY_SCAN),
        LOOKUP_EMAIL: (QUERY_CAST, QUERY_PLAIN, QUERY_SCAN),
        LOOKUP_SID: (QUERY_PLAIN, QUERY_SCAN),  # the filter Microsoft's List page documents
        LOOKUP_DISPLAY_NAME: (QUERY_PLAIN, QUERY_SCAN),
        LOOKUP_ACCOUNT_IDENTIFIER: (QUERY_SCAN,),  # no filter on accounts[].identifier is documented
    }

    def __init__(self, client: GraphClient, warn: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.warn = warn or (lambda message: None)
        self.scans = 0
        self._lock = threading.Lock()
        self._kind_locks = dict((kind, threading.Lock()) for kind in self.QUERIES)
        self._query_of_kind: dict[str, str] = {}
        self._scan: _ScanIndex | None = None

    def find(self, kind: str, values: list[str]) -> list[dict[str, Any]]:
        """The identities matching any of ``values`` (all of lookup ``kind``), each matched exactly."""
        with self._kind_locks[kind]:
            query = self._query_of_kind.get(kind)
            if query is None:  # the first lookup of this kind finds the query that works; the others wait for it
                found, self._query_of_kind[kind] = self._probe(kind, values)
                return found
        found = None if query == QUERY_SCAN else self._ask(query, kind, values)
        return found if found is not None else self._from_scan(kind, values)

    def query_used(self, kind: str) -> str | None:
        """The query that answered lookups of ``kind`` (QUERY_CAST, QUERY_PLAIN or QUERY_SCAN); None before the first."""
        return self._query_of_kind.get(kind)

    def _probe(self, kind, values):
        queries = self.QUERIES[kind]
        for query in queries[:-1]:
            try:
                found = self._ask(query, kind, values)
            except GraphError as error:
                if error.status not in _FALLBACK_STATUSES[query]:
                    raise
                self.warn(f"the service refused {query} on {FILTER_PROPERTY[kind]} ({error.code or error.status}); trying {queries[queries.index(query) + 1]}")
                continue
            if found is not None:
                return found, query
            self.warn(f"the service ignored the $filter of {query} on {FILTER_PROPERTY[kind]} (it answered with identities that do not match); "
                      "matching locally on one scan of every identity")
            return self._from_scan(kind, values), QUERY_SCAN
        return self._from_scan(kind, values), QUERY_SCAN

    def _ask(self, query, kind, values):
        """The matches of a server-side query; None when the answer shows the filter was ignored."""
        clause = " or ".join(f"{FILTER_PROPERTY[kind]} eq {odata_string(value)}" for value in values)
        path = IDENTITY_ACCOUNTS_PATH + "/" + USER_TYPE_CAST if query == QUERY_CAST else IDENTITY_ACCOUNTS_PATH
        answer = list_identities(self.client, {"$filter": clause}, path=path)
        selectors = [Selector(kind, value) for value in values]
        if any(not any(matches_selector(identity, selector) for selector in selectors) for identity in answer):
            if query == QUERY_PLAIN:
                self._keep_scan(answer)  # an ignored filter on the whole collection listed every identity
            return None
        return answer

    def _keep_scan(self, identities):
        with self._lock:
            if self._scan is None:
                self._scan = _ScanIndex(identities)
                self.scans += 1

    def _from_scan(self, kind, values):
        with self._lock:
            if self._scan is None:
                self._scan = _ScanIndex(list_identities(self.client))
                self.scans += 1
            scan = self._scan
        found, seen = [], set()
        for value in values:
            for identity in scan.find(kind, value):
                if id(identity) not in seen:
                    seen.add(id(identity))
                    found.append(identity)
        return found


def find_identities(client: GraphClient, selector: Selector | None = None, warn: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Every identity matching ``selector`` (every identity when it is None), following all pages.

    Server-filtered results are matched again locally: if the service ignored the filter we must
    not act on (or report) identities that do not match.
    """
    if selector is None:
        return list_identities(client)
    if selector.kind == LOOKUP_ID:
        found = find_identity_by_id(client, selector.value, selector.option)
        return [] if found is None else [found]
    if selector.kind == LOOKUP_FILTER:
        return list_identities(client, {"$filter": selector.value})
    return [identity for identity in IdentityFinder(client, warn).find(selector.kind, [selector.value]) if matches_selector(identity, selector)]


def resolve_identity(client: GraphClient, selector: Selector, warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Exactly one identity, or IdentityResolutionError listing what matched (fail closed)."""
    if selector.kind == LOOKUP_ID:
        return get_identity(client, selector.value, selector.option)
    return exactly_one(selector, find_identities(client, selector, warn))


def exactly_one(selector: Selector, matches: list[dict[str, Any]]) -> dict[str, Any]:
    """The one identity ``matches`` holds for ``selector``, or IdentityResolutionError listing them."""
    if len(matches) == 1:
        return matches[0]
    summaries = [identity_summary(identity) for identity in matches]
    if not matches:
        raise IdentityResolutionError(selector.option, f"no identity account matches {selector.describe()}", summaries)
    candidates = "; ".join(f"{s['id']} ({s['display_name']}, {s['user_principal_name']})" for s in summaries)
    raise IdentityResolutionError(
        selector.option,
        f"{selector.describe()} matches {len(matches)} identity accounts, refusing to guess; target one by identity_account_id: "
        f"{candidates}",
        summaries,
    )
