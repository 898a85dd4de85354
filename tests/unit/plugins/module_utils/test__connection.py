# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoints bound to their cloud, and managed identity endpoints bound to the host."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._connection import (
    ConnectionSettings,
    check_managed_identity_environment,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError

TENANT = "contoso.onmicrosoft.com"


def settings(**params):
    params.setdefault("tenant_id", TENANT)
    return ConnectionSettings(**params).validate()


def refusal(**params):
    with pytest.raises(InputError) as caught:
        settings(**params)
    return caught.value


@pytest.mark.parametrize("cloud, authority, graph", [
    ("global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
    ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    ("usgov_dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ("china", "https://login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ("global", "LOGIN.microsoftonline.com:443/", "https://graph.microsoft.com:443"),
])
def test_official_hosts_of_the_cloud_need_no_opt_in(cloud, authority, graph):
    chosen = settings(cloud_environment=cloud, authority_host=authority, graph_endpoint=graph)
    assert chosen.custom_endpoints() == [] and chosen.custom_endpoint_warnings("client_secret") == []


@pytest.mark.parametrize("option, value", [
    ("authority_host", "https://127.0.0.1:8443"),
    ("authority_host", "https://login.microsoftonline.com.evil.test"),
    ("authority_host", "https://login.microsoftonline.com:8443"),
    ("graph_endpoint", "https://localhost"),
    ("graph_endpoint", "https://graph.microsoft.com/proxy"),
    ("graph_endpoint", "https://graph.microsoft.com.evil.test"),
])
def test_any_other_host_is_refused_naming_the_option_and_the_opt_in(option, value):
    error = refusal(**{option: value})
    assert error.option == option
    assert "is not a Microsoft host of the global cloud" in str(error) and "nothing was sent" in str(error)
    assert "allow_custom_endpoints: true" in str(error)


@pytest.mark.parametrize("option, value, owner", [
    ("graph_endpoint", "https://graph.microsoft.us", "usgov"),
    ("authority_host", "https://login.chinacloudapi.cn", "china"),
])
def test_another_clouds_host_is_refused_with_the_matching_cloud(option, value, owner):
    error = refusal(**{option: value})
    assert error.option == option and "set cloud_environment: %s" % owner in str(error)


def test_usgov_dod_graph_root_is_not_accepted_for_usgov():
    assert refusal(cloud_environment="usgov", graph_endpoint="https://dod-graph.microsoft.us").option == "graph_endpoint"


@pytest.mark.parametrize("given", [True, "true", "yes", "1"])
def test_the_opt_in_allows_custom_hosts_and_each_warns_naming_its_host(given):
    chosen = settings(authority_host="https://127.0.0.1:8443", graph_endpoint="https://localhost:9443/graph",
                      allow_custom_endpoints=given)
    warnings = chosen.custom_endpoint_warnings("client_secret")
    assert warnings == [
        "allow_custom_endpoints is true: authority_host 127.0.0.1:8443 is not a Microsoft host of the global cloud, and "
        "it receives the client credential (client secret, certificate assertion or federated token)",
        "allow_custom_endpoints is true: graph_endpoint localhost:9443 is not a Microsoft host of the global cloud, and "
        "it receives every access token",
    ]
    # A method that never talks to the authority is not warned about it.
    assert [w for w in chosen.custom_endpoint_warnings("access_token") if "authority_host" in w] == []


def test_the_opt_in_must_be_a_boolean():
    assert refusal(allow_custom_endpoints="sometimes").option == "allow_custom_endpoints"


@pytest.mark.parametrize("variable, value", [
    ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://169.254.169.254"),
    ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"),
    ("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token"),
    ("MSI_ENDPOINT", "http://[::1]:50342/oauth2/token"),
    ("IMDS_ENDPOINT", "http://169.254.169.254"),
])
def test_managed_identity_endpoints_on_the_host_are_accepted(variable, value):
    check_managed_identity_environment({variable: value})


@pytest.mark.parametrize("variable, value", [
    ("IDENTITY_ENDPOINT", "https://mi.example.test/msi/token"),
    ("MSI_ENDPOINT", "http://10.0.0.4:2377/token"),
    ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://169.254.169.254.evil.test"),
    ("IMDS_ENDPOINT", "not a url at all"),
])
def test_managed_identity_endpoints_elsewhere_are_refused(variable, value):
    with pytest.raises(InputError) as caught:
        check_managed_identity_environment({variable: value, "IDENTITY_HEADER": "h"})
    assert variable in str(caught.value) and "loopback or link-local" in str(caught.value)


@pytest.mark.parametrize("given", ["https://graph.microsoft.com:443", "graph.microsoft.com:443/", "HTTPS://Graph.Microsoft.com:443"])
def test_the_default_port_is_dropped_so_graphs_own_links_match(given):
    assert settings(graph_endpoint=given).graph_endpoint_url == "https://graph.microsoft.com"


def test_another_port_is_kept():
    assert settings(graph_endpoint="https://127.0.0.1:8443", allow_custom_endpoints=True).graph_endpoint_url == "https://127.0.0.1:8443"
