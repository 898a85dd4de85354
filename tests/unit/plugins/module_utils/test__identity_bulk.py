# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bulk identity actions (domain layer): batched lookups, per-target outcomes, the safety cap, fail_fast,
check mode, idempotent re-runs and bounded concurrency, against a fake tenant."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _identity_bulk
from ansible_collections.msgraph.security.plugins.module_utils._identity_bulk import BulkOptions, run_bulk
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.tests.unit.fakes import (
    IDENTITY_ACCOUNTS_PATH,
    USERS_PATH,
    FakeIdentityTenant,
    account_body,
    identity_body,
)


def user(number, enabled=True, display_name=None):
    actions = ["disable" if enabled else "enable", "forcePasswordReset"]
    return identity_body("id-%04d" % number, display_name or "User %04d" % number, upn="user%04d@contoso.com" % number,
                         sid="S-1-5-21-1-2-3-%d" % (1000 + number), is_enabled=enabled,
                         accounts=[account_body("ad-%04d" % number, "activeDirectory", actions),
                                   account_body("okta-%04d" % number, "okta", ["disable", "revokeAllSessions"])])


def upn(number):
    return {"user_principal_name": "user%04d@contoso.com" % number}


def options(**overrides):
    values = dict(identity_provider="activeDirectory", action="disable")
    values.update(overrides)
    return BulkOptions(**values)


def statuses(outcome):
    return [result["status"] for result in outcome["results"]]


@pytest.fixture
def tenant():
    return FakeIdentityTenant([user(number) for number in range(1, 21)] + [user(21, enabled=False)])


def test_twenty_upns_are_looked_up_with_two_or_filters_and_acted_on_concurrently(tenant):
    outcome = run_bulk(tenant.client, [upn(number) for number in range(1, 21)], options())
    lookups = tenant.client.calls_of("GET_ALL")
    assert len(lookups) == 2  # 15 + 5 values joined with 'or', instead of 20 lookups
    assert [flt.count(" or ") for flt in tenant.filters_seen] == [14, 4]
    assert len(tenant.client.posts) == 20
    assert statuses(outcome) == ["succeeded"] * 20
    assert outcome["summary"]["succeeded"] == 20 and outcome["summary"]["total"] == 20
    assert outcome["changed"] is True and outcome["failed"] is False
    first = outcome["results"][0]
    assert first["identity_account_id"] == "id-0001" and first["account_id"] == "ad-0001"
    assert first["correlation_id"] == "corr-ad-0001" and first["request_id"] == "req-post-1"
    assert first["target"] == {"user_principal_name": "user0001@contoso.com"}


def test_partial_failure_reports_every_target_in_order_and_fails(tenant):
    tenant.identities["id-0004"]["displayName"] = "User 0003"  # two identities share a display name
    tenant.unknown_id("id-gone")
    targets = [
        upn(1),
        {"user_principal_name": "nobody@contoso.com"},
        {"display_name": "User 0003"},
        upn(2),
        {"identity_account_id": "id-gone"},
        {"user_principal_name": "user0005@contoso.com", "action": "delete"},
        upn(6),
        {"user_principal_name": "user0007@contoso.com", "identity_provider": "okta", "action": "revokeAllSessions"},
    ]
    outcome = run_bulk(tenant.client, targets, options(protected_accounts=["USER0006@contoso.com"]))
    assert statuses(outcome) == ["succeeded", "refused", "refused", "succeeded", "refused", "refused", "refused", "succeeded"]
    codes = [result["error_code"] for result in outcome["results"]]
    assert codes == [None, "IdentityNotFound", "IdentityAmbiguous", None, "NotFound", "InvalidInput", "ProtectedAccount", None]
    assert "action" in outcome["results"][5]["error_message"]
    posts = dict((post["path"].split("/")[-2], post["body"]) for post in tenant.client.posts)  # sent concurrently
    assert sorted(posts) == ["id-0001", "id-0002", "id-0007"]
    assert posts["id-0007"] == {"accountId": "okta-0007", "action": "revokeAllSessions", "identityProvider": "okta"}
    assert outcome["failed"] is True and outcome["summary"]["refused"] == 5
    assert "5 did not succeed" in outcome["msg"] and "nobody@contoso.com" in outcome["msg"]


def test_more_targets_than_max_targets_refuses_everything_before_any_request(tenant):
    with pytest.raises(InputError) as caught:
        run_bulk(tenant.client, [upn(number) for number in range(1, 7)], options(max_targets=5))
    assert caught.value.option == "max_targets" and "6 targets" in str(caught.value)
    assert tenant.client.calls == []


@pytest.mark.parametrize("value", [0, 51, "10", True])
def test_max_concurrency_must_be_between_1_and_50(value):
    with pytest.raises(InputError, match="max_concurrency"):
        options(max_concurrency=value)


