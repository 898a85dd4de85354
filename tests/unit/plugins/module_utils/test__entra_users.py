# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_entra_users: identifiers (object id <-> S-1-12-1), fail-closed reads, guards and the decisions of both modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _entra_users as eu
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    GraphUnsupportedCloudError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import IdentityResolutionError
from ansible_collections.msgraph.security.tests.unit.fakes import MEGAN, FakeClock, FakeResponse, FakeUsersGraph, user_body

MEGAN_SID = "S-1-12-1-814122558-1380653063-1995399818-1993843017"  # the seed identity's cloudSecurityIdentifier
USER_PATH = "/users/" + MEGAN


def selector(**params):
    return eu.user_selector(dict({"user_id": None, "user_principal_name": None}, **params))


def forbidden(code="Authorization_RequestDenied", message="Insufficient privileges to complete the operation."):
    return GraphError(message, status=403, code=code)


@pytest.mark.parametrize("value", ["", "meganb", "S-1-5-21-1-2-3-4", "S-1-12-1-1-2-3-99999999999", MEGAN + "/x"])
def test_anything_but_an_object_id_or_cloud_sid_is_refused(value):
    with pytest.raises(InputError) as caught:
        selector(user_id=value)
    assert caught.value.option == "user_id"


def test_exactly_one_target_option():
    with pytest.raises(InputError, match="give only one"):
        selector(user_id=MEGAN, user_principal_name="meganb@contoso.com")
    with pytest.raises(InputError, match="required"):
        selector()


def test_read_refuses_an_answer_for_another_user():
    client = FakeUsersGraph({("GET", "/users/alice%40contoso.com"): user_body()})
    with pytest.raises(IdentityResolutionError) as caught:
        eu.read_user(client, selector(user_principal_name="alice@contoso.com"))
    assert caught.value.matches[0]["id"] == MEGAN and "refusing" in str(caught.value)


def test_read_404_is_a_resolution_error_naming_the_option():
    client = FakeUsersGraph({("GET", USER_PATH): GraphError("gone", status=404, code="Request_ResourceNotFound")})
    with pytest.raises(IdentityResolutionError) as caught:
        eu.read_user(client, selector(user_id=MEGAN))
    assert caught.value.option == "user_id"
    assert client.calls[0]["params"] == {"$select": eu.USER_SELECT} and client.calls[0]["permission"] == "User.Read.All"


@pytest.mark.parametrize("entry", ["MEGANB@contoso.com", MEGAN_SID, MEGAN.upper(), "S-1-5-21-1004336348-1177238915-682003330-1103"])
def test_protected_accounts_match_every_key_of_the_user(entry):
    client = FakeUsersGraph({("GET", USER_PATH): user_body(onPremisesSecurityIdentifier="S-1-5-21-1004336348-1177238915-682003330-1103")})
    with pytest.raises(InputError) as caught:
        eu.run_account_enabled(client, selector(user_id=MEGAN), False, protected_accounts=[entry])
    assert caught.value.option == "protected_accounts"
    assert client.calls_of("PATCH") == []


def test_account_enabled_sends_only_a_difference():
    client = FakeUsersGraph({("GET", USER_PATH): user_body(accountEnabled=False), ("PATCH", USER_PATH): None})
    same = eu.run_account_enabled(client, selector(user_id=MEGAN), False)
    assert (same["changed"], same["outcome"]) == (False, "unchanged") and client.calls_of("PATCH") == []
    changed = eu.run_account_enabled(client, selector(user_id=MEGAN), True)
    assert changed["outcome"] == "sent" and changed["request"]["body"] == {"accountEnabled": True}
    assert client.calls_of("PATCH")[0]["permission"] == eu.ENABLE_PERMISSION


