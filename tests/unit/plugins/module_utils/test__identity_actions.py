# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of invokeAction: the request, account selection, idempotency, check mode and diff, sending once and
reconciling an unknown outcome, against a fake Graph client (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import uuid

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import (
    ReconcileWait,
    parse_invoke_action_result,
    run_identity_action,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import identity_path
from ansible_collections.msgraph.security.tests.unit.plugins.module_utils.identity_samples import (
    ALICE,
    COLLECTION,
    DANA_NO_ACTIONS,
    SHAPES,
    action_request,
    make_tenant,
)
from ansible_collections.msgraph.security.tests.unit.fakes import (
    FakeGraphClient,
    account_body,
    identity_body,
)


# --- request --------------------------------------------------------------------------------------

@pytest.mark.parametrize("account_id", ["", None])
def test_empty_account_id_means_default_account(account_id):
    assert action_request(account_id=account_id).account_id is None


# --- invokeActionResult parsing -------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"accountId": "ad-1", "action": "disable", "identityProvider": "activeDirectory", "correlationId": "c-1"},
    {"value": {"accountId": "ad-1", "action": "Disable", "provider": "ActiveDirectory", "correlationId": "c-1"}},
])
def test_invoke_action_result_is_parsed_from_both_shapes(body):
    sent = {"accountId": "ad-1", "action": "disable", "identityProvider": "activeDirectory"}
    warnings = []
    result = parse_invoke_action_result(body, sent, request_id="r-1", client_request_id="c-r-1", warn=warnings.append)
    assert result == {"account_id": "ad-1", "action": "disable", "identity_provider": "activeDirectory",
                      "correlation_id": "c-1", "request_id": "r-1", "client_request_id": "c-r-1"}
    assert warnings == []


@pytest.mark.parametrize("body", [None, {}, {"value": {"@odata.type": "microsoft.graph.security.invokeActionResult"}}])
def test_invoke_action_result_without_fields_falls_back_to_what_was_sent(body):
    sent = {"accountId": "ad-1", "action": "enable", "identityProvider": "okta"}
    result = parse_invoke_action_result(body, sent, request_id="r", client_request_id="c")
    assert (result["account_id"], result["action"], result["identity_provider"], result["correlation_id"]) == \
        ("ad-1", "enable", "okta", None)


def test_invoke_action_result_echoing_another_account_warns():
    warnings = []
    parse_invoke_action_result({"accountId": "other", "action": "disable", "identityProvider": "okta"},
                               {"accountId": "ad-1", "action": "disable", "identityProvider": "okta"}, warn=warnings.append)
    assert len(warnings) == 1 and "other" in warnings[0]


# --- account selection ----------------------------------------------------------------------------

def test_an_account_id_the_identity_does_not_list_is_refused_even_when_it_lists_none():
    tenant = make_tenant()
    # BREAK_GLASS is protected; naming its account under an identity that lists no accounts must not reach it.
    request = action_request(value="nobody@contoso.com", account_id="ad-breakglass", protected_accounts=["breakglass@contoso.com"])
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, request)
    assert caught.value.option == "account_id" and "lists no accounts" in caught.value.message
    assert tenant.client.posts == []


@pytest.mark.parametrize("evil_id", ["x/../../other", "..", ".", "%2e%2e", "%2E", "a%2fb"])
def test_an_unsafe_id_returned_by_the_service_is_refused_before_posting(evil_id):
    evil = identity_body(evil_id, "Evil", upn="evil@contoso.com", accounts=[account_body("ad-evil", "activeDirectory")])
    client = FakeGraphClient(collections={COLLECTION + "/microsoft.graph.security.user": lambda params: [evil]})
    with pytest.raises(InputError):
        run_identity_action(client, action_request(value="evil@contoso.com"))
    assert client.posts == []


@pytest.mark.parametrize("provider, expected", [("activeDirectory", "ad-alice"), ("okta", "okta-alice")])
def test_default_account_is_the_identitys_account_for_the_provider(provider, expected):
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request(provider=provider), check_mode=True)
    assert result["request"]["body"]["accountId"] == expected


def test_identity_without_an_account_for_the_provider_is_refused_listing_its_accounts():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, action_request(value="bob@contoso.com", provider="okta"))
    assert caught.value.option == "identity_provider"
    assert "ad-bob (activeDirectory)" in caught.value.message


