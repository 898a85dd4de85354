# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one table of per-API facts: clouds, API versions, permissions, and the API version a task uses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._clouds import CLOUDS
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import ALL_CLOUDS, GRAPH_APIS, api_version_for, graph_api
from ansible_collections.msgraph.security.plugins.module_utils._options import API_VERSIONS


def test_api_availability_table():
    assert GRAPH_APIS["identity_accounts"].clouds == {"global", "usgov", "usgov_dod"}
    assert GRAPH_APIS["security_actions"].clouds == {"global"}
    assert GRAPH_APIS["entra_users"].clouds == {"global", "usgov", "usgov_dod", "china"}
    assert GRAPH_APIS["risky_users"].clouds == GRAPH_APIS["incidents"].clouds == GRAPH_APIS["alerts"].clouds == {"global", "usgov", "usgov_dod"}


def test_every_api_names_known_clouds_and_versions():
    assert ALL_CLOUDS == set(CLOUDS)
    for api in GRAPH_APIS.values():
        assert api.clouds <= ALL_CLOUDS and set(api.versions) <= set(API_VERSIONS), api.name
        assert set(api.not_in_version) | set(api.disputed) <= set(api.versions), api.name


# The permissions a 403's hint names: one home, the values Microsoft documents (docs/service-contract.md row 22).
@pytest.mark.parametrize("api, call, permission", [
    ("identity_accounts", "read", "SecurityIdentitiesAccount.Read.All"),
    ("identity_accounts", "invoke_action", "SecurityIdentitiesActions.ReadWrite.All"),
    ("security_actions", "read", "SecurityActions.Read.All"),
    ("security_actions", "write", "SecurityActions.ReadWrite.All"),
    ("entra_users", "read", "User.Read.All"),
    ("entra_users", "enable", "User.EnableDisableAccount.All and User.Read.All"),
    ("entra_users", "revoke_sign_in_sessions", "User.RevokeSessions.All"),
    ("risky_users", "risk_action", "IdentityRiskyUser.ReadWrite.All"),
    ("incidents", "read", "SecurityIncident.Read.All"),
    ("incidents", "write", "SecurityIncident.ReadWrite.All"),
    ("alerts", "read", "SecurityAlert.Read.All"),
])
def test_each_call_has_its_permission(api, call, permission):
    assert GRAPH_APIS[api].permissions[call] == permission


@pytest.mark.parametrize("api, default", [("identity_accounts", "beta"), ("security_actions", "beta"), ("incidents", "v1.0"),
                                          ("alerts", "v1.0"), ("entra_users", "v1.0"), ("risky_users", "v1.0")])
def test_default_versions(api, default):
    assert GRAPH_APIS[api].default_version == default


@pytest.mark.parametrize("api, requested, used", [
    ("identity_accounts", "beta", "beta"), ("identity_accounts", "v1.0", "v1.0"),
    ("incidents", "beta", "beta"), ("incidents", "v1.0", "v1.0"), ("alerts", "beta", "beta"),
    ("security_actions", "beta", "beta"),
    # generally available in v1.0: always called there, whatever api_version says
    ("entra_users", "beta", "v1.0"), ("entra_users", "v1.0", "v1.0"), ("risky_users", "beta", "v1.0"),
])
def test_the_api_version_a_task_uses(api, requested, used):
    assert api_version_for(api, requested) == used


def test_a_version_the_api_is_not_offered_in_is_refused_before_any_request():
    with pytest.raises(InputError) as caught:
        api_version_for("security_actions", "v1.0")
    assert caught.value.option == "api_version"
    assert str(caught.value).endswith("securityActions are offered in Microsoft Graph beta only, not in v1.0; nothing was sent. "
                                      "Set api_version=beta (the default) for this task")


def test_an_unknown_api_is_a_programming_error():
    with pytest.raises(ValueError, match="no_such_api"):
        graph_api("no_such_api")
    with pytest.raises(ValueError):
        api_version_for("no_such_api", "beta")
