# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runbooks' single planner: identities in, ordered targets and a per-identity report out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _containment as c
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import parse_identity
from ansible_collections.msgraph.security.tests.unit.fakes import account_body, identity_body
from ansible_collections.msgraph.security.tests.unit.plugins.module_utils.containment_samples import AD_ONLY, CLOUD_ONLY, CONTAIN, GLASS, HYBRID, plan


def steps(result):
    return [(t["identity_account_id"], t["account_id"], t["action"]) for t in result["targets"]]


def test_documented_matrix_plans_every_supported_action_disables_first():
    result = plan([HYBRID, AD_ONLY])
    assert steps(result) == [("h-1", "ad-h", "disable"), ("h-1", "okta-h", "disable"), ("a-2", "ad-a", "disable"),
                             ("h-1", "okta-h", "revokeAllSessions"), ("h-1", "ad-h", "forcePasswordReset"),
                             ("a-2", "ad-a", "forcePasswordReset")]
    notes = result["identities"][0]["notes"]
    assert len(notes) == 1 and "entraID entra-h" in notes[0] and "action_matrix=extended" in notes[0]


def test_listed_actions_never_remove_a_step():
    # AD_ONLY lists only 'enable' (Microsoft's Get example 1) and HYBRID lists none (the List example).
    result = plan([AD_ONLY], actions=["disable"])
    assert steps(result) == [("a-2", "ad-a", "disable")]


def test_extended_matrix_adds_the_entra_id_actions():
    result = plan([HYBRID], action_matrix="extended", identity_providers="entraID")
    assert [t["action"] for t in result["targets"]] == ["disable", "revokeAllSessions", "requireUserToSignInAgain",
                                                        "markUserAsCompromised"]


def test_protected_identities_are_planned_with_a_reason_and_no_step():
    result = plan([dict(GLASS, input="x"), dict(HYBRID, input="y")], protected_account_patterns="^break[-_. ]?glass",
                  protected_accounts=["HYBRID@contoso.com"])
    reasons = [entry["protected_reason"] for entry in result["identities"]]
    assert "protected_account_patterns" in reasons[0] and "protected_accounts ('HYBRID@contoso.com')" in reasons[1]
    assert result["targets"] == [] and [entry["input"] for entry in result["identities"]] == ["x", "y"]


def test_the_same_identity_twice_is_planned_once():
    assert len(plan([HYBRID, dict(HYBRID, input="again")])["identities"]) == 1


@pytest.mark.parametrize("kwargs, option", [
    (dict(actions=["disable", "explode"]), "actions"),
    (dict(actions=[]), "actions"),
    (dict(identity_providers="ldap"), "identity_providers"),
    (dict(action_matrix="mine"), "action_matrix"),
    (dict(protected_account_patterns=["(unclosed"]), "protected_account_patterns"),
])
def test_bad_options_are_refused_naming_the_option(kwargs, option):
    arguments = dict(actions=CONTAIN)
    arguments.update(kwargs)
    with pytest.raises(InputError) as caught:
        c.ContainmentOptions(**arguments)
    assert caught.value.option == option


def test_lookups_resolve_exactly_one_identity_or_explain():
    lookups = [{"target": "hybrid@contoso.com", "identity_accounts": [HYBRID]},
               {"target": "nobody@contoso.com", "identity_accounts": []},
               {"target": "Chris", "identity_accounts": [AD_ONLY, GLASS]},
               {"target": "boom", "failed": True, "msg": "HTTP 403"}]
    resolved = c.resolve_lookups(lookups)
    assert [i["input"] for i in resolved["identities"]] == ["hybrid@contoso.com"]
    assert "'nobody@contoso.com' matches none" in resolved["errors"][0]
    assert "'Chris' matches 2: a-2 (Ad Only" in resolved["errors"][1] and "g-3" in resolved["errors"][1]
    assert "'boom' could not be looked up: HTTP 403" == resolved["errors"][2]