def test_two_accounts_for_the_provider_require_account_id():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, action_request(value="eve@contoso.com"))
    assert caught.value.option == "account_id" and "ad-eve-1" in caught.value.message
    result = run_identity_action(tenant.client, action_request(value="eve@contoso.com", account_id="AD-EVE-2"), check_mode=True)
    assert result["request"]["body"]["accountId"] == "ad-eve-2"


def test_account_id_of_another_provider_is_refused():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, action_request(account_id="okta-alice"))
    assert caught.value.option == "account_id" and "okta" in caught.value.message


def test_account_id_not_on_the_identity_is_refused():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, action_request(account_id="ad-bob"))
    assert caught.value.option == "account_id" and "ad-alice" in caught.value.message
    assert tenant.client.posts == []


def test_account_id_is_refused_when_the_identity_lists_no_accounts():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, action_request(value="nobody@contoso.com", account_id="ad-nobody"))
    assert caught.value.option == "account_id" and "account_identifier=ad-nobody" in caught.value.message
    assert tenant.client.posts == []


# --- idempotency ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_disable_then_disable_again_is_unchanged_the_second_time(shape):
    tenant = make_tenant(shape)
    first = run_identity_action(tenant.client, action_request())
    second = run_identity_action(tenant.client, action_request())
    assert first["changed"] is True and first["outcome"] == "sent"
    assert second["changed"] is False and second["outcome"] == "unchanged"
    assert "already disabled" in second["reason"]
    assert len(tenant.client.posts) == 1
    assert "request" not in second and "invoke_action_result" not in second


@pytest.mark.parametrize("shape", SHAPES)
def test_enable_on_a_disabled_identity_sends_and_enable_again_is_unchanged(shape):
    tenant = make_tenant(shape)
    assert run_identity_action(tenant.client, action_request(value="bob@contoso.com", action="enable"))["changed"] is True
    again = run_identity_action(tenant.client, action_request(value="bob@contoso.com", action="enable"))
    assert again["changed"] is False and "already enabled" in again["reason"]
    assert len(tenant.client.posts) == 1


@pytest.mark.parametrize("actions", [None, []])
def test_is_enabled_alone_never_skips_a_disable(actions):
    # Microsoft's List example lists no actions: the only evidence is isEnabled, which alone cannot skip it.
    disabled = dict(DANA_NO_ACTIONS, isEnabled=False, accounts=[account_body("okta-dana", "okta", actions)])
    tenant = make_tenant(identities=[disabled])
    result = run_identity_action(tenant.client, action_request(value=disabled["userPrincipalName"], provider="okta"))
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert result["state_evidence"]["account_actions_say_done"] is None
    assert any("do not confirm" in w for w in result["warnings"])


def test_unchanged_only_when_is_enabled_and_the_offered_actions_agree():
    identity = dict(ALICE, isEnabled=False, accounts=[account_body("ad-alice", "activeDirectory", ["enable", "forcePasswordReset"])])
    tenant = make_tenant(identities=[identity])
    result = run_identity_action(tenant.client, action_request())
    assert result["changed"] is False and "already disabled" in result["reason"] and "offers enable" in result["reason"]
    assert result["state_evidence"]["is_enabled_says_done"] is True and result["state_evidence"]["account_actions_say_done"] is True
    assert tenant.client.posts == []


@pytest.mark.parametrize("shape", SHAPES)
def test_get_example_one_contradiction_is_sent_not_skipped(shape):
    # Microsoft's Get example 1: isEnabled true while the AD account lists only Enable.
    identity = dict(ALICE, isEnabled=True, accounts=[account_body("ad-alice", "activeDirectory", ["enable"])])
    tenant = make_tenant(shape, identities=[identity])
    result = run_identity_action(tenant.client, action_request())
    assert result["changed"] is True and result["outcome"] == "sent" and len(tenant.client.posts) == 1
    assert "disagrees" in result["state_evidence"]["note"]
    assert sum("disagrees" in w for w in result["warnings"]) == 1 and not any("lists the actions" in w for w in result["warnings"])


def test_account_still_offering_disable_is_sent_even_if_is_enabled_is_false():
    # A wrongly skipped containment is worse than a redundant one.
    identity = dict(ALICE, isEnabled=False)
    tenant = make_tenant(identities=[identity])
    result = run_identity_action(tenant.client, action_request())
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert any("disagrees" in w for w in result["warnings"])


