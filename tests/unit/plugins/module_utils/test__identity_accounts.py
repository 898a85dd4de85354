# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the identity-account domain layer against a fake Graph client (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import re
import uuid

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _identity_accounts as ia
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
)
from ansible_collections.msgraph.security.tests.unit.plugins.modules.conftest import (
    FakeGraphClient,
    FakeIdentityTenant,
    account_body,
    documentation_shape,
    identity_body,
    wrap_value,
)

COLLECTION = ia.IDENTITY_ACCOUNTS_PATH
SHAPES = ("schema", "example")

ALICE = identity_body(
    "a1a1a1a1-0000-4000-8000-000000000001",
    "Alice Adams",
    upn="alice@contoso.com",
    sid="S-1-5-21-1004336348-1177238915-682003330-1101",
    accounts=[
        account_body("ad-alice", "activeDirectory", ["disable", "forcePasswordReset"]),
        account_body("okta-alice", "okta", ["disable", "revokeAllSessions"]),
        account_body("entra-alice", "entraID", ["disable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"]),
    ],
)
BOB_DISABLED = identity_body(
    "b0b0b0b0-0000-4000-8000-000000000002",
    "Bob Brown",
    upn="bob@contoso.com",
    sid="S-1-5-21-1004336348-1177238915-682003330-1102",
    is_enabled=False,
    accounts=[account_body("ad-bob", "activeDirectory", ["enable", "forcePasswordReset"])],
)
CHRIS_ONE = identity_body("c1c1c1c1-0000-4000-8000-000000000003", "Chris Smith", upn="chris.smith@contoso.com",
                          accounts=[account_body("ad-chris1", "activeDirectory", ["disable"])])
CHRIS_TWO = identity_body("c2c2c2c2-0000-4000-8000-000000000004", "Chris Smith", upn="chris.smith@fabrikam.com",
                          accounts=[account_body("ad-chris2", "activeDirectory", ["disable"])])
DANA_NO_ACTIONS = identity_body("d4d4d4d4-0000-4000-8000-000000000005", "Dana O'Brien", upn="dana.o'brien@contoso.com",
                                is_enabled=True, accounts=[account_body("okta-dana", "okta")])
BREAK_GLASS = identity_body("e5e5e5e5-0000-4000-8000-000000000006", "Break Glass", upn="breakglass@contoso.com",
                            sid="S-1-5-21-1004336348-1177238915-682003330-500",
                            accounts=[account_body("ad-breakglass", "activeDirectory", ["disable"])])
EVE_TWO_AD = identity_body("f6f6f6f6-0000-4000-8000-000000000007", "Eve Twice", upn="eve@contoso.com",
                           accounts=[account_body("ad-eve-1", "activeDirectory", ["disable"]),
                                     account_body("ad-eve-2", "activeDirectory", ["disable"])])
NO_ACCOUNTS = identity_body("a7a7a7a7-0000-4000-8000-000000000008", "Nobody", upn="nobody@contoso.com", accounts=[])
TENANT = [ALICE, BOB_DISABLED, CHRIS_ONE, CHRIS_TWO, DANA_NO_ACTIONS, BREAK_GLASS, EVE_TWO_AD, NO_ACCOUNTS]


def make_tenant(shape="schema", identities=None, **kwargs):
    return FakeIdentityTenant(identities or TENANT, shape=shape, **kwargs)


def action_request(selector_kind="user_principal_name", value="alice@contoso.com", provider="activeDirectory",
                   action="disable", **kwargs):
    option = kwargs.pop("option", None)
    return ia.ActionRequest(ia.Selector(selector_kind, value, option), provider, action, **kwargs)


# --- enumerations ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling, expected", [
    ("activeDirectory", "activeDirectory"), ("ActiveDirectory", "activeDirectory"), ("ACTIVEDIRECTORY", "activeDirectory"),
    ("active_directory", "activeDirectory"), ("Active Directory", "activeDirectory"),
    ("entraID", "entraID"), ("EntraID", "entraID"), ("entra_id", "entraID"), ("entra-id", "entraID"),
    ("okta", "okta"), ("Okta", "okta"), (" OKTA ", "okta"),
])
def test_identity_provider_spellings_normalize_to_schema_camel_case(spelling, expected):
    assert ia.normalize_identity_provider(spelling) == expected


@pytest.mark.parametrize("spelling, expected", [
    ("disable", "disable"), ("Disable", "disable"), ("ENABLE", "enable"),
    ("ForcePasswordReset", "forcePasswordReset"), ("force_password_reset", "forcePasswordReset"),
    ("revokeAllSessions", "revokeAllSessions"), ("require_user_to_sign_in_again", "requireUserToSignInAgain"),
    ("MarkUserAsCompromised", "markUserAsCompromised"),
])
def test_action_spellings_normalize_to_schema_camel_case(spelling, expected):
    assert ia.normalize_action(spelling) == expected


@pytest.mark.parametrize("value", ["unknownFutureValue", "azureAD", "", None, "ad"])
def test_unknown_identity_provider_is_refused_naming_the_option(value):
    with pytest.raises(InputError) as caught:
        ia.normalize_identity_provider(value)
    assert caught.value.option == "identity_provider"
    assert "activeDirectory" in caught.value.message


