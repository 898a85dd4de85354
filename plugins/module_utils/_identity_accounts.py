# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Defender for Identity identity accounts: lookups, validation and invokeAction.

Layer 2 (see docs/architecture.md): no Ansible imports. Every decision the modules
identity_account_info and identity_account_action make lives here, so unit tests reach it
with a fake client that has the GraphClient methods used below (get, get_all, post, url_for).

Facts this file relies on (shared/reference/graph-api.md):
* identities: GET /security/identities/identityAccounts[/{id}], documented $filter example on
  onPremisesSecurityIdentifier only (section 6.4);
* actions: POST .../{id}/invokeAction with {accountId, action, identityProvider} (section 2);
* responses come in two shapes: schema (bare object, identityProvider, camelCase enums) and
  documentation example (wrapped in "value", "provider", PascalCase enums) (section 5);
* two conflicting provider x action matrices (section 4);
* the only readable state is isEnabled and accounts[].actions (section 6.5).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import uuid

from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import path_segment, unwrap_entity

IDENTITY_ACCOUNTS_PATH = "/security/identities/identityAccounts"

# Least-privileged application permissions (graph-api.md section 8); passed to the client so a 403 names them.
READ_PERMISSION = "SecurityIdentitiesAccount.Read.All"
ACTION_PERMISSION = "SecurityIdentitiesActions.ReadWrite.All"

# Schema enumerations (graph-api.md section 3), in their camelCase schema spelling.
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

# The two documented provider x action matrices (graph-api.md section 4).
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
LOOKUP_SID = "on_premises_security_identifier"
LOOKUP_DISPLAY_NAME = "display_name"
LOOKUP_ACCOUNT_IDENTIFIER = "account_identifier"
LOOKUP_FILTER = "filter"
LOOKUP_KINDS = (LOOKUP_ID, LOOKUP_UPN, LOOKUP_SID, LOOKUP_DISPLAY_NAME, LOOKUP_ACCOUNT_IDENTIFIER, LOOKUP_FILTER)

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
    LOOKUP_SID: "onPremisesSecurityIdentifier",
    LOOKUP_DISPLAY_NAME: "displayName",
}
# Snake_case field of a parsed identity that must equal the looked-up value (case-insensitively).
_MATCH_FIELD = {
    LOOKUP_UPN: "user_principal_name",
    LOOKUP_SID: "on_premises_security_identifier",
    LOOKUP_DISPLAY_NAME: "display_name",
}

_SID_PATTERN = re.compile(r"^S-1-\d+(-\d+)+$", re.IGNORECASE)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_PATH_UNSAFE = re.compile(r"[/?#\\\s]")


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class IdentityResolutionError(InputError):
    """A lookup that must find exactly one identity found none or several.

    ``matches`` lists what was found (id, display_name, user_principal_name) so the operator can
    pick the right identity_account_id.
    """

    def __init__(self, option, message, matches=None):
        super(IdentityResolutionError, self).__init__(option, message)
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


def _normalise_input_enum(value, by_key, option, kind):
    if not isinstance(value, str) or not value.strip():
        raise InputError(option, "an {0} is required; one of: {1}".format(kind, ", ".join(sorted(by_key.values()))))
    canonical = by_key.get(_enum_key(value))
    if canonical is None:
        raise InputError(
            option,
            "'{0}' is not a known {1}; use one of: {2} (case and '_'/'-'/' ' are ignored)".format(
                value, kind, ", ".join(by_key[key] for key in sorted(by_key))
            ),
        )
    return canonical


def normalise_identity_provider(value, option="identity_provider"):
    """``ActiveDirectory``, ``active_directory``, ``EntraID``, ``entra_id``, ``OKTA`` -> schema camelCase."""
    return _normalise_input_enum(value, _PROVIDER_BY_KEY, option, "identity provider")


def normalise_action(value, option="action"):
    """``Disable``, ``force_password_reset``, ``ForcePasswordReset`` -> schema camelCase."""
    return _normalise_input_enum(value, _ACTION_BY_KEY, option, "identity account action")


def _normalise_response_enum(value, by_key):
    """Known members become camelCase; unknownFutureValue and members added later are kept verbatim."""
    if not isinstance(value, str):
        return value
    return by_key.get(_enum_key(value), value)


