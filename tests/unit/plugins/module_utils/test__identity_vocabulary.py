# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of Defender for Identity's vocabulary: enumeration spellings, the provider x action matrix, identifier
checks and comparison, lookup selectors (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import run_identity_action
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    cloud_sid_from_object_id,
    normalize_user_id,
    object_id_from_cloud_sid,
    ACTIONS,
    ACTION_MATRICES,
    IDENTITY_PROVIDERS,
    Selector,
    match_key,
    normalize_action,
    normalize_action_matrix,
    normalize_identity_provider,
    selector_from_params,
)
from ansible_collections.msgraph.security.tests.unit.plugins.module_utils.identity_samples import (
    action_request,
    make_tenant,
)


# --- enumerations ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling, expected", [
    ("activeDirectory", "activeDirectory"), ("ActiveDirectory", "activeDirectory"), ("ACTIVEDIRECTORY", "activeDirectory"),
    ("active_directory", "activeDirectory"), ("Active Directory", "activeDirectory"),
    ("entraID", "entraID"), ("EntraID", "entraID"), ("entra_id", "entraID"), ("entra-id", "entraID"),
    ("okta", "okta"), ("Okta", "okta"), (" OKTA ", "okta"),
])
def test_identity_provider_spellings_normalize_to_schema_camel_case(spelling, expected):
    assert normalize_identity_provider(spelling) == expected


@pytest.mark.parametrize("spelling, expected", [
    ("disable", "disable"), ("Disable", "disable"), ("ENABLE", "enable"),
    ("ForcePasswordReset", "forcePasswordReset"), ("force_password_reset", "forcePasswordReset"),
    ("revokeAllSessions", "revokeAllSessions"), ("require_user_to_sign_in_again", "requireUserToSignInAgain"),
    ("MarkUserAsCompromised", "markUserAsCompromised"),
])
def test_action_spellings_normalize_to_schema_camel_case(spelling, expected):
    assert normalize_action(spelling) == expected


@pytest.mark.parametrize("value", ["unknownFutureValue", "azureAD", "", None, "ad"])
def test_unknown_identity_provider_is_refused_naming_the_option(value):
    with pytest.raises(InputError) as caught:
        normalize_identity_provider(value)
    assert caught.value.option == "identity_provider"
    assert "activeDirectory" in caught.value.message


@pytest.mark.parametrize("value", ["unknownFutureValue", "deactivate", "delete", ""])
def test_unknown_action_is_refused_naming_the_option(value):
    with pytest.raises(InputError) as caught:
        normalize_action(value)
    assert caught.value.option == "action"


def test_unknown_action_matrix_is_refused():
    with pytest.raises(InputError) as caught:
        normalize_action_matrix("version_c")
    assert caught.value.option == "action_matrix"
    assert normalize_action_matrix(None) == "documented"


# --- provider x action matrix ---------------------------------------------------------------------

ALL_PAIRS = list(itertools.product(IDENTITY_PROVIDERS, ACTIONS))


@pytest.mark.parametrize("matrix", sorted(ACTION_MATRICES))
@pytest.mark.parametrize("provider, action", ALL_PAIRS)
def test_every_pair_outside_the_matrix_is_refused_before_any_request(matrix, provider, action):
    tenant = make_tenant()
    supported = ACTION_MATRICES[matrix][provider]
    if action in supported:
        request = action_request(provider=provider, action=action, action_matrix=matrix)
        assert request.action == action
        return
    with pytest.raises(InputError) as caught:
        request = action_request(provider=provider, action=action, action_matrix=matrix)
        run_identity_action(tenant.client, request)
    assert caught.value.option == "action"
    assert "'{0}'".format(action) in caught.value.message and provider in caught.value.message
    for name in supported:
        assert name in caught.value.message
    assert tenant.client.calls == []


def test_documented_matrix_is_the_invoke_action_page_version_a():
    assert ACTION_MATRICES["documented"] == {
        "activeDirectory": ("disable", "enable", "forcePasswordReset"),
        "entraID": (),
        "okta": ("disable", "enable", "revokeAllSessions"),
    }


def test_entra_action_refusal_points_at_the_extended_matrix():
    with pytest.raises(InputError) as caught:
        action_request(provider="EntraID", action="revokeAllSessions")
    assert "action_matrix=extended" in caught.value.message
    assert "supports no action" in caught.value.message


def test_extended_matrix_allows_entra_id_actions_of_the_account_page():
    for action in ("disable", "enable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"):
        assert action_request(provider="entraID", action=action, action_matrix="extended").action == action
    with pytest.raises(InputError):
        action_request(provider="entraID", action="forcePasswordReset", action_matrix="extended")


# --- identifiers and selectors --------------------------------------------------------------------

