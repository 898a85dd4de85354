# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Defender for Identity identity accounts: lookups, validation and invokeAction.

Layer 2 (see docs/architecture.md): no Ansible imports. Every decision the modules
identity_account_info and identity_account_action make lives here, so unit tests reach it
with a fake client that has the GraphClient methods used below (get, get_all, post, url_for).

Facts this file relies on, each with its Microsoft source in docs/service-contract.md:
* identities: GET /security/identities/identityAccounts[/{id}], documented $filter example on
  onPremisesSecurityIdentifier only (rows 1, 6 and 7);
* actions: POST .../{id}/invokeAction with {accountId, action, identityProvider} (row 2);
* responses come in two shapes: schema (bare object, identityProvider, camelCase enums) and
  documentation example (wrapped in "value", "provider", PascalCase enums) (row 9);
* two conflicting provider x action matrices (row 4);
* the only readable state is isEnabled and accounts[].actions (rows 10 to 12).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import struct
import threading
import time
import unicodedata
import uuid
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import IDENTITY_ACCOUNTS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import (
    GraphClient,
    first_present,
    odata_string,
    path_segment,
    unwrap_entity,
    validate_path_id,
)

IDENTITY_ACCOUNTS_PATH = "/security/identities/identityAccounts"

# Least-privileged application permissions (docs/service-contract.md row 22); passed to the client so a 403 names them.
READ_PERMISSION = IDENTITY_ACCOUNTS.permissions["read"]
ACTION_PERMISSION = IDENTITY_ACCOUNTS.permissions["invoke_action"]

# Schema enumerations (docs/service-contract.md row 3), in their camelCase schema spelling.
IDENTITY_PROVIDERS = ("activeDirectory", "entraID", "okta")
ACTIONS = (
    "disable",
    "enable",
    "forcePasswordReset",
    "revokeAllSessions",
    "requireUserToSignInAgain",
    "markUserAsCompromised",
)
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"

# The two documented provider x action matrices (docs/service-contract.md row 4).
# "documented": the invokeAction page (Version A), which says Entra ID actions are not covered.
# "extended": the account resource page (Version B), which adds Entra ID actions.
ACTION_MATRICES = {
    "documented": {
        "activeDirectory": ("disable", "enable", "forcePasswordReset"),
        "entraID": (),
        "okta": ("disable", "enable", "revokeAllSessions"),
    },
    "extended": {
        "activeDirectory": ("disable", "enable", "forcePasswordReset"),
        "entraID": ("disable", "enable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"),
        "okta": ("disable", "enable", "revokeAllSessions"),
    },
}
DEFAULT_ACTION_MATRIX = "documented"

# disable/enable have a readable target state (isEnabled); every other action is a command.
TARGET_IS_ENABLED = {"disable": False, "enable": True}
OPPOSITE_ACTION = {"disable": "enable", "enable": "disable"}

# Lookup kinds: how an identity can be found. The option a value came from is kept separately
# because the two modules name the id option differently (id / identity_account_id).
LOOKUP_ID = "id"
LOOKUP_UPN = "user_principal_name"
LOOKUP_EMAIL = "email_address"
LOOKUP_SID = "on_premises_security_identifier"
LOOKUP_DISPLAY_NAME = "display_name"
LOOKUP_ACCOUNT_IDENTIFIER = "account_identifier"
LOOKUP_FILTER = "filter"