@pytest.mark.parametrize("value", ["unknownFutureValue", "deactivate", "delete", ""])
def test_unknown_action_is_refused_naming_the_option(value):
    with pytest.raises(InputError) as caught:
        ia.normalize_action(value)
    assert caught.value.option == "action"


def test_unknown_action_matrix_is_refused():
    with pytest.raises(InputError) as caught:
        ia.normalize_action_matrix("version_c")
    assert caught.value.option == "action_matrix"
    assert ia.normalize_action_matrix(None) == "documented"


# --- provider x action matrix -------------------------------------------------------------------------

ALL_PAIRS = list(itertools.product(ia.IDENTITY_PROVIDERS, ia.ACTIONS))


@pytest.mark.parametrize("matrix", sorted(ia.ACTION_MATRICES))
@pytest.mark.parametrize("provider, action", ALL_PAIRS)
def test_every_pair_outside_the_matrix_is_refused_before_any_request(matrix, provider, action):
    tenant = make_tenant()
    supported = ia.ACTION_MATRICES[matrix][provider]
    if action in supported:
        request = action_request(provider=provider, action=action, action_matrix=matrix)
        assert request.action == action
        return
    with pytest.raises(InputError) as caught:
        request = action_request(provider=provider, action=action, action_matrix=matrix)
        ia.run_identity_action(tenant.client, request)
    assert caught.value.option == "action"
    assert "'{0}'".format(action) in caught.value.message and provider in caught.value.message
    for name in supported:
        assert name in caught.value.message
    assert tenant.client.calls == []


def test_documented_matrix_is_the_invoke_action_page_version_a():
    assert ia.ACTION_MATRICES["documented"] == {
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


# --- input validation ----------------------------------------------------------------------------------


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
        ia.Selector(kind, value, option="the_option")
    assert caught.value.option == "the_option"


def test_sid_is_accepted_case_insensitively_and_written_with_upper_case_s():
    assert ia.Selector("on_premises_security_identifier", "s-1-5-21-1-2-3-1101").value == "S-1-5-21-1-2-3-1101"


def test_selector_from_params_requires_exactly_one():
    kinds = {"identity_account_id": "id", "user_principal_name": "user_principal_name"}
    with pytest.raises(InputError) as none:
        ia.selector_from_params({}, kinds)
    with pytest.raises(InputError) as two:
        ia.selector_from_params({"identity_account_id": "x", "user_principal_name": "a@b"}, kinds)
    assert "one of" in none.value.message and "only one" in two.value.message
    assert ia.selector_from_params({}, kinds, required=False) is None
    selector = ia.selector_from_params({"identity_account_id": "x", "user_principal_name": None}, kinds)
    assert (selector.kind, selector.value, selector.option) == ("id", "x", "identity_account_id")


@pytest.mark.parametrize("required", [True, False])
def test_an_empty_lookup_value_is_refused_not_widened_to_everything(required):
    kinds = {"id": "id", "user_principal_name": "user_principal_name"}
    with pytest.raises(InputError) as caught:
        ia.selector_from_params({"id": None, "user_principal_name": ""}, kinds, required=required)
    assert caught.value.option == "user_principal_name" and "non-empty" in caught.value.message


@pytest.mark.parametrize("account_id", ["", None])
def test_empty_account_id_means_default_account(account_id):
    assert action_request(account_id=account_id).account_id is None


def test_blank_protected_accounts_entry_is_refused():
    with pytest.raises(InputError) as caught:
        action_request(protected_accounts=["ok@contoso.com", " "])
    assert caught.value.option == "protected_accounts"


# --- response parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_parse_identity_gives_the_same_snake_case_dict_for_both_shapes(shape):
    body = documentation_shape(ALICE) if shape == "example" else ALICE
    if shape == "example":
        body = wrap_value(body)
    parsed = ia.parse_identity(body)
    assert parsed == {
        "id": ALICE["id"],
        "display_name": "Alice Adams",
        "domain": "contoso.com",
        "is_enabled": True,
        "on_premises_security_identifier": ALICE["onPremisesSecurityIdentifier"],
        "cloud_security_identifier": ALICE["cloudSecurityIdentifier"],
        "user_principal_name": "alice@contoso.com",
        "email_address": "alice@contoso.com",
        "accounts": [
            {"identifier": "ad-alice", "identity_provider": "activeDirectory", "actions": ["disable", "forcePasswordReset"]},
            {"identifier": "okta-alice", "identity_provider": "okta", "actions": ["disable", "revokeAllSessions"]},
            {"identifier": "entra-alice", "identity_provider": "entraID",
             "actions": ["disable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"]},
        ],
    }


def test_parse_identity_keeps_unknown_enum_members_verbatim():
    parsed = ia.parse_identity({"id": "x", "accounts": [
        {"identifier": "1", "provider": "UnknownFutureValue", "actions": ["Deactivate", "unknownFutureValue", "Enable"]},
        {"identifier": "2", "identityProvider": "ping"},
    ]})
    assert parsed["accounts"][0] == {"identifier": "1", "identity_provider": "unknownFutureValue",
                                     "actions": ["Deactivate", "unknownFutureValue", "enable"]}
    assert parsed["accounts"][1] == {"identifier": "2", "identity_provider": "ping", "actions": None}


def test_parse_identity_tolerates_missing_fields_and_null_accounts():
    parsed = ia.parse_identity({"id": "x", "accounts": None})
    assert parsed["accounts"] == [] and parsed["is_enabled"] is None and parsed["user_principal_name"] is None


def test_parsed_identity_has_no_camel_case_or_odata_keys():
    parsed = ia.parse_identity(wrap_value(documentation_shape(ALICE)))
    keys = set(parsed) | set(itertools.chain.from_iterable(a.keys() for a in parsed["accounts"]))
    assert all(re.match(r"^[a-z_]+$", key) for key in keys), keys


@pytest.mark.parametrize("body", [
    {"accountId": "ad-1", "action": "disable", "identityProvider": "activeDirectory", "correlationId": "c-1"},
    {"value": {"accountId": "ad-1", "action": "Disable", "provider": "ActiveDirectory", "correlationId": "c-1"}},
])
def test_invoke_action_result_is_parsed_from_both_shapes(body):
    sent = {"accountId": "ad-1", "action": "disable", "identityProvider": "activeDirectory"}
    warnings = []
    result = ia.parse_invoke_action_result(body, sent, request_id="r-1", client_request_id="c-r-1", warn=warnings.append)
    assert result == {"account_id": "ad-1", "action": "disable", "identity_provider": "activeDirectory",
                      "correlation_id": "c-1", "request_id": "r-1", "client_request_id": "c-r-1"}
    assert warnings == []


@pytest.mark.parametrize("body", [None, {}, {"value": {"@odata.type": "microsoft.graph.security.invokeActionResult"}}])
def test_invoke_action_result_without_fields_falls_back_to_what_was_sent(body):
    sent = {"accountId": "ad-1", "action": "enable", "identityProvider": "okta"}
    result = ia.parse_invoke_action_result(body, sent, request_id="r", client_request_id="c")
    assert (result["account_id"], result["action"], result["identity_provider"], result["correlation_id"]) == \
        ("ad-1", "enable", "okta", None)


def test_invoke_action_result_echoing_another_account_warns():
    warnings = []
    ia.parse_invoke_action_result({"accountId": "other", "action": "disable", "identityProvider": "okta"},
                                  {"accountId": "ad-1", "action": "disable", "identityProvider": "okta"}, warn=warnings.append)
    assert len(warnings) == 1 and "other" in warnings[0]


# --- lookups -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind, value", [
    ("id", ALICE["id"]),
    ("user_principal_name", "ALICE@contoso.com"),
    ("on_premises_security_identifier", ALICE["onPremisesSecurityIdentifier"]),
    ("display_name", "alice adams"),
    ("account_identifier", "OKTA-alice"),
])
def test_each_lookup_kind_resolves_alice_in_both_shapes(shape, kind, value):
    tenant = make_tenant(shape)
    identity = ia.resolve_identity(tenant.client, ia.Selector(kind, value))
    assert identity["id"] == ALICE["id"]
    assert identity["accounts"][0]["identity_provider"] == "activeDirectory"
    assert tenant.client.posts == []


