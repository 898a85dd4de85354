"""Defender XDR incidents and alerts_v2: both documented shapes, filters, paging, PATCH, comments, admin create/update."""

import pytest

INCIDENTS = "/v1.0/security/incidents"
ALERTS = "/v1.0/security/alerts_v2"
CLIENT = "incident_responder"


def _get(api, path, client=CLIENT, **params):
    response = api.get(path, client=client, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_list_is_newest_first_and_filters_on_severity_and_update_time(api):
    every = _get(api, INCIDENTS)["value"]
    assert [item["id"] for item in every] == ["4711", "2972395"]
    assert every[0]["@odata.type"] == "#microsoft.graph.security.incident"
    recent = _get(api, INCIDENTS, **{"$filter": "severity eq 'high' and lastUpdateDateTime gt 2026-05-01T08:29:59Z"})["value"]
    assert [item["id"] for item in recent] == ["4711"]
    assert _get(api, INCIDENTS, **{"$filter": "lastUpdateDateTime gt 2026-05-01T08:30:00Z"})["value"] == []


def test_paging_follows_skiptoken_and_top(api, emulator):
    emulator.configure({"page_size": 1})
    first = _get(api, INCIDENTS)
    assert len(first["value"]) == 1 and "@odata.nextLink" in first
    token = api.token(CLIENT)
    second = api.http.get(first["@odata.nextLink"], headers={"Authorization": "Bearer " + token}).json()
    assert [item["id"] for item in second["value"]] == ["2972395"] and "@odata.nextLink" not in second
    assert "@odata.nextLink" not in _get(api, INCIDENTS, **{"$top": "1"})


def test_expand_alerts_carries_user_evidence(api):
    incident = _get(api, INCIDENTS + "/4711", **{"$expand": "alerts"})
    assert sorted(alert["id"] for alert in incident["alerts"]) == ["da4711_ptt_0001", "da4711_ptt_0002"]
    users = [item["userAccount"] for alert in incident["alerts"] for item in alert["evidence"]
             if item["@odata.type"] == "#microsoft.graph.security.userEvidence"]
    assert {"accountName", "domainName", "userSid", "azureAdUserId", "userPrincipalName", "displayName"} <= set(users[0])
    assert len(users) == 6
    assert "alerts" not in _get(api, INCIDENTS + "/4711")


def test_example_shape_is_the_documentation_examples(api, emulator):
    emulator.configure({"shape": "example"})
    single = _get(api, INCIDENTS + "/2972395")
    assert single["@odata.type"] == "#microsoft.graph.incident"
    assert (single["status"], single["severity"], single["classification"]) == ("Active", "Medium", "TruePositive")
    assert single["comments"][0] == {"comment": "Demo incident", "createdBy": "DavidS@contoso.onmicrosoft.com",
                                     "createdTime": "2021-09-30T12:07:37.2756993Z"}
    expanded = _get(api, INCIDENTS, **{"$expand": "alerts"})["value"][1]
    assert expanded["status"] == "active" and expanded["tags"] == ["Demo"] and "customTags" not in expanded


def test_patch_updates_the_documented_properties_case_insensitively(api, emulator):
    response = api.call("PATCH", INCIDENTS + "/4711", client=CLIENT,
                        json={"status": "InProgress", "assignedTo": "soc@contoso.com", "classification": "TruePositive",
                              "determination": "compromisedAccount", "customTags": ["ansible"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["assignedTo"], body["classification"], body["customTags"]) == \
        ("inProgress", "soc@contoso.com", "truePositive", ["ansible"])
    assert body["lastUpdateDateTime"] > "2026-05-01T08:30:00"
    assert emulator.admin.incidents()["incidents"][1]["status"] == "inProgress"


@pytest.mark.parametrize("body, message", [
    ({"severity": "low"}, "cannot be updated"),
    ({"status": "closed"}, "was not found in enum"),
    ({"customTags": "one"}, "collection of strings"),
])
def test_patch_refuses_what_the_service_does_not_take(api, body, message):
    response = api.call("PATCH", INCIDENTS + "/4711", client=CLIENT, json=body)
    assert response.status_code == 400 and message in response.json()["error"]["message"]


def test_comment_answers_the_whole_list(api):
    response = api.post(INCIDENTS + "/2972395/comments", {"@odata.type": "microsoft.graph.security.alertComment", "comment": "seen"},
                        client=CLIENT)
    assert response.status_code == 200, response.text
    assert [item["comment"] for item in response.json()["value"]] == ["Demo incident", "seen"]
    assert set(response.json()["value"][1]) == {"comment", "createdByDisplayName", "createdDateTime"}


def test_roles_and_clouds(api, emulator):
    assert api.get(INCIDENTS, client="responder").status_code == 403
    assert api.get(INCIDENTS, client="incident_reader").status_code == 200
    assert api.call("PATCH", INCIDENTS + "/4711", client="incident_reader", json={"status": "resolved"}).status_code == 403
    assert api.get(ALERTS, client="incident_reader").status_code == 200
    emulator.configure({"cloud": "china"})
    token = api.token(CLIENT, scope="https://microsoftgraph.chinacloudapi.cn/.default")
    assert api.get(INCIDENTS, token=token).status_code == 404


def test_alerts_filter_on_service_source_and_unknown_ids(api):
    mdi = _get(api, ALERTS, **{"$filter": "serviceSource eq 'microsoftDefenderForIdentity'"})["value"]
    assert sorted(alert["id"] for alert in mdi) == ["da4711_ptt_0001", "da4711_ptt_0002"]
    assert _get(api, ALERTS + "/da4711_ptt_0001")["incidentId"] == "4711"
    assert api.get(ALERTS + "/nope", client=CLIENT).status_code == 404
    assert api.get(INCIDENTS + "/999", client=CLIENT).status_code == 404


def test_admin_creates_and_updates_incidents(api, admin):
    created = admin.put_incident({"displayName": "Password spray", "severity": "High",
                                  "alerts": [{"id": "da-new-1", "serviceSource": "microsoftDefenderForIdentity", "evidence": []}]})
    assert created["id"] == "2972396" and created["severity"] == "high"
    assert _get(api, INCIDENTS + "/2972396", **{"$expand": "alerts"})["alerts"][0]["id"] == "da-new-1"
    updated = admin.put_incident({"id": "2972396", "status": "resolved"})
    assert updated["status"] == "resolved" and updated["lastUpdateDateTime"] >= created["lastUpdateDateTime"]
    assert updated["displayName"] == "Password spray"


# --- evolvable enums: members after unknownFutureValue need "Prefer: include-unknown-enum-members" ---------

PREFER = {"Prefer": "include-unknown-enum-members"}


@pytest.mark.parametrize("profile", ["schema", "docs"])
def test_evolvable_members_are_unknown_future_value_unless_the_client_prefers_them(api, emulator, profile):
    emulator.configure({"profile": profile})
    created = emulator.admin.put_incident({"status": "awaitingAction", "alerts": [
        {"id": "da_sentinel", "serviceSource": "microsoftSentinel", "detectionSource": "scheduledAlerts"},
        {"id": "da_mdi", "serviceSource": "microsoftDefenderForIdentity", "detectionSource": "microsoftDefenderForIdentity"}]})
    path = INCIDENTS + "/" + created["id"]
    hidden = api.get(path, client=CLIENT, params={"$expand": "alerts"}).json()
    assert hidden["status"] == "unknownFutureValue"
    assert sorted((alert["serviceSource"], alert["detectionSource"]) for alert in hidden["alerts"]) == [
        ("microsoftDefenderForIdentity", "microsoftDefenderForIdentity"), ("unknownFutureValue", "unknownFutureValue")]
    shown = api.get(path, client=CLIENT, params={"$expand": "alerts"}, headers=PREFER).json()
    assert shown["status"] == "awaitingAction"
    assert sorted(alert["serviceSource"] for alert in shown["alerts"]) == ["microsoftDefenderForIdentity", "microsoftSentinel"]
    listed = api.get(INCIDENTS, client=CLIENT, params={"$filter": "status eq 'awaitingAction'"}).json()["value"]
    assert [item["status"] for item in listed] == ["unknownFutureValue"]
    alert = api.get(ALERTS + "/da_sentinel", client=CLIENT).json()
    assert alert["serviceSource"] == "unknownFutureValue"
    alert = api.get(ALERTS + "/da_sentinel", client=CLIENT, headers={"Prefer": "return=minimal, include-unknown-enum-members"}).json()
    assert alert["serviceSource"] == "microsoftSentinel"
    patched = api.call("PATCH", path, client=CLIENT, json={"assignedTo": "soc@contoso.com"}).json()
    assert patched["status"] == "unknownFutureValue"


@pytest.mark.parametrize("path", [INCIDENTS, ALERTS])
def test_a_filter_joining_values_with_or_can_be_refused(api, admin, path):
    combined = {"$filter": "(severity eq 'high' or severity eq 'medium')"}
    assert _get(api, path, **combined)["value"]
    admin.configure(incident_filter_or="refuse")
    refused = api.get(path, client=CLIENT, params=combined)
    assert refused.status_code == 400 and "'or' operator is not supported" in refused.json()["error"]["message"]
    assert _get(api, path, **{"$filter": "severity eq 'high'"})["value"]  # the documented form still answers
    assert api.get(path, client=CLIENT, params={"$filter": "assignedTo eq 'a or b'"}).status_code == 200  # a literal is no operator
