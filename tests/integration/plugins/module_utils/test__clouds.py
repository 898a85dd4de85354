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


@pytest.mark.smoke
@pytest.mark.parametrize("spelling", ["china", "AzureChinaCloud"])
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