def test_upn_lookup_sends_an_escaped_server_filter():
    tenant = make_tenant()
    identity = ia.resolve_identity(tenant.client, ia.Selector("user_principal_name", "dana.o'brien@contoso.com"))
    assert identity["id"] == DANA_NO_ACTIONS["id"]
    assert tenant.filters_seen == ["userPrincipalName eq 'dana.o''brien@contoso.com'"]


def test_sid_lookup_uses_the_documented_filter():
    tenant = make_tenant()
    ia.resolve_identity(tenant.client, ia.Selector("on_premises_security_identifier", BOB_DISABLED["onPremisesSecurityIdentifier"]))
    assert tenant.filters_seen == ["onPremisesSecurityIdentifier eq '{0}'".format(BOB_DISABLED["onPremisesSecurityIdentifier"])]


def test_account_identifier_lookup_lists_everything_and_matches_locally():
    tenant = make_tenant()
    found = ia.find_identities(tenant.client, ia.Selector("account_identifier", "ad-bob"))
    assert [i["id"] for i in found] == [BOB_DISABLED["id"]]
    assert tenant.filters_seen == [None]


def test_a_server_that_ignores_the_filter_cannot_widen_the_match():
    tenant = make_tenant(ignore_filter=True)
    found = ia.find_identities(tenant.client, ia.Selector("display_name", "Bob Brown"))
    assert [i["id"] for i in found] == [BOB_DISABLED["id"]]


def test_upn_is_looked_up_on_the_derived_type_first():
    tenant = make_tenant()
    identity = ia.resolve_identity(tenant.client, ia.Selector("user_principal_name", "bob@contoso.com"))
    assert identity["id"] == BOB_DISABLED["id"]
    assert [(c["path"], c["params"]) for c in tenant.client.calls] == [
        (COLLECTION + "/microsoft.graph.security.user", {"$filter": "userPrincipalName eq 'bob@contoso.com'"})]