def test_check_mode_previews_and_sends_nothing():
    client = FakeUsersGraph({("GET", USER_PATH): user_body()})
    result = eu.run_account_enabled(client, selector(user_id=MEGAN), False, check_mode=True)
    assert result["request"] == {"method": "PATCH", "url": client.base_url + USER_PATH, "body": {"accountEnabled": False}}
    assert result["diff"] == {"before": {"account_enabled": True}, "after": {"account_enabled": False}}
    assert [call["method"] for call in client.calls] == ["GET"]


def test_synchronised_user_warns_to_pair_with_active_directory():
    client = FakeUsersGraph({("GET", USER_PATH): user_body(onPremisesSyncEnabled=True), ("PATCH", USER_PATH): None})
    result = eu.run_account_enabled(client, selector(user_id=MEGAN), False)
    assert any("directory sync overwrites" in w and "action: disable" in w for w in result["warnings"])


def test_privileged_403_is_explained_with_both_permissions():
    client = FakeUsersGraph({("GET", USER_PATH): user_body(), ("PATCH", USER_PATH): forbidden()})
    with pytest.raises(GraphError) as caught:
        eu.run_account_enabled(client, selector(user_id=MEGAN), False)
    assert caught.value.required_permission == "User.EnableDisableAccount.All and User.Read.All"
    assert "privileged administrator role" in caught.value.hint


def test_unknown_patch_outcome_is_reconciled_only_when_the_user_shows_it():
    unknown = GraphOutcomeUnknownError("timeout", status=None, code="Timeout")
    reads = iter([user_body(), user_body(accountEnabled=False)])
    client = FakeUsersGraph({("GET", USER_PATH): lambda path, params: next(reads), ("PATCH", USER_PATH): unknown})
    assert eu.run_account_enabled(client, selector(user_id=MEGAN), False)["outcome"] == "reconciled"
    client = FakeUsersGraph({("GET", USER_PATH): user_body(), ("PATCH", USER_PATH): unknown})
    with pytest.raises(GraphOutcomeUnknownError):
        eu.run_account_enabled(client, selector(user_id=MEGAN), False)
    assert len(client.calls_of("PATCH")) == 1


@pytest.mark.parametrize("answer", [FakeResponse({"@odata.context": "x#Edm.Boolean", "value": True}), FakeResponse(None, status=204)])
def test_revoke_accepts_both_documented_answers_and_reads_back(answer):
    reads = iter([user_body(), user_body(signInSessionsValidFromDateTime="2026-11-30T05:00:00Z")])
    path = USER_PATH + "/revokeSignInSessions"
    client = FakeUsersGraph({("GET", USER_PATH): lambda p, q: next(reads), ("POST", path): answer})
    result = eu.run_user_action(client, selector(user_id=MEGAN), "revoke_sign_in_sessions")
    assert result["sign_in_sessions_valid_from_date_time"] == "2026-11-30T05:00:00Z"
    assert client.posts[0]["body"] is None and client.posts[0]["permission"] == "User.RevokeSessions.All"


def test_revoke_value_false_fails():
    answer = FakeResponse({"value": False})
    answer.url = "https://graph.fake.test/v1.0" + USER_PATH + "/revokeSignInSessions"
    client = FakeUsersGraph({("GET", USER_PATH): user_body(), ("POST", USER_PATH + "/revokeSignInSessions"): answer})
    with pytest.raises(GraphError) as caught:
        eu.run_user_action(client, selector(user_id=MEGAN), "revoke_sign_in_sessions")
    assert caught.value.code == "RevocationNotConfirmed"


@pytest.mark.parametrize("message, expected", [("Your tenant is not licensed for this feature.", "not a missing permission"),
                                               ("Insufficient privileges to complete the operation.", "grant the application")])
def test_risky_users_403_tells_license_from_permission(message, expected):
    path = "/identityProtection/riskyUsers/confirmCompromised"
    client = FakeUsersGraph({("GET", USER_PATH): user_body(), ("POST", path): forbidden("Forbidden", message)})
    with pytest.raises(GraphError) as caught:
        eu.run_user_action(client, selector(user_id=MEGAN), "confirm_compromised")
    assert expected in caught.value.hint and caught.value.required_permission == "IdentityRiskyUser.ReadWrite.All"
    assert client.posts[0]["body"] == {"userIds": [MEGAN]}


