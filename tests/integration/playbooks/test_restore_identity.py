# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/restore_identity.yml against the Graph emulator: a dry run, then the real run, in both response shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import BOTH_PROFILES

pytestmark = BOTH_PROFILES  # the schema and docs profiles of the emulator

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "restore_identity.yml"
APPLY = "Enable the accounts (check mode unless execute_restore is true)"
SUMMARY = "Show the summary (find the correlation ids in the Microsoft Defender Action center)"
ARTIFACT = "Keep the summary as an AWX/AAP artifact (available to the next workflow node)"


def identities(emulator):
    return {identity["id"]: identity for identity in emulator.admin.state()["identities"]}


def providers(identity):
    return {account["identityProvider"] for account in identity["accounts"]}


def pick(emulator, enabled, wanted):
    for identity in identities(emulator).values():
        if identity["isEnabled"] is enabled and providers(identity) == wanted and identity.get("onPremisesSecurityIdentifier"):
            return identity
    raise AssertionError(f"the seed has no identity with isEnabled={enabled} and exactly {sorted(wanted)}")


def enable_writes(emulator):
    writes = [entry for entry in emulator.admin.writes() if entry["route"] == "invoke_action"]
    assert all(entry["body"]["action"] == "enable" for entry in writes), writes
    return sorted((entry["path"].split("/identityAccounts/")[1].split("/")[0], entry["body"]["accountId"], entry["body"]["identityProvider"])
                  for entry in writes)


@pytest.mark.pairwise
@pytest.mark.parametrize("shape", [pytest.param("schema", marks=pytest.mark.smoke), "example"])
def test_dry_run_then_restore(emulator, ansible, shape, emulator_profile):
    emulator.admin.configure(shape=shape)
    disabled = pick(emulator, False, {"activeDirectory", "entraID", "okta"})
    enabled = pick(emulator, True, {"activeDirectory", "entraID"})
    targets = f"{disabled['onPremisesSecurityIdentifier']}\n{enabled['userPrincipalName']}"
    # With the documented matrix only the Active Directory and Okta accounts can be enabled.
    expected = sorted((disabled["id"], account["identifier"], account["identityProvider"])
                      for account in disabled["accounts"] if account["identityProvider"] in ("activeDirectory", "okta"))
    # Profile-specific: under docs the enabled identity's lookup offers no actions (or Get example 1's contradiction),
    # so isEnabled alone does not confirm it: its enable is planned and sent rather than skipped.
    confirmed = emulator_profile == "schema"
    if not confirmed:
        expected = sorted(expected + [(enabled["id"], account["identifier"], "activeDirectory")
                                      for account in enabled["accounts"] if account["identityProvider"] == "activeDirectory"])

    dry = ansible.play(PLAYBOOK, extra_vars={"identities": targets})

    assert dry.rc == 0, dry.output
    assert emulator.admin.writes() == []
    outcomes = {(item["target"]["identity_account_id"], item["target"]["identity_provider"]): item["status"]
                for item in dry.task(APPLY)["results"]}
    assert outcomes == {(disabled["id"], "activeDirectory"): "would_run", (disabled["id"], "okta"): "would_run",
                        (enabled["id"], "activeDirectory"): "unchanged" if confirmed else "would_run"}
    assert dry.task(SUMMARY)["msg"][0] == "DRY RUN - check mode, nothing was sent. Re-run with execute_restore=true to enable the accounts."
    assert dry.recap["changed"] == 0  # a dry run changes nothing, and the PLAY RECAP says so
    assert identities(emulator)[disabled["id"]] == disabled

    done = ansible.play(PLAYBOOK, extra_vars={"identities": targets, "execute_restore": True})

    assert done.rc == 0, done.output
    assert enable_writes(emulator) == expected
    # Natively in Entra ID (entra_fallback): sign-in allowed again where it was blocked, and risk dismissed for both.
    entra = {identity["id"]: next(a["identifier"] for a in identity["accounts"] if a["identityProvider"] == "entraID")
             for identity in (disabled, enabled)}
    native = sorted((entry["method"], entry["path"]) for entry in emulator.admin.writes() if entry["route"] != "invoke_action")
    assert native == sorted([("PATCH", f"/v1.0/users/{entra[disabled['id']]}")]
                            + [("POST", "/v1.0/identityProtection/riskyUsers/dismiss")] * 2)
    users = {user["id"]: user for user in emulator.admin.state()["users"]}
    assert users[entra[disabled["id"]]]["accountEnabled"] is True and users[entra[enabled["id"]]]["riskState"] == "dismissed"
    after = identities(emulator)[disabled["id"]]
    for account in after["accounts"]:
        wanted = "disable" if account["identityProvider"] in ("activeDirectory", "okta") else "enable"
        assert wanted in account["actions"], account
    reported = {item["id"]: item for item in done.task(ARTIFACT)["ansible_stats"]["data"]["msgraph_restore"]["identities"]}
    assert reported[disabled["id"]]["status"] == "restored"
    # Its Defender for Identity enable is unchanged when the lookup confirms the state (schema profile), else sent;
    # natively its Entra ID user was already enabled (unchanged) and its risk was dismissed (a command: sent).
    outcomes = {(a["path"], a["action"]): a["outcome"] for a in reported[enabled["id"]]["actions"]}
    assert outcomes == {("defender_for_identity", "enable"): "unchanged" if confirmed else "sent",
                        ("entra_native", "enable"): "unchanged", ("entra_native", "dismiss_risk"): "sent"}
    invocations = [item["correlationId"] for item in emulator.admin.state()["invocations"] if item["identityAccountId"] == disabled["id"]]
    assert sorted(action["correlation_id"] for action in reported[disabled["id"]]["actions"]
                  if action["path"] == "defender_for_identity") == sorted(invocations)
    summary = done.task(SUMMARY)["msg"]
    assert summary[0].startswith("EXECUTED") and summary[-1].startswith("Not undone")


@pytest.mark.parametrize("extra_vars, message", [
    ({"identities": "alexw@contoso.com", "execute_restore": "ture"}, "execute_restore: must be true or false, got 'ture'"),
    ({"identities": "alexw@contoso.com Wilber"}, "identities: 'Wilber' is not a user principal name, an on-premises SID or an identity account id."),
])
def test_input_that_is_not_what_it_should_be_is_refused_before_any_request(emulator, ansible, extra_vars, message):
    play = ansible.play(PLAYBOOK, extra_vars=extra_vars)

    assert play.rc != 0
    assert message in play.task("Read the operator's input")["msg"]
    assert emulator.admin.requests() == []


def test_check_flag_with_execute_says_without_check(emulator, ansible):
    enabled = pick(emulator, True, {"activeDirectory", "entraID"})

    play = ansible.play(PLAYBOOK, extra_vars={"identities": enabled["userPrincipalName"], "execute_restore": True}, check=True)

    assert play.rc == 0, play.output
    assert play.task(SUMMARY)["msg"][0] == "DRY RUN - check mode, nothing was sent. Re-run without --check to enable the accounts."
    assert f"1 identity: {enabled['userPrincipalName']}." in play.task("Say whether this run sends anything")["msg"]
    assert play.recap["changed"] == 0 and emulator.admin.writes() == []
