# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Defender for Identity's vocabulary: its enumerations, the provider x action matrix, identifiers and their checks.

Layer 2 (see docs/architecture.md): no Ansible imports, no requests. The bottom of the identity files: lookup
(_identity_lookup), protection (_protected_accounts) and actions (_identity_actions) build on it, and so do the
Entra ID users and incidents, which take the same identifiers.

Facts this file relies on, each with its Microsoft source in docs/service-contract.md:
* the schema enumerations, in camelCase (row 3); the documentation examples spell them in PascalCase (row 9);
* two conflicting provider x action matrices (row 4).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import struct
import unicodedata
import uuid
from typing import Any, Iterable, Literal, Mapping, overload

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import validate_path_id

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

# Lookup kinds: how an identity can be found. The option a value came from is kept separately
# because the two modules name the id option differently (id / identity_account_id).
LOOKUP_ID = "id"
LOOKUP_UPN = "user_principal_name"
LOOKUP_EMAIL = "email_address"
LOOKUP_SID = "on_premises_security_identifier"
LOOKUP_DISPLAY_NAME = "display_name"
LOOKUP_ACCOUNT_IDENTIFIER = "account_identifier"
LOOKUP_FILTER = "filter"

# [0-9], not \d: \d also matches non-ASCII digits, and a SID is ASCII.
_SID_PATTERN = re.compile(r"^S-1-[0-9]+(-[0-9]+)+$", re.IGNORECASE)
# Entra ID's cloud SID (cloudSecurityIdentifier): S-1-12-1 and the object id's 16 bytes, GUID byte order, read as four
# little-endian uint32 (docs/service-contract.md says which sources agree and that no Microsoft page states it).
CLOUD_SID_PATTERN = re.compile(r"^S-1-12-1-([0-9]+)-([0-9]+)-([0-9]+)-([0-9]+)$", re.IGNORECASE)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


# ---------------------------------------------------------------------------------------------
# Enumerations: accept the documentation's spellings, always produce the schema's
# ---------------------------------------------------------------------------------------------


def _enum_key(value):
    """Comparison key: case-insensitive, separators ignored (``Active Directory`` == ``activeDirectory``)."""
    return re.sub(r"[\s_\-]", "", value).lower()


def canonical_lookup(values: Iterable[str]) -> dict[str, str]:
    """Comparison key -> canonical spelling, for normalize_input_enum and normalize_response_enum."""
    return dict((_enum_key(value), value) for value in values)


_PROVIDER_BY_KEY = canonical_lookup(IDENTITY_PROVIDERS)
_ACTION_BY_KEY = canonical_lookup(ACTIONS)
_RESPONSE_PROVIDER_BY_KEY = canonical_lookup(IDENTITY_PROVIDERS + (UNKNOWN_FUTURE_VALUE,))
_RESPONSE_ACTION_BY_KEY = canonical_lookup(ACTIONS + (UNKNOWN_FUTURE_VALUE,))


def normalize_input_enum(value: Any, by_key: Mapping[str, str], option: str, kind: str) -> str:
    """An input spelling -> its canonical member of ``by_key`` (canonical_lookup); InputError naming ``option`` and
    every member when it is none of them."""
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
    return normalize_input_enum(value, _PROVIDER_BY_KEY, option, "identity provider")


def normalize_action(value: Any, option: str = "action") -> str:
    """``Disable``, ``force_password_reset``, ``ForcePasswordReset`` -> schema camelCase."""
    return normalize_input_enum(value, _ACTION_BY_KEY, option, "identity account action")


def normalize_response_enum(value: Any, by_key: Mapping[str, str]) -> Any:
    """Known members become camelCase; unknownFutureValue and members added later are kept verbatim."""
    if not isinstance(value, str):
        return value
    return by_key.get(_enum_key(value), value)


def normalize_response_provider(value: Any) -> Any:
    """An identity provider as the service answered it -> schema camelCase (an unknown member kept verbatim)."""
    return normalize_response_enum(value, _RESPONSE_PROVIDER_BY_KEY)


def normalize_response_action(value: Any) -> Any:
    """An action as the service answered it -> schema camelCase (an unknown member kept verbatim)."""
    return normalize_response_enum(value, _RESPONSE_ACTION_BY_KEY)


def normalize_action_matrix(value: str | None, option: str = "action_matrix") -> str:
    """The name of one of ACTION_MATRICES (DEFAULT_ACTION_MATRIX when None); InputError for any other."""
    if value is None:
        return DEFAULT_ACTION_MATRIX
    if value not in ACTION_MATRICES:
        raise InputError(option, f"'{value}' is not a known matrix; use one of: {', '.join(sorted(ACTION_MATRICES))}")
    return value


def supported_actions(identity_provider: str, action_matrix: str = DEFAULT_ACTION_MATRIX) -> tuple[str, ...]:
    """The actions ``action_matrix`` lists for ``identity_provider`` (none for a provider it does not know)."""
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
# Identifiers: how they are compared, and the checks of each lookup kind
# ---------------------------------------------------------------------------------------------