@pytest.mark.parametrize("cast", ["refuse", "not_implemented", "ignore"])
def test_a_refused_or_ignored_derived_type_query_falls_back_to_the_plain_filter(cast):
    tenant = make_tenant(cast=cast)
    warnings = []
    identity = ia.resolve_identity(tenant.client, ia.Selector("email_address", "bob@contoso.com"), warnings.append)
    assert identity["id"] == BOB_DISABLED["id"]
    if cast == "ignore":  # the ignored answer listed every user: matched locally, no further query
        assert tenant.client.calls_of("GET_ALL")[-1]["params"] is None and "ignored" in warnings[0]
    else:
        expected = {"method": "GET_ALL", "path": COLLECTION, "params": {"$filter": "emailAddress eq 'bob@contoso.com'"},
                    "permission": ia.READ_PERMISSION}
        assert tenant.client.calls_of("GET_ALL")[-1] == expected
        assert len(warnings) == 1 and "refused" in warnings[0]


def test_a_refused_upn_filter_on_both_routes_falls_back_to_one_scan_with_warnings():
    tenant = make_tenant(refuse_filters=("userPrincipalName",), cast="refuse")
    warnings = []
    identity = ia.resolve_identity(tenant.client, ia.Selector("user_principal_name", "bob@contoso.com"), warnings.append)
    assert identity["id"] == BOB_DISABLED["id"]
    assert tenant.filters_seen == ["userPrincipalName eq 'bob@contoso.com'", None] and tenant.scans == 1
    assert len(warnings) == 2 and all("userPrincipalName" in warning for warning in warnings)


def test_a_server_error_is_not_a_reason_to_fall_back():
    tenant = make_tenant(cast="server_error")
    with pytest.raises(GraphError) as caught:
        ia.find_identities(tenant.client, ia.Selector("user_principal_name", "bob@contoso.com"))
    assert caught.value.status == 503 and tenant.scans == 0


def test_a_refused_sid_filter_falls_back_to_a_scan_matched_exactly():
    tenant = make_tenant(refuse_filters=("onPremisesSecurityIdentifier",))
    found = ia.find_identities(tenant.client, ia.Selector("on_premises_security_identifier", BOB_DISABLED["onPremisesSecurityIdentifier"]))
    assert [identity["id"] for identity in found] == [BOB_DISABLED["id"]]
    assert tenant.filters_seen == ["onPremisesSecurityIdentifier eq '{0}'".format(BOB_DISABLED["onPremisesSecurityIdentifier"]), None]


@pytest.mark.parametrize("look_alike, real", [
    ("\ufb01nance@contoso.com", "finance@contoso.com"),     # the 'fi' ligature casefolds to 'fi'
    ("strasse@contoso.com", "STRA\u00dfE@contoso.com"),     # casefold() turns the sharp s into 'ss'
    ("\u0430lice@contoso.com", "alice@contoso.com"),        # Cyrillic a
])
@pytest.mark.parametrize("refused", [False, True])
def test_a_look_alike_never_matches_another_account(look_alike, real, refused):
    victim = identity_body("9a9a9a9a-0000-4000-8000-000000000009", "Victim", upn=real,
                           accounts=[account_body("ad-victim", "activeDirectory", ["disable"])])
    # refused: the scan path; otherwise a server whose eq folds case the Unicode way answers the victim
    tenant = make_tenant(identities=[victim], refuse_filters=("userPrincipalName",) if refused else (),
                         cast="refuse" if refused else "ignore")
    with pytest.raises(ia.IdentityResolutionError):
        ia.run_identity_action(tenant.client, action_request(value=look_alike))
    assert tenant.client.posts == []


def test_nfc_and_ascii_case_are_the_only_equivalences():
    assert ia.match_key("ALICE@Contoso.COM") == ia.match_key("alice@contoso.com")
    assert ia.match_key("Jose\u0301@contoso.com") == ia.match_key("Jos\u00e9@contoso.com")  # NFC joins them
    assert ia.match_key("\u00c9lise@contoso.com") != ia.match_key("\u00e9lise@contoso.com")  # no non-ASCII folding


def test_raw_filter_is_passed_through_unchanged():
    tenant = make_tenant()
    found = ia.find_identities(tenant.client, ia.Selector("filter", "displayName eq 'Chris Smith'"))
    assert sorted(i["id"] for i in found) == sorted([CHRIS_ONE["id"], CHRIS_TWO["id"]])
    assert tenant.client.calls[0]["params"] == {"$filter": "displayName eq 'Chris Smith'"}


def test_find_by_unknown_id_returns_nothing_but_resolve_raises_the_404():
    not_found = GraphError("Resource not found", status=404, code="NotFound", request_id="req-404")
    client = FakeGraphClient(routes={("GET", ia.identity_path("missing")): not_found})
    assert ia.find_identities(client, ia.Selector("id", "missing")) == []
    with pytest.raises(GraphError) as caught:
        ia.resolve_identity(client, ia.Selector("id", "missing", "identity_account_id"))
    assert caught.value.code == "NotFound" and caught.value.request_id == "req-404"
    assert "no identity account has id 'missing'" in caught.value.hint and "identity_account_info" in caught.value.hint


