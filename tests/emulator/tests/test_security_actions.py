"""Legacy securityActions: validation, lifecycle timing, cancel, listing, roles and clouds."""

import time

import pytest

from emulator_helpers import FAST_TIMING

BASE = "/beta/security/securityActions"


def _body(ip="203.0.113.7", **changes):
    body = {"name": "BlockIp", "actionReason": "Test", "clientContext": "ticket-42", "parameters": [{"name": "IP", "value": ip}],
            "vendorInformation": {"provider": "Windows Defender ATP", "vendor": "Microsoft"}}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def _create(api, client="legacy_actions", **changes):
    return api.post(BASE, _body(**changes), client=client)


def _wait_terminal(api, action_id, client="legacy_actions"):
    deadline = time.time() + 5
    while time.time() < deadline:
        action = api.get(f"{BASE}/{action_id}", client=client).json()
        if action["status"] in ("Completed", "Failed"):
            return action
        time.sleep(0.05)
    raise AssertionError("security action never finished")


def test_create_returns_201_with_token_identity(api, info):
    response = _create(api)
    assert response.status_code == 201
    action = response.json()
    assert action["status"] == "NotStarted" and action["name"] == "BlockIp"
    assert action["appId"] == info["clients"]["legacy_actions"]["client_id"] and action["azureTenantId"] == info["tenant_id"]
    assert action["vendorInformation"] == {"provider": "Windows Defender ATP", "providerVersion": None, "subProvider": None, "vendor": "Microsoft"}
    assert response.headers["Location"].endswith(f"securityActions('{action['id']}')")


def test_lifecycle_completes_with_history(api):
    action_id = _create(api).json()["id"]
    time.sleep(FAST_TIMING["running_after_s"] + 0.02)
    assert api.get(f"{BASE}/{action_id}", client="legacy_reader").json()["status"] == "Running"
    done = _wait_terminal(api, action_id)
    assert done["status"] == "Completed" and done["errorInfo"] is None and done["completedDateTime"]
    assert [state["status"] for state in done["states"]] == ["NotStarted", "Running", "Completed"]


def test_private_ip_fails_with_error_info(api):
    done = _wait_terminal(api, _create(api, ip="10.1.2.3").json()["id"])
    assert done["status"] == "Failed"
    assert set(done["errorInfo"]) == {"code", "message", "subcode"} and "10.1.2.3" in done["errorInfo"]["message"]


def test_failing_ranges_are_configurable(api, admin):
    admin.configure(failing_ip_ranges=["203.0.113.0/24"])
    assert _wait_terminal(api, _create(api).json()["id"])["status"] == "Failed"


def test_timing_is_configurable(api, admin):
    admin.configure(security_action_timing={"running_after_s": 0, "terminal_after_s": 0})
    assert api.get(f"{BASE}/{_create(api).json()['id']}", client="legacy_actions").json()["status"] == "Completed"


OPERATION_STATUS = {"NotStarted", "Running", "Completed", "Failed"}  # microsoft.graph.operationStatus, nothing else


def test_cancel_is_answered_and_changes_nothing_by_default(api):
    """cancelSecurityAction documents only "200, no body"; by default the status follows its own timeline."""
    action_id = _create(api).json()["id"]
    response = api.post(f"{BASE}/{action_id}/cancelSecurityAction", client="legacy_actions")
    assert response.status_code == 200 and response.content == b""
    action = api.get(f"{BASE}/{action_id}", client="legacy_actions").json()
    # Still on its own timeline (NotStarted, or Running on a slow machine), with no invented canceled state.
    assert action["status"] in ("NotStarted", "Running") and action["errorInfo"] is None
    final = _wait_terminal(api, action_id)
    assert final["status"] == "Completed" and final["errorInfo"] is None
    assert {state["status"] for state in final["states"]} <= OPERATION_STATUS


def test_cancel_effect_failed_ends_the_action_without_an_invented_code(api, admin):
    admin.configure(security_action_cancel="failed")
    action_id = _create(api).json()["id"]
    assert api.post(f"{BASE}/{action_id}/cancelSecurityAction", client="legacy_actions").status_code == 200
    action = api.get(f"{BASE}/{action_id}", client="legacy_actions").json()
    assert action["status"] == "Failed" and action["errorInfo"] is None and action["completedDateTime"]
    time.sleep(FAST_TIMING["terminal_after_s"])
    assert api.get(f"{BASE}/{action_id}", client="legacy_actions").json()["status"] == "Failed"  # stays ended


