# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level unit tests of identity_account_action: parameters in, exit_json/fail_json out, docs in step."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError
from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import parse_invoke_action_result
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import identity_path, parse_identity
from ansible_collections.msgraph.security.plugins.modules import identity_account_action as module
from ansible_collections.msgraph.security.tests.unit.fakes import ALICE, FakeIdentityTenant, account_body, identity_body
from ansible_collections.msgraph.security.tests.unit.module_runner import run_module, undocumented_keys, warning_messages

CHRIS_ONE = identity_body("c1c1c1c1-0000-4000-8000-000000000003", "Chris Smith", upn="chris@contoso.com",
                          accounts=[account_body("ad-chris1", "activeDirectory", ["disable"])])
CHRIS_TWO = identity_body("c2c2c2c2-0000-4000-8000-000000000004", "Chris Smith", upn="chris@fabrikam.com",
                          accounts=[account_body("ad-chris2", "activeDirectory", ["disable"])])
DISABLE_ALICE = {"user_principal_name": "alice@contoso.com", "identity_provider": "activeDirectory", "action": "disable"}


@pytest.fixture(params=["schema", "example"])
def shape(request):
    return request.param


@pytest.fixture
def tenant(shape, fake_graph):
    tenant = FakeIdentityTenant([ALICE, CHRIS_ONE, CHRIS_TWO], shape=shape)
    fake_graph(tenant.client)
    return tenant


def run(args, **kwargs):
    return run_module(module.main, args, **kwargs)


def test_check_mode_returns_the_request_and_posts_nothing(tenant):
    result = run(DISABLE_ALICE, check_mode=True)
    assert result["changed"] is True and result["outcome"] == "check_mode"
    assert result["request"]["method"] == "POST"
    assert result["request"]["url"].endswith("/identityAccounts/{0}/invokeAction".format(ALICE["id"]))
    assert result["request"]["body"] == {"accountId": "ad-alice", "action": "disable", "identityProvider": "activeDirectory"}
    assert "invoke_action_result" not in result and "diff" not in result
    assert tenant.client.posts == []
    assert undocumented_keys(module, result) == []


def test_a_real_run_returns_the_result_and_the_identity_as_it_was(tenant):
    result = run(DISABLE_ALICE)
    post = tenant.client.posts[0]
    assert result["changed"] is True and result["outcome"] == "sent"
    assert result["invoke_action_result"] == {
        "account_id": "ad-alice", "action": "disable", "identity_provider": "activeDirectory",
        "correlation_id": "corr-ad-alice", "request_id": "req-post-1", "client_request_id": post["client_request_id"]}
    assert result["identity_account"]["is_enabled"] is True
    assert undocumented_keys(module, result) == []


def test_the_documentation_spellings_are_sent_in_the_schema_spelling(tenant):
    run({"user_principal_name": "alice@contoso.com", "identity_provider": "Okta", "action": "Revoke_All_Sessions"})
    assert tenant.client.posts[0]["body"] == {"accountId": "okta-alice", "action": "revokeAllSessions", "identityProvider": "okta"}


def test_a_second_disable_reports_no_change_with_a_reason(tenant):
    run(DISABLE_ALICE)
    again = run(DISABLE_ALICE)
    assert again["changed"] is False and again["outcome"] == "unchanged" and "already disabled" in again["reason"]
    assert len(tenant.client.posts) == 1
    assert undocumented_keys(module, again) == []


def test_diff_mode_shows_is_enabled_and_actions_before_and_after(tenant):
    result = run(DISABLE_ALICE, check_mode=True, diff=True)
    assert result["diff"] == {"before": {"is_enabled": True, "actions": ["disable", "forcePasswordReset"]},
                              "after": {"is_enabled": False, "actions": ["enable", "forcePasswordReset"]}}


@pytest.mark.parametrize("provider, action", [("entraID", "disable"), ("okta", "forcePasswordReset"),
                                              ("activeDirectory", "revokeAllSessions"), ("entraID", "markUserAsCompromised")])
def test_unsupported_pairs_are_refused_before_any_request(tenant, provider, action):
    result = run(dict(DISABLE_ALICE, identity_provider=provider, action=action))
    assert result["failed"] is True and result["option"] == "action"
    assert "not supported for identity provider '{0}'".format(provider) in result["msg"]
    assert tenant.client.calls == []