def normalise_action_matrix(value, option="action_matrix"):
    if value is None:
        return DEFAULT_ACTION_MATRIX
    if value not in ACTION_MATRICES:
        raise InputError(option, "'{0}' is not a known matrix; use one of: {1}".format(value, ", ".join(sorted(ACTION_MATRICES))))
    return value


def supported_actions(identity_provider, action_matrix=DEFAULT_ACTION_MATRIX):
    return ACTION_MATRICES[action_matrix].get(identity_provider, ())


def check_action_allowed_by_matrix(identity_provider, action, action_matrix=DEFAULT_ACTION_MATRIX):
    """Refuse provider x action pairs the chosen documented matrix does not list (before any request)."""
    allowed = supported_actions(identity_provider, action_matrix)
    if action in allowed:
        return
    if allowed:
        supported = "it supports: {0}".format(", ".join(allowed))
    else:
        supported = "it supports no action in this matrix"
    message = "action '{0}' is not supported for identity provider '{1}' by the '{2}' action matrix; {3}".format(
        action, identity_provider, action_matrix, supported
    )
    if action_matrix != "extended" and action in supported_actions(identity_provider, "extended"):
        # Why a hint: the account resource page lists it, the invokeAction page does not (graph-api.md s.4).
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
        raise InputError(option, "{0} must be a non-empty string".format(what))
    if _CONTROL_CHARACTERS.search(value):
        raise InputError(option, "{0} must not contain control characters".format(what))
    return value.strip()


def validate_identity_id(value, option="id"):
    """Identity ids go into the URL path: refuse anything that could change the path or query."""
    value = _require_text(value, option, "an identity account id")
    if _PATH_UNSAFE.search(value):
        raise InputError(option, "identity account id '{0}' must not contain '/', '?', '#', '\\' or spaces".format(value))
    return value


def validate_sid(value, option=LOOKUP_SID):
    value = _require_text(value, option, "an on-premises security identifier")
    if not _SID_PATTERN.match(value):
        raise InputError(option, "'{0}' is not a security identifier; expected the form S-1-5-21-<domain>-<rid>".format(value))
    return "S" + value[1:]  # SIDs are written with an upper-case S


def validate_upn(value, option=LOOKUP_UPN):
    value = _require_text(value, option, "a user principal name")
    local, _at, domain = value.partition("@")
    if value.count("@") != 1 or not local or not domain or re.search(r"\s", value):
        raise InputError(option, "'{0}' is not a user principal name; expected exactly one '@', e.g. alice@contoso.com".format(value))
    return value


def validate_display_name(value, option=LOOKUP_DISPLAY_NAME):
    return _require_text(value, option, "a display name")


def validate_account_identifier(value, option=LOOKUP_ACCOUNT_IDENTIFIER):
    return _require_text(value, option, "a provider account identifier")


def validate_filter(value, option=LOOKUP_FILTER):
    return _require_text(value, option, "an OData filter")


_VALIDATORS = {
    LOOKUP_ID: validate_identity_id,
    LOOKUP_UPN: validate_upn,
    LOOKUP_SID: validate_sid,
    LOOKUP_DISPLAY_NAME: validate_display_name,
    LOOKUP_ACCOUNT_IDENTIFIER: validate_account_identifier,
    LOOKUP_FILTER: validate_filter,
}


def odata_string(value):
    """An OData string literal: single quotes doubled, so input cannot end the literal early."""
    return "'{0}'".format(value.replace("'", "''"))


class Selector(object):
    """How to find identities: a lookup kind, its validated value and the option it came from."""

    def __init__(self, kind, value, option=None):
        if kind not in _VALIDATORS:
            raise ValueError("unknown lookup kind {0!r}".format(kind))
        self.kind = kind
        self.option = option or kind
        self.value = _VALIDATORS[kind](value, self.option)

    def describe(self):
        return "{0}={1!r}".format(self.option, self.value)

    def __repr__(self):
        return "Selector({0})".format(self.describe())