def test_a_403_on_lookup_is_not_swallowed():
    forbidden = GraphError("Missing role", status=403, code="Forbidden", required_permission="SecurityIdentitiesAccount.Read.All")
    client = FakeGraphClient(routes={("GET", ia.identity_path("x")): forbidden})
    with pytest.raises(GraphError) as caught:
        ia.find_identities(client, ia.Selector("id", "x"))
    assert caught.value.status == 403


def test_identity_ids_are_percent_encoded_in_the_path():
    assert ia.identity_path("a%b") == COLLECTION + "/a%25b"


@pytest.mark.parametrize("shape", SHAPES)
def test_ambiguous_display_name_fails_closed_listing_every_match(shape):
    tenant = make_tenant(shape)
    with pytest.raises(ia.IdentityResolutionError) as caught:
        ia.run_identity_action(tenant.client, action_request("display_name", "Chris Smith", option="display_name"))
    error = caught.value
    assert error.option == "display_name"
    assert sorted(m["id"] for m in error.matches) == sorted([CHRIS_ONE["id"], CHRIS_TWO["id"]])
    assert {m["user_principal_name"] for m in error.matches} == {"chris.smith@contoso.com", "chris.smith@fabrikam.com"}
    assert CHRIS_ONE["id"] in error.message and "identity_account_id" in error.message
    assert tenant.client.posts == []


def test_no_match_fails_closed():
    tenant = make_tenant()
    with pytest.raises(ia.IdentityResolutionError) as caught:
        ia.run_identity_action(tenant.client, action_request(value="nobody-here@contoso.com"))
    assert caught.value.matches == [] and "no identity account matches" in caught.value.message
    assert isinstance(caught.value, InputError)
    assert tenant.client.posts == []


# --- guards -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", [
    "BreakGlass@Contoso.com",  # UPN, case-insensitive
    BREAK_GLASS["id"].upper(),  # identity id
    "s-1-5-21-1004336348-1177238915-682003330-500",  # on-premises SID
    BREAK_GLASS["cloudSecurityIdentifier"],  # cloud SID
    "AD-BREAKGLASS",  # provider account identifier
])
def test_protected_accounts_are_refused_whatever_identifier_names_them(entry):
    tenant = make_tenant()
    request = action_request(value="breakglass@contoso.com", protected_accounts=["someone@contoso.com", entry])
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, request, check_mode=True)
    assert caught.value.option == "protected_accounts"
    assert entry in caught.value.message
    assert tenant.client.posts == []


def test_an_account_id_the_identity_does_not_list_is_refused_even_when_it_lists_none():
    tenant = make_tenant()
    # BREAK_GLASS is protected; naming its account under an identity that lists no accounts must not reach it.
    request = action_request(value="nobody@contoso.com", account_id="ad-breakglass", protected_accounts=["breakglass@contoso.com"])
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, request)
    assert caught.value.option == "account_id" and "lists no accounts" in caught.value.message
    assert tenant.client.posts == []


@pytest.mark.parametrize("entry", ["Break Glass", "CONTOSO\\breakglass"])
def test_protected_entries_that_can_never_match_are_named_in_a_warning(entry):
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(protected_accounts=[entry, "x@contoso.com"]), check_mode=True)
    assert any("'{0}'".format(entry) in warning and "never match" in warning for warning in result["warnings"])
    assert not any("x@contoso.com" in warning for warning in result["warnings"])


def test_protected_entries_are_compared_after_nfc_normalization():
    decomposed = identity_body("9b9b9b9b-0000-4000-8000-00000000000a", "Jose", upn="Jose\u0301@contoso.com",
                               accounts=[account_body("ad-jose", "activeDirectory", ["disable"])])
    tenant = make_tenant(identities=[decomposed])
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, action_request(value="Jose\u0301@contoso.com", protected_accounts=["jos\u00e9@CONTOSO.com"]))
    assert caught.value.option == "protected_accounts"


def test_unprotected_identity_passes_the_guard():
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(protected_accounts=["breakglass@contoso.com"]), check_mode=True)
    assert result["changed"] is True


@pytest.mark.parametrize("evil_id", ["x/../../other", "..", ".", "%2e%2e", "%2E", "a%2fb"])
def test_an_unsafe_id_returned_by_the_service_is_refused_before_posting(evil_id):
    evil = identity_body(evil_id, "Evil", upn="evil@contoso.com", accounts=[account_body("ad-evil", "activeDirectory")])
    client = FakeGraphClient(collections={COLLECTION + "/microsoft.graph.security.user": lambda params: [evil]})
    with pytest.raises(InputError):
        ia.run_identity_action(client, action_request(value="evil@contoso.com"))
    assert client.posts == []


@pytest.mark.parametrize("dot_id", ["..", ".", "...", "%2e%2E"])
def test_dot_segment_ids_are_refused_before_any_request(dot_id):
    with pytest.raises(InputError) as caught:
        ia.Selector("id", dot_id, "identity_account_id")
    assert caught.value.option == "identity_account_id" and "dot segment" in caught.value.message


@pytest.mark.parametrize("sid", ["S-1-5-21-\u0661\u0662-3", "S-1-5-21-\uff11-2"])
def test_sids_take_ascii_digits_only(sid):
    with pytest.raises(InputError):
        ia.Selector("on_premises_security_identifier", sid)