@pytest.mark.parametrize("action", ["forcePasswordReset"])
def test_command_actions_are_sent_every_time(action):
    tenant = make_tenant()
    for _attempt in range(2):
        assert run_identity_action(tenant.client, action_request(action=action))["changed"] is True
    assert len(tenant.client.posts) == 2


def test_command_action_the_account_does_not_list_is_sent_with_a_warning():
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request(value="chris.smith@contoso.com", action="forcePasswordReset"))
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert any("lists the actions disable, not 'forcePasswordReset'" in w for w in result["warnings"])


def test_require_offered_action_refuses_an_action_the_account_does_not_list():
    tenant = make_tenant()
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, action_request(value="chris.smith@contoso.com", action="forcePasswordReset",
                                                          require_offered_action=True), check_mode=True)
    assert caught.value.option == "require_offered_action" and "disable" in caught.value.message
    assert tenant.client.posts == []


@pytest.mark.parametrize("strict", [False, True])
def test_an_empty_actions_list_is_no_reason_to_refuse(strict):
    identity = dict(ALICE, accounts=[account_body("ad-alice", "activeDirectory", [])])
    tenant = make_tenant(identities=[identity])
    result = run_identity_action(tenant.client, action_request(action="forcePasswordReset", require_offered_action=strict))
    assert result["changed"] is True and len(tenant.client.posts) == 1
    assert result["warnings"] == []


# --- check mode and diff --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_check_mode_returns_the_exact_request_and_posts_nothing(shape):
    tenant = make_tenant(shape)
    request = action_request(value="Alice@Contoso.com", provider="ActiveDirectory", action="Disable")
    result = run_identity_action(tenant.client, request, check_mode=True)
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
    result = run_identity_action(tenant.client, action_request(value="bob@contoso.com"), check_mode=True)
    assert result["changed"] is False and "request" not in result


def test_diff_predicts_is_enabled_and_available_actions_for_disable():
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request(), check_mode=True)
    assert result["diff"] == {
        "before": {"is_enabled": True, "actions": ["disable", "forcePasswordReset"]},
        "after": {"is_enabled": False, "actions": ["enable", "forcePasswordReset"]},
    }


def test_diff_of_a_command_action_shows_no_state_change():
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request(action="forcePasswordReset"), check_mode=True)
    assert result["diff"]["before"] == result["diff"]["after"]


def test_diff_of_an_unchanged_run_is_equal_before_and_after():
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request(value="bob@contoso.com"))
    assert result["diff"]["before"] == result["diff"]["after"] == {"is_enabled": False, "actions": ["enable", "forcePasswordReset"]}


# --- sending --------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_the_request_body_is_built_from_normalized_values_only(shape):
    tenant = make_tenant(shape)
    result = run_identity_action(tenant.client, action_request(provider="OKTA", action="Revoke_All_Sessions"))
    post = tenant.client.posts[0]
    assert post["path"] == identity_path(ALICE["id"]) + "/invokeAction"
    assert post["body"] == {"accountId": "okta-alice", "action": "revokeAllSessions", "identityProvider": "okta"}
    assert result["invoke_action_result"] == {
        "account_id": "okta-alice", "action": "revokeAllSessions", "identity_provider": "okta",
        "correlation_id": "corr-okta-alice", "request_id": "req-post-1", "client_request_id": post["client_request_id"],
    }


def test_each_write_gets_a_fresh_client_request_id():
    tenant = make_tenant()
    for _attempt in range(2):
        run_identity_action(tenant.client, action_request(action="forcePasswordReset"))
    ids = [post["client_request_id"] for post in tenant.client.posts]
    assert len(set(ids)) == 2
    assert all(str(uuid.UUID(value)) == value for value in ids)


def test_the_identity_is_returned_as_it_was_before_the_action():
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request())
    assert result["identity_account"]["is_enabled"] is True
    assert tenant.identities[ALICE["id"]]["isEnabled"] is False


def test_every_call_names_the_permission_it_needs_so_a_403_can_say_it():
    tenant = make_tenant()
    run_identity_action(tenant.client, action_request())
    assert {(c["method"], c["permission"]) for c in tenant.client.calls} == {
        ("GET_ALL", "SecurityIdentitiesAccount.Read.All"), ("POST", "SecurityIdentitiesActions.ReadWrite.All")}