def selector_from_params(params, option_kinds, required=True):
    """Build the one Selector set in ``params``.

    ``option_kinds`` maps option names to lookup kinds, e.g. {"identity_account_id": "id", ...}.
    Returns None when nothing is set and ``required`` is false. An empty string counts as given (and is
    refused by the validator): ``id: "{{ undefined_or_empty }}"`` must never widen a lookup to every identity.
    """
    given = [option for option in option_kinds if params.get(option) is not None]
    if len(given) > 1:
        raise InputError(given[0], "give only one of {0}; got {1}".format(", ".join(option_kinds), ", ".join(given)))
    if not given:
        if required:
            raise InputError(list(option_kinds)[0], "one of {0} is required".format(", ".join(option_kinds)))
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


def _first_present(raw, *keys):
    for key in keys:
        if raw.get(key) is not None:
            return raw[key]
    return None


def parse_account(raw):
    """One entry of accounts[]: provider from identityProvider or provider, enums in camelCase.

    ``actions`` stays None when the service does not list it, so callers can tell "unknown" from "none".
    """
    raw = raw if isinstance(raw, dict) else {}
    actions = raw.get("actions")
    return {
        "identifier": raw.get("identifier"),
        "identity_provider": _normalise_response_enum(_first_present(raw, "identityProvider", "provider"), _RESPONSE_PROVIDER_BY_KEY),
        "actions": None if not isinstance(actions, list) else [_normalise_response_enum(a, _RESPONSE_ACTION_BY_KEY) for a in actions],
    }


def parse_identity(raw):
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


def identity_summary(identity):
    """What an operator needs to tell identities apart in an error message."""
    return {
        "id": identity.get("id"),
        "display_name": identity.get("display_name"),
        "user_principal_name": identity.get("user_principal_name"),
    }


# ---------------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------------


def identity_path(identity_id):
    return "{0}/{1}".format(IDENTITY_ACCOUNTS_PATH, path_segment(identity_id))


def _same_text(left, right):
    return isinstance(left, str) and isinstance(right, str) and left.casefold() == right.casefold()


def matches_selector(identity, selector):
    """True when a parsed identity matches the selector locally (a server filter may have been ignored)."""
    if selector.kind == LOOKUP_ACCOUNT_IDENTIFIER:
        return any(_same_text(account["identifier"], selector.value) for account in identity["accounts"])
    if selector.kind in _MATCH_FIELD:
        return _same_text(identity.get(_MATCH_FIELD[selector.kind]), selector.value)
    return True  # a raw filter is the service's to apply


def get_identity(client, identity_id, option="id"):
    """GET one identity by id. A 404 is raised as the client's GraphError (code, request id, hint)."""
    identity_id = validate_identity_id(identity_id, option)
    try:
        response = client.get(identity_path(identity_id), permission=READ_PERMISSION)
    except GraphError as error:
        if error.status == 404:
            error.hint = "no identity account has id '{0}'; find it with msgraph.security.identity_account_info".format(identity_id)
        raise
    return parse_identity(response.body)


def list_identities(client, params=None):
    """Every identity (all pages), optionally with raw query ``params`` such as {"$filter": ...}."""
    return [parse_identity(item) for item in client.get_all(IDENTITY_ACCOUNTS_PATH, params=params, permission=READ_PERMISSION)]


def _list_with_server_filter(client, selector, warn):
    odata_filter = "{0} eq {1}".format(FILTER_PROPERTY[selector.kind], odata_string(selector.value))
    try:
        return list_identities(client, {"$filter": odata_filter})
    except GraphError as error:
        # Only the SID filter is documented; if the service refuses another one, scan instead.
        if error.status != 400 or selector.kind == LOOKUP_SID:
            raise
        if warn:
            warn(
                "the service refused $filter on {0} ({1}); listing every identity and matching locally".format(
                    FILTER_PROPERTY[selector.kind], error.code or error.status
                )
            )
        return list_identities(client)


def find_identities(client, selector=None, warn=None):
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
    if selector.kind == LOOKUP_ACCOUNT_IDENTIFIER:
        # No server-side filter on accounts[].identifier is documented (graph-api.md s.6.4).
        candidates = list_identities(client)
    else:
        candidates = _list_with_server_filter(client, selector, warn)
    return [identity for identity in candidates if matches_selector(identity, selector)]


def resolve_identity(client, selector, warn=None):
    """Exactly one identity, or IdentityResolutionError listing what matched (fail closed)."""
    if selector.kind == LOOKUP_ID:
        return get_identity(client, selector.value, selector.option)
    return exactly_one(selector, find_identities(client, selector, warn))


