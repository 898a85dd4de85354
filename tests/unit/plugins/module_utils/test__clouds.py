# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""National clouds: endpoints, scopes, names, and API availability."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._clouds import (
    CLOUDS,
    availability_warnings,
    explain_unavailable,
    require_api,
    resolve_cloud,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphUnsupportedCloudError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import GRAPH_APIS


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


# --- identityAccounts in US Government clouds: right under each of Microsoft's sources ---------------------

METADATA = Path(__file__).parent / "data" / "v1.0-identityContainer-Prod-and-Fairfax.xml"


def _csdl(name):
    return next(part for part in ET.parse(METADATA).getroot() if part.get("File") == name)


def test_the_vendored_fairfax_metadata_lacks_what_v1_refuses():
    """The v1.0 refusal follows Microsoft's US Government metadata, not our reading of a page."""
    for file_name, offered in (("schemas/v1.0-Prod.csdl", True), ("schemas/v1.0-Fairfax.csdl", False)):
        csdl = _csdl(file_name)
        container = next(entity for entity in csdl if entity.get("Name") == "identityContainer")
        navigation = [item.get("Name") for item in container]
        actions = [item.get("Name") for item in csdl if item.tag == "Action"]
        assert ("identityAccounts" in navigation) is offered and ("invokeAction" in actions) is offered
    assert GRAPH_APIS["identity_accounts"].not_in_version["v1.0"] == {"usgov", "usgov_dod"}


@pytest.mark.parametrize("cloud", ["usgov", "usgov_dod", "AzureUSGovernment"])
def test_v1_identity_accounts_in_us_government_are_refused_before_any_request(cloud):
    with pytest.raises(GraphUnsupportedCloudError) as caught:
        require_api(cloud, "identity_accounts", "v1.0")
    assert caught.value.code == "UnsupportedCloud" and "v1.0-Fairfax.csdl" in caught.value.message
    assert "api_version: beta" in caught.value.hint
    assert availability_warnings(cloud, "identity_accounts", "v1.0") == []


@pytest.mark.parametrize("cloud", ["usgov", "usgov_dod"])
def test_beta_identity_accounts_in_us_government_are_allowed_with_a_warning_naming_the_disagreement(cloud):
    assert require_api(cloud, "identity_accounts", "beta") is None
    [warning] = availability_warnings(cloud, "identity_accounts", "beta")
    assert "disagree" in warning and "view=graph-rest-beta" in warning and "f2d3e93f" in warning and cloud in warning


@pytest.mark.parametrize("cloud, version", [("global", "v1.0"), ("global", "beta")])
def test_global_identity_accounts_have_no_warning(cloud, version):
    assert require_api(cloud, "identity_accounts", version) is None
    assert availability_warnings(cloud, "identity_accounts", version) == []


@pytest.mark.parametrize("status", [404, 400])
def test_a_404_or_400_where_availability_is_disputed_says_it_may_not_be_offered_and_keeps_graphs_details(status):
    error = GraphError("Resource not found for the segment 'identityAccounts'.", status=status, code="BadRequest",
                       request_id="req-1", client_request_id="cri-1", hint="check the id")
    explained = explain_unavailable(error, "usgov", "identity_accounts", "beta")
    assert "may not be offered in this cloud" in explained.hint and "view=graph-rest-beta" in explained.hint
    assert "f2d3e93f" in explained.hint and explained.hint.endswith("otherwise: check the id")
    assert (explained.code, explained.request_id, explained.client_request_id) == ("BadRequest", "req-1", "cri-1")


@pytest.mark.parametrize("status, cloud, api", [(403, "usgov", "identity_accounts"), (404, "global", "identity_accounts"),
                                                (404, "usgov", "incidents"), (404, "usgov", None)])
def test_other_errors_are_not_explained_as_availability(status, cloud, api):
    error = GraphError("x", status=status, hint="as it was")
    assert explain_unavailable(error, cloud, api, "beta").hint == "as it was"