def test_risk_actions_are_refused_in_china_and_unknown_actions_everywhere():
    with pytest.raises(GraphUnsupportedCloudError):
        eu.validate_user_action("china", "confirm_compromised")
    assert eu.validate_user_action("china", "revoke_sign_in_sessions") == "revoke_sign_in_sessions"
    with pytest.raises(InputError) as caught:
        eu.validate_user_action("global", "disable")
    assert caught.value.option == "action"


def test_microsofts_vendored_examples_match_what_is_sent_and_understood():
    import json
    import pathlib

    payloads = pathlib.Path(__file__).resolve().parents[4] / "tests" / "contract" / "payloads" / "entra"
    revoke_answer = json.loads((payloads / "revokesigninsessions-response-200.json").read_text())
    confirm_example = json.loads((payloads / "riskyuser-confirmcompromised-request.json").read_text())
    reads = iter([user_body(), user_body(signInSessionsValidFromDateTime="2026-11-30T05:00:00Z")])
    client = FakeUsersGraph({("GET", USER_PATH): lambda p, q: next(reads),
                             ("POST", USER_PATH + "/revokeSignInSessions"): FakeResponse(revoke_answer)})
    assert eu.run_user_action(client, selector(user_id=MEGAN), "revoke_sign_in_sessions")["outcome"] == "sent"
    client = FakeUsersGraph({("GET", USER_PATH): user_body(), ("POST", "/identityProtection/riskyUsers/confirmCompromised"): None})
    sent = eu.run_user_action(client, selector(user_id=MEGAN), "confirm_compromised")["request"]["body"]
    assert set(sent) == set(confirm_example) and all(isinstance(item, str) for item in sent["userIds"])


# --- read-backs by object id, and the look-alike fold ----------------------------------------

UPN_PATH = eu.user_path("meganb@contoso.com")
OTHER = "11111111-2222-3333-4444-555555555555"


def test_read_matches_as_the_identity_lookups_do_never_casefold():
    """A U+FB01 ligature is not 'fi': a service that folds must not make 'ﬁnance@' act on 'finance@'."""
    client = FakeUsersGraph({("GET", eu.user_path("\ufb01nance@contoso.com")): user_body(userPrincipalName="finance@contoso.com")})
    with pytest.raises(IdentityResolutionError, match="another user"):
        eu.read_user(client, selector(user_principal_name="\ufb01nance@contoso.com"))
    client = FakeUsersGraph({("GET", eu.user_path("MEGANB@contoso.com")): user_body()})  # A-Z still fold
    assert eu.read_user(client, selector(user_principal_name="MEGANB@contoso.com"))["id"] == MEGAN
    decomposed = "cafe\u0301@contoso.com"  # NFC joins canonically equal spellings
    client = FakeUsersGraph({("GET", eu.user_path(decomposed)): user_body(userPrincipalName="caf\u00e9@contoso.com")})
    assert eu.read_user(client, selector(user_principal_name=decomposed))["id"] == MEGAN


def test_unknown_patch_is_read_back_by_the_object_id_not_the_upn_that_moved():
    """The UPN now names another, disabled user: reading it would say 'reconciled' while the target is still enabled."""
    unknown = GraphOutcomeUnknownError("timeout", status=None, code="Timeout")
    moved = user_body(id=OTHER, accountEnabled=False)
    client = FakeUsersGraph({("GET", UPN_PATH): lambda path, params: user_body() if not client.calls_of("PATCH") else moved,
                             ("GET", USER_PATH): user_body(), ("PATCH", USER_PATH): unknown})
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        eu.run_account_enabled(client, selector(user_principal_name="meganb@contoso.com"), False)
    assert caught.value.to_result()["outcome"] == "unknown"
    assert [call["path"] for call in client.calls_of("GET")] == [UPN_PATH, USER_PATH]