def exactly_one(selector, matches):
    """The one identity ``matches`` holds for ``selector``, or IdentityResolutionError listing them."""
    if len(matches) == 1:
        return matches[0]
    summaries = [identity_summary(identity) for identity in matches]
    if not matches:
        raise IdentityResolutionError(selector.option, "no identity account matches {0}".format(selector.describe()), summaries)
    raise IdentityResolutionError(
        selector.option,
        "{0} matches {1} identity accounts, refusing to guess; target one by identity_account_id: {2}".format(
            selector.describe(),
            len(matches),
            "; ".join("{id} ({display_name}, {user_principal_name})".format(**summary) for summary in summaries),
        ),
        summaries,
    )


# ---------------------------------------------------------------------------------------------
# Guards
# ---------------------------------------------------------------------------------------------


def normalise_protected_accounts(values, option="protected_accounts"):
    entries = []
    for value in values or []:
        entries.append(_require_text(value, option, "each protected_accounts entry"))
    return entries


def _identity_keys(identity, account_id=None):
    keys = [
        identity.get("id"),
        identity.get("user_principal_name"),
        identity.get("email_address"),
        identity.get("on_premises_security_identifier"),
        identity.get("cloud_security_identifier"),
        account_id,
    ]
    keys.extend(account["identifier"] for account in identity.get("accounts") or [])
    return [key for key in keys if isinstance(key, str) and key]


def check_not_protected(identity, protected_accounts, account_id=None):
    """Refuse identities whose id, UPN, email, SIDs or account identifiers are listed as protected."""
    protected = dict((entry.casefold(), entry) for entry in protected_accounts or [])
    for key in _identity_keys(identity, account_id):
        entry = protected.get(key.casefold())
        if entry is not None:
            raise InputError(
                "protected_accounts",
                "refusing to act on identity {0} ({1}): it matches the protected_accounts entry '{2}'".format(
                    identity.get("id"), identity.get("user_principal_name") or identity.get("display_name"), entry
                ),
            )


# ---------------------------------------------------------------------------------------------
# invokeAction: request, plan, execution
# ---------------------------------------------------------------------------------------------


class ActionRequest(object):
    """Validated, normalised input for one invokeAction target. Built before any request is sent.

    Kept independent of the module's argument names so a bulk caller can build one per target.
    """

    def __init__(self, selector, identity_provider, action, account_id=None, protected_accounts=None, action_matrix=None):
        self.selector = selector
        self.identity_provider = normalise_identity_provider(identity_provider)
        self.action = normalise_action(action)
        self.action_matrix = normalise_action_matrix(action_matrix)
        self.account_id = None if account_id in (None, "") else validate_account_identifier(account_id, "account_id")
        self.protected_accounts = normalise_protected_accounts(protected_accounts)
        check_action_allowed_by_matrix(self.identity_provider, self.action, self.action_matrix)


def _accounts_of(identity, identity_provider):
    return [account for account in identity["accounts"] if account["identity_provider"] == identity_provider]


def select_account(identity, identity_provider, account_id=None, warn=None):
    """The account the action applies to: the identity's account for that provider, or ``account_id``."""
    accounts = identity["accounts"]
    if account_id is not None:
        for account in accounts:
            if _same_text(account["identifier"], account_id):
                if account["identity_provider"] != identity_provider:
                    raise InputError(
                        "account_id",
                        "account '{0}' of identity {1} belongs to identity provider '{2}', not '{3}'".format(
                            account_id, identity["id"], account["identity_provider"], identity_provider
                        ),
                    )
                return account
        if accounts:
            raise InputError(
                "account_id",
                "identity {0} has no account '{1}'; its accounts: {2}".format(identity["id"], account_id, _describe_accounts(accounts)),
            )
        # The identity lists no accounts at all: nothing to check the explicit id against.
        if warn:
            warn("identity {0} lists no accounts; sending account_id '{1}' unchecked".format(identity["id"], account_id))
        return {"identifier": account_id, "identity_provider": identity_provider, "actions": None}

    candidates = _accounts_of(identity, identity_provider)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InputError(
            "identity_provider",
            "identity {0} has no '{1}' account; its accounts: {2}".format(identity["id"], identity_provider, _describe_accounts(accounts) or "none"),
        )
    raise InputError(
        "account_id",
        "identity {0} has {1} '{2}' accounts ({3}); choose one with account_id".format(
            identity["id"], len(candidates), identity_provider, ", ".join(account["identifier"] for account in candidates)
        ),
    )