# identity_account_action's target options (task level and in each of its targets) -> lookup kind.
ACTION_TARGET_OPTIONS = {
    "identity_account_id": LOOKUP_ID,
    "user_principal_name": LOOKUP_UPN,
    "on_premises_security_identifier": LOOKUP_SID,
    "display_name": LOOKUP_DISPLAY_NAME,
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

# [0-9], not \d: \d also matches non-ASCII digits, and a SID is ASCII.
_SID_PATTERN = re.compile(r"^S-1-[0-9]+(-[0-9]+)+$", re.IGNORECASE)
# Entra ID's cloud SID (cloudSecurityIdentifier): S-1-12-1 and the object id's 16 bytes, GUID byte order, read as four
# little-endian uint32 (docs/service-contract.md says which sources agree and that no Microsoft page states it).
CLOUD_SID_PATTERN = re.compile(r"^S-1-12-1-([0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)$", re.IGNORECASE)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


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
# Enumerations: accept the documentation's spellings, always produce the schema's
# ---------------------------------------------------------------------------------------------


def _enum_key(value):
    """Comparison key: case-insensitive, separators ignored (``Active Directory`` == ``activeDirectory``)."""
    return re.sub(r"[\s_\-]", "", value).lower()


def _canonical_lookup(values):
    return dict((_enum_key(value), value) for value in values)


_PROVIDER_BY_KEY = _canonical_lookup(IDENTITY_PROVIDERS)
_ACTION_BY_KEY = _canonical_lookup(ACTIONS)
_RESPONSE_PROVIDER_BY_KEY = _canonical_lookup(IDENTITY_PROVIDERS + (UNKNOWN_FUTURE_VALUE,))
_RESPONSE_ACTION_BY_KEY = _canonical_lookup(ACTIONS + (UNKNOWN_FUTURE_VALUE,))


def _normalize_input_enum(value, by_key, option, kind):
    if not isinstance(value, str) or not value.strip():
        raise InputError(option, f"an {kind} is required; one of: {', '.join(sorted(by_key.values()))}")
    canonical = by_key.get(_enum_key(value))
    if canonical is None:
        raise InputError(
            option,
            f"'{value}' is not a known {kind}; use one of: {', '.join((by_key[key] for key in sorted(by_key)))} (case and '_'/'-'/' ' are ignored)",
        )
    return canonical


def normalize_identity_provider(value: Any, option: str = "identity_provider") -> str:
    """``ActiveDirectory``, ``active_directory``, ``EntraID``, ``entra_id``, ``OKTA`` -> schema camelCase."""
    return _normalize_input_enum(value, _PROVIDER_BY_KEY, option, "identity provider")


def normalize_action(value: Any, option: str = "action") -> str:
    """``Disable``, ``force_password_reset``, ``ForcePasswordReset`` -> schema camelCase."""
    return _normalize_input_enum(value, _ACTION_BY_KEY, option, "identity account action")


def _normalize_response_enum(value, by_key):
    """Known members become camelCase; unknownFutureValue and members added later are kept verbatim."""
    if not isinstance(value, str):
        return value
    return by_key.get(_enum_key(value), value)


def normalize_action_matrix(value: str | None, option: str = "action_matrix") -> str:
    if value is None:
        return DEFAULT_ACTION_MATRIX
    if value not in ACTION_MATRICES:
        raise InputError(option, f"'{value}' is not a known matrix; use one of: {', '.join(sorted(ACTION_MATRICES))}")
    return value


def supported_actions(identity_provider: str, action_matrix: str = DEFAULT_ACTION_MATRIX) -> tuple[str, ...]:
    return ACTION_MATRICES[action_matrix].get(identity_provider, ())


def check_action_allowed_by_matrix(identity_provider: str, action: str, action_matrix: str = DEFAULT_ACTION_MATRIX) -> None:
    """Refuse provider x action pairs the chosen documented matrix does not list (before any request)."""
    allowed = supported_actions(identity_provider, action_matrix)
    if action in allowed:
        return
    if allowed:
        supported = f"it supports: {', '.join(allowed)}"
    else:
        supported = "it supports no action in this matrix"
    message = f"action '{action}' is not supported for identity provider '{identity_provider}' by the '{action_matrix}' action matrix; {supported}"
    if action_matrix != "extended" and action in supported_actions(identity_provider, "extended"):
        # Why a hint: the account resource page lists it, the invokeAction page does not (docs/service-contract.md row 4).
        message += (
            ". The account resource documentation (action_matrix=extended) lists it; the invokeAction page says"
            " Entra ID actions are not covered, so the service may still refuse it"
        )
    raise InputError("action", message)


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


def _require_text(value, option, what):
    if not isinstance(value, str) or not value.strip():
        raise InputError(option, f"{what} must be a non-empty string")
    if _CONTROL_CHARACTERS.search(value):
        raise InputError(option, f"{what} must not contain control characters")
    return value.strip()


def validate_identity_id(value: Any, option: str = "id") -> str:
    """An identity id, safe to put in the URL path (see ``validate_path_id``)."""
    return validate_path_id(value, option, "identity account id", fix="use the id identity_account_info returns")


def validate_sid(value: Any, option: str = LOOKUP_SID) -> str:
    value = _require_text(value, option, "an on-premises security identifier")
    if not _SID_PATTERN.match(value):
        raise InputError(option, f"'{value}' is not a security identifier; expected the form S-1-5-21-<domain>-<rid>")
    return "S" + value[1:]  # SIDs are written with an upper-case S


def object_id_from_cloud_sid(sid: str) -> str:
    """``S-1-12-1-a-b-c-d`` -> the Entra ID object id; ValueError when it is not that form."""
    match = CLOUD_SID_PATTERN.match(sid.strip())
    if not match:
        raise ValueError(f"not a cloud security identifier: {sid!r}")
    parts = [int(part) for part in match.groups()]
    if any(part > 0xFFFFFFFF for part in parts):
        raise ValueError(f"cloud security identifier part out of range: {sid!r}")
    return str(uuid.UUID(bytes_le=struct.pack("<4I", *parts)))


def cloud_sid_from_object_id(object_id: Any) -> str | None:
    """The ``S-1-12-1`` form of an Entra ID object id (Defender for Identity's cloudSecurityIdentifier); None when
    ``object_id`` is not a GUID."""
    try:
        raw = uuid.UUID(str(object_id)).bytes_le
    except (TypeError, ValueError, AttributeError):
        return None
    return "S-1-12-1-" + "-".join(str(part) for part in struct.unpack("<4I", raw))


def validate_upn(value: Any, option: str = LOOKUP_UPN) -> str:
    value = _require_text(value, option, "a user principal name")
    local, _at, domain = value.partition("@")
    if value.count("@") != 1 or not local or not domain or re.search(r"\s", value):
        raise InputError(option, f"'{value}' is not a user principal name; expected exactly one '@', e.g. alice@contoso.com")
    return value


def validate_email(value: Any, option: str = LOOKUP_EMAIL) -> str:
    value = _require_text(value, option, "an e-mail address")
    if value.count("@") != 1 or value.startswith("@") or value.endswith("@") or re.search(r"\s", value):
        raise InputError(option, f"'{value}' is not an e-mail address; expected exactly one '@', e.g. alice@contoso.com")
    return value


def validate_display_name(value: Any, option: str = LOOKUP_DISPLAY_NAME) -> str:
    return _require_text(value, option, "a display name")


def validate_account_identifier(value: Any, option: str = LOOKUP_ACCOUNT_IDENTIFIER) -> str:
    return _require_text(value, option, "a provider account identifier")


def validate_filter(value: Any, option: str = LOOKUP_FILTER) -> str:
    return _require_text(value, option, "an OData filter")


_VALIDATORS = {
    LOOKUP_ID: validate_identity_id,
    LOOKUP_UPN: validate_upn,
    LOOKUP_EMAIL: validate_email,
    LOOKUP_SID: validate_sid,
    LOOKUP_DISPLAY_NAME: validate_display_name,
    LOOKUP_ACCOUNT_IDENTIFIER: validate_account_identifier,
    LOOKUP_FILTER: validate_filter,
}


class Selector:
    """How to find identities: a lookup kind, its validated value and the option it came from."""

    def __init__(self, kind: str, value: Any, option: str | None = None) -> None:
        if kind not in _VALIDATORS:
            raise ValueError(f"unknown lookup kind {kind!r}")
        self.kind = kind
        self.option = option or kind
        self.value = _VALIDATORS[kind](value, self.option)

    def describe(self) -> str:
        return f"{self.option}={self.value!r}"

    def __repr__(self) -> str:
        return f"Selector({self.describe()})"


def selector_from_params(params: Mapping[str, Any], option_kinds: Mapping[str, str], required: bool = True) -> Selector | None:
    """Build the one Selector set in ``params``.

    ``option_kinds`` maps option names to lookup kinds, e.g. {"identity_account_id": "id", ...}.
    Returns None when nothing is set and ``required`` is false. An empty string counts as given (and is
    refused by the validator): ``id: "{{ undefined_or_empty }}"`` must never widen a lookup to every identity.
    """
    given = [option for option in option_kinds if params.get(option) is not None]
    if len(given) > 1:
        raise InputError(given[0], f"give only one of {', '.join(option_kinds)}; got {', '.join(given)}")
    if not given:
        if required:
            raise InputError(list(option_kinds)[0], f"one of {', '.join(option_kinds)} is required")
        return None
    option = given[0]
    return Selector(option_kinds[option], params[option], option)


# ---------------------------------------------------------------------------------------------
# Response parsing (both documented shapes)
# ---------------------------------------------------------------------------------------------


def _entity(body):
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
        "identity_provider": _normalize_response_enum(first_present(raw, "identityProvider", "provider"), _RESPONSE_PROVIDER_BY_KEY),
        "actions": None if not isinstance(actions, list) else [_normalize_response_enum(a, _RESPONSE_ACTION_BY_KEY) for a in actions],
    }