@pytest.mark.parametrize("kind, value", [
    ("id", ""), ("id", "   "), ("id", "abc/def"), ("id", "abc?x=1"), ("id", "abc#frag"), ("id", "a b"), ("id", "a\\b"),
    ("on_premises_security_identifier", "S-1"), ("on_premises_security_identifier", "1-5-21-1"),
    ("on_premises_security_identifier", "S-1-5-21-abc"), ("on_premises_security_identifier", "alice@contoso.com"),
    ("user_principal_name", "alice"), ("user_principal_name", "a@b@c"), ("user_principal_name", "@contoso.com"),
    ("user_principal_name", "alice@"), ("user_principal_name", "al ice@contoso.com"),
    ("display_name", ""), ("display_name", "Alice\nAdams"), ("account_identifier", " "), ("filter", ""),
])
def test_malformed_lookup_values_are_refused_naming_the_option(kind, value):
    with pytest.raises(InputError) as caught:
        Selector(kind, value, option="the_option")
    assert caught.value.option == "the_option"


def test_sid_is_accepted_case_insensitively_and_written_with_upper_case_s():
    assert Selector("on_premises_security_identifier", "s-1-5-21-1-2-3-1101").value == "S-1-5-21-1-2-3-1101"


def test_selector_from_params_requires_exactly_one():
    kinds = {"identity_account_id": "id", "user_principal_name": "user_principal_name"}
    with pytest.raises(InputError) as none:
        selector_from_params({}, kinds)
    with pytest.raises(InputError) as two:
        selector_from_params({"identity_account_id": "x", "user_principal_name": "a@b"}, kinds)
    assert "one of" in none.value.message and "only one" in two.value.message
    assert selector_from_params({}, kinds, required=False) is None
    selector = selector_from_params({"identity_account_id": "x", "user_principal_name": None}, kinds)
    assert (selector.kind, selector.value, selector.option) == ("id", "x", "identity_account_id")


@pytest.mark.parametrize("required", [True, False])
def test_an_empty_lookup_value_is_refused_not_widened_to_everything(required):
    kinds = {"id": "id", "user_principal_name": "user_principal_name"}
    with pytest.raises(InputError) as caught:
        selector_from_params({"id": None, "user_principal_name": ""}, kinds, required=required)
    assert caught.value.option == "user_principal_name" and "non-empty" in caught.value.message


@pytest.mark.parametrize("dot_id", ["..", ".", "...", "%2e%2E"])
def test_dot_segment_ids_are_refused_before_any_request(dot_id):
    with pytest.raises(InputError) as caught:
        Selector("id", dot_id, "identity_account_id")
    assert caught.value.option == "identity_account_id" and "dot segment" in caught.value.message


@pytest.mark.parametrize("sid", ["S-1-5-21-\u0661\u0662-3", "S-1-5-21-\uff11-2"])
def test_sids_take_ascii_digits_only(sid):
    with pytest.raises(InputError):
        Selector("on_premises_security_identifier", sid)


def test_nfc_and_ascii_case_are_the_only_equivalences():
    assert match_key("ALICE@Contoso.COM") == match_key("alice@contoso.com")
    assert match_key("Jose\u0301@contoso.com") == match_key("Jos\u00e9@contoso.com")  # NFC joins them
    assert match_key("\u00c9lise@contoso.com") != match_key("\u00e9lise@contoso.com")  # no non-ASCII folding


# --- Entra ID object ids and their S-1-12-1 form --------------------------------------------------------------

MEGAN = "3086863e-1807-524b-8a62-ef7649a1d776"
MEGAN_SID = "S-1-12-1-814122558-1380653063-1995399818-1993843017"  # the seed identity's cloudSecurityIdentifier


def test_cloud_sid_round_trips_to_the_object_id():
    assert object_id_from_cloud_sid(MEGAN_SID) == MEGAN
    assert cloud_sid_from_object_id(MEGAN) == MEGAN_SID
    assert normalize_user_id(MEGAN_SID.lower()) == MEGAN
    assert normalize_user_id(MEGAN.upper()) == MEGAN


def test_microsofts_identity_example_maps_by_account_identifier_not_by_its_s_1_12_4_sid():
    import json
    import pathlib

    example = json.loads((pathlib.Path(__file__).resolve().parents[4] / "tests" / "contract" / "payloads" / "entra" /
                          "identityaccounts-get-example.json").read_text())["value"]
    entra = next(a["identifier"] for a in example["accounts"] if a["provider"] == "EntraID")
    assert normalize_user_id(entra) == "69dfa3ea-1295-4e2c-b469-59564581143d"
    with pytest.raises(InputError, match="S-1-12-4"):
        normalize_user_id(example["cloudSecurityIdentifier"])