def test_a_resolution_error_after_an_unknown_write_is_an_unknown_outcome_not_bad_input():
    unknown = GraphOutcomeUnknownError("timeout", status=None, code="Timeout")
    gone = GraphError("not found", status=404, code="Request_ResourceNotFound")
    reads = iter([user_body(), gone])

    def read(path, params):
        answer = next(reads)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = FakeUsersGraph({("GET", USER_PATH): read, ("POST", USER_PATH + "/revokeSignInSessions"): unknown})
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        eu.run_user_action(client, selector(user_id=MEGAN), "revoke_sign_in_sessions")
    assert not isinstance(caught.value, InputError) and caught.value.to_result()["outcome"] == "unknown"
    reads = iter([user_body(), gone])
    client = FakeUsersGraph({("GET", USER_PATH): read, ("PATCH", USER_PATH): unknown})
    with pytest.raises(GraphOutcomeUnknownError):
        eu.run_account_enabled(client, selector(user_id=MEGAN), False)


def test_revoke_reads_back_the_renamed_target_by_object_id_and_succeeds():
    """Renamed after the revoke: the UPN no longer resolves, the object id does; the accepted revoke is no failure."""
    renamed = user_body(userPrincipalName="megan.bowen@contoso.com", signInSessionsValidFromDateTime="2026-11-30T05:00:00Z")
    client = FakeUsersGraph({("GET", UPN_PATH): user_body(), ("GET", USER_PATH): renamed,
                             ("POST", USER_PATH + "/revokeSignInSessions"): FakeResponse(None, status=204)})
    result = eu.run_user_action(client, selector(user_principal_name="meganb@contoso.com"), "revoke_sign_in_sessions")
    assert result["sign_in_sessions_valid_from_date_time"] == "2026-11-30T05:00:00Z"
    assert [call["path"] for call in client.calls_of("GET")] == [UPN_PATH, USER_PATH]


def test_synced_user_400_names_the_active_directory_fix():
    refused = GraphError("Unable to update the specified properties for on-premises mastered Directory Sync objects", status=400,
                         code="Request_BadRequest", request_id="r-1", client_request_id="c-1")
    client = FakeUsersGraph({("GET", USER_PATH): user_body(onPremisesSyncEnabled=True), ("PATCH", USER_PATH): refused})
    with pytest.raises(GraphError) as caught:
        eu.run_account_enabled(client, selector(user_id=MEGAN), False)
    result = caught.value.to_result()
    assert "identity_account_action" in result["hint"] and "activeDirectory" in result["hint"] and "action: disable" in result["hint"]
    assert result["error_code"] == "Request_BadRequest" and result["request_id"] == "r-1"
    refused = GraphError("Invalid value", status=400, code="Request_BadRequest")
    client = FakeUsersGraph({("GET", USER_PATH): user_body(), ("PATCH", USER_PATH): refused})  # cloud-only: no such advice
    with pytest.raises(GraphError) as caught:
        eu.run_account_enabled(client, selector(user_id=MEGAN), False)
    assert caught.value.hint is None


# --- risk actions in bulk ---------------------------------------------------------------------

def bulk_graph(count, answers=None):
    ids = ["00000000-0000-4000-8000-%012d" % number for number in range(count)]
    routes = {("GET", eu.user_path(user_id)): user_body(id=user_id, userPrincipalName=f"u{number}@contoso.com")
              for number, user_id in enumerate(ids)}
    routes.update(answers or {})
    return FakeUsersGraph(routes), ids