# --- account selection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider, expected", [("activeDirectory", "ad-alice"), ("okta", "okta-alice")])
def test_default_account_is_the_identitys_account_for_the_provider(provider, expected):
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(provider=provider), check_mode=True)
    assert result["request"]["body"]["accountId"] == expected


def test_identity_without_an_account_for_the_provider_is_refused_listing_its_accounts():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, action_request(value="bob@contoso.com", provider="okta"))
    assert caught.value.option == "identity_provider"
    assert "ad-bob (activeDirectory)" in caught.value.message


def test_two_accounts_for_the_provider_require_account_id():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, action_request(value="eve@contoso.com"))
    assert caught.value.option == "account_id" and "ad-eve-1" in caught.value.message
    result = ia.run_identity_action(tenant.client, action_request(value="eve@contoso.com", account_id="AD-EVE-2"), check_mode=True)
    assert result["request"]["body"]["accountId"] == "ad-eve-2"


def test_account_id_of_another_provider_is_refused():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, action_request(account_id="okta-alice"))
    assert caught.value.option == "account_id" and "okta" in caught.value.message


def test_account_id_not_on_the_identity_is_refused():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, action_request(account_id="ad-bob"))
    assert caught.value.option == "account_id" and "ad-alice" in caught.value.message
    assert tenant.client.posts == []


def test_account_id_is_refused_when_the_identity_lists_no_accounts():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, action_request(value="nobody@contoso.com", account_id="ad-nobody"))
    assert caught.value.option == "account_id" and "account_identifier=ad-nobody" in caught.value.message
    assert tenant.client.posts == []


# --- idempotency ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_disable_then_disable_again_is_unchanged_the_second_time(shape):
    tenant = make_tenant(shape)
    first = ia.run_identity_action(tenant.client, action_request())
    second = ia.run_identity_action(tenant.client, action_request())
    assert first["changed"] is True and first["outcome"] == "sent"
    assert second["changed"] is False and second["outcome"] == "unchanged"
    assert "already disabled" in second["reason"]
    assert len(tenant.client.posts) == 1
    assert "request" not in second and "invoke_action_result" not in second


@pytest.mark.parametrize("shape", SHAPES)
def test_enable_on_a_disabled_identity_sends_and_enable_again_is_unchanged(shape):
    tenant = make_tenant(shape)
    assert ia.run_identity_action(tenant.client, action_request(value="bob@contoso.com", action="enable"))["changed"] is True
    again = ia.run_identity_action(tenant.client, action_request(value="bob@contoso.com", action="enable"))
    assert again["changed"] is False and "already enabled" in again["reason"]
    assert len(tenant.client.posts) == 1


@pytest.mark.parametrize("actions", [None, []])
def test_is_enabled_alone_never_skips_a_disable(actions):
    # Microsoft's List example lists no actions: the only evidence is isEnabled, which alone cannot skip it.
    disabled = dict(DANA_NO_ACTIONS, isEnabled=False, accounts=[account_body("okta-dana", "okta", actions)])
    tenant = make_tenant(identities=[disabled])
    result = ia.run_identity_action(tenant.client, action_request(value=disabled["userPrincipalName"], provider="okta"))
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert result["state_evidence"]["account_actions_say_done"] is None
    assert any("do not confirm" in w for w in result["warnings"])


def test_unchanged_only_when_is_enabled_and_the_offered_actions_agree():
    identity = dict(ALICE, isEnabled=False, accounts=[account_body("ad-alice", "activeDirectory", ["enable", "forcePasswordReset"])])
    tenant = make_tenant(identities=[identity])
    result = ia.run_identity_action(tenant.client, action_request())
    assert result["changed"] is False and "already disabled" in result["reason"] and "offers enable" in result["reason"]
    assert result["state_evidence"]["is_enabled_says_done"] is True and result["state_evidence"]["account_actions_say_done"] is True
    assert tenant.client.posts == []


@pytest.mark.parametrize("shape", SHAPES)
def test_get_example_one_contradiction_is_sent_not_skipped(shape):
    # Microsoft's Get example 1: isEnabled true while the AD account lists only Enable.
    identity = dict(ALICE, isEnabled=True, accounts=[account_body("ad-alice", "activeDirectory", ["enable"])])
    tenant = make_tenant(shape, identities=[identity])
    result = ia.run_identity_action(tenant.client, action_request())
    assert result["changed"] is True and result["outcome"] == "sent" and len(tenant.client.posts) == 1
    assert "disagrees" in result["state_evidence"]["note"]
    assert sum("disagrees" in w for w in result["warnings"]) == 1 and not any("lists the actions" in w for w in result["warnings"])


def test_account_still_offering_disable_is_sent_even_if_is_enabled_is_false():
    # A wrongly skipped containment is worse than a redundant one.
    identity = dict(ALICE, isEnabled=False)
    tenant = make_tenant(identities=[identity])
    result = ia.run_identity_action(tenant.client, action_request())
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert any("disagrees" in w for w in result["warnings"])


