"""Admin API: authentication, reset, request log with redaction, counters, configuration, state."""

import pytest

from graph_emulator import AdminError
from emulator_helpers import MEGAN_AD, MEGAN_ID

ACCOUNTS = "/beta/security/identities/identityAccounts"


def test_admin_needs_the_key_not_a_graph_token(api, info, http):
    assert http.get(info["admin_url"] + "/state").status_code == 401
    response = http.get(info["admin_url"] + "/state", headers={"Authorization": "Bearer " + api.token()})
    assert response.status_code == 401 and "X-Emulator-Key" in response.json()["error"]["message"]
    assert http.get(info["admin_url"] + "/state", headers={"X-Emulator-Key": info["admin_key"]}).status_code == 200


def test_unknown_admin_endpoint(info, http):
    assert http.get(info["admin_url"] + "/nope", headers={"X-Emulator-Key": info["admin_key"]}).status_code == 404


def test_admin_calls_are_not_logged_or_counted(admin):
    admin.state()
    admin.counters()
    assert admin.requests() == [] and admin.counters()["by_route"] == {}


def test_request_log_redacts_secrets(api, admin, info):
    token = api.token()
    api.post(f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", {"accountId": MEGAN_AD, "action": "disable", "identityProvider": "activeDirectory"},
             token=token, headers={"client-request-id": "c0ffee00-0000-4000-8000-000000000001"})
    token_entry, invoke_entry = admin.requests()
    assert token_entry["route"] == "token" and token_entry["body"]["client_secret"] == "<redacted>"
    assert token_entry["body"]["client_id"] == info["clients"]["responder"]["client_id"]
    assert info["clients"]["responder"]["client_secret"] not in str(token_entry)
    assert invoke_entry["headers"]["Authorization"] == "Bearer <redacted>" and token not in str(invoke_entry)
    assert invoke_entry["body"] == {"accountId": MEGAN_AD, "action": "disable", "identityProvider": "activeDirectory"}
    assert invoke_entry["client_request_id"] == "c0ffee00-0000-4000-8000-000000000001"
    assert invoke_entry["status"] == 200 and invoke_entry["fault"] is None and invoke_entry["seq"] > token_entry["seq"]
    assert set(invoke_entry) >= {"seq", "time", "method", "path", "query", "route", "status", "headers", "body", "client_request_id",
                                 "request_id", "fault"}


def test_request_log_filters_and_query(api, admin):
    api.get(ACCOUNTS, params={"$filter": "displayName eq 'Lee Gu'", "$top": "5"})
    entries = admin.requests(route="list_identity_accounts", method="GET")
    assert len(entries) == 1 and entries[0]["query"] == {"$filter": "displayName eq 'Lee Gu'", "$top": "5"}
    assert admin.requests(method="POST") == admin.requests(route="token")
    newer = admin.requests(since=entries[0]["seq"])
    assert newer == []


def test_writes_lists_only_graph_non_gets(api, admin):
    api.get(ACCOUNTS)
    assert admin.writes() == []
    api.post(f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", {"accountId": MEGAN_AD, "action": "enable", "identityProvider": "activeDirectory"})
    writes = admin.writes()
    assert [(entry["route"], entry["status"]) for entry in writes] == [("invoke_action", 400)]


def test_clear_requests(api, admin):
    api.token()
    admin.clear_requests()
    assert admin.requests() == []


def test_counters(api, admin, info):
    token = api.token()
    api.http.get(f"{info['base_url']}/{info['tenant_id']}/v2.0/.well-known/openid-configuration")
    api.get(ACCOUNTS, token=token)
    api.post(f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", {}, token=token)
    counters = admin.counters()
    assert counters["token_requests"] == 1 and counters["discovery_requests"] == 1
    assert counters["graph_requests"] == 2 and counters["graph_writes"] == 1
    assert counters["by_route"] == {"token": 1, "openid_config": 1, "list_identity_accounts": 1, "invoke_action": 1}


def test_reset_restores_everything(api, admin, emulator):
    admin.configure(shape="example", page_size=3)
    api.post(f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", {"accountId": MEGAN_AD, "action": "disable", "identityProvider": "activeDirectory"})
    admin.add_fault(route="token", kind="status", status=500)
    assert emulator.store.identity(MEGAN_ID)["isEnabled"] is False
    admin.reset()
    assert emulator.store.identity(MEGAN_ID)["isEnabled"] is True
    assert admin.faults() == [] and admin.requests() == [] and admin.counters()["token_requests"] == 0
    assert admin.config()["shape"] == "schema" and admin.config()["page_size"] == 20
    assert api.token_response().status_code == 200


def test_configure_validates(admin):
    for bad in ({"shape": "pretty"}, {"cloud": "mars"}, {"matrix": "C"}, {"page_size": 0}, {"colour": 1},
                {"security_action_timing": {"running_after_s": 2, "terminal_after_s": 1}}, {"failing_ip_ranges": ["nope"]},
                {"onboarded": "yes"}):
        with pytest.raises(AdminError, match="400"):
            admin.configure(**bad)
    assert admin.configure(token_latency_ms=1)["token_latency_ms"] == 1


def test_extra_identities_bulk(api, admin):
    admin.configure(extra_identities=500)
    state = admin.state()
    bulk = [item for item in state["identities"] if item["userPrincipalName"].startswith("bulk-user-")]
    assert len(bulk) == 500 and bulk[0]["userPrincipalName"] == "bulk-user-0001@contoso.com"
    found = api.get(ACCOUNTS, params={"$filter": "userPrincipalName eq 'bulk-user-0420@contoso.com'"}).json()["value"]
    assert found[0]["displayName"] == "Bulk User 0420" and found[0]["isEnabled"] is False
    admin.configure(extra_identities=0)
    assert len(admin.state()["identities"]) == len(state["identities"]) - 500


def test_put_identity(api, admin):
    identity = {"id": "custom-1", "displayName": "Custom", "isEnabled": True, "userPrincipalName": "custom@contoso.com",
                "accounts": [{"identifier": "okta-1", "identityProvider": "okta", "actions": ["disable"]}]}
    admin.put_identity(identity)
    assert api.get(f"{ACCOUNTS}/custom-1").json()["displayName"] == "Custom"
    with pytest.raises(AdminError, match="400"):
        admin.put_identity({"id": "broken"})


def test_info_endpoint_matches(admin, info):
    assert admin.info() == info
