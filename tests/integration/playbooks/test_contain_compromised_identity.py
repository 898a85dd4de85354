# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/contain_compromised_identity.yml, played unchanged against the Graph emulator.

Targets are picked from the emulator's live state by what they look like (providers, offered actions), and
every test asserts from the emulator's request log which writes reached Graph: none for a dry run, exactly the
planned invokeAction calls for an executed run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import BOTH_PROFILES

pytestmark = BOTH_PROFILES  # the schema and docs profiles of the emulator

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "contain_compromised_identity.yml"
ANNOUNCE = "Say whether this run sends anything"
APPLY = "Apply the containment actions (check mode unless execute_containment is true)"
SUMMARY = "Show the summary (find the correlation ids in the Microsoft Defender Action center)"
ARTIFACT = "Keep the summary as an AWX/AAP artifact (available to the next workflow node)"
INVOKE_PATH = "/beta/security/identities/identityAccounts/{}/invokeAction"
# The runbook starts every disable first, then the other actions in this order (one task, actions in parallel).
ACTION_ORDER = ("disable", "revokeAllSessions", "forcePasswordReset", "requireUserToSignInAgain", "markUserAsCompromised")


# --- picking identities from the emulator's state --------------------------------------------------------


def identities(emulator):
    return emulator.admin.state()["identities"]


def providers(identity):
    return {account["identityProvider"] for account in identity["accounts"]}


def account(identity, provider):
    return next(item for item in identity["accounts"] if item["identityProvider"] == provider)


def enabled_with(emulator, wanted, skip=()):
    """An enabled identity with exactly these providers, each account offering disable, not break-glass."""
    for identity in identities(emulator):
        if (identity["isEnabled"] and providers(identity) == set(wanted) and identity["id"] not in skip
                and all("disable" in item["actions"] for item in identity["accounts"])
                and identity.get("onPremisesSecurityIdentifier")
                and not identity["userPrincipalName"].startswith("break")):
            return identity
    raise AssertionError(f"the seed has no enabled identity with exactly {sorted(wanted)}")


def break_glass(emulator):
    return next(i for i in identities(emulator) if i["userPrincipalName"].lower().startswith("breakglass"))


def expected_documented_plan(identity):
    """What the runbook must do with the default variables: the documented matrix, every containment action."""
    plan = []
    if "activeDirectory" in providers(identity):
        ad = account(identity, "activeDirectory")["identifier"]
        plan += [(identity["id"], ad, "activeDirectory", "disable"), (identity["id"], ad, "activeDirectory", "forcePasswordReset")]
    if "okta" in providers(identity):
        okta = account(identity, "okta")["identifier"]
        plan += [(identity["id"], okta, "okta", "disable"), (identity["id"], okta, "okta", "revokeAllSessions")]
    return plan


def in_action_order(plan):
    return sorted(plan, key=lambda step: ACTION_ORDER.index(step[3]))


def posted(emulator):
    """The invokeAction writes as (identity id, accountId, identityProvider, action), sorted: they are sent in parallel."""
    writes = [entry for entry in emulator.admin.writes() if entry["route"] == "invoke_action"]
    result = []
    for entry in writes:
        body = entry["body"]
        assert set(body) == {"accountId", "action", "identityProvider"}, body
        identity_id = entry["path"].split("/identityAccounts/")[1].split("/")[0]
        assert entry["path"] == INVOKE_PATH.format(identity_id)
        result.append((identity_id, body["accountId"], body["identityProvider"], body["action"]))
    return sorted(result)


def entra_user_id(identity):
    return account(identity, "entraID")["identifier"]


def expected_entra_writes(identity):
    """The native Entra ID fallback (entra_fallback, default true) for the default containment actions. A user with an
    activeDirectory account is synchronised from AD: it is disabled there (Defender for Identity), not by entra_user."""
    user = entra_user_id(identity)
    synced = any(account["identityProvider"] == "activeDirectory" for account in identity["accounts"])
    return ([] if synced else [("PATCH", f"/v1.0/users/{user}")]) + [
        ("POST", f"/v1.0/users/{user}/revokeSignInSessions"), ("POST", "/v1.0/identityProtection/riskyUsers/confirmCompromised")]


