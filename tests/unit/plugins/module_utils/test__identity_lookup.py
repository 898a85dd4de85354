# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of reading, parsing and finding identity accounts against a fake Graph client (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import re

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import run_identity_action
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import (
    READ_PERMISSION,
    IdentityResolutionError,
    find_identities,
    identity_path,
    parse_identity,
    resolve_identity,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import Selector
from ansible_collections.msgraph.security.tests.unit.plugins.module_utils.identity_samples import (
    ALICE,
    BOB_DISABLED,
    CHRIS_ONE,
    CHRIS_TWO,
    COLLECTION,
    DANA_NO_ACTIONS,
    SHAPES,
    action_request,
    make_tenant,
)
from ansible_collections.msgraph.security.tests.unit.fakes import (
    FakeGraphClient,
    account_body,
    documentation_shape,
    identity_body,
    wrap_value,
)


# --- response parsing -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_parse_identity_gives_the_same_snake_case_dict_for_both_shapes(shape):
    body = documentation_shape(ALICE) if shape == "example" else ALICE
    if shape == "example":
        body = wrap_value(body)
    parsed = parse_identity(body)
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
    parsed = parse_identity({"id": "x", "accounts": [
        {"identifier": "1", "provider": "UnknownFutureValue", "actions": ["Deactivate", "unknownFutureValue", "Enable"]},
        {"identifier": "2", "identityProvider": "ping"},
    ]})
    assert parsed["accounts"][0] == {"identifier": "1", "identity_provider": "unknownFutureValue",
                                     "actions": ["Deactivate", "unknownFutureValue", "enable"]}
    assert parsed["accounts"][1] == {"identifier": "2", "identity_provider": "ping", "actions": None}


def test_parse_identity_tolerates_missing_fields_and_null_accounts():
    parsed = parse_identity({"id": "x", "accounts": None})
    assert parsed["accounts"] == [] and parsed["is_enabled"] is None and parsed["user_principal_name"] is None


def test_parsed_identity_has_no_camel_case_or_odata_keys():
    parsed = parse_identity(wrap_value(documentation_shape(ALICE)))
    keys = set(parsed) | set(itertools.chain.from_iterable(a.keys() for a in parsed["accounts"]))
    assert all(re.match(r"^[a-z_]+$", key) for key in keys), keys


# --- lookups --------------------------------------------------------------------------------------

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
    identity = resolve_identity(tenant.client, Selector(kind, value))
    assert identity["id"] == ALICE["id"]
    assert identity["accounts"][0]["identity_provider"] == "activeDirectory"
    assert tenant.client.posts == []


def test_upn_lookup_sends_an_escaped_server_filter():
    tenant = make_tenant()
    identity = resolve_identity(tenant.client, Selector("user_principal_name", "dana.o'brien@contoso.com"))
    assert identity["id"] == DANA_NO_ACTIONS["id"]
    assert tenant.filters_seen == ["userPrincipalName eq 'dana.o''brien@contoso.com'"]


def test_sid_lookup_uses_the_documented_filter():
    tenant = make_tenant()
    resolve_identity(tenant.client, Selector("on_premises_security_identifier", BOB_DISABLED["onPremisesSecurityIdentifier"]))
    assert tenant.filters_seen == ["onPremisesSecurityIdentifier eq '{0}'".format(BOB_DISABLED["onPremisesSecurityIdentifier"])]


def test_account_identifier_lookup_lists_everything_and_matches_locally():
    tenant = make_tenant()
    found = find_identities(tenant.client, Selector("account_identifier", "ad-bob"))
    assert [i["id"] for i in found] == [BOB_DISABLED["id"]]
    assert tenant.filters_seen == [None]


def test_a_server_that_ignores_the_filter_cannot_widen_the_match():
    tenant = make_tenant(ignore_filter=True)
    found = find_identities(tenant.client, Selector("display_name", "Bob Brown"))
    assert [i["id"] for i in found] == [BOB_DISABLED["id"]]


def test_upn_is_looked_up_on_the_derived_type_first():
    tenant = make_tenant()
    identity = resolve_identity(tenant.client, Selector("user_principal_name", "bob@contoso.com"))
    assert identity["id"] == BOB_DISABLED["id"]
    assert [(c["path"], c["params"]) for c in tenant.client.calls] == [
        (COLLECTION + "/microsoft.graph.security.user", {"$filter": "userPrincipalName eq 'bob@contoso.com'"})]


@pytest.mark.parametrize("cast", ["refuse", "not_implemented", "ignore"])
def test_a_refused_or_ignored_derived_type_query_falls_back_to_the_plain_filter(cast):
    tenant = make_tenant(cast=cast)
    warnings = []
    identity = resolve_identity(tenant.client, Selector("email_address", "bob@contoso.com"), warnings.append)
    assert identity["id"] == BOB_DISABLED["id"]
    if cast == "ignore":  # the ignored answer listed every user: matched locally, no further query
        assert tenant.client.calls_of("GET_ALL")[-1]["params"] is None and "ignored" in warnings[0]
    else:
        expected = {"method": "GET_ALL", "path": COLLECTION, "params": {"$filter": "emailAddress eq 'bob@contoso.com'"},
                    "permission": READ_PERMISSION}
        assert tenant.client.calls_of("GET_ALL")[-1] == expected
        assert len(warnings) == 1 and "refused" in warnings[0]


def test_a_refused_upn_filter_on_both_routes_falls_back_to_one_scan_with_warnings():
    tenant = make_tenant(refuse_filters=("userPrincipalName",), cast="refuse")
    warnings = []
    identity = resolve_identity(tenant.client, Selector("user_principal_name", "bob@contoso.com"), warnings.append)
    assert identity["id"] == BOB_DISABLED["id"]
    assert tenant.filters_seen == ["userPrincipalName eq 'bob@contoso.com'", None] and tenant.scans == 1
    assert len(warnings) == 2 and all("userPrincipalName" in warning for warning in warnings)


def test_a_server_error_is_not_a_reason_to_fall_back():
    tenant = make_tenant(cast="server_error")
    with pytest.raises(GraphError) as caught:
        find_identities(tenant.client, Selector("user_principal_name", "bob@contoso.com"))
    assert caught.value.status == 503 and tenant.scans == 0


def test_a_refused_sid_filter_falls_back_to_a_scan_matched_exactly():
    tenant = make_tenant(refuse_filters=("onPremisesSecurityIdentifier",))
    found = find_identities(tenant.client, Selector("on_premises_security_identifier", BOB_DISABLED["onPremisesSecurityIdentifier"]))
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
    with pytest.raises(IdentityResolutionError):
        run_identity_action(tenant.client, action_request(value=look_alike))
    assert tenant.client.posts == []


def test_raw_filter_is_passed_through_unchanged():
    tenant = make_tenant()
    found = find_identities(tenant.client, Selector("filter", "displayName eq 'Chris Smith'"))
    assert sorted(i["id"] for i in found) == sorted([CHRIS_ONE["id"], CHRIS_TWO["id"]])
    assert tenant.client.calls[0]["params"] == {"$filter": "displayName eq 'Chris Smith'"}


def test_find_by_unknown_id_returns_nothing_but_resolve_raises_the_404():
    not_found = GraphError("Resource not found", status=404, code="NotFound", request_id="req-404")
    client = FakeGraphClient(routes={("GET", identity_path("missing")): not_found})
    assert find_identities(client, Selector("id", "missing")) == []
    with pytest.raises(GraphError) as caught:
        resolve_identity(client, Selector("id", "missing", "identity_account_id"))
    assert caught.value.code == "NotFound" and caught.value.request_id == "req-404"
    assert "no identity account has id 'missing'" in caught.value.hint and "identity_account_info" in caught.value.hint


def test_a_403_on_lookup_is_not_swallowed():
    forbidden = GraphError("Missing role", status=403, code="Forbidden", required_permission="SecurityIdentitiesAccount.Read.All")
    client = FakeGraphClient(routes={("GET", identity_path("x")): forbidden})
    with pytest.raises(GraphError) as caught:
        find_identities(client, Selector("id", "x"))
    assert caught.value.status == 403


def test_identity_ids_are_percent_encoded_in_the_path():
    assert identity_path("a%b") == COLLECTION + "/a%25b"


# --- exactly one identity -------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_ambiguous_display_name_fails_closed_listing_every_match(shape):
    tenant = make_tenant(shape)
    with pytest.raises(IdentityResolutionError) as caught:
        run_identity_action(tenant.client, action_request("display_name", "Chris Smith", option="display_name"))
    error = caught.value
    assert error.option == "display_name"
    assert sorted(m["id"] for m in error.matches) == sorted([CHRIS_ONE["id"], CHRIS_TWO["id"]])
    assert {m["user_principal_name"] for m in error.matches} == {"chris.smith@contoso.com", "chris.smith@fabrikam.com"}
    assert CHRIS_ONE["id"] in error.message and "identity_account_id" in error.message
    assert tenant.client.posts == []


def test_no_match_fails_closed():
    tenant = make_tenant()
    with pytest.raises(IdentityResolutionError) as caught:
        run_identity_action(tenant.client, action_request(value="nobody-here@contoso.com"))
    assert caught.value.matches == [] and "no identity account matches" in caught.value.message
    assert isinstance(caught.value, InputError)
    assert tenant.client.posts == []
