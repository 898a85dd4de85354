# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level unit tests of identity_account_info: parameters in, exit_json out, docs in step."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import IDENTITY_ACCOUNTS_PATH, identity_path, parse_identity
from ansible_collections.msgraph.security.plugins.modules import identity_account_info as module
from ansible_collections.msgraph.security.tests.unit.fakes import ALICE, FakeGraphClient, FakeIdentityTenant, account_body, identity_body
from ansible_collections.msgraph.security.tests.unit.module_runner import run_module, undocumented_keys

BOB = identity_body("b0b0b0b0-0000-4000-8000-000000000002", "Bob Brown", upn="bob@contoso.com", is_enabled=False,
                    accounts=[account_body("ad-bob", "activeDirectory", ["enable"])])


@pytest.fixture(params=["schema", "example"])
def tenant(request, fake_graph):
    tenant = FakeIdentityTenant([ALICE, BOB], shape=request.param)
    fake_graph(tenant.client)
    return tenant


def run(args, **kwargs):
    return run_module(module.main, args, **kwargs)


def test_without_a_lookup_every_identity_is_listed_in_snake_case(tenant):
    result = run({})
    assert result["changed"] is False and "failed" not in result
    assert [i["id"] for i in result["identity_accounts"]] == [ALICE["id"], BOB["id"]]
    assert result["identity_accounts"][0]["accounts"][0] == {
        "identifier": "ad-alice", "identity_provider": "activeDirectory", "actions": ["disable", "forcePasswordReset"]}
    assert undocumented_keys(module, result) == []


@pytest.mark.parametrize("option, value", [
    ("id", ALICE["id"]),
    ("identity_account_id", ALICE["id"]),  # the alias: the name identity_account_action uses
    ("user_principal_name", "Alice@Contoso.com"),
    ("email_address", "ALICE@contoso.com"),
    ("on_premises_security_identifier", "S-1-5-21-1-2-3-1101"),
    ("display_name", "ALICE ADAMS"),
    ("account_identifier", "okta-alice"),
    ("filter", "userPrincipalName eq 'alice@contoso.com'"),
])
def test_each_lookup_option_finds_alice(tenant, option, value):
    result = run({option: value})
    assert [i["id"] for i in result["identity_accounts"]] == [ALICE["id"]], result
    assert tenant.client.posts == []


def test_nothing_found_is_an_empty_list_not_a_failure(tenant):
    result = run({"user_principal_name": "nobody@contoso.com"})
    assert result["identity_accounts"] == [] and "failed" not in result


def test_unknown_id_is_an_empty_list(fake_graph):
    not_found = GraphError("Not found", status=404, code="NotFound")
    fake_graph(FakeGraphClient(routes={("GET", identity_path("missing")): not_found}))
    assert run({"id": "missing"})["identity_accounts"] == []


def test_two_lookups_at_once_are_refused(tenant):
    result = run({"id": ALICE["id"], "user_principal_name": "alice@contoso.com"})
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    assert tenant.client.calls == []


@pytest.mark.parametrize("option, value", [
    ("on_premises_security_identifier", "alice"), ("user_principal_name", "alice"), ("id", "a/b"), ("filter", "  "),
    ("id", ".."), ("email_address", "alice"),
])
def test_malformed_lookup_fails_naming_the_option_before_any_request(tenant, option, value):
    result = run({option: value})
    assert result["failed"] is True and result["option"] == option
    assert tenant.client.calls == []
    assert undocumented_keys(module, result) == []


def test_graph_403_is_surfaced_with_code_permission_and_request_id(fake_graph):
    forbidden = GraphError("Missing application permission", status=403, code="Forbidden", request_id="req-403",
                           client_request_id="cr-403", required_permission="SecurityIdentitiesAccount.Read.All",
                           hint="grant the permission")

    def refuse(params):
        raise forbidden

    fake_graph(FakeGraphClient(collections={IDENTITY_ACCOUNTS_PATH: refuse}))
    result = run({"display_name": "Alice Adams"})
    assert result["failed"] is True
    assert tuple(result["error"][key] for key in ("status", "error_code", "request_id", "required_permission")) == \
        (403, "Forbidden", "req-403", "SecurityIdentitiesAccount.Read.All")
    assert "SecurityIdentitiesAccount.Read.All" in result["msg"] and "req-403" in result["msg"]
    assert undocumented_keys(module, result) == []


def test_china_is_refused_before_any_request():
    result = run({"cloud_environment": "china", "tenant_id": "contoso.onmicrosoft.com", "client_id": "app",
                  "client_secret": "not-used"})
    assert result["failed"] is True and result["error"]["error_code"] == "UnsupportedCloud"
    assert "china" in result["msg"] and "identity_accounts" in result["msg"]


def _documented_contains(*path):
    node = yaml.safe_load(module.RETURN)
    for key in path:
        node = node[key]["contains"]
    return set(node)


def test_return_docs_list_exactly_the_fields_the_domain_layer_produces():
    parsed = parse_identity(ALICE)
    assert _documented_contains("identity_accounts") == set(parsed)
    assert _documented_contains("identity_accounts", "accounts") == set(parsed["accounts"][0])