@pytest.mark.parametrize("action", ["forcePasswordReset"])
def test_command_actions_are_sent_every_time(action):
    tenant = make_tenant()
    for _attempt in range(2):
        assert ia.run_identity_action(tenant.client, action_request(action=action))["changed"] is True
    assert len(tenant.client.posts) == 2


def test_command_action_the_account_does_not_list_is_sent_with_a_warning():
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(value="chris.smith@contoso.com", action="forcePasswordReset"))
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert any("lists the actions disable, not 'forcePasswordReset'" in w for w in result["warnings"])


def test_require_offered_action_refuses_an_action_the_account_does_not_list():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        ia.run_identity_action(tenant.client, action_request(value="chris.smith@contoso.com", action="forcePasswordReset",
                                                             require_offered_action=True), check_mode=True)
    assert caught.value.option == "require_offered_action" and "disable" in caught.value.message
    assert tenant.client.posts == []


@pytest.mark.parametrize("strict", [False, True])
def test_an_empty_actions_list_is_no_reason_to_refuse(strict):
    identity = dict(ALICE, accounts=[account_body("ad-alice", "activeDirectory", [])])
    tenant = make_tenant(identities=[identity])
    result = ia.run_identity_action(tenant.client, action_request(action="forcePasswordReset", require_offered_action=strict))
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert result["warnings"] == []


# --- check mode and diff ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_check_mode_returns_the_exact_request_and_posts_nothing(shape):
    tenant = make_tenant(shape)
    request = action_request(value="Alice@Contoso.com", provider="ActiveDirectory", action="Disable")
    result = ia.run_identity_action(tenant.client, request, check_mode=True)
    assert result["changed"] is True and result["outcome"] == "check_mode"
    assert result["request"] == {
        "method": "POST",
        "url": "https://graph.fake.test/beta/security/identities/identityAccounts/{0}/invokeAction".format(ALICE["id"]),
        "body": {"accountId": "ad-alice", "action": "disable", "identityProvider": "activeDirectory"},
    }
    assert tenant.client.posts == []
    assert "invoke_action_result" not in result
    assert result["identity_account"]["is_enabled"] is True


def test_check_mode_on_an_already_disabled_identity_reports_no_change():
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(value="bob@contoso.com"), check_mode=True)
    assert result["changed"] is False and "request" not in result


def test_diff_predicts_is_enabled_and_available_actions_for_disable():
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(), check_mode=True)
    assert result["diff"] == {
        "before": {"is_enabled": True, "actions": ["disable", "forcePasswordReset"]},
        "after": {"is_enabled": False, "actions": ["enable", "forcePasswordReset"]},
    }


def test_diff_of_a_command_action_shows_no_state_change():
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(action="forcePasswordReset"), check_mode=True)
    assert result["diff"]["before"] == result["diff"]["after"]


def test_diff_of_an_unchanged_run_is_equal_before_and_after():
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request(value="bob@contoso.com"))
    assert result["diff"]["before"] == result["diff"]["after"] == {"is_enabled": False, "actions": ["enable", "forcePasswordReset"]}


# --- sending -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_the_request_body_is_built_from_normalized_values_only(shape):
    tenant = make_tenant(shape)
    result = ia.run_identity_action(tenant.client, action_request(provider="OKTA", action="Revoke_All_Sessions"))
    post = tenant.client.posts[0]
    assert post["path"] == ia.identity_path(ALICE["id"]) + "/invokeAction"
    assert post["body"] == {"accountId": "okta-alice", "action": "revokeAllSessions", "identityProvider": "okta"}
    assert result["invoke_action_result"] == {
        "account_id": "okta-alice", "action": "revokeAllSessions", "identity_provider": "okta",
        "correlation_id": "corr-okta-alice", "request_id": "req-post-1", "client_request_id": post["client_request_id"],
    }


def test_each_write_gets_a_fresh_client_request_id():
    tenant = make_tenant()
    for _attempt in range(2):
        ia.run_identity_action(tenant.client, action_request(action="forcePasswordReset"))
    ids = [post["client_request_id"] for post in tenant.client.posts]
    assert len(set(ids)) == 2
    assert all(str(uuid.UUID(value)) == value for value in ids)


def test_the_identity_is_returned_as_it_was_before_the_action():
    tenant = make_tenant()
    result = ia.run_identity_action(tenant.client, action_request())
    assert result["identity_account"]["is_enabled"] is True
    assert tenant.identities[ALICE["id"]]["isEnabled"] is False


def test_every_call_names_the_permission_it_needs_so_a_403_can_say_it():
    tenant = make_tenant()
    ia.run_identity_action(tenant.client, action_request())
    assert {(c["method"], c["permission"]) for c in tenant.client.calls} == {
        ("GET_ALL", "SecurityIdentitiesAccount.Read.All"), ("POST", "SecurityIdentitiesActions.ReadWrite.All")}


def test_lookup_by_id_reads_the_identity_with_one_get():
    tenant = make_tenant()
    ia.run_identity_action(tenant.client, action_request("id", ALICE["id"], option="identity_account_id"), check_mode=True)
    assert [c["method"] for c in tenant.client.calls] == ["GET"]


# --- unknown outcome ------------------------------------------------------------------------------------------------