def test_a_target_without_provider_or_action_is_refused_naming_the_option(tenant):
    targets = [{"user_principal_name": "user0001@contoso.com", "identity_provider": "activeDirectory"},
               {"user_principal_name": "user0002@contoso.com", "action": "disable"}]
    outcome = run_bulk(tenant.client, targets, BulkOptions())
    assert statuses(outcome) == ["refused", "refused"]
    assert outcome["results"][0]["error_message"].startswith("action:")
    assert outcome["results"][1]["error_message"].startswith("identity_provider:")
    assert tenant.client.posts == []


def test_only_refused_targets_need_no_token(tenant):
    acquired = []
    tenant.client.ensure_token = lambda: acquired.append(True)
    outcome = run_bulk(tenant.client, [{"user_principal_name": "bob"}, {"identity_account_id": "a/b"}], options())
    assert statuses(outcome) == ["refused", "refused"]
    assert acquired == [] and tenant.client.calls == []
    run_bulk(tenant.client, [upn(1)], options())
    assert acquired == [True]


def test_check_mode_reports_would_run_and_posts_nothing(tenant):
    outcome = run_bulk(tenant.client, [upn(1), upn(21)], options(), check_mode=True)
    assert statuses(outcome) == ["would_run", "unchanged"]
    assert tenant.client.posts == []
    assert outcome["changed"] is True and outcome["summary"]["would_run"] == 1
    [diff] = outcome["diff"]
    assert diff["before"]["is_enabled"] is True and diff["after"]["is_enabled"] is False
    assert "user0001@contoso.com" in diff["before_header"]


def test_a_rerun_acts_only_on_what_is_still_needed(tenant):
    first = run_bulk(tenant.client, [upn(1), upn(2)], options())
    assert statuses(first) == ["succeeded", "succeeded"]
    tenant.client.calls[:] = []
    again = run_bulk(tenant.client, [upn(1), upn(2), upn(3)], options())
    assert statuses(again) == ["unchanged", "unchanged", "succeeded"]
    assert "already" in again["results"][0]["reason"]
    assert [post["path"].split("/")[-2] for post in tenant.client.posts] == ["id-0003"]


def test_the_same_identity_twice_is_sent_once(tenant):
    outcome = run_bulk(tenant.client, [upn(1), {"on_premises_security_identifier": "S-1-5-21-1-2-3-1001"}], options())
    assert statuses(outcome) == ["succeeded", "unchanged"]
    assert "target 0" in outcome["results"][1]["reason"]
    assert len(tenant.client.posts) == 1


def test_fail_fast_sends_nothing_after_a_refusal(tenant):
    outcome = run_bulk(tenant.client, [upn(1), {"user_principal_name": "nobody@contoso.com"}, upn(2)], options(fail_fast=True))
    assert statuses(outcome) == ["not_started", "refused", "not_started"]
    assert tenant.client.posts == []


def test_fail_fast_stops_starting_actions_after_the_first_failed_post():
    tenant = FakeIdentityTenant([user(number) for number in range(1, 6)])
    tenant.client.routes[("POST", "/security/identities/identityAccounts/id-0002/invokeAction")] = GraphError(
        "Forbidden", status=403, code="Forbidden", request_id="req-403")
    outcome = run_bulk(tenant.client, [upn(number) for number in range(1, 6)], options(fail_fast=True, max_concurrency=1))
    assert statuses(outcome) == ["succeeded", "failed", "not_started", "not_started", "not_started"]
    assert outcome["results"][1]["error_code"] == "Forbidden" and outcome["results"][1]["request_id"] == "req-403"


def test_without_fail_fast_a_failed_post_does_not_stop_the_others():
    tenant = FakeIdentityTenant([user(number) for number in range(1, 6)])
    tenant.client.routes[("POST", "/security/identities/identityAccounts/id-0002/invokeAction")] = GraphError(
        "Forbidden", status=403, code="Forbidden")
    outcome = run_bulk(tenant.client, [upn(number) for number in range(1, 6)], options())
    assert statuses(outcome) == ["succeeded", "failed", "succeeded", "succeeded", "succeeded"]


def test_an_unknown_outcome_is_reported_and_not_resent():
    unknown = GraphOutcomeUnknownError("timed out", code="Timeout", client_request_id="cri-1")
    tenant = FakeIdentityTenant([user(1), user(2)], post_error=unknown)
    outcome = run_bulk(tenant.client, [upn(1), upn(2)], options(action="forcePasswordReset"))
    assert statuses(outcome) == ["outcome_unknown", "outcome_unknown"]
    assert len(tenant.client.posts) == 2  # one each, never replayed
    assert outcome["results"][0]["changed"] is True and outcome["failed"] is True