def test_the_extended_matrix_lets_an_entra_id_action_through_to_the_account_check(tenant):
    result = run(dict(DISABLE_ALICE, identity_provider="entraID", action="revokeAllSessions", action_matrix="extended"))
    # Alice has no Entra ID account in this tenant: refused by the account check, not by the matrix.
    assert result["failed"] is True and result["option"] == "identity_provider" and "no 'entraID' account" in result["msg"]


@pytest.mark.parametrize("args, expected", [
    ({"identity_provider": "okta", "action": "disable"}, "one of the following is required"),
    (dict(DISABLE_ALICE, display_name="Alice Adams"), "mutually exclusive"),
    (dict(DISABLE_ALICE, action_matrix="latest"), "value of action_matrix must be one of"),
])
def test_target_and_choice_rules_are_enforced_by_the_argument_spec(tenant, args, expected):
    result = run(args)
    assert result["failed"] is True and expected in result["msg"]
    assert tenant.client.calls == []


def test_an_ambiguous_display_name_fails_and_lists_the_matches(tenant):
    result = run({"display_name": "Chris Smith", "identity_provider": "activeDirectory", "action": "disable"})
    assert result["failed"] is True and result["option"] == "display_name"
    assert sorted(m["user_principal_name"] for m in result["matches"]) == ["chris@contoso.com", "chris@fabrikam.com"]
    assert tenant.client.posts == []
    assert undocumented_keys(module, result) == []


def test_a_protected_account_is_refused_even_in_check_mode(tenant):
    result = run(dict(DISABLE_ALICE, protected_accounts=["ALICE@contoso.com"]), check_mode=True)
    assert result["failed"] is True and result["option"] == "protected_accounts"
    assert tenant.client.posts == []


def test_a_graph_403_on_the_action_is_surfaced_with_code_permission_and_request_id(tenant):
    forbidden = GraphError("Insufficient privileges", status=403, code="Forbidden", request_id="req-403",
                           client_request_id="cr-403", required_permission="SecurityIdentitiesActions.ReadWrite.All")
    tenant.client.routes[("POST", identity_path(ALICE["id"]) + "/invokeAction")] = forbidden
    result = run(DISABLE_ALICE)
    assert result["failed"] is True
    assert tuple(result["error"][key] for key in ("status", "error_code", "request_id", "required_permission")) == \
        (403, "Forbidden", "req-403", "SecurityIdentitiesActions.ReadWrite.All")
    assert "error_code" not in result and "status" not in result  # reported once, under error
    assert undocumented_keys(module, result) == []


def test_an_unknown_outcome_fails_with_the_client_request_id_that_was_sent(fake_graph):
    tenant = FakeIdentityTenant([ALICE], post_error=GraphOutcomeUnknownError("timed out", code="Timeout"))
    fake_graph(tenant.client)
    result = run(dict(DISABLE_ALICE, action="forcePasswordReset"))
    assert result["failed"] is True
    assert result["error"]["client_request_id"] == tenant.client.posts[0]["client_request_id"]
    assert "Action center" in result["msg"]
    assert len(tenant.client.posts) == 1


def test_a_reconciled_outcome_succeeds_with_a_warning(fake_graph):
    tenant = FakeIdentityTenant([ALICE], post_error=GraphOutcomeUnknownError("timed out", code="Timeout"), apply_on_error=True)
    fake_graph(tenant.client)
    result = run(DISABLE_ALICE)
    assert result["changed"] is True and result["outcome"] == "reconciled"
    assert any("of the identity show it took effect (isEnabled is false" in warning for warning in warning_messages(result))


def test_china_is_refused_before_any_request():
    result = run(dict(DISABLE_ALICE, cloud_environment="AzureChinaCloud", tenant_id="contoso.onmicrosoft.com",
                      client_id="app", client_secret="not-used"))
    assert result["failed"] is True and result["error"]["error_code"] == "UnsupportedCloud" and "china" in result["msg"]


def _return_docs():
    return yaml.safe_load(module.RETURN)