def _timeout():
    return GraphOutcomeUnknownError("The request timed out after 30 s", status=None, code="Timeout", method="POST",
                                    url="https://graph.fake.test/beta/x")


class FakeWait(ia.ReconcileWait):
    """A reconcile wait on a fake clock: ``sleeps`` records each pause, ``on_sleep`` runs during it."""

    def __init__(self, timeout=30, on_sleep=None):
        self.now = 0.0
        self.sleeps = []
        self.on_sleep = on_sleep
        super(FakeWait, self).__init__(timeout, sleep=self._sleep, clock=lambda: self.now)

    def _sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(len(self.sleeps))


@pytest.mark.parametrize("shape", SHAPES)
def test_disable_with_unknown_outcome_is_reconciled_when_the_state_shows_it(shape):
    tenant = make_tenant(shape, post_error=_timeout(), apply_on_error=True)
    result = ia.run_identity_action(tenant.client, action_request(reconcile=FakeWait()))
    assert result["changed"] is True and result["outcome"] == "reconciled"
    post = tenant.client.posts[0]
    assert len(tenant.client.posts) == 1
    assert result["invoke_action_result"]["client_request_id"] == post["client_request_id"]
    assert result["invoke_action_result"]["correlation_id"] is None
    assert any("now shows it disabled" in w for w in result["warnings"])
    # The re-read is a GET of the identity after the POST.
    assert tenant.client.calls[-1] == {"method": "GET", "path": ia.identity_path(ALICE["id"]), "params": None,
                                       "permission": "SecurityIdentitiesAccount.Read.All"}


def test_reconciliation_waits_for_the_state_to_propagate():
    tenant = make_tenant(post_error=_timeout())
    # The service applies the disable only after three pauses, as Defender for Identity does asynchronously.
    wait = FakeWait(on_sleep=lambda count: tenant._apply(ALICE["id"], {"action": "disable", "accountId": "ad-alice"}) if count == 3 else None)
    result = ia.run_identity_action(tenant.client, action_request(reconcile=wait))
    assert result["outcome"] == "reconciled" and len(tenant.client.posts) == 1
    assert wait.sleeps == [2.0, 4.0, 8.0]
    assert len(tenant.client.calls_of("GET")) == 4 and any("read 4 time(s)" in w for w in result["warnings"])


def test_reconciliation_gives_up_at_reconcile_timeout():
    tenant = make_tenant(post_error=_timeout())
    wait = FakeWait(timeout=15)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        ia.run_identity_action(tenant.client, action_request(reconcile=wait))
    assert sum(wait.sleeps) == 15 and wait.sleeps == [2.0, 4.0, 8.0, 1.0]
    assert "5 read(s)" in caught.value.message and "may still be applied" in caught.value.message


def test_a_prior_is_enabled_false_is_no_proof_after_an_unknown_outcome():
    # No actions listed, isEnabled already false before the POST: a re-read showing false proves nothing.
    identity = dict(DANA_NO_ACTIONS, isEnabled=False)
    tenant = make_tenant(identities=[identity], post_error=_timeout())
    with pytest.raises(GraphOutcomeUnknownError):
        ia.run_identity_action(tenant.client, action_request(value=identity["userPrincipalName"], provider="okta",
                                                             reconcile=FakeWait(timeout=0)))
    assert len(tenant.client.posts) == 1


def test_disable_with_unknown_outcome_fails_when_the_state_does_not_show_it():
    server_error = GraphOutcomeUnknownError("Internal Server Error", status=500, code="InternalServerError", request_id="req-500")
    tenant = make_tenant(post_error=server_error)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        ia.run_identity_action(tenant.client, action_request(reconcile=FakeWait(timeout=4)))
    error = caught.value
    post = tenant.client.posts[0]
    assert len(tenant.client.posts) == 1
    assert error.client_request_id == post["client_request_id"]
    assert error.request_id == "req-500" and error.status == 500
    assert "may still be applied" in error.message
    assert "Action center" in error.hint and post["client_request_id"] in error.hint


@pytest.mark.parametrize("action", ["forcePasswordReset"])
def test_command_action_with_unknown_outcome_fails_without_resending_or_rereading(action):
    tenant = make_tenant(post_error=_timeout(), apply_on_error=True)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        ia.run_identity_action(tenant.client, action_request(action=action))
    assert [c["method"] for c in tenant.client.calls] == ["GET_ALL", "POST"]
    assert caught.value.client_request_id == tenant.client.posts[0]["client_request_id"]
    assert "Action center" in str(caught.value)


def test_unknown_outcome_with_a_failing_reread_still_reports_the_client_request_id():
    tenant = make_tenant(post_error=_timeout())
    reads = {"count": 0}
    original = tenant.client.routes[("GET", ia.identity_path(ALICE["id"]))]

    def flaky_get(path, params):
        reads["count"] += 1
        raise GraphError("Service unavailable", status=503)

    tenant.client.routes[("GET", ia.identity_path(ALICE["id"]))] = flaky_get
    assert original is not None
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        ia.run_identity_action(tenant.client, action_request())
    assert reads["count"] == 1
    assert "re-reading the identity failed" in caught.value.message
    assert caught.value.client_request_id == tenant.client.posts[0]["client_request_id"]