def parse_identity(raw: Any) -> dict[str, Any]:
    """A Graph identityAccounts object (either shape) -> snake_case dict with every documented field."""
    raw = _entity(raw)
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
    return f"{IDENTITY_ACCOUNTS_PATH}/{path_segment(identity_id)}"


_ASCII_UPPER_TO_LOWER = dict((code, code + 32) for code in range(ord("A"), ord("Z") + 1))


def match_key(text: str) -> str:
    """The key identifiers are compared by: NFC-normalized, then only A-Z folded to a-z.

    ``casefold()`` would make look-alikes equal (U+FB01 'fi' ligature -> 'fi', 'ß' -> 'ss'), so an input could
    resolve to, or slip past, another real account. NFC only joins canonically equivalent spellings.
    """
    return unicodedata.normalize("NFC", text).translate(_ASCII_UPPER_TO_LOWER)


def _same_text(left, right):
    return isinstance(left, str) and isinstance(right, str) and match_key(left) == match_key(right)


def matches_selector(identity: Mapping[str, Any], selector: Selector) -> bool:
    """True when a parsed identity matches the selector locally (a server filter may have been ignored)."""
    if selector.kind == LOOKUP_ACCOUNT_IDENTIFIER:
        return any(_same_text(account["identifier"], selector.value) for account in identity["accounts"])
    if selector.kind in _MATCH_FIELD:
        return _same_text(identity.get(_MATCH_FIELD[selector.kind]), selector.value)
    return True  # a raw filter is the service's to apply