def test_report_joins_results_by_identity_account_and_action():
    planned = plan([HYBRID], actions=["disable", "revokeAllSessions"])
    results = {"results": [
        {"identity_account_id": "h-1", "account_id": "ad-h", "action": "disable", "status": "succeeded", "correlation_id": "c1",
         "request_id": "r1", "client_request_id": "q1", "warnings": ["w"]},
        {"identity_account_id": "h-1", "account_id": "okta-h", "action": "disable", "status": "unchanged", "reason": "already"},
        {"target": {"identity_account_id": "h-1", "account_id": "okta-h", "action": "revokeAllSessions"}, "status": "refused",
         "error_code": "InvalidInput", "error_message": "no"},
    ]}
    report = c.containment_report(planned, results, dry_run=False)
    actions = report[0]["actions"]
    assert [a["outcome"] for a in actions] == ["sent", "unchanged", "refused"]
    assert actions[0]["correlation_id"] == "c1" and actions[2]["error"] == "no"
    assert report[0]["status"] == "FAILED (1 of 3 actions)"
    lines = c.summary_lines(report, "HEADER")
    assert lines[0] == "HEADER" and "correlation_id=c1 request_id=r1 client_request_id=q1" in lines[2]
    assert lines[3] == "    warning: w"


def test_report_of_a_skipped_or_failed_task_fails_every_action():
    planned = plan([AD_ONLY], actions=["disable"])
    report = c.containment_report(planned, {"failed": True, "msg": "token refused"}, dry_run=False)
    assert report[0]["actions"][0]["error"] == "token refused"
    dry = c.containment_report(planned, {"results": [dict(planned["targets"][0], status="would_run")]}, dry_run=True,
                               done_word="restored")
    assert dry[0]["status"] == "would be restored (dry run)"


def test_split_list_accepts_survey_text_and_lists():
    assert c.as_list("a@x, b@x;\nc@x  a@x", "identities") == ["a@x", "b@x", "c@x"]
    assert c.as_list(["a", " ", None, "b"], "identities") == ["a", "b"]
    with pytest.raises(InputError):
        c.as_list({"a": 1}, "identities")


# --- the native Entra ID fallback --------------------------------------------------------------------


def entra(result):
    return [(t["identity_account_id"], t["user_id"], t["entra_action"], t["module"], tuple(t["replaces"])) for t in result["entra_targets"]]


def test_entra_fallback_is_off_by_default_and_the_note_says_how_to_turn_it_on():
    result = plan([HYBRID])
    assert result["entra_targets"] == []
    assert "entra_fallback=true" in result["identities"][0]["notes"][0]


def test_entra_fallback_plans_native_actions_for_what_defender_for_identity_does_not_cover():
    result = plan([HYBRID, AD_ONLY], entra_fallback=True)
    assert entra(result) == [  # disable goes through the AD account: HYBRID is synchronised (test below)
        ("h-1", "entra-h", "revoke_sign_in_sessions", "entra_user_action", ("revokeAllSessions", "requireUserToSignInAgain")),
        ("h-1", "entra-h", "confirm_compromised", "entra_user_action", ("markUserAsCompromised",)),
    ]
    assert steps(result)[0] == ("h-1", "ad-h", "disable")  # the Defender for Identity plan is unchanged
    note = next(n for n in result["identities"][0]["notes"] if n.startswith("entraID"))
    assert "does not cover" in note and "no native counterpart for forcePasswordReset" in note
    assert all("documented action_matrix" in t["reason"] for t in result["entra_targets"])


def test_entra_fallback_only_fills_gaps_of_the_extended_matrix():
    result = plan([HYBRID], action_matrix="extended", entra_fallback="true")
    assert result["entra_targets"] == []  # extended covers them, forcePasswordReset has no counterpart
    assert [t["action"] for t in result["targets"] if t["identity_provider"] == "entraID"] == [
        "disable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"]