def entra_writes(emulator):
    return sorted((entry["method"], entry["path"]) for entry in emulator.admin.writes() if entry["route"] != "invoke_action")


def planned(play):
    """The targets the runbook gave the module, in order."""
    return [(item["target"]["identity_account_id"], item["target"]["account_id"], item["target"]["identity_provider"],
             item["target"]["action"]) for item in play.task(APPLY)["results"]]


# --- tests -------------------------------------------------------------------------------------------------


@pytest.mark.pairwise
@pytest.mark.parametrize("shape, how", [("schema", "default"), ("example", "check_flag_beats_execute")])
def test_dry_run_sends_nothing_and_shows_the_plan(emulator, ansible, shape, how):
    """A UPN, a SID and two protected identities; nothing reaches Graph, the summary says DRY RUN."""
    emulator.admin.configure(shape=shape)
    hybrid = enabled_with(emulator, {"activeDirectory", "entraID", "okta"})
    by_sid = enabled_with(emulator, {"activeDirectory", "entraID"})
    protected_by_id = enabled_with(emulator, {"activeDirectory", "entraID"}, skip={by_sid["id"]})
    glass = break_glass(emulator)
    extra_vars = {
        # A survey textarea: mixed separators, a duplicate, the break-glass account by UPN (default pattern).
        "identities": f"{hybrid['userPrincipalName']},\n{by_sid['onPremisesSecurityIdentifier']} {glass['userPrincipalName']};"
                      f"{protected_by_id['id']}\n{hybrid['userPrincipalName'].upper()}",
        "protected_accounts": protected_by_id["id"],
        "incident_id": "INC-0001",
    }
    check = how == "check_flag_beats_execute"
    if check:
        extra_vars["execute_containment"] = True  # --check must still win: nothing may be sent

    play = ansible.play(PLAYBOOK, extra_vars=extra_vars, check=check)

    assert play.rc == 0, play.output
    assert emulator.admin.writes() == []
    assert planned(play) == in_action_order(expected_documented_plan(hybrid) + expected_documented_plan(by_sid))
    assert {item["status"] for item in play.task(APPLY)["results"]} == {"would_run"}
    lines = play.task(SUMMARY)["msg"]
    assert lines[0].startswith("DRY RUN") and "INC-0001" in lines[0]
    # The hint names what this run lacks: --check wins over execute_containment=true, so it says "without --check".
    hint = "Re-run without --check to contain." if check else "Re-run with execute_containment=true to contain."
    assert hint in lines[0] and hint in play.task(ANNOUNCE)["msg"]
    assert ("execute_containment=true" in lines[0]) is not check
    assert "5 identities: " in play.task(ANNOUNCE)["msg"]  # as typed: the upper-case duplicate is contained once
    assert play.recap["changed"] == 0  # a dry run changes nothing, and the PLAY RECAP says so
    status = {line.split(" id ")[1].split(":")[0]: line for line in lines if " id " in line}
    assert "WOULD BE CONTAINED (DRY RUN)" in status[hybrid["id"]]
    # The hybrid user's Entra ID sessions: Defender for Identity does not reach them, the native action would.
    summary = "\n".join(lines)
    assert f"entraID {entra_user_id(hybrid)} revoke_sign_in_sessions (native Entra ID): would be sent (dry run)" in summary
    assert "native Entra ID actions planned instead (entra_fallback)" in summary
    # The hybrid user is synchronised from AD and the plan disables its AD account: no warning asks for that, and
    # the warning every task gives about the emulator (a custom endpoint) is shown once.
    assert "so disable the Active Directory account too" not in summary
    assert summary.count("graph_endpoint 127.0.0.1") <= 1
    assert "PROTECTED, SKIPPED" in status[glass["id"]] and "protected_account_patterns" in status[glass["id"]]
    assert "PROTECTED, SKIPPED" in status[protected_by_id["id"]] and "protected_accounts" in status[protected_by_id["id"]]
    assert len(status) == 4  # the duplicate UPN was contained once
    artifact = play.task(ARTIFACT)["ansible_stats"]["data"]["msgraph_containment"]
    assert artifact["dry_run"] is True and artifact["incident_id"] == "INC-0001"