def test_an_unknown_outcome_that_took_effect_is_a_success():
    unknown = GraphOutcomeUnknownError("timed out", code="Timeout")
    tenant = FakeIdentityTenant([user(1)], post_error=unknown, apply_on_error=True)
    outcome = run_bulk(tenant.client, [upn(1)], options())
    assert statuses(outcome) == ["succeeded"]
    assert "took effect" in outcome["results"][0]["reason"]


def test_a_refused_or_filter_falls_back_to_one_scan_for_every_target(tenant):
    refusing = FakeIdentityTenant([user(number) for number in range(1, 4)], refuse_or=True)
    outcome = run_bulk(refusing.client, [upn(1), upn(2), upn(3)], options())
    assert statuses(outcome) == ["succeeded"] * 3
    # the derived-type query and the plain $filter refused once each, then one scan serves all three targets
    assert [call["path"] for call in refusing.client.calls_of("GET_ALL")] == [USERS_PATH, IDENTITY_ACCOUNTS_PATH, IDENTITY_ACCOUNTS_PATH]
    assert refusing.scans == 1 and outcome["lookups"]["scans"] == 1
    assert any("refused" in warning for warning in outcome["warnings"])


@pytest.mark.parametrize("cast", ["refuse", "not_implemented", "ignore"])
def test_many_upns_with_every_filter_refused_make_exactly_one_scan(cast):
    tenant = FakeIdentityTenant([user(number) for number in range(1, 41)], refuse_filters=("userPrincipalName",), cast=cast)
    outcome = run_bulk(tenant.client, [upn(number) for number in range(1, 41)], options())
    assert statuses(outcome) == ["succeeded"] * 40
    assert outcome["lookups"]["scans"] == 1
    # an ignored derived-type filter answers every user; that answer is not a scan of every identity
    assert tenant.scans == 1


def test_a_server_error_on_the_derived_type_query_is_an_error_not_a_fallback():
    tenant = FakeIdentityTenant([user(number) for number in range(1, 3)], cast="server_error")
    outcome = run_bulk(tenant.client, [upn(1), upn(2)], options())
    assert statuses(outcome) == ["failed", "failed"]
    assert tenant.scans == 0 and tenant.client.posts == []


def test_a_failed_lookup_fails_its_targets_and_spares_the_others(tenant):
    tenant.client.collections[USERS_PATH] = GraphError("Forbidden", status=403, code="Forbidden")
    outcome = run_bulk(tenant.client, [upn(1), {"identity_account_id": "id-0002"}], options())
    assert statuses(outcome) == ["failed", "succeeded"]
    assert outcome["results"][0]["error_code"] == "Forbidden"


def test_actions_run_concurrently_but_never_above_max_concurrency():
    tenant = FakeIdentityTenant([user(number) for number in range(1, 13)])
    in_flight, peak, lock = [0], [0], threading.Lock()
    original = tenant.client.post

    def slow_post(*args, **kwargs):
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.05)
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    tenant.client.post = slow_post
    outcome = run_bulk(tenant.client, [upn(number) for number in range(1, 13)], options(max_concurrency=4))
    assert statuses(outcome) == ["succeeded"] * 12
    assert peak[0] == 4


def test_retries_become_one_summary_warning_and_the_clients_callback_is_restored(tenant):
    tenant.client.on_retry = previous = object()
    tenant.client.retry = type("Policy", (), {"waited": 2.5})()
    original = tenant.client.post

    def throttled_post(*args, **kwargs):
        tenant.client.on_retry("HTTP 429; retrying in 1.0s")
        return original(*args, **kwargs)

    tenant.client.post = throttled_post
    outcome = run_bulk(tenant.client, [upn(1), upn(2)], options())
    assert [w for w in outcome["warnings"] if "throttled" in w] == [
        "Microsoft Graph throttled (or briefly failed) 2 request(s) of the batch; they were retried, and the batch "
        "paused 2.5s in total"]
    assert tenant.client.on_retry is previous


def test_results_carry_only_snake_case_keys_and_no_token(tenant):
    outcome = run_bulk(tenant.client, [upn(1)], options())
    assert set(outcome["results"][0]) == set(["index", "target", "status", "changed", "reason", "identity_account_id",
                                              "account_id", "identity_provider", "action", "correlation_id", "request_id",
                                              "client_request_id", "error_code", "error_message", "warnings"])
    assert set(outcome["summary"]) == set(_identity_bulk.STATUSES) | set(["total"])


@pytest.mark.parametrize("overrides, option", [({"protected_accounts": ["ok@contoso.com", " "]}, "protected_accounts"),
                                               ({"action_matrix": "latest"}, "action_matrix")])
def test_bad_task_level_input_fails_the_whole_task_not_each_target(overrides, option):
    with pytest.raises(InputError) as caught:
        options(**overrides)
    assert caught.value.option == option
