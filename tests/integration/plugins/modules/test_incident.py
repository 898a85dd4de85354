# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""incident_info, alert_info and incident against the emulator: real ansible-playbook runs, MSAL tokens over HTTPS."""

from __future__ import annotations

import re

import pytest
import yaml

SHAPES_SMOKE_FIRST = [pytest.param("schema", marks=pytest.mark.smoke), "example"]
CLIENT = "incident_responder"
IDENTITY_INCIDENT = "4711"
DOC_INCIDENT = "2972395"


def playbook(*tasks):
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": list(tasks)}],
                          sort_keys=False)


def task(module, title, **options):
    return {"name": title, f"msgraph.security.{module}": options}


def play(ansible, *tasks, **kwargs):
    kwargs.setdefault("client", CLIENT)
    return ansible.play(playbook(*tasks), **kwargs)


def writes(emulator):
    return emulator.admin.writes()


def stored(emulator, incident_id):
    return next(item for item in emulator.admin.incidents()["incidents"] if item["id"] == incident_id)


@pytest.mark.parametrize("shape", SHAPES_SMOKE_FIRST)
def test_incident_info_get_list_filters_pages_and_alerts(ansible, emulator, shape):
    emulator.admin.configure(shape=shape, page_size=1)
    result = play(ansible,
                  task("incident_info", "one", incident_id=DOC_INCIDENT),
                  task("incident_info", "all"),
                  task("incident_info", "high since", severity=["high"], updated_since="2026-05-01T10:29:00+02:00"),
                  task("incident_info", "nothing newer", updated_since="2026-05-01T08:30:01Z"),
                  task("incident_info", "expanded", incident_id=IDENTITY_INCIDENT, include_alerts=True),
                  task("incident_info", "missing", incident_id="999999"))
    assert result.rc == 0, result.output
    one = result.task("one")["incidents"][0]
    # The example shape's PascalCase values and createdBy/createdTime comments come back in schema form.
    assert (one["status"], one["severity"], one["classification"], one["determination"]) == \
        ("active", "medium", "truePositive", "multiStagedAttack")
    assert one["comments"] == [{"comment": "Demo incident", "created_by_display_name": "DavidS@contoso.onmicrosoft.com",
                                "created_date_time": "2021-09-30T12:07:37.2756993Z"}]
    assert one["custom_tags"] == ["Demo"]
    assert [item["id"] for item in result.task("all")["incidents"]] == [IDENTITY_INCIDENT, DOC_INCIDENT]
    assert [item["id"] for item in result.task("high since")["incidents"]] == [IDENTITY_INCIDENT]
    assert result.task("nothing newer")["incidents"] == []
    alerts = result.task("expanded")["incidents"][0]["alerts"]
    assert sorted(alert["id"] for alert in alerts) == ["da4711_ptt_0001", "da4711_ptt_0002"]
    assert result.task("missing")["incidents"] == []
    queries = [entry["query"] for entry in emulator.admin.requests(route="list_incidents")]
    assert {"$filter": "severity eq 'high' and lastUpdateDateTime ge 2026-05-01T08:29:00Z"} in queries
    assert any("$skiptoken" in query for query in queries)  # "all" followed the second page
    assert writes(emulator) == []


def test_alert_info_by_id_incident_and_filter_with_flat_evidence(ansible, emulator):
    result = play(ansible,
                  task("alert_info", "by id", alert_id="da637551227677560813_-961444813"),
                  task("alert_info", "of incident", incident_id=IDENTITY_INCIDENT),
                  task("alert_info", "mdi", service_source=["microsoftDefenderForIdentity"], severity=["high"]),
                  task("alert_info", "missing", alert_id="nope"))
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


@pytest.mark.parametrize("shape", SHAPES_SMOKE_FIRST)
def test_incident_patches_only_what_differs_comments_once_and_is_idempotent(ansible, emulator, shape):
    emulator.admin.configure(shape=shape)
    update = task("incident", "update", incident_id=DOC_INCIDENT, status="inProgress", assigned_to="KaiC@contoso.onmicrosoft.com",
                  classification="truePositive", custom_tags=["Demo", "ansible"], comment="Contained  alexw@contoso.com\n")
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
    result = play(ansible, task("incident", "resolve", incident_id=IDENTITY_INCIDENT, status="resolved", assigned_to="",
                                determination="compromisedUser", comment="resolved by ansible"), check=True, diff=True)
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
    result = play(ansible, task("incident", "take", incident_id=IDENTITY_INCIDENT, assigned_to="soc@contoso.com"))
    assert result.rc == 0, result.output
    assert len(emulator.admin.requests(route="update_incident")) == 1
    assert any("outcome was unknown" in str(warning) for warning in result.task("take").get("warnings", []))
    assert stored(emulator, IDENTITY_INCIDENT)["assignedTo"] == "soc@contoso.com"