def test_return_docs_list_exactly_the_fields_the_domain_layer_produces():
    docs = _return_docs()
    parsed = parse_identity(ALICE)
    assert set(docs["identity_account"]["contains"]) == set(parsed)
    assert set(docs["identity_account"]["contains"]["accounts"]["contains"]) == set(parsed["accounts"][0])
    result = parse_invoke_action_result({}, {"accountId": "a", "action": "disable", "identityProvider": "okta"})
    assert set(docs["invoke_action_result"]["contains"]) == set(result)
    assert set(docs["outcome"]["description"][1:]) and all(
        any("V({0})".format(value) in line for line in docs["outcome"]["description"])
        for value in ("sent", "unchanged", "check_mode", "reconciled"))


def test_documented_choices_and_defaults_match_the_argument_spec():
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert set(options) == set(module.ARGUMENT_SPEC)
    for name, spec in module.ARGUMENT_SPEC.items():
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("choices") == spec.get("choices"), name
        assert options[name].get("default") == spec.get("default"), name
        assert bool(options[name].get("required")) == bool(spec.get("required")), name


# --- targets (bulk) ------------------------------------------------------------------------------

TARGETS = [{"user_principal_name": "alice@contoso.com"}, {"user_principal_name": "nobody@contoso.com"},
           {"display_name": "Chris Smith"}, {"user_principal_name": "chris@contoso.com"}]
BULK = {"targets": TARGETS, "identity_provider": "activeDirectory", "action": "disable"}


def test_targets_report_every_outcome_and_the_task_fails_if_one_did_not_succeed(tenant):
    result = run(BULK)
    assert result["failed"] is True and result["changed"] is True
    assert [r["status"] for r in result["results"]] == ["succeeded", "refused", "refused", "succeeded"]
    assert result["summary"]["succeeded"] == 2 and result["summary"]["refused"] == 2 and result["summary"]["total"] == 4
    assert "2 did not succeed" in result["msg"]
    assert len(tenant.client.posts) == 2
    assert undocumented_keys(module, result) == []


def test_the_documented_result_and_summary_fields_are_the_ones_returned(tenant):
    result = run(dict(BULK, targets=TARGETS[:1]))
    docs = _return_docs()
    assert set(docs["results"]["contains"]) == set(result["results"][0])
    assert set(docs["summary"]["contains"]) == set(result["summary"])
    statuses = " ".join(docs["results"]["contains"]["status"]["description"])
    assert all("V({0})".format(status) in statuses for status in result["summary"] if status != "total")


def test_targets_in_check_mode_with_diff_post_nothing_and_diff_each_target(tenant):
    result = run(dict(BULK, targets=[TARGETS[0], TARGETS[3]]), check_mode=True, diff=True)
    assert not result.get("failed") and result["changed"] is True
    assert [r["status"] for r in result["results"]] == ["would_run", "would_run"]
    assert [d["before"]["is_enabled"] for d in result["diff"]] == [True, True]
    assert [d["after"]["is_enabled"] for d in result["diff"]] == [False, False]
    assert tenant.client.posts == []


def test_max_targets_fails_the_task_before_any_request(tenant):
    result = run(dict(BULK, max_targets=3))
    assert result["failed"] is True and result["option"] == "max_targets"
    assert tenant.client.calls == []


@pytest.mark.parametrize("extra, expected", [
    ({"user_principal_name": "alice@contoso.com"}, "mutually exclusive"),
    ({"account_id": "ad-alice"}, "mutually exclusive"),
    ({"targets": [{"user_principal_name": "a@contoso.com", "display_name": "A"}]}, "mutually exclusive"),
    ({"targets": [{"identity_provider": "okta"}]}, "one of the following is required"),
    ({"targets": [{"user_principal_name": "a@contoso.com", "department": "x"}]}, "department"),
    ({"max_concurrency": 0}, "max_concurrency"),
])
def test_malformed_targets_fail_the_whole_task_before_any_request(tenant, extra, expected):
    result = run(dict(BULK, **extra))
    assert result["failed"] is True and expected in result["msg"]
    assert tenant.client.calls == []


def test_a_single_target_without_identity_provider_is_refused_before_any_request(tenant):
    result = run({"user_principal_name": "alice@contoso.com", "action": "disable"})
    assert result["failed"] is True and result["option"] == "identity_provider"
    assert tenant.client.calls == []