def test_lookup_by_id_reads_the_identity_with_one_get():
    tenant = make_tenant()
    run_identity_action(tenant.client, action_request("id", ALICE["id"], option="identity_account_id"), check_mode=True)
    assert [c["method"] for c in tenant.client.calls] == ["GET"]


# --- unknown outcome ------------------------------------------------------------------------------

def _timeout():
    return GraphOutcomeUnknownError("The request timed out after 30 s", status=None, code="Timeout", method="POST",
                                    url="https://graph.fake.test/beta/x")


class FakeWait(ReconcileWait):
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
    result = run_identity_action(tenant.client, action_request(reconcile=FakeWait()))
    assert result["changed"] is True and result["outcome"] == "reconciled"
    post = tenant.client.posts[0]
    assert len(tenant.client.posts) == 1
    assert result["invoke_action_result"]["client_request_id"] == post["client_request_id"]
    assert result["invoke_action_result"]["correlation_id"] is None
    assert any("of the identity show it took effect (isEnabled is false" in w for w in result["warnings"])
    # The re-read is a GET of the identity after the POST.
    assert tenant.client.calls[-1] == {"method": "GET", "path": identity_path(ALICE["id"]), "params": None,
                                       "permission": "SecurityIdentitiesAccount.Read.All"}


def test_reconciliation_waits_for_the_state_to_propagate():
    tenant = make_tenant(post_error=_timeout())
    # The service applies the disable only after three pauses, as Defender for Identity does asynchronously.
    wait = FakeWait(on_sleep=lambda count: tenant._apply(ALICE["id"], {"action": "disable", "accountId": "ad-alice"}) if count == 3 else None)
    result = run_identity_action(tenant.client, action_request(reconcile=wait))
    assert result["outcome"] == "reconciled" and len(tenant.client.posts) == 1
    assert wait.sleeps == [2.0, 4.0, 8.0]
    assert len(tenant.client.calls_of("GET")) == 4 and any("4 read(s) of the identity show it took effect" in w for w in result["warnings"])


def test_reconciliation_gives_up_at_reconcile_timeout():
    tenant = make_tenant(post_error=_timeout())
    wait = FakeWait(timeout=15)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        run_identity_action(tenant.client, action_request(reconcile=wait))
    assert sum(wait.sleeps) == 15 and wait.sleeps == [2.0, 4.0, 8.0, 1.0]
    assert "5 read(s)" in caught.value.message and "may still be applied" in caught.value.message


def test_a_prior_is_enabled_false_is_no_proof_after_an_unknown_outcome():
    # No actions listed, isEnabled already false before the POST: a re-read showing false proves nothing.
    identity = dict(DANA_NO_ACTIONS, isEnabled=False)
    tenant = make_tenant(identities=[identity], post_error=_timeout())
    with pytest.raises(GraphOutcomeUnknownError):
        run_identity_action(tenant.client, action_request(value=identity["userPrincipalName"], provider="okta",
                                                          reconcile=FakeWait(timeout=0)))
    assert len(tenant.client.posts) == 1


def test_disable_with_unknown_outcome_fails_when_the_state_does_not_show_it():
    server_error = GraphOutcomeUnknownError("Internal Server Error", status=500, code="InternalServerError", request_id="req-500")
    tenant = make_tenant(post_error=server_error)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        run_identity_action(tenant.client, action_request(reconcile=FakeWait(timeout=4)))
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
        run_identity_action(tenant.client, action_request(action=action))
    assert [c["method"] for c in tenant.client.calls] == ["GET_ALL", "POST"]
    assert caught.value.client_request_id == tenant.client.posts[0]["client_request_id"]
    assert "Action center" in str(caught.value)


def test_unknown_outcome_with_a_failing_reread_still_reports_the_client_request_id():
    tenant = make_tenant(post_error=_timeout())
    reads = {"count": 0}
    original = tenant.client.routes[("GET", identity_path(ALICE["id"]))]

    def flaky_get(path, params):
        reads["count"] += 1
        raise GraphError("Service unavailable", status=503)

    tenant.client.routes[("GET", identity_path(ALICE["id"]))] = flaky_get
    assert original is not None
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        run_identity_action(tenant.client, action_request())
    assert reads["count"] == 1
    assert "reading the identity again failed too" in caught.value.message
    assert caught.value.client_request_id == tenant.client.posts[0]["client_request_id"]