def test_restore_fallback_enables_and_dismisses_risk():
    result = plan([HYBRID], actions=["enable"], entra_fallback=True)
    planned = [(t["entra_action"], t["module"]) for t in result["entra_targets"]]
    assert planned == [("enable", "entra_user"), ("dismiss_risk", "entra_user_action")]


def test_entra_fallback_skips_protected_and_unselected_providers():
    assert plan([HYBRID], entra_fallback=True, protected_accounts=["entra-h"])["entra_targets"] == []
    assert plan([HYBRID], entra_fallback=True, identity_providers="activeDirectory")["entra_targets"] == []
    with pytest.raises(InputError) as caught:
        plan([HYBRID], entra_fallback="maybe")
    assert caught.value.option == "entra_fallback"


def test_report_shows_the_native_path_and_why():
    result = plan([HYBRID], actions=["revokeAllSessions"], identity_providers="entraID", entra_fallback=True)
    [target] = result["entra_targets"]
    sent = {"item": target, "changed": True, "outcome": "sent", "sign_in_sessions_valid_from_date_time": "2026-11-30T05:00:00Z",
            "request_ids": {"request_id": "r-1", "client_request_id": "c-1"}, "warnings": []}
    [identity] = c.containment_report(result, {}, dry_run=False, entra_results=[sent])
    [action] = identity["actions"]
    assert (action["path"], action["outcome"], action["request_id"]) == ("entra_native", "sent", "r-1")
    assert "does not cover revokeAllSessions" in action["path_reason"] and identity["status"] == "contained"
    assert "2026-11-30T05:00:00Z" in action["reason"]
    lines = c.summary_lines([identity], "header")
    assert any("revoke_sign_in_sessions (native Entra ID): sent" in line for line in lines)
    failed = dict(sent, failed=True, outcome=None, msg="403 Authorization_RequestDenied", error={"error_code": "Authorization_RequestDenied"})
    [identity] = c.containment_report(result, {}, dry_run=False, entra_results=[failed])
    assert identity["status"].startswith("FAILED") and identity["actions"][0]["error_code"] == "Authorization_RequestDenied"
    [identity] = c.containment_report(result, {}, dry_run=True, entra_results=[])
    assert identity["actions"][0]["outcome"] == "not_started"


@pytest.mark.parametrize("error, expected", [
    ({"error_code": "ServiceUnavailable", "status": 503, "outcome": "unknown"}, "outcome_unknown"),  # told by the flag
    ({"error_code": "Timeout"}, "outcome_unknown"),  # a read that timed out: containment must be checked
    ({"error_code": "ServiceUnavailable", "status": 503}, "failed"),
])
def test_an_entra_result_is_unknown_by_its_error_outcome_not_its_wording(error, expected):
    result = plan([HYBRID], actions=["revokeAllSessions"], identity_providers="entraID", entra_fallback=True)
    [target] = result["entra_targets"]
    looped = {"item": target, "failed": True, "msg": "the request failed", "error": error}
    [identity] = c.containment_report(result, {}, dry_run=False, entra_results=[looped])
    assert identity["actions"][0]["outcome"] == expected


def test_risk_actions_can_be_left_out_without_p2():
    result = plan([HYBRID], entra_fallback=True, entra_risk_actions="false")
    assert [t["entra_action"] for t in result["entra_targets"]] == ["revoke_sign_in_sessions"]
    assert any("entra_risk_actions=false" in note for note in result["identities"][0]["notes"])


SYNC_WARNING = ("user hybrid@contoso.com is synchronised from on-premises Active Directory (onPremisesSyncEnabled): directory "
                "sync overwrites accountEnabled with the AD account's state, so enable the Active Directory account too "
                "(msgraph.security.identity_account_action, identity_provider: activeDirectory, action: enable)")
ENDPOINT_WARNING = "allow_custom_endpoints is true: graph_endpoint 127.0.0.1:1 is not a Microsoft host"