def get_identity(client: GraphClient, identity_id: str, option: str = "id") -> dict[str, Any]:
    """GET one identity by id. A 404 is raised as the client's GraphError (code, request id, hint)."""
    identity_id = validate_identity_id(identity_id, option)
    try:
        response = client.get(identity_path(identity_id), permission=READ_PERMISSION)
    except GraphError as error:
        if error.status == 404:
            error.hint = f"no identity account has id '{identity_id}'; find it with msgraph.security.identity_account_info"
        raise
    return parse_identity(response.body)


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
        self._query_of_kind = {}
        self._scan = None

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
        try:
            return [get_identity(client, selector.value, selector.option)]
        except GraphError as error:
            if error.status == 404:
                return []
            raise
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


# ---------------------------------------------------------------------------------------------
# Guards
# ---------------------------------------------------------------------------------------------


def _identity_keys(identity):
    """What protected_accounts entries and patterns are compared with: ids, UPN, e-mail address, SIDs and account
    identifiers; an account cannot set any of them itself (its display name it may, so never that)."""
    keys = [
        identity.get("id"),
        identity.get("user_principal_name"),
        identity.get("email_address"),
        identity.get("on_premises_security_identifier"),
        identity.get("cloud_security_identifier"),
    ]
    keys.extend(account.get("identifier") for account in identity.get("accounts") or [])
    return [key for key in keys if isinstance(key, str) and key]


# No compared key contains a space or a backslash: such an entry (a display name, DOMAIN\sam) can never match.
_NEVER_A_KEY = re.compile(r"[\s\\]")


def _compile_patterns(patterns, option):
    """Regular expressions, as a list or one per line (a comma may be part of a pattern, so lines only)."""
    if isinstance(patterns, str):
        patterns = patterns.split("\n")
    compiled = []
    for pattern in patterns or []:
        pattern = str(pattern).strip() if pattern is not None else ""
        if not pattern:
            continue
        try:
            compiled.append((pattern, re.compile(pattern, re.IGNORECASE)))
        except re.error as error:
            raise InputError(option, f"'{pattern}' is not a valid regular expression: {error}")
    return compiled


