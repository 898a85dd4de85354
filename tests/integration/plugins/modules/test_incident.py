# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""incident against the emulator: real ansible-playbook runs, MSAL tokens over HTTPS.

The last four tests play incident_info and alert_info beside it, each in one play: refusals before any request
and output at -vvvv are checked across the three incident modules at once, as the runbooks use them."""

from __future__ import annotations

import re

import pytest
from incident_helpers import CLIENT, DOC_INCIDENT, IDENTITY_INCIDENT, play, stored

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import SHAPES_SMOKE_FIRST, task, writes


@pytest.mark.parametrize("shape", SHAPES_SMOKE_FIRST)
def test_incident_patches_only_what_differs_comments_once_and_is_idempotent(ansible, emulator, shape):
    emulator.admin.configure(shape=shape)
    update = task("update", "incident", dict(incident_id=DOC_INCIDENT, status="inProgress", assigned_to="KaiC@contoso.onmicrosoft.com",
                                             classification="truePositive", custom_tags=["Demo", "ansible"],
                                             comment="Contained  alexw@contoso.com\n"))
    first = play(ansible, update, diff=True)
    assert first.rc == 0, first.output
    result = first.task("update")
    assert result["changed"] is True and result["patched"] == ["customTags", "status"] and result["comment_added"] is True
    patches = emulator.admin.requests(route="update_incident")
    assert len(patches) == 1 and patches[0]["body"] == {"status": "inProgress", "customTags": ["Demo", "ansible"]}
    assert result["diff"]["before"]["status"] == "active" and result["diff"]["after"]["status"] == "inProgress"
    assert result["diff"]["after"]["comments"] == result["diff"]["before"]["comments"] + 1
    assert stored(emulator, DOC_INCIDENT)["comments"][-1]["comment"] == "Contained  alexw@contoso.com\n"

    emulator.admin.clear_requests()
    same = dict(update["msgraph.security.incident"], comment="Contained alexw@contoso.com", custom_tags=["ansible", "Demo"])
    again = play(ansible, dict(update, **{"msgraph.security.incident": same}))
    assert again.rc == 0, again.output
    assert again.task("update")["changed"] is False and again.task("update")["requests"] == []
    assert writes(emulator) == []


def test_incident_check_mode_previews_the_exact_requests_and_writes_nothing(ansible, emulator):
    result = play(ansible, task("resolve", "incident", dict(incident_id=IDENTITY_INCIDENT, status="resolved", assigned_to="",
                                                            determination="compromisedUser", comment="resolved by ansible")),
                  check=True, diff=True)
    assert result.rc == 0, result.output
    outcome = result.task("resolve")
    assert outcome["changed"] is True and writes(emulator) == []
    url = emulator.info["graph_endpoint"] + "/v1.0/security/incidents/4711"
    assert outcome["requests"] == [
        {"method": "PATCH", "url": url, "body": {"determination": "compromisedAccount", "status": "resolved"}},
        {"method": "POST", "url": url + "/comments",
         "body": {"@odata.type": "microsoft.graph.security.alertComment", "comment": "resolved by ansible"}},
    ]
    assert outcome["diff"]["after"]["status"] == "resolved" and outcome["incident"]["status"] == "resolved"
    assert stored(emulator, IDENTITY_INCIDENT)["status"] == "active"


def test_patch_outcome_unknown_is_reconciled_by_reading_never_resent(ansible, emulator):
    emulator.admin.add_fault(route="update_incident", kind="status", status=504, times=1, after_processing=True)
    result = play(ansible, task("take", "incident", dict(incident_id=IDENTITY_INCIDENT, assigned_to="soc@contoso.com")))
    assert result.rc == 0, result.output
    assert len(emulator.admin.requests(route="update_incident")) == 1
    assert any("outcome was unknown" in str(warning) for warning in result.task("take").get("warnings", []))
    assert stored(emulator, IDENTITY_INCIDENT)["assignedTo"] == "soc@contoso.com"


def test_bad_input_and_missing_permission_fail_clearly_before_or_at_the_request(ansible, emulator):
    result = play(ansible,
                  task("nothing to do", "incident", dict(incident_id=IDENTITY_INCIDENT), ignore_errors=True),
                  task("bad time", "incident_info", dict(updated_since="yesterday"), ignore_errors=True),
                  task("reader cannot write", "incident", dict(incident_id=IDENTITY_INCIDENT, status="resolved"), ignore_errors=True),
                  client="incident_reader")
    assert "set at least one of them" in result.task("nothing to do")["msg"]
    assert result.task("bad time")["option"] == "updated_since"
    denied = result.task("reader cannot write")
    assert denied["error"]["status"] == 403 and denied["error"]["required_permission"] == "SecurityIncident.ReadWrite.All"
    assert [entry["status"] for entry in writes(emulator)] == [403]  # the one refused PATCH; input errors sent nothing
    assert stored(emulator, IDENTITY_INCIDENT)["status"] == "active"


def test_ids_that_would_change_the_request_path_are_refused_before_any_request(ansible, emulator):
    result = play(ansible,
                  task("encoded slash", "incident", dict(incident_id="2972395%2Fcomments", status="resolved"), ignore_errors=True),
                  task("dot segment", "incident_info", dict(incident_id="%2e%2e"), ignore_errors=True),
                  task("encoded query", "alert_info", dict(alert_id="da637551227677560813_-961444813%3F$top=1"), ignore_errors=True))
    assert (result.task("encoded slash")["option"], result.task("dot segment")["option"], result.task("encoded query")["option"]) == (
        "incident_id", "incident_id", "alert_id")
    assert "percent-encoded" in result.task("encoded slash")["msg"] and "dot segment" in result.task("dot segment")["msg"]
    assert emulator.admin.requests() == []


def test_no_secret_or_token_in_the_output_at_vvvv(ansible, emulator):
    secret = emulator.info["clients"][CLIENT]["client_secret"]
    result = play(ansible,
                  task("read", "incident_info", dict(incident_id=IDENTITY_INCIDENT, include_alerts=True)),
                  task("write", "incident", dict(incident_id=IDENTITY_INCIDENT, status="inProgress", comment="vvvv")),
                  task("denied", "incident", dict(incident_id=IDENTITY_INCIDENT, status="resolved",
                                                  client_secret="Wr0ng-secret-value~incident.2026"), ignore_errors=True),
                  verbosity=4)
    assert result.rc == 0, result.output
    assert secret not in result.output and "Wr0ng-secret-value~incident.2026" not in result.output
    assert re.search(r"eyJ[\w-]+\.eyJ[\w-]+\.", result.output) is None
    assert result.status("denied") == "failed" and "AADSTS" in result.task("denied")["msg"]


@pytest.mark.parametrize("profile", ["schema", "docs"])
def test_evolvable_enum_members_are_found_as_microsoft_serves_them(ansible, emulator, profile):
    """Without "Prefer: include-unknown-enum-members" Graph answers awaitingAction and microsoftSentinel as
    unknownFutureValue (both emulator profiles do); the modules ask for them, so filters on them find the items."""
    emulator.admin.configure(profile=profile)
    waiting = emulator.admin.put_incident({"displayName": "Defender Experts ask", "status": "awaitingAction", "severity": "high",
                                           "alerts": [{"id": "da_sentinel_1", "serviceSource": "microsoftSentinel", "severity": "high"}]})
    result = play(ansible,
                  task("awaiting", "incident_info", dict(status=["awaitingAction"])),
                  task("one", "incident_info", dict(incident_id=waiting["id"], include_alerts=True)),
                  task("sentinel", "alert_info", dict(service_source=["microsoftSentinel"])),
                  task("set awaiting", "incident", dict(incident_id=IDENTITY_INCIDENT, status="awaitingAction"), ignore_errors=True))
    assert [item["id"] for item in result.task("awaiting")["incidents"]] == [waiting["id"]]
    one = result.task("one")["incidents"][0]
    assert one["status"] == "awaitingAction" and one["alerts"][0]["service_source"] == "microsoftSentinel"
    assert [alert["id"] for alert in result.task("sentinel")["alerts"]] == ["da_sentinel_1"]
    refused = result.task("set awaiting")
    assert "Defender Experts" in refused["msg"] and refused["option"] == "status", refused
    reads = emulator.admin.requests(route="list_incidents") + emulator.admin.requests(route="list_alerts")
    assert reads and all(entry["headers"].get("Prefer") == "include-unknown-enum-members" for entry in reads)
    assert writes(emulator) == []  # the refused status sent nothing