def sync_warned_report(ad_status):
    """A dry run that enables the hybrid user natively in Entra ID and its AD account with ``ad_status`` (a disable goes
    through AD alone: test_a_synced_user_is_disabled_through_active_directory...)."""
    result = plan([HYBRID], actions=["enable"], identity_providers=["activeDirectory", "entraID"], entra_fallback=True)
    [target] = [t for t in result["entra_targets"] if t["entra_action"] == "enable"]
    native = {"item": target, "outcome": "check_mode", "warnings": [ENDPOINT_WARNING, SYNC_WARNING]}
    defender = {"results": [dict(t, status=ad_status, warnings=[ENDPOINT_WARNING]) for t in result["targets"]]}
    [identity] = c.containment_report(result, defender, dry_run=True, entra_results=[native])
    return identity


def test_no_sync_warning_for_the_ad_action_the_plan_already_takes():
    identity = sync_warned_report("would_run")
    native = [action for action in identity["actions"] if action["path"] == "entra_native" and action["action"] == "enable"]
    assert native[0]["warnings"] == [ENDPOINT_WARNING]
    # ... and a warning every action repeats is shown once.
    assert sum(ENDPOINT_WARNING in line for line in c.summary_lines([identity], "header")) == 1


def test_the_sync_warning_stays_when_the_ad_action_fails():
    identity = sync_warned_report("failed")
    native = [action for action in identity["actions"] if action["path"] == "entra_native" and action["action"] == "enable"]
    assert SYNC_WARNING in native[0]["warnings"]


def test_one_failed_action_of_one_is_one_action():
    result = plan([HYBRID], actions=["revokeAllSessions"], identity_providers="entraID", entra_fallback=True)
    [target] = result["entra_targets"]
    failed = {"item": target, "failed": True, "msg": "the request failed", "error": {"error_code": "BadRequest"}}
    [identity] = c.containment_report(result, {}, dry_run=False, entra_results=[failed])
    assert identity["status"] == "FAILED (1 of 1 action)"


# --- who is protected: keys an account cannot change about itself ---------------------------------------

def test_a_rename_to_a_protected_name_does_not_protect_the_account():
    renamed = parse_identity(identity_body("m-9", "Break-Glass (Alex)", upn="alexw@contoso.com",
                                           accounts=[account_body("ad-m", "activeDirectory", ["disable"])]))
    result = plan([renamed], protected_account_patterns=["^break[-_. ]?glass", "Break-Glass"])
    assert result["identities"][0]["protected_reason"] is None
    assert steps(result) == [("m-9", "ad-m", "disable"), ("m-9", "ad-m", "forcePasswordReset")]


def test_patterns_still_protect_by_upn_and_sid_and_a_display_name_pattern_gets_a_warning():
    assert "protected_account_patterns" in plan([GLASS], protected_account_patterns="^break[-_. ]?glass")["identities"][0]["protected_reason"]
    assert "protected_account_patterns" in plan([AD_ONLY], protected_account_patterns=r"-1002$")["identities"][0]["protected_reason"]
    warned = plan([], protected_account_patterns=["^Tier0 Admin"])["warnings"]
    assert len(warned) == 1 and "never in display names" in warned[0]


def test_a_synced_user_is_disabled_through_active_directory_not_entra_user_when_both_paths_exist():
    """accountEnabled of a user synchronised from AD: Graph refuses the cloud change (400) or the next sync reverts it."""
    result = plan([HYBRID, CLOUD_ONLY], entra_fallback=True)
    assert ("h-1", "ad-h", "disable") in steps(result)
    native = [(t["identity_account_id"], t["entra_action"]) for t in result["entra_targets"]]
    assert ("h-1", "disable") not in native and ("c-4", "disable") in native  # cloud-only: the native path stays
    assert any("synchronised from Active Directory" in note for note in result["identities"][0]["notes"])
    # Without the AD path (its provider not selected) the native disable is all there is, and it is kept.
    only_entra = plan([HYBRID], entra_fallback=True, identity_providers="entraID")
    assert [t["entra_action"] for t in only_entra["entra_targets"]][0] == "disable"