def _describe_accounts(accounts):
    return ", ".join("{0} ({1})".format(account["identifier"], account["identity_provider"]) for account in accounts)


def _state_word(is_enabled):
    return "enabled" if is_enabled else "disabled"


def evaluate_target_state(identity, account, action):
    """For disable/enable: (already_in_state, reason, contradiction_warning).

    Signals (graph-api.md s.6.5): the account's own ``actions`` (what the provider offers now) and the
    identity's ``isEnabled``. The account signal is more specific, so when it clearly says the action
    is still available we send it even if isEnabled already matches: a wrongly skipped containment
    is worse than a redundant one.
    """
    target = TARGET_IS_ENABLED[action]
    opposite = OPPOSITE_ACTION[action]
    actions = account.get("actions")
    if actions is not None:
        offers, offers_opposite = action in actions, opposite in actions
        if offers_opposite and not offers:
            return True, "the {0} account {1} offers '{2}' but not '{3}': it is already {4}".format(
                account["identity_provider"], account["identifier"], opposite, action, _state_word(target)
            ), None
        if offers and not offers_opposite:
            warning = None
            if identity.get("is_enabled") is target:
                warning = "isEnabled is already {0} but the {1} account still offers '{2}'; sending the action".format(
                    str(target).lower(), account["identity_provider"], action
                )
            return False, None, warning
    if identity.get("is_enabled") is target:
        return True, "the identity is already {0} (isEnabled is {1})".format(_state_word(target), str(target).lower()), None
    return False, None, None


def check_account_offers_action(account, action):
    """Where the service lists the account's actions, refuse an action it does not offer."""
    actions = account.get("actions")
    if actions is None or action in actions:
        return
    raise InputError(
        "action",
        "the {0} account {1} does not offer '{2}'; it offers: {3}".format(
            account["identity_provider"], account["identifier"], action, ", ".join(str(a) for a in actions) or "no action"
        ),
    )


def _predicted_actions(actions, action):
    """After disable the account should offer enable instead of disable, and vice versa."""
    if actions is None or action not in TARGET_IS_ENABLED:
        return actions
    opposite = OPPOSITE_ACTION[action]
    predicted = [opposite if existing == action else existing for existing in actions]
    if opposite not in predicted:
        predicted.append(opposite)
    return predicted


def action_diff(identity, account, action, will_send):
    """{before, after}: isEnabled and the account's actions now, and as expected after the action."""
    before = {"is_enabled": identity.get("is_enabled"), "actions": account.get("actions")}
    if not will_send or action not in TARGET_IS_ENABLED:
        return {"before": before, "after": dict(before)}
    after = {"is_enabled": TARGET_IS_ENABLED[action], "actions": _predicted_actions(account.get("actions"), action)}
    return {"before": before, "after": after}


class ActionPlan(object):
    """Everything decided before sending: the identity, the account, whether to send, and the request."""

    def __init__(self, request, identity, account, send, reason, path, body, warnings):
        self.request = request
        self.identity = identity
        self.account = account
        self.send = send
        self.reason = reason
        self.path = path
        self.body = body
        self.warnings = warnings

    @property
    def action(self):
        return self.request.action


def plan_action(client, request):
    """Resolve, guard, validate and decide; reads only (GET), never writes."""
    warnings = []
    identity = resolve_identity(client, request.selector, warnings.append)
    return plan_for_identity(request, identity, warnings)


def plan_for_identity(request, identity, warnings=None):
    """Guard, validate and decide for an identity already read (a bulk run reads many at once); no request."""
    warnings = [] if warnings is None else warnings
    check_not_protected(identity, request.protected_accounts, request.account_id)
    identity_id = validate_identity_id(identity.get("id"), "identity_account_id")  # it goes into the URL
    account = select_account(identity, request.identity_provider, request.account_id, warnings.append)
    send, reason = True, None
    if request.action in TARGET_IS_ENABLED:
        already, reason, warning = evaluate_target_state(identity, account, request.action)
        send = not already
        if warning:
            warnings.append(warning)
    if send:
        check_account_offers_action(account, request.action)
    # Built only from normalised values: schema camelCase enums, the account's own identifier.
    body = {"accountId": account["identifier"], "action": request.action, "identityProvider": request.identity_provider}
    path = "{0}/invokeAction".format(identity_path(identity_id))
    return ActionPlan(request, identity, account, send, reason, path, body, warnings)


