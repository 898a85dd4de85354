# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""alert_info against the emulator: real ansible-playbook runs, MSAL tokens over HTTPS."""

from __future__ import annotations

from incident_helpers import IDENTITY_INCIDENT, play

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import task


def test_alert_info_by_id_incident_and_filter_with_flat_evidence(ansible, emulator):
    result = play(ansible,
                  task("by id", "alert_info", dict(alert_id="da637551227677560813_-961444813")),
                  task("of incident", "alert_info", dict(incident_id=IDENTITY_INCIDENT)),
                  task("mdi", "alert_info", dict(service_source=["microsoftDefenderForIdentity"], severity=["high"])),
                  task("missing", "alert_info", dict(alert_id="nope")))
    assert result.rc == 0, result.output
    by_id = result.task("by id")["alerts"][0]
    process = next(item for item in by_id["evidence"] if item["type"] == "processEvidence")
    assert (process["account_name"], process["user_sid"], process["properties"]["processId"]) == ("SYSTEM", "S-1-5-18", 4780)
    users = [item for alert in result.task("of incident")["alerts"] for item in alert["evidence"] if item["type"] == "userEvidence"]
    assert {item["user_principal_name"] for item in users} == {"alexw@contoso.com", "AlexW@contoso.com", None, "breakglass@contoso.com"}
    assert sorted(alert["id"] for alert in result.task("mdi")["alerts"]) == ["da4711_ptt_0001", "da4711_ptt_0002"]
    assert result.task("missing")["alerts"] == []
    filters = [entry["query"].get("$filter") for entry in emulator.admin.requests(route="list_alerts")]
    assert filters == ["severity eq 'high' and serviceSource eq 'microsoftDefenderForIdentity'"]