def test_bulk_confirm_sends_ceil_n_over_60_requests_paced_one_a_second():
    path = "/identityProtection/riskyUsers/confirmCompromised"
    clock = FakeClock(now=100.0)

    def answer(path, body):
        clock.now += 0.4  # each request takes 0.4 s: the pause counts from its answer, as the service counts arrivals
        return FakeResponse(None, status=204)

    client, ids = bulk_graph(130, {("POST", path): answer})
    selectors = eu.target_selectors([{"user_id": user_id} for user_id in ids] + [{"user_id": ids[0]}], max_targets=200)
    result = eu.run_bulk_risk_action(client, selectors, "confirm_compromised", sleep=clock.sleep, clock=clock.clock)
    bodies = [post["body"]["userIds"] for post in client.posts]
    assert [len(body) for body in bodies] == [60, 60, 10]  # the duplicate is sent once
    assert sum(bodies, []) == ids and result["outcome"] == "sent" and len(result["batch_request_ids"]) == 3
    assert clock.sleeps == [1.0, 1.0]  # Identity Protection: 1 request a second, no Retry-After to wait for
    assert all(post["permission"] == "IdentityRiskyUser.ReadWrite.All" for post in client.posts)


def test_bulk_refuses_the_whole_task_for_one_protected_or_unknown_target_before_any_post():
    client, ids = bulk_graph(3)
    selectors = eu.target_selectors([{"user_id": user_id} for user_id in ids])
    with pytest.raises(InputError, match="protected_accounts"):
        eu.run_bulk_risk_action(client, selectors, "dismiss_risk", protected_accounts=["u2@contoso.com"])
    assert client.posts == []
    client, ids = bulk_graph(2, {("GET", eu.user_path("nobody@contoso.com")): GraphError("no", status=404, code="Request_ResourceNotFound")})
    selectors = eu.target_selectors([{"user_id": user_id} for user_id in ids] + [{"user_principal_name": "nobody@contoso.com"}])
    with pytest.raises(IdentityResolutionError):
        eu.run_bulk_risk_action(client, selectors, "dismiss_risk")
    assert client.posts == []


@pytest.mark.parametrize("targets, max_targets, option", [
    ([], 100, "targets"), ([{"user_id": MEGAN}] * 3, 2, "max_targets"), ([{"user_id": "meganb"}], 100, "targets[0].user_id"),
    ([{"user_id": MEGAN, "user_principal_name": "a@contoso.com"}], 100, "targets[0]"), (["x"], 100, "targets[0]")])
def test_bulk_targets_are_checked_before_any_request(targets, max_targets, option):
    with pytest.raises(InputError) as caught:
        eu.target_selectors(targets, max_targets)
    assert caught.value.option.startswith(option)


def test_bulk_is_only_for_the_risk_actions_and_check_mode_sends_nothing():
    client, ids = bulk_graph(2)
    selectors = eu.target_selectors([{"user_id": user_id} for user_id in ids])
    with pytest.raises(InputError, match="loop the task"):
        eu.run_bulk_risk_action(client, selectors, "revoke_sign_in_sessions")
    result = eu.run_bulk_risk_action(client, selectors, "confirm_compromised", check_mode=True)
    assert result["outcome"] == "check_mode" and client.posts == [] and result["batch_requests"][0]["body"] == {"userIds": ids}


def test_bulk_unknown_outcome_stops_and_says_what_was_accepted():
    path = "/identityProtection/riskyUsers/dismiss"
    answers = iter([FakeResponse(None, status=204), GraphOutcomeUnknownError("timeout", status=None, code="Timeout")])
    client, ids = bulk_graph(70, {("POST", path): lambda p, body: next(answers)})
    clock = FakeClock(now=100.0)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        eu.run_bulk_risk_action(client, eu.target_selectors([{"user_id": i} for i in ids]), "dismiss_risk", sleep=clock.sleep, clock=clock.clock)
    assert caught.value.to_result()["outcome"] == "unknown" and "1 earlier request(s) were accepted" in str(caught.value)
    assert len(client.posts) == 2