def new_client_request_id():
    return str(uuid.uuid4())


def parse_invoke_action_result(body, sent_body, request_id=None, client_request_id=None, warn=None):
    """invokeActionResult in either shape -> snake_case; fields the service omits come from what was sent."""
    entity = _entity(body)
    result = {
        "account_id": entity.get("accountId") or sent_body["accountId"],
        "action": _normalise_response_enum(entity.get("action"), _RESPONSE_ACTION_BY_KEY) or sent_body["action"],
        "identity_provider": _normalise_response_enum(_first_present(entity, "identityProvider", "provider"), _RESPONSE_PROVIDER_BY_KEY)
        or sent_body["identityProvider"],
        "correlation_id": entity.get("correlationId"),
        "request_id": request_id,
        "client_request_id": client_request_id,
    }
    echoed = (result["account_id"], result["action"], result["identity_provider"])
    sent = (sent_body["accountId"], sent_body["action"], sent_body["identityProvider"])
    if warn and echoed != sent:
        warn("the service echoed account/action/provider {0} although {1} was sent".format(echoed, sent))
    return result


def _outcome_unknown(error, client_request_id, message):
    return GraphOutcomeUnknownError(
        message,
        status=error.status,
        code=error.code,
        request_id=error.request_id,
        client_request_id=client_request_id,
        date=error.date,
        method=error.method or "POST",
        url=error.url,
        required_permission=error.required_permission,
        hint="look up client-request-id {0} in the Microsoft Defender Action center before running the task again".format(client_request_id),
    )


def _reconcile(client, plan, error, client_request_id, warnings):
    """A POST whose outcome is unknown is never resent: disable/enable re-read the state instead."""
    account_id = plan.body["accountId"]
    if plan.action not in TARGET_IS_ENABLED:
        raise _outcome_unknown(
            error,
            client_request_id,
            "the '{0}' request for account {1} was sent but its outcome is unknown ({2}); it was not resent and"
            " Graph offers no way to read it back".format(plan.action, account_id, error),
        )
    try:
        identity = get_identity(client, plan.identity["id"], "identity_account_id")
    except GraphError as read_error:
        raise _outcome_unknown(
            error,
            client_request_id,
            "the '{0}' request for account {1} was sent but its outcome is unknown ({2}); re-reading the identity"
            " failed too ({3})".format(plan.action, account_id, error, read_error),
        )
    account = next((a for a in identity["accounts"] if _same_text(a["identifier"], account_id)), plan.account)
    reached, _reason, _warning = evaluate_target_state(identity, account, plan.action)
    if not reached:
        raise _outcome_unknown(
            error,
            client_request_id,
            "the '{0}' request for account {1} was sent but its outcome is unknown ({2}); the identity does not"
            " show it yet, but the action may still be applied".format(plan.action, account_id, error),
        )
    warnings.append(
        "the '{0}' request's outcome was unknown ({1}); re-reading the identity shows it is now {2}, so the"
        " action was applied (client-request-id {3})".format(plan.action, error, _state_word(TARGET_IS_ENABLED[plan.action]), client_request_id)
    )
    return {
        "account_id": account_id,
        "action": plan.action,
        "identity_provider": plan.body["identityProvider"],
        "correlation_id": None,
        "request_id": error.request_id,
        "client_request_id": client_request_id,
    }


def execute_plan(client, plan):
    """Send the planned invokeAction once, with a fresh client-request-id. Returns (outcome, result)."""
    client_request_id = new_client_request_id()
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


def run_identity_action(client, request, check_mode=False):
    """Plan and (unless in check mode or already in state) send one invokeAction.

    Returns a dict with snake_case keys: changed, outcome, reason, identity_account, request,
    invoke_action_result, diff, warnings (None values are dropped by the module).
    """
    plan = plan_action(client, request)
    result = {
        "changed": plan.send,
        "identity_account": plan.identity,
        "diff": action_diff(plan.identity, plan.account, plan.action, plan.send),
        "warnings": plan.warnings,
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