class ProtectedAccounts:
    """The one home of "who is protected": the protected_accounts entries and patterns, compared only with keys an
    account cannot change about itself (see _identity_keys), never with its display name."""

    def __init__(self, entries: Iterable[str] | None = None, option: str = "protected_accounts",
                 patterns: Iterable[str] | str | None = None, patterns_option: str = "protected_account_patterns") -> None:
        self.option = option
        self.entries = [_require_text(entry, option, "each protected_accounts entry") for entry in entries or []]
        self._by_key = dict((match_key(entry), entry) for entry in self.entries)
        self.patterns_option = patterns_option
        self.patterns = _compile_patterns(patterns, patterns_option)

    def unmatchable(self) -> list[str]:
        """Entries that no compared key can ever equal, so they protect nothing."""
        return [entry for entry in self.entries if _NEVER_A_KEY.search(entry)]

    def warnings(self) -> list[str]:
        found = []
        unmatchable = self.unmatchable()
        if unmatchable:
            listed = ", ".join(f"'{entry}'" for entry in unmatchable)
            found.append(f"protected_accounts entries {listed} can never match: entries are compared whole with identity and account ids, "
                         "user principal names, e-mail addresses and SIDs, never with display names or DOMAIN\\sam names; list the "
                         "UPN or SID instead")
        spaced = [pattern for pattern, _regex in self.patterns if " " in pattern]
        if spaced:
            listed = ", ".join(f"'{pattern}'" for pattern in spaced)
            found.append(f"{self.patterns_option} {listed} contain a space, which no compared key has: patterns are searched in "
                         "ids, user principal names, e-mail addresses and SIDs only, never in display names (an account can rename itself)")
        return found

    def entry_matching(self, identity: Mapping[str, Any]) -> str | None:
        """The entry that protects ``identity``, or None."""
        for key in _identity_keys(identity):
            entry = self._by_key.get(match_key(key))
            if entry is not None:
                return entry
        return None

    def reason(self, identity: Mapping[str, Any]) -> str | None:
        """Why ``identity`` is protected (an entry, or a pattern found in one of its keys), or None."""
        entry = self.entry_matching(identity)
        if entry is not None:
            return f"it is in {self.option} ('{entry}')"
        for pattern, regex in self.patterns:
            for key in _identity_keys(identity):
                if regex.search(key):
                    return f"'{key}' matches the {self.patterns_option} entry '{pattern}'"
        return None

    def check(self, identity: Mapping[str, Any]) -> None:
        """Refuse (InputError) an identity that an entry protects."""
        entry = self.entry_matching(identity)
        if entry is not None:
            raise InputError(
                self.option,
                f"refusing to act on identity {identity.get('id')} ({identity.get('user_principal_name') or identity.get('display_name')}): it matches the"
                f" protected_accounts entry '{entry}'",
            )


# ---------------------------------------------------------------------------------------------
# invokeAction: request, plan, execution
# ---------------------------------------------------------------------------------------------