def test_cancel_after_terminal_is_400(api, admin):
    admin.configure(security_action_timing={"running_after_s": 0, "terminal_after_s": 0})
    action_id = _create(api).json()["id"]
    response = api.post(f"{BASE}/{action_id}/microsoft.graph.cancelSecurityAction", client="legacy_actions")
    assert response.status_code == 400 and "already Completed" in response.json()["error"]["message"]


def test_unknown_id_is_404(api):
    assert api.get(f"{BASE}/nope", client="legacy_actions").json()["error"]["code"] == "ResourceNotFound"
    assert api.post(f"{BASE}/nope/cancelSecurityAction", client="legacy_actions").status_code == 404


@pytest.mark.parametrize("changes, fragment", [
    ({"name": None}, "'name' is required"),
    ({"parameters": None}, "'parameters' is required"),
    ({"parameters": [{"name": "IP"}]}, "'parameters' is required"),
    ({"vendorInformation": {"provider": "Windows Defender ATP"}}, "vendorInformation.vendor"),
    ({"vendorInformation": {"vendor": "Microsoft"}}, "vendorInformation.provider"),
    ({"status": "Completed"}, "'status' is read-only"),
    ({"id": "x"}, "'id' is read-only"),
    ({"azureTenantId": "x"}, "read-only"),
    ({"clientContext": "x" * 257}, "256"),
    ({"colour": "red"}, "does not exist on type"),
    ({"parameters": [{"name": "url", "value": "x"}]}, "named 'IP'"),
    ({"parameters": [{"name": "IP", "value": "300.1.1.1"}]}, "not a valid IP"),
])
def test_create_validation(api, changes, fragment):
    response = _create(api, **changes)
    assert response.status_code == 400 and fragment in response.json()["error"]["message"]


@pytest.mark.parametrize("changes", [{"name": "BlockUrl"}, {"vendorInformation": {"provider": "Contoso EDR", "vendor": "Contoso"}}])
def test_unsupported_provider_has_empty_code(api, changes):
    error = _create(api, **changes).json()["error"]
    assert error["code"] == "" and error["message"] == "Cannot find a provider for this request"


def test_list_filter_and_paging(api, admin):
    admin.configure(page_size=2)
    for number in range(3):
        _create(api, clientContext=f"run-{number}")
    _create(api, clientContext="other")
    found = api.get(BASE, client="legacy_reader", params={"$filter": "clientContext eq 'run-1'"}).json()["value"]
    assert [item["clientContext"] for item in found] == ["run-1"]
    page = api.get(BASE, client="legacy_reader").json()
    assert len(page["value"]) == 2 and "@odata.nextLink" in page
    assert len(api.get(BASE, client="legacy_reader", params={"$top": "10"}).json()["value"]) == 4


def test_status_filter_follows_time(api, admin):
    admin.configure(security_action_timing={"running_after_s": 0, "terminal_after_s": 0})
    _create(api)
    done = api.get(BASE, client="legacy_actions", params={"$filter": "status eq 'completed'"}).json()["value"]
    assert len(done) == 1  # status values compare case-insensitively
    assert api.get(BASE, client="legacy_actions", params={"$filter": "status eq 'Running'"}).json()["value"] == []


def test_tenants_do_not_see_each_other(api, mint):
    _create(api)
    other = mint(roles=["SecurityActions.Read.All"], client="not_onboarded")
    assert api.get(BASE, token=other).json()["value"] == []


@pytest.mark.parametrize("client, method, status", [
    ("legacy_reader", "POST", 403), ("responder", "GET", 403), ("legacy_reader", "GET", 200), ("legacy_actions", "GET", 200)])
def test_roles(api, client, method, status):
    response = api.post(BASE, _body(), client=client) if method == "POST" else api.get(BASE, client=client)
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("cloud, root", [("usgov", "https://graph.microsoft.us"), ("china", "https://microsoftgraph.chinacloudapi.cn")])
def test_only_global_cloud(api, admin, mint, cloud, root):
    admin.configure(cloud=cloud)
    response = api.post(BASE, _body(), token=mint(audience=root, client="legacy_actions"))
    assert response.status_code == 404 and "'securityActions'" in response.json()["error"]["message"]


def test_example_shape_create(api, admin):
    admin.configure(shape="example")
    action = _create(api).json()
    assert action["status"] == "notStarted" and action["name"] == "blockIp"
    assert api.get(f"{BASE}/{action['id']}", client="legacy_actions").json()["status"] == "NotStarted"


def test_v1_has_no_security_actions(api):
    response = api.get("/v1.0/security/securityActions", client="legacy_actions")
    assert response.status_code == 400 and "'securityActions'" in response.json()["error"]["message"]