_ASCII_UPPER_TO_LOWER = dict((code, code + 32) for code in range(ord("A"), ord("Z") + 1))


def match_key(text: str) -> str:
    """The key identifiers are compared by: NFC-normalized, then only A-Z folded to a-z.

    ``casefold()`` would make look-alikes equal (U+FB01 'fi' ligature -> 'fi', 'ß' -> 'ss'), so an input could
    resolve to, or slip past, another real account. NFC only joins canonically equivalent spellings.
    """
    return unicodedata.normalize("NFC", text).translate(_ASCII_UPPER_TO_LOWER)


def same_identifier(left: Any, right: Any) -> bool:
    """Both are strings and equal by match_key."""
    return isinstance(left, str) and isinstance(right, str) and match_key(left) == match_key(right)


def require_text(value: Any, option: str, what: str) -> str:
    """``value`` stripped: a non-empty string without control characters, or InputError naming ``option``."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(option, f"{what} must be a non-empty string")
    if _CONTROL_CHARACTERS.search(value):
        raise InputError(option, f"{what} must not contain control characters")
    return value.strip()


def validate_identity_id(value: Any, option: str = "id") -> str:
    """An identity id, safe to put in the URL path (see ``validate_path_id``)."""
    return validate_path_id(value, option, "identity account id", fix="use the id identity_account_info returns")


def validate_sid(value: Any, option: str = LOOKUP_SID) -> str:
    """An on-premises SID (ASCII digits only), written with an upper-case S."""
    value = require_text(value, option, "an on-premises security identifier")
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
    """A user principal name: one '@' with text on both sides, no white space."""
    value = require_text(value, option, "a user principal name")
    local, _at, domain = value.partition("@")
    if value.count("@") != 1 or not local or not domain or re.search(r"\s", value):
        raise InputError(option, f"'{value}' is not a user principal name; expected exactly one '@', e.g. alice@contoso.com")
    return value


def validate_email(value: Any, option: str = LOOKUP_EMAIL) -> str:
    """An e-mail address: one '@', not at either end, no white space."""
    value = require_text(value, option, "an e-mail address")
    if value.count("@") != 1 or value.startswith("@") or value.endswith("@") or re.search(r"\s", value):
        raise InputError(option, f"'{value}' is not an e-mail address; expected exactly one '@', e.g. alice@contoso.com")
    return value


def validate_display_name(value: Any, option: str = LOOKUP_DISPLAY_NAME) -> str:
    """A display name: any non-empty text without control characters."""
    return require_text(value, option, "a display name")


def validate_account_identifier(value: Any, option: str = LOOKUP_ACCOUNT_IDENTIFIER) -> str:
    """A provider account identifier (accounts[].identifier): non-empty text without control characters."""
    return require_text(value, option, "a provider account identifier")


def validate_filter(value: Any, option: str = LOOKUP_FILTER) -> str:
    """A raw OData filter: non-empty text without control characters (the service parses it)."""
    return require_text(value, option, "an OData filter")


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
        """``option='value'``, as error messages name the lookup."""
        return f"{self.option}={self.value!r}"

    def __repr__(self) -> str:
        return f"Selector({self.describe()})"


@overload
def selector_from_params(params: Mapping[str, Any], option_kinds: Mapping[str, str], required: Literal[True] = True) -> Selector:
    ...


@overload
def selector_from_params(params: Mapping[str, Any], option_kinds: Mapping[str, str], required: bool) -> Selector | None:
    ...


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


# Entra ID's user object ids (the identity's entraID account identifier) and the other S-1-12 forms.
_GUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_OTHER_CLOUD_SID_PATTERN = re.compile(r"^S-1-12-", re.IGNORECASE)


def is_guid(value: Any) -> bool:
    """Whether ``value`` is a GUID string (the form of an Entra ID object id)."""
    return isinstance(value, str) and bool(_GUID_PATTERN.match(value))


def normalize_user_id(value: Any, option: str = "user_id") -> str:
    """An object id (GUID) or its ``S-1-12-1`` cloud SID -> the lower-case object id; anything else is refused."""
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text:
        raise InputError(option, "a user object id is required")
    if CLOUD_SID_PATTERN.match(text):
        try:
            return object_id_from_cloud_sid(text)
        except ValueError as error:
            raise InputError(option, str(error))
    if _OTHER_CLOUD_SID_PATTERN.match(text):
        raise InputError(
            option,
            f"'{text}' is not an S-1-12-1 (user object) security identifier, so it does not convert to an object id (Microsoft's"
            " identityAccounts example shows an S-1-12-4 cloudSecurityIdentifier that is not the Entra ID account); give the"
            " identity's entraID account identifier instead",
        )
    if not _GUID_PATTERN.match(text):
        raise InputError(
            option,
            f"'{text}' is not an Entra ID user object id; give the GUID (the identity's entraID account identifier, e.g."
            " 3086863e-1807-524b-8a62-ef7649a1d776) or its S-1-12-1 cloud security identifier, or use"
            " user_principal_name",
        )
    return text.lower()