class ReconcileWait:
    """How long an unknown outcome is reconciled: Defender for Identity applies an action asynchronously.

    The identity is read again until it shows the action, or ``timeout`` seconds have passed (0: one read).
    """

    def __init__(self, timeout: float = 30, interval: float = 2.0, max_interval: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0 or timeout > 3600:
            raise InputError("reconcile_timeout", f"must be a number of seconds between 0 and 3600; got {timeout!r}")
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max_interval
        self.sleep = sleep
        self.clock = clock


class ActionRequest:
    """Validated, normalized input for one invokeAction target. Built before any request is sent.

    Kept independent of the module's argument names so a bulk caller can build one per target.
    """

    def __init__(self, selector: Selector, identity_provider: str | None, action: str | None, account_id: str | None = None,
                 protected_accounts: ProtectedAccounts | Iterable[str] | None = None, action_matrix: str | None = None,
                 require_offered_action: bool = False, reconcile: ReconcileWait | None = None) -> None:
        self.selector = selector
        self.identity_provider = normalize_identity_provider(identity_provider)
        self.action = normalize_action(action)
        self.action_matrix = normalize_action_matrix(action_matrix)
        self.account_id = None if account_id in (None, "") else validate_account_identifier(account_id, "account_id")
        if isinstance(protected_accounts, ProtectedAccounts):
            self.protected = protected_accounts
        else:
            self.protected = ProtectedAccounts(protected_accounts)
        self.require_offered_action = bool(require_offered_action)
        self.reconcile = reconcile or ReconcileWait()
        check_action_allowed_by_matrix(self.identity_provider, self.action, self.action_matrix)


def _accounts_of(identity, identity_provider):
    return [account for account in identity["accounts"] if account["identity_provider"] == identity_provider]


def select_account(identity: Mapping[str, Any], identity_provider: str, account_id: str | None = None) -> dict[str, Any]:
    """The account the action applies to: the identity's account for that provider, or its account ``account_id``.

    An ``account_id`` the identity does not list is refused, also when it lists no accounts at all: otherwise a
    protected identity's account could be reached by naming it under another, unprotected identity.
    """
    accounts = identity["accounts"]
    if account_id is not None:
        for account in accounts:
            if _same_text(account["identifier"], account_id):
                if account["identity_provider"] != identity_provider:
                    raise InputError(
                        "account_id",
                        f"account '{account_id}' of identity {identity['id']} belongs to identity provider '{account['identity_provider']}', not"
                        f" '{identity_provider}'",
                    )
                return account
        raise InputError(
            "account_id",
            f"identity {identity['id']} {'has the accounts ' + _describe_accounts(accounts) if accounts else 'lists no accounts'}, not '{account_id}'; nothing"
            " was sent. An account_id must be one of the identity's own accounts (so the "
            "protected_accounts check applies to its owner): find the identity that lists it with "
            f"msgraph.security.identity_account_info account_identifier={account_id}",
        )

    candidates = _accounts_of(identity, identity_provider)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InputError(
            "identity_provider",
            f"identity {identity['id']} has no '{identity_provider}' account; its accounts: {_describe_accounts(accounts) or 'none'}",
        )
    raise InputError(
        "account_id",
        f"identity {identity['id']} has {len(candidates)} '{identity_provider}' accounts ({', '.join(account['identifier'] for account in candidates)});"
        " choose one with account_id",
    )


def _describe_accounts(accounts):
    return ", ".join(f"{account['identifier']} ({account['identity_provider']})" for account in accounts)


def _state_word(is_enabled):
    return "enabled" if is_enabled else "disabled"


def state_evidence(identity: Mapping[str, Any], account: Mapping[str, Any], action: str) -> tuple[bool | None, bool | None]:
    """What each readable signal says about disable/enable's target state: (by_is_enabled, by_actions).

    True: the signal says the state is reached; False: not reached; None: the signal says nothing. ``isEnabled``
    is the identity's flag (Nullable=false in the metadata, but read defensively). The account's ``actions`` speak
    only when they offer exactly one of the action and its opposite: Microsoft's List example lists none, and its
    Get example 1 lists only Enable on an identity whose isEnabled is true (docs/service-contract.md).
    """
    target = TARGET_IS_ENABLED[action]
    is_enabled = identity.get("is_enabled")
    by_is_enabled = (is_enabled is target) if isinstance(is_enabled, bool) else None
    actions = account.get("actions") or []
    offers, offers_opposite = action in actions, OPPOSITE_ACTION[action] in actions
    by_actions = None if offers == offers_opposite else offers_opposite
    return by_is_enabled, by_actions


def _describe_evidence(identity, account):
    offers = ", ".join(str(a) for a in account.get("actions") or []) or "no action"
    return (f"isEnabled is {str(identity.get('is_enabled')).lower()} and the {account['identity_provider']} account "
            f"{account['identifier']} offers {offers}")


def evaluate_target_state(identity: Mapping[str, Any], account: Mapping[str, Any], action: str) -> tuple[bool, str | None, str | None]:
    """For disable/enable: (already_in_state, reason, note).

    ``changed=false`` only when both signals say the target state is reached. On missing or contradicting evidence
    the action is sent: a repeated disable is harmless, a skipped containment is not. ``note`` then says which
    evidence was missing or disagreed.
    """
    by_is_enabled, by_actions = state_evidence(identity, account, action)
    evidence = _describe_evidence(identity, account)
    state = _state_word(TARGET_IS_ENABLED[action])
    if by_is_enabled and by_actions:
        return True, f"already {state}: {evidence}", None
    if by_is_enabled is not None and by_actions is not None and by_is_enabled != by_actions:
        return False, None, (f"the evidence disagrees ({evidence}): isEnabled says it is {'' if by_is_enabled else 'not '}{state}, "
                             f"the account's actions say it is {'' if by_actions else 'not '}{state}; sending '{action}'")
    if by_is_enabled and by_actions is None:
        return False, None, (f"isEnabled says it is already {state}, but the account's actions do not confirm it ({evidence}); "
                             f"sending '{action}'")
    return False, None, None


def check_account_offers_action(account: Mapping[str, Any], action: str, strict: bool = False) -> str | None:
    """A non-empty ``actions`` list that lacks the action: a warning (returned), or a refusal when ``strict``.

    An empty or missing list says nothing (Microsoft's List example lists none), and the service's own refusal
    of an action is reported as it is.
    """
    actions = account.get("actions")
    if not actions or action in actions:
        return None
    message = f"the {account['identity_provider']} account {account['identifier']} lists the actions {', '.join((str(a) for a in actions))}, not '{action}'"
    if strict:
        raise InputError("require_offered_action", message + "; nothing was sent because require_offered_action is true")
    return message + "; sending it anyway, the service decides (set require_offered_action=true to refuse instead)"


def _predicted_actions(actions, action):
    """After disable the account should offer enable instead of disable, and vice versa."""
    if actions is None or action not in TARGET_IS_ENABLED:
        return actions
    opposite = OPPOSITE_ACTION[action]
    predicted = [opposite if existing == action else existing for existing in actions]
    if opposite not in predicted:
        predicted.append(opposite)
    return predicted


def action_diff(identity: Mapping[str, Any], account: Mapping[str, Any], action: str, will_send: bool) -> dict[str, dict[str, Any]]:
    """{before, after}: isEnabled and the account's actions now, and as expected after the action."""
    before = {"is_enabled": identity.get("is_enabled"), "actions": account.get("actions")}
    if not will_send or action not in TARGET_IS_ENABLED:
        return {"before": before, "after": dict(before)}
    after = {"is_enabled": TARGET_IS_ENABLED[action], "actions": _predicted_actions(account.get("actions"), action)}
    return {"before": before, "after": after}


class ActionPlan:
    """Everything decided before sending: the identity, the account, whether to send, and the request."""

    def __init__(self, request: ActionRequest, identity: dict[str, Any], account: dict[str, Any], send: bool, reason: str | None, path: str,
                 body: dict[str, str], warnings: list[str], evidence_note: str | None = None) -> None:
        self.request = request
        self.identity = identity
        self.account = account
        self.send = send
        self.reason = reason
        self.path = path
        self.body = body
        self.warnings = warnings
        self.evidence_note = evidence_note

    @property
    def action(self) -> str:
        return self.request.action


def plan_action(client: GraphClient, request: ActionRequest) -> ActionPlan:
    """Resolve, guard, validate and decide; reads only (GET), never writes."""
    warnings = []
    identity = resolve_identity(client, request.selector, warnings.append)
    return plan_for_identity(request, identity, warnings)


def plan_for_identity(request: ActionRequest, identity: dict[str, Any], warnings: list[str] | None = None) -> ActionPlan:
    """Guard, validate and decide for an identity already read (a bulk run reads many at once); no request."""
    warnings = [] if warnings is None else warnings
    request.protected.check(identity)
    identity_id = validate_identity_id(identity.get("id"), "identity_account_id")  # it goes into the URL
    account = select_account(identity, request.identity_provider, request.account_id)
    send, reason, note = True, None, None
    if request.action in TARGET_IS_ENABLED:
        already, reason, note = evaluate_target_state(identity, account, request.action)
        send = not already
    if send:
        offered_warning = check_account_offers_action(account, request.action, request.require_offered_action)
        # The evidence note already names the account's actions; one message per cause.
        for message in (note, None if note else offered_warning):
            if message:
                warnings.append(message)
    # Built only from normalized values: schema camelCase enums, the account's own identifier.
    body = {"accountId": account["identifier"], "action": request.action, "identityProvider": request.identity_provider}
    path = f"{identity_path(identity_id)}/invokeAction"
    return ActionPlan(request, identity, account, send, reason, path, body, warnings, evidence_note=note)


def parse_invoke_action_result(body: Any, sent_body: Mapping[str, str], request_id: str | None = None, client_request_id: str | None = None,
                               warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """invokeActionResult in either shape -> snake_case; fields the service omits come from what was sent."""
    entity = _entity(body)
    result = {
        "account_id": entity.get("accountId") or sent_body["accountId"],
        "action": _normalize_response_enum(entity.get("action"), _RESPONSE_ACTION_BY_KEY) or sent_body["action"],
        "identity_provider": _normalize_response_enum(first_present(entity, "identityProvider", "provider"), _RESPONSE_PROVIDER_BY_KEY)
        or sent_body["identityProvider"],
        "correlation_id": entity.get("correlationId"),
        "request_id": request_id,
        "client_request_id": client_request_id,
    }
    echoed = (result["account_id"], result["action"], result["identity_provider"])
    sent = (sent_body["accountId"], sent_body["action"], sent_body["identityProvider"])
    if warn and echoed != sent:
        warn(f"the service echoed account/action/provider {echoed} although {sent} was sent")
    return result


def shows_action_applied(plan: ActionPlan, identity: Mapping[str, Any]) -> bool:
    """After an unknown outcome: does the identity read now prove disable/enable took effect?

    The account's actions decide when they speak (and isEnabled does not contradict them). Without them only a
    change of isEnabled to the target proves anything: a flag that was already there before the POST proves nothing.
    """
    account = next((a for a in identity["accounts"] if _same_text(a["identifier"], plan.body["accountId"])), None)
    by_is_enabled, by_actions = state_evidence(identity, account or {"actions": None}, plan.action)
    if by_actions is not None:
        return by_actions and by_is_enabled is not False
    return by_is_enabled is True and plan.identity.get("is_enabled") is not TARGET_IS_ENABLED[plan.action]


def _reconcile(client, plan, error, client_request_id, warnings):
    """A POST whose outcome is unknown is never resent: disable/enable re-read the state, with a bounded wait."""
    account_id = plan.body["accountId"]
    if plan.action not in TARGET_IS_ENABLED:
        raise _unknown_after_reading(
            error,
            client_request_id,
            f"the '{plan.action}' request for account {account_id} was sent but its outcome is unknown ({error}); it was not resent and"
            " Graph offers no way to read it back",
        )
    wait = plan.request.reconcile
    deadline = wait.clock() + wait.timeout
    interval, reads = wait.interval, 0
    while True:
        reads += 1
        try:
            identity = get_identity(client, plan.identity["id"], "identity_account_id")
        except GraphError as read_error:
            raise _unknown_after_reading(
                error,
                client_request_id,
                f"the '{plan.action}' request for account {account_id} was sent but its outcome is unknown ({error}); re-reading the identity"
                f" failed too ({read_error})",
            )
        if shows_action_applied(plan, identity):
            break
        remaining = deadline - wait.clock()
        if remaining <= 0:
            account = next((a for a in identity["accounts"] if _same_text(a["identifier"], account_id)), plan.account)
            raise _unknown_after_reading(
                error,
                client_request_id,
                f"the '{plan.action}' request for account {account_id} was sent but its outcome is unknown ({error}); {reads} read(s) of the identity over"
                f" {wait.timeout}s (reconcile_timeout) do not show it ({_describe_evidence(identity, account)}), but the action may still be applied",
            )
        wait.sleep(min(interval, remaining))
        interval = min(interval * 2, wait.max_interval)
    warnings.append(
        f"the '{plan.action}' request's outcome was unknown ({error}); read {reads} time(s), the identity now shows it "
        f"{_state_word(TARGET_IS_ENABLED[plan.action])}, so the action was applied (client-request-id {client_request_id})"
    )
    return {
        "account_id": account_id,
        "action": plan.action,
        "identity_provider": plan.body["identityProvider"],
        "correlation_id": None,
        "request_id": error.request_id,
        "client_request_id": client_request_id,
    }


def execute_plan(client: GraphClient, plan: ActionPlan) -> tuple[str, dict[str, Any]]:
    """Send the planned invokeAction once, with a fresh client-request-id. Returns (outcome, result)."""
    client_request_id = GraphClient.new_client_request_id()
    try:
        response = client.post(plan.path, body=plan.body, client_request_id=client_request_id, permission=ACTION_PERMISSION)
    except GraphOutcomeUnknownError as error:
        return "reconciled", _reconcile(client, plan, error, client_request_id, plan.warnings)
    result = parse_invoke_action_result(
        response.body,
        plan.body,
        request_id=response.request_id,
        client_request_id=response.client_request_id or client_request_id,
        warn=plan.warnings.append,
    )
    return "sent", result


def run_identity_action(client: GraphClient, request: ActionRequest, check_mode: bool = False) -> dict[str, Any]:
    """Plan and (unless in check mode or already in state) send one invokeAction.

    Returns a dict with snake_case keys: changed, outcome, reason, identity_account, request,
    invoke_action_result, diff, evidence, warnings (None values are dropped by the module).
    """
    plan = plan_action(client, request)
    plan.warnings[:0] = request.protected.warnings()
    result = {
        "changed": plan.send,
        "identity_account": plan.identity,
        "diff": action_diff(plan.identity, plan.account, plan.action, plan.send),
        "warnings": plan.warnings,  # the same list: execution may still add to it
    }
    if plan.action in TARGET_IS_ENABLED:
        by_is_enabled, by_actions = state_evidence(plan.identity, plan.account, plan.action)
        result["state_evidence"] = {
            "is_enabled": plan.identity.get("is_enabled"),
            "account_actions": plan.account.get("actions"),
            "is_enabled_says_done": by_is_enabled,
            "account_actions_say_done": by_actions,
            "note": plan.evidence_note,
        }
    if not plan.send:
        result.update(outcome="unchanged", reason=plan.reason)
        return result
    result["request"] = {"method": "POST", "url": client.url_for(plan.path), "body": dict(plan.body)}
    if check_mode:
        result["outcome"] = "check_mode"
        return result
    result["outcome"], result["invoke_action_result"] = execute_plan(client, plan)
    return result


def _unknown_after_reading(error, client_request_id, message):
    return GraphOutcomeUnknownError.after_reconciling(error, message, client_request_id, "the Microsoft Defender Action center")
