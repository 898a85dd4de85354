# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/respond_to_incident.yml, played unchanged against the Graph emulator: from a Defender XDR incident to
contained identities and back to the incident with a comment carrying every correlation id.

The seed's incident 4711 names Alex Wilber (SID, UPN and object id, in two alerts), Adele Vance (SID only), Debra
Berger (object id only: cloud SID lookup), the break-glass account (protected) and "jdoe" (identifies nobody)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "respond_to_incident.yml"
CLIENT = "incident_responder"
ARTIFACT = "Keep the summary as an AWX/AAP artifact (available to the next workflow node)"
ALEX = "a4df81a3-5e90-5908-b50a-754a16bee7c1"
ADELE = "5f1b7404-7297-5d35-bc70-9970e79f4775"
DEBRA = "02b3dd66-21fa-5625-bdd5-2dfcf3f86e15"
BREAK_GLASS = "7d13fbe2-a140-54c2-9e14-e9932417c373"


def play(ansible, **extra_vars):
    return ansible.play(PLAYBOOK, extra_vars=dict({"incident_id": "4711"}, **extra_vars), client=CLIENT)


def artifact(result):
    return result.task(ARTIFACT)["ansible_stats"]["data"]["msgraph_incident_response"]


def invoked(emulator):
    return [(entry["path"].split("/")[-2], entry["body"]["identityProvider"], entry["body"]["action"])
            for entry in emulator.admin.requests(route="invoke_action")]


def incident(emulator, incident_id="4711"):
    return next(item for item in emulator.admin.incidents()["incidents"] if item["id"] == incident_id)


def comments(emulator, incident_id="4711"):
    return [item["comment"] for item in incident(emulator, incident_id)["comments"]]


def put(emulator, incident_id, *accounts, roles=("compromised",), verdict="suspicious"):
    evidence = [{"@odata.type": "#microsoft.graph.security.userEvidence", "roles": list(roles), "verdict": verdict,
                 "userAccount": dict(account)} for account in accounts]
    emulator.admin.put_incident({"id": incident_id, "severity": "high", "alerts": [{"id": "da" + incident_id, "evidence": evidence}]})


def identity_writes(emulator):
    """Identity ids (invokeAction) and Entra object ids (users, riskyUsers) that some request wrote to."""
    touched = set()
    for entry in emulator.admin.writes():
        parts = entry["path"].split("/")
        if entry["route"] == "invoke_action":
            touched.add(parts[-2])
        elif "users" in parts:
            touched.add(parts[parts.index("users") + 1])
        elif "riskyUsers" in parts:
            touched.update((entry.get("body") or {}).get("userIds") or [])
    return touched


@pytest.mark.smoke
def test_dry_run_reads_plans_and_writes_nothing(ansible, emulator):
    result = play(ansible)
    assert result.rc == 0, result.output
    assert emulator.admin.writes() == []
    summary = artifact(result)
    status = {identity["id"]: identity["status"] for identity in summary["identities"]}
    assert status[ALEX] == status[ADELE] == status[DEBRA] == "would be contained (dry run)"  # Debra: entra_fallback
    assert status[BREAK_GLASS] == "protected, skipped"
    assert summary["dry_run"] is True and summary["not_found"] == [] and summary["not_contained"] == []
    assert [item["account_name"] for item in summary["unidentified"]] == ["jdoe"]
    assert any("jdoe" in line and "benign (roles contextual)" in line for line in summary["excluded"])
    lookups = [entry["query"].get("$filter") for entry in emulator.admin.requests(route="list_identity_accounts")]
    assert "onPremisesSecurityIdentifier eq 'S-1-5-21-1004336348-1177238915-682003330-1105'" in lookups
    assert "DRY RUN, nothing was sent" in result.output
    assert result.recap["changed"] == 0  # a dry run changes nothing, and the PLAY RECAP says so
    assert " people named by the evidence: " in result.task("Show what the evidence names")["msg"][1]
    assert re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", result.output), "a dry run's recap says changed=0"
    assert "Re-run with execute_containment=true" in result.output


def test_execute_contains_comments_every_correlation_id_and_sets_status_and_owner(ansible, emulator):
    result = play(ansible, execute_containment=True, incident_status="inProgress", incident_assigned_to="soc@contoso.com")
    assert result.rc == 0, result.output
    sent = invoked(emulator)
    assert {identity for identity, _provider, _action in sent} == {ALEX, ADELE}
    assert sorted(action for identity, provider, action in sent if identity == ALEX) == \
        ["disable", "disable", "forcePasswordReset", "revokeAllSessions"]
    correlation_ids = [entry["correlationId"] for entry in emulator.admin.state()["invocations"]]
    assert len(correlation_ids) == len(sent) == 6
    stored = incident(emulator)
    assert (stored["status"], stored["assignedTo"]) == ("inProgress", "soc@contoso.com")
    texts = comments(emulator)
    assert len(texts) == 1
    assert texts[0].startswith("msgraph.security respond_to_incident, incident 4711: containment executed")
    for correlation_id in correlation_ids:
        assert "correlation_id=" + correlation_id in texts[0]
    assert "request_id=" in texts[0] and "jdoe" in texts[0] and "PROTECTED" in texts[0]
    assert texts[0].split("\n")[-1].startswith("done: ") and f"{ALEX}/activeDirectory/disable" in texts[0]
    patches = emulator.admin.requests(route="update_incident")
    assert [entry["body"] for entry in patches] == [{"assignedTo": "soc@contoso.com", "status": "inProgress"}]


