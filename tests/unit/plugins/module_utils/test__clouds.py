# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""National clouds: endpoints, scopes, names, and API availability."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._clouds import (
    API_AVAILABILITY,
    CLOUDS,
    require_api,
    resolve_cloud,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphUnsupportedCloudError, InputError


@pytest.mark.parametrize("name, authority, root", [
    ("global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
    ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    ("usgov_dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
])
def test_cloud_endpoints_and_scope(name, authority, root):
    cloud = CLOUDS[name]
    assert cloud.name == name
    assert cloud.authority_host == authority
    assert cloud.graph_root == root
    assert cloud.scope == root + "/.default"
    assert cloud.msi_resource == root


def test_exactly_four_clouds():
    assert sorted(CLOUDS) == ["china", "global", "usgov", "usgov_dod"]


@pytest.mark.parametrize("given, expected", [
    ("global", "global"), ("GLOBAL", "global"), (" usgov ", "usgov"), ("USGov_DoD", "usgov_dod"), ("china", "china"),
    ("AzureCloud", "global"), ("azurecloud", "global"), ("AzureUSGovernment", "usgov"), ("AZUREUSGOVERNMENT", "usgov"),
    ("AzureChinaCloud", "china"), (None, "global"), ("", "global"),
])
def test_resolve_cloud_names(given, expected):
    assert resolve_cloud(given).name == expected


def test_resolve_cloud_passes_cloud_objects_through():
    assert resolve_cloud(CLOUDS["usgov"]) is CLOUDS["usgov"]


@pytest.mark.parametrize("bad", ["AzureGermanCloud", "public", "us-gov", "gcc"])
def test_unknown_cloud_is_an_input_error(bad):
    with pytest.raises(InputError) as caught:
        resolve_cloud(bad)
    assert caught.value.option == "cloud_environment"
    assert bad in str(caught.value)
    assert "AzureUSGovernment" in str(caught.value)


def test_api_availability_table():
    assert API_AVAILABILITY["identity_accounts"] == {"global", "usgov", "usgov_dod"}
    assert API_AVAILABILITY["security_actions"] == {"global"}


@pytest.mark.parametrize("cloud, api", [
    ("global", "identity_accounts"), ("usgov", "identity_accounts"), ("usgov_dod", "identity_accounts"),
    ("global", "security_actions"), ("AzureCloud", "security_actions"),
])
def test_require_api_allows_offered_apis(cloud, api):
    assert require_api(cloud, api) is None


@pytest.mark.parametrize("cloud, api", [
    ("china", "identity_accounts"), ("usgov", "security_actions"), ("usgov_dod", "security_actions"),
    ("china", "security_actions"),
])
def test_require_api_refuses_with_the_cloud_and_api_named(cloud, api):
    with pytest.raises(GraphUnsupportedCloudError) as caught:
        require_api(cloud, api)
    text = str(caught.value)
    assert cloud in text and api in text
    assert caught.value.status is None
    assert caught.value.hint
    assert caught.value.to_result()["error_code"] == "UnsupportedCloud"


def test_require_api_unknown_api_is_a_programming_error():
    with pytest.raises(ValueError):
        require_api("global", "no_such_api")


def test_cloud_aliases_resolve_to_the_one_cloud_object():
    assert resolve_cloud("AzureCloud") is CLOUDS["global"]
    assert resolve_cloud("AzureUSGovernment") is not CLOUDS["usgov_dod"]