@pytest.mark.pairwise
@pytest.mark.parametrize("shape", [pytest.param("schema", marks=pytest.mark.smoke), "example"])
def test_execute_posts_exactly_the_planned_actions(emulator, ansible, shape):
    emulator.admin.configure(shape=shape)
    hybrid = enabled_with(emulator, {"activeDirectory", "entraID", "okta"})
    by_sid = enabled_with(emulator, {"activeDirectory", "entraID"})

    play = ansible.play(PLAYBOOK, extra_vars={
        "identities": [hybrid["userPrincipalName"], by_sid["onPremisesSecurityIdentifier"]],
        "execute_containment": "true",  # what an AWX multiple-choice survey answer looks like
    })

    assert play.rc == 0, play.output
    expected = expected_documented_plan(hybrid) + expected_documented_plan(by_sid)
    assert planned(play) == in_action_order(expected)
    assert posted(emulator) == sorted(expected)
    assert entra_writes(emulator) == sorted(expected_entra_writes(hybrid) + expected_entra_writes(by_sid))
    emulator.admin.settle()  # the docs profile's propagation delay: the AD disable takes effect first
    emulator.admin.directory_sync()  # synced users: the AD disable reaches Entra ID at the next sync
    users = {user["id"]: user for user in emulator.admin.state()["users"]}
    after = {identity["id"]: identity for identity in identities(emulator)}
    for identity in (hybrid, by_sid):
        user = users[entra_user_id(identity)]
        assert user["accountEnabled"] is False and user["riskState"] == "confirmedCompromised"
        assert user["signInSessionsValidFromDateTime"] > "2026-01-05T08:00:00Z"
        assert after[identity["id"]]["isEnabled"] is False
        assert "enable" in account(after[identity["id"]], "activeDirectory")["actions"]
    # Every correlation id the emulator issued is in the summary and the artifact, with its request id.
    correlation_ids = [item["correlationId"] for item in emulator.admin.state()["invocations"]]
    assert len(correlation_ids) == len(expected)
    summary = "\n".join(play.task(SUMMARY)["msg"])
    assert summary.startswith("EXECUTED")
    for correlation_id in correlation_ids:
        assert f"correlation_id={correlation_id}" in summary
    reported = play.task(ARTIFACT)["ansible_stats"]["data"]["msgraph_containment"]["identities"]
    everything = [action for identity in reported for action in identity["actions"]]
    actions = [action for action in everything if action["path"] == "defender_for_identity"]
    assert sorted(a["correlation_id"] for a in actions) == sorted(correlation_ids)
    assert all(a["outcome"] == "sent" and a["request_id"] and a["client_request_id"] for a in everything)
    native = [action for action in everything if action["path"] == "entra_native"]
    # Both users are synchronised from AD: disabled through Defender for Identity there, not by entra_user (the planner's note).
    assert sorted(a["action"] for a in native) == sorted(["revoke_sign_in_sessions", "confirm_compromised"] * 2)
    assert all("does not cover" in a["path_reason"] for a in native)
    revoked = next(a for a in native if a["action"] == "revoke_sign_in_sessions")
    assert revoked["reason"].startswith("sessions valid from ")
    assert "synchronised from Active Directory" in play.output
    assert "revoke_sign_in_sessions (native Entra ID): sent" in summary
    assert [identity["status"] for identity in reported] == ["contained", "contained"]


def test_fails_closed_before_any_write(emulator, ansible):
    """An ambiguous SID and an unknown UPN stop the run before any action task, even for the valid identity."""
    good = enabled_with(emulator, {"activeDirectory", "entraID", "okta"})
    original = enabled_with(emulator, {"activeDirectory", "entraID"})
    twin = dict(original, id="0f0f0f0f-0000-4000-8000-00000000abcd", userPrincipalName="twin@contoso.com",
                emailAddress="twin@contoso.com", displayName="Twin")
    emulator.admin.put_identity(twin)

    play = ansible.play(PLAYBOOK, extra_vars={
        "identities": f"{good['userPrincipalName']} {original['onPremisesSecurityIdentifier']} nobody@contoso.com",
        "execute_containment": True,
    })

    assert play.rc != 0
    assert emulator.admin.writes() == []
    with pytest.raises(KeyError):
        play.task(APPLY)
    message = play.task("Stop unless every identity matched exactly one identity account (fail closed)")["msg"]
    assert f"'{original['onPremisesSecurityIdentifier']}' matches 2" in message
    assert original["id"] in message and twin["id"] in message
    assert "'nobody@contoso.com' matches none" in message
    assert good["userPrincipalName"] not in message