def test_a_second_run_on_the_same_incident_sends_nothing_new(ansible, emulator):
    first = play(ansible, execute_containment=True)
    assert first.rc == 0, first.output
    writes = len(emulator.admin.writes())
    second = play(ansible, execute_containment=True)
    assert second.rc == 0, second.output
    assert len(emulator.admin.writes()) == writes, "the second run wrote again"
    assert len(comments(emulator)) == 1
    assert "already sent by an earlier run" in second.output
    again = play(ansible, execute_containment=True, repeat_containment=True)
    assert again.rc == 0, again.output
    assert len(emulator.admin.writes()) > writes  # repeat_containment=true sends it again on purpose


def test_evidence_that_contradicts_the_directory_is_never_contained_and_never_a_success(ansible, emulator):
    # One person by the evidence: Adele's SID with Alex's UPN. The SID finds Adele, the UPN Alex: contradicting.
    put(emulator, "5001", {"accountName": "adelev", "domainName": "CONTOSO",
                           "userSid": "S-1-5-21-1004336348-1177238915-682003330-1104", "userPrincipalName": "alexw@contoso.com"})
    result = play(ansible, incident_id="5001", execute_containment=True, incident_status="resolved")
    assert result.rc != 0
    assert "not contained" in result.output and "the identifiers name different identities" in result.output
    assert identity_writes(emulator) == set()
    assert incident(emulator, "5001")["status"] == "active"  # not resolved: the run is not a success
    texts = comments(emulator, "5001")
    assert len(texts) == 1 and "containment INCOMPLETE" in texts[0] and "NOT CONTAINED" in texts[0]


def test_a_spoofed_admin_upn_beside_the_attackers_object_id_contains_nobody(ansible, emulator):
    # The case: a tier-0 admin's UPN with the attacker's (Alex's) object id.
    put(emulator, "5002", {"accountName": "adm", "userPrincipalName": "adm-tier0-jdoe@contoso.com",
                           "azureAdUserId": "4a427b07-2380-51f4-b5d1-7f9abdd896d3"})
    result = play(ansible, incident_id="5002", execute_containment=True)
    assert result.rc != 0 and "not contained" in result.output
    assert identity_writes(emulator) == set()


def test_benign_evidence_is_not_a_target_unless_the_options_say_so(ansible, emulator):
    put(emulator, "5003", {"userSid": "S-1-5-21-1004336348-1177238915-682003330-1104"}, roles=["contextual"])
    result = play(ansible, incident_id="5003")
    assert result.rc == 0, result.output
    summary = artifact(result)
    assert summary["identities"] == [] and "benign" in " ".join(summary["excluded"])
    widened = play(ansible, incident_id="5003", evidence_benign_roles=[])
    assert [identity["id"] for identity in artifact(widened)["identities"]] == [ADELE]


@pytest.mark.parametrize("extra, message", [
    ({"execute_containment": "ture"}, "execute_containment must be true or false; got 'ture'"),
    ({"execute_containment": True, "incident_status": "in progress"}, "incident_status must be one of active, inProgress"),
    ({"evidence_benign_roles": ["contextal"]}, "'contextal' is not an evidence role"),
    ({"entra_fallback": "maybe"}, "entra_fallback"),
])
def test_bad_input_is_refused_before_anything_is_read(ansible, emulator, extra, message):
    result = play(ansible, **extra)
    assert result.rc != 0 and message in result.output, result.output
    assert emulator.admin.requests(route="get_incident") == [] and emulator.admin.writes() == []


def test_unknown_incident_and_missing_id_fail_before_any_write(ansible, emulator):
    missing = play(ansible, incident_id="999999")
    assert missing.rc != 0 and "Incident 999999 was not found" in missing.output
    empty = play(ansible, incident_id="")
    assert empty.rc != 0 and "Set incident_id" in empty.output
    assert emulator.admin.writes() == []


def test_a_switch_typo_is_refused_before_any_request(ansible, emulator):
    result = play(ansible, execute_containment="ture")

    assert result.rc != 0
    # respond_to_incident checks every input in one task before anything is read (test_bad_input_is_refused_before...).
    assert "execute_containment must be true or false; got 'ture'" in result.task("Check all the operator's input before anything is read")["msg"]
    assert emulator.admin.requests() == []
