# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""National clouds: the scope and token audience follow cloud_environment; unavailable APIs fail before any request."""

from __future__ import annotations

import pytest

from connection_helpers import read_playbook, some_identity, token_requests

GRAPH_ROOTS = {
    "global": "https://graph.microsoft.com",
    "usgov": "https://graph.microsoft.us",
    "usgov_dod": "https://dod-graph.microsoft.us",
}


@pytest.mark.parametrize("cloud, spelling", [
    ("global", "AzureCloud"),
    ("usgov", "AzureUSGovernment"),
    ("usgov", "usgov"),
    ("usgov_dod", "USGOV_DOD"),
])
def test_cloud_selects_scope_and_audience(ansible, emulator, cloud, spelling):
    emulator.admin.configure(cloud=cloud)
    identity = some_identity(emulator)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]},
                          env={"AZURE_CLOUD_ENVIRONMENT": spelling})
    assert result.rc == 0, result.output
    [token] = token_requests(emulator)
    assert token["body"]["scope"] == GRAPH_ROOTS[cloud] + "/.default"


def test_token_for_the_wrong_cloud_is_refused_with_invalid_audience(ansible, emulator):
    emulator.admin.configure(cloud="usgov")
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"})  # module defaults to global
    assert result.rc != 0
    failure = result.task("read")
    assert failure["error"]["status"] == 401
    assert "audience" in failure["msg"].lower()


# One spelling on the smoke legs: the alias table is the collection's code, not ansible-core's.
@pytest.mark.parametrize("spelling", [pytest.param("china", marks=pytest.mark.smoke), "AzureChinaCloud"])
def test_identity_accounts_in_china_fail_before_any_request(ansible, emulator, spelling):
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, env={"AZURE_CLOUD_ENVIRONMENT": spelling})
    assert result.rc != 0
    assert "china" in result.task("read")["msg"].lower()
    assert emulator.admin.requests() == []


def test_unknown_cloud_name_lists_the_valid_ones(ansible, emulator):
    result = ansible.play(read_playbook(cloud_environment="AzureGermanCloud"), extra_vars={"upn": "x@contoso.com"})
    assert result.rc != 0
    message = result.task("read")["msg"]
    assert "cloud_environment" in message and "usgov" in message
    assert emulator.admin.requests() == []


# --- identityAccounts in US Government clouds: right under each of Microsoft's sources ------------------------

ACTION_PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: act
      msgraph.security.identity_account_action:
        user_principal_name: "{{ upn }}"
        identity_provider: activeDirectory
        action: disable
        api_version: "{{ version }}"
"""


@pytest.mark.parametrize("cloud", ["usgov", "usgov_dod"])
@pytest.mark.parametrize("module", ["identity_account_info", "identity_account_action"])
def test_a_v1_identity_task_in_us_government_is_refused_with_zero_requests(ansible, emulator, cloud, module):
    emulator.admin.configure(cloud=cloud)
    identity = some_identity(emulator)
    playbook = read_playbook(api_version="v1.0") if module == "identity_account_info" else ACTION_PLAYBOOK
    task = "read" if module == "identity_account_info" else "act"
    result = ansible.play(playbook, extra_vars={"upn": identity["userPrincipalName"], "version": "v1.0"},
                          env={"AZURE_CLOUD_ENVIRONMENT": cloud})
    assert result.rc != 0
    failure = result.task(task)
    assert failure["error"]["error_code"] == "UnsupportedCloud" and "v1.0-Fairfax.csdl" in failure["msg"]
    assert "api_version: beta" in failure["msg"]
    assert emulator.admin.requests() == []  # not even a token request


@pytest.mark.parametrize("mode, status", [("absent", 404), ("absent_400", 400)])
def test_a_beta_identity_task_where_the_route_is_missing_says_it_may_not_be_offered_in_this_cloud(ansible, emulator, mode, status):
    emulator.admin.configure(cloud="usgov", us_gov_beta_identity_accounts=mode)
    identity = some_identity(emulator)
    result = ansible.play(ACTION_PLAYBOOK, extra_vars={"upn": identity["userPrincipalName"], "version": "beta"},
                          env={"AZURE_CLOUD_ENVIRONMENT": "usgov"})
    assert result.rc != 0
    failure = result.task("act")
    error = failure["error"]
    assert error["status"] == status and error["error_code"] == "BadRequest" and error["client_request_id"]
    assert "may not be offered in this cloud" in error["hint"] and "view=graph-rest-beta" in error["hint"]
    assert "f2d3e93f" in error["hint"] and "v1.0-Fairfax.csdl" in error["hint"]
    assert any("disagree" in str(warning) for warning in failure.get("warnings") or [])
    assert emulator.admin.state()["invocations"] == []


def test_a_beta_identity_task_where_the_route_exists_warns_of_the_disagreement_and_works(ansible, emulator):
    emulator.admin.configure(cloud="usgov")
    identity = some_identity(emulator)
    result = ansible.play(read_playbook(api_version="beta"), extra_vars={"upn": identity["userPrincipalName"]},
                          env={"AZURE_CLOUD_ENVIRONMENT": "usgov"})
    assert result.rc == 0, result.output
    found = result.task("read")
    assert [item["id"] for item in found["identity_accounts"]] == [identity["id"]]
    assert any("disagree" in str(warning) for warning in found.get("warnings") or [])