def test_one_refused_action_does_not_stop_the_others(emulator, ansible):
    """action_matrix=extended against a service that refuses Entra ID actions: the others are still sent."""
    hybrid = enabled_with(emulator, {"activeDirectory", "entraID", "okta"})

    play = ansible.play(PLAYBOOK, extra_vars={
        "identities": hybrid["userPrincipalName"], "execute_containment": True,
        "action_matrix": "extended", "containment_actions": "disable",
    })

    assert play.rc != 0
    sent = posted(emulator)
    assert sorted(item[2] for item in sent) == ["activeDirectory", "entraID", "okta"]
    assert {item[3] for item in sent} == {"disable"}
    failed_write = next(entry for entry in emulator.admin.writes() if entry["body"]["identityProvider"] == "entraID")
    assert failed_write["status"] == 400
    reported = play.task(ARTIFACT)["ansible_stats"]["data"]["msgraph_containment"]["identities"][0]
    outcomes = {action["identity_provider"]: action for action in reported["actions"]}
    assert outcomes["activeDirectory"]["outcome"] == "sent" and outcomes["okta"]["outcome"] == "sent"
    assert outcomes["entraID"]["outcome"] == "failed" and outcomes["entraID"]["error_code"] == "BadRequest"
    assert outcomes["entraID"]["request_id"] == failed_write["request_id"]
    assert reported["status"].startswith("FAILED (1 of 3")
    final = play.task("Fail the run when an action failed (details in the summary above)")
    assert final["msg"].startswith("1 containment action did not succeed")


def test_entra_fallback_false_sends_defender_for_identity_actions_only(emulator, ansible):
    hybrid = enabled_with(emulator, {"activeDirectory", "entraID", "okta"})

    play = ansible.play(PLAYBOOK, extra_vars={"identities": hybrid["userPrincipalName"], "execute_containment": True,
                                              "entra_fallback": False})

    assert play.rc == 0, play.output
    assert entra_writes(emulator) == []
    assert posted(emulator) == sorted(expected_documented_plan(hybrid))
    summary = "\n".join(play.task(SUMMARY)["msg"])
    assert "entra_fallback=true would use Microsoft Graph's native Entra ID actions" in summary


def test_one_identity_is_one_identity_and_an_executed_run_reports_its_changes(emulator, ansible):
    hybrid = enabled_with(emulator, {"activeDirectory", "entraID"})

    play = ansible.play(PLAYBOOK, extra_vars={"identities": hybrid["userPrincipalName"], "execute_containment": "yes"})

    assert play.rc == 0, play.output
    assert f"1 identity: {hybrid['userPrincipalName']}." in play.task(ANNOUNCE)["msg"]
    # The native Entra ID actions and the action task; the disable of a user with an Active Directory account goes
    # through Defender for Identity alone (synced users: test_a_synced_user_is_disabled_through_active_directory...).
    assert play.recap["changed"] == 2


@pytest.mark.parametrize("extra_vars, message", [
    ({"identities": "alexw@contoso.com", "execute_containment": "ture"}, "execute_containment: must be true or false, got 'ture'"),
    # A display name: two words, neither a UPN, a SID nor an id; refused before any lookup.
    ({"identities": "Alex Wilber", "execute_containment": True},
     "identities: 'Alex', 'Wilber' are not user principal names, on-premises SIDs or identity account ids. Display names are not accepted"),
])
def test_input_that_is_not_what_it_should_be_is_refused_before_any_request(emulator, ansible, extra_vars, message):
    play = ansible.play(PLAYBOOK, extra_vars=extra_vars)

    assert play.rc != 0
    assert message in play.task("Read the operator's input")["msg"] and "Nothing was sent." in play.output
    assert emulator.admin.requests() == []
