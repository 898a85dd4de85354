# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/respond_to_incident.yml, played unchanged against the Graph emulator: from a Defender XDR incident to
contained identities and back to the incident with a comment carrying every correlation id.

The seed's incident 4711 names Alex Wilber (SID, UPN and object id, in two alerts), Adele Vance (SID only), Debra
Berger (object id only: cloud SID lookup), the break-glass account (protected) and "jdoe" (identifies nobody)."""

from __future__ import annotations

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


@pytest.mark.smoke
def test_dry_run_reads_plans_and_writes_nothing(ansible, emulator):
    result = play(ansible)
    assert result.rc == 0, result.output
    assert emulator.admin.writes() == []
    summary = artifact(result)
    status = {identity["id"]: identity["status"] for identity in summary["identities"]}
    assert status[ALEX] == status[ADELE] == "would be contained (dry run)"
    assert status[BREAK_GLASS] == "protected, skipped"
    assert status[DEBRA] == "nothing to do"  # Entra ID only: no action in the documented matrix
    assert summary["dry_run"] is True and summary["not_found"] == []
    assert [item["account_name"] for item in summary["unidentified"]] == ["jdoe"]
    lookups = [entry["query"].get("$filter") for entry in emulator.admin.requests(route="list_identity_accounts")]
    assert "cloudSecurityIdentifier eq 'S-1-12-1-3565551495-1438611337-3952953731-2043564913'" in lookups
    assert "DRY RUN, nothing was sent" in result.output
    assert result.recap["changed"] == 0  # a dry run changes nothing, and the PLAY RECAP says so
    assert " people named by the evidence: " in result.task("Show what the evidence names")["msg"][1]


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
    comments = [item["comment"] for item in stored["comments"]]
    assert len(comments) == 1
    for correlation_id in correlation_ids:
        assert "correlation_id=" + correlation_id in comments[0]
    assert "request_id=" in comments[0] and "jdoe" in comments[0] and "PROTECTED" in comments[0]
    patches = emulator.admin.requests(route="update_incident")
    assert [entry["body"] for entry in patches] == [{"assignedTo": "soc@contoso.com", "status": "inProgress"}]


def test_evidence_that_contradicts_the_directory_stops_before_anything_is_sent(ansible, emulator):
    # One person by the evidence: Adele's SID with Alex's UPN. The SID finds Adele, whose UPN differs: ambiguous.
    emulator.admin.put_incident({"id": "5001", "severity": "high", "alerts": [{"id": "da5001", "evidence": [{
        "@odata.type": "#microsoft.graph.security.userEvidence", "roles": ["compromised"],
        "userAccount": {"accountName": "adelev", "domainName": "CONTOSO", "userSid": "S-1-5-21-1004336348-1177238915-682003330-1104",
                        "userPrincipalName": "alexw@contoso.com"}}]}]})
    result = play(ansible, incident_id="5001", execute_containment=True, incident_status="resolved")
    assert result.rc != 0
    assert "Nothing was sent" in result.output and "consistent with every identifier" in result.output
    assert emulator.admin.writes() == []
    assert incident(emulator, "5001")["status"] == "active"


def test_unknown_incident_and_missing_id_fail_before_any_write(ansible, emulator):
    missing = play(ansible, incident_id="999999")
    assert missing.rc != 0 and "Incident 999999 was not found" in missing.output
    empty = play(ansible, incident_id="")
    assert empty.rc != 0 and "Set incident_id" in empty.output
    assert emulator.admin.writes() == []


def test_a_switch_typo_is_refused_before_any_request(ansible, emulator):
    result = play(ansible, execute_containment="ture")

    assert result.rc != 0
    assert "execute_containment: must be true or false, got 'ture'" in result.task("Read the operator's input")["msg"]
    assert emulator.admin.requests() == []