def test_bad_input_and_missing_permission_fail_clearly_before_or_at_the_request(ansible, emulator):
    result = play(ansible,
                  dict(task("incident", "nothing to do", incident_id=IDENTITY_INCIDENT), ignore_errors=True),
                  dict(task("incident_info", "bad time", updated_since="yesterday"), ignore_errors=True),
                  dict(task("incident", "reader cannot write", incident_id=IDENTITY_INCIDENT, status="resolved"), ignore_errors=True),
                  client="incident_reader")
    assert "set at least one of them" in result.task("nothing to do")["msg"]
    assert result.task("bad time")["option"] == "updated_since"
    denied = result.task("reader cannot write")
    assert denied["error"]["status"] == 403 and denied["error"]["required_permission"] == "SecurityIncident.ReadWrite.All"
    assert [entry["status"] for entry in writes(emulator)] == [403]  # the one refused PATCH; input errors sent nothing
    assert stored(emulator, IDENTITY_INCIDENT)["status"] == "active"


def test_ids_that_would_change_the_request_path_are_refused_before_any_request(ansible, emulator):
    result = play(ansible,
                  dict(task("incident", "encoded slash", incident_id="2972395%2Fcomments", status="resolved"), ignore_errors=True),
                  dict(task("incident_info", "dot segment", incident_id="%2e%2e"), ignore_errors=True),
                  dict(task("alert_info", "encoded query", alert_id="da637551227677560813_-961444813%3F$top=1"), ignore_errors=True))
    assert (result.task("encoded slash")["option"], result.task("dot segment")["option"], result.task("encoded query")["option"]) == (
        "incident_id", "incident_id", "alert_id")
    assert "percent-encoded" in result.task("encoded slash")["msg"] and "dot segment" in result.task("dot segment")["msg"]
    assert emulator.admin.requests() == []


def test_china_is_refused_before_any_request(ansible, emulator):
    result = play(ansible, dict(task("incident_info", "china", cloud_environment="china"), ignore_errors=True))
    assert result.task("china")["error"]["error_code"] == "UnsupportedCloud"
    assert emulator.admin.requests() == []


def test_no_secret_or_token_in_the_output_at_vvvv(ansible, emulator):
    secret = emulator.info["clients"][CLIENT]["client_secret"]
    result = play(ansible,
                  task("incident_info", "read", incident_id=IDENTITY_INCIDENT, include_alerts=True),
                  task("incident", "write", incident_id=IDENTITY_INCIDENT, status="inProgress", comment="vvvv"),
                  dict(task("incident", "denied", incident_id=IDENTITY_INCIDENT, status="resolved",
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
                  task("incident_info", "awaiting", status=["awaitingAction"]),
                  task("incident_info", "one", incident_id=waiting["id"], include_alerts=True),
                  task("alert_info", "sentinel", service_source=["microsoftSentinel"]),
                  dict(task("incident", "set awaiting", incident_id=IDENTITY_INCIDENT, status="awaitingAction"), ignore_errors=True))
    assert [item["id"] for item in result.task("awaiting")["incidents"]] == [waiting["id"]]
    one = result.task("one")["incidents"][0]
    assert one["status"] == "awaitingAction" and one["alerts"][0]["service_source"] == "microsoftSentinel"
    assert [alert["id"] for alert in result.task("sentinel")["alerts"]] == ["da_sentinel_1"]
    refused = result.task("set awaiting")
    assert "Defender Experts" in refused["msg"] and refused["option"] == "status", refused
    reads = emulator.admin.requests(route="list_incidents") + emulator.admin.requests(route="list_alerts")
    assert reads and all(entry["headers"].get("Prefer") == "include-unknown-enum-members" for entry in reads)
    assert writes(emulator) == []  # the refused status sent nothing
