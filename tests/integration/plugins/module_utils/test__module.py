# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options as users set them: environment fallbacks (incl. AWX's names), precedence, TLS trust."""

from __future__ import annotations

import pytest

from connection_helpers import graph_requests, read_playbook, some_identity


def responder(emulator):
    return emulator.info["clients"]["responder"]


@pytest.mark.smoke
def test_awx_azure_rm_variable_names(ansible, emulator):
    identity = some_identity(emulator)
    app = responder(emulator)
    env = {"AZURE_TENANT": emulator.info["tenant_id"], "AZURE_SECRET": app["client_secret"],
           "AZURE_SUBSCRIPTION_ID": "not-used", "AZURE_CLOUD_ENVIRONMENT": "AzureCloud"}
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]}, auth=None,
                          env={**env, "AZURE_CLIENT_ID": app["client_id"]})
    assert result.rc == 0, result.output


def test_empty_environment_value_counts_as_unset(ansible, emulator):
    identity = some_identity(emulator)
    app = responder(emulator)
    # AWX injects '' for blank credential fields; AZURE_CLIENT_SECRET='' must not hide AZURE_SECRET.
    env = {"AZURE_CLIENT_SECRET": "", "AZURE_SECRET": app["client_secret"], "AZURE_CLIENT_CERTIFICATE_PATH": ""}
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]}, env=env)
    assert result.rc == 0, result.output


def test_parameter_wins_over_environment(ansible, emulator):
    identity = some_identity(emulator)
    playbook = read_playbook(client_secret=responder(emulator)["client_secret"])
    result = ansible.play(playbook, extra_vars={"upn": identity["userPrincipalName"]},
                          env={"AZURE_CLIENT_SECRET": "wrong-secret-from-the-environment"})
    assert result.rc == 0, result.output


def test_missing_credentials_name_the_options_and_send_nothing(ansible, emulator):
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, auth=None,
                          env={"AZURE_TENANT_ID": emulator.info["tenant_id"], "AZURE_CLIENT_ID": responder(emulator)["client_id"]})
    assert result.rc != 0
    message = result.task("read")["msg"]
    assert "client_secret" in message and "AZURE_CLIENT_SECRET" in message
    assert emulator.admin.requests() == []


@pytest.mark.smoke
def test_emulator_ca_is_not_trusted_without_ca_path(ansible, emulator):
    # The machine exports REQUESTS_CA_BUNDLE (system CAs); the emulator's own CA is not among them.
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, env={"MSGRAPH_CA_PATH": ""})
    assert result.rc != 0
    message = result.task("read")["msg"]
    assert "ca_path" in message and "certificate" in message.lower()


def test_ca_path_wins_over_requests_ca_bundle(ansible, emulator, tmp_path):
    identity = some_identity(emulator)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]},
                          env={"REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
                               "CURL_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt"})
    assert result.rc == 0, result.output


def test_validate_certs_false_works_and_warns(ansible, emulator):
    identity = some_identity(emulator)
    result = ansible.play(read_playbook(validate_certs=False), extra_vars={"upn": identity["userPrincipalName"]},
                          env={"MSGRAPH_CA_PATH": ""})
    assert result.rc == 0, result.output
    assert any("validate_certs" in warning for warning in result.task("read").get("warnings", []))


def test_graph_endpoint_must_be_https(ansible, emulator):
    endpoint = emulator.info["graph_endpoint"].replace("https://", "http://")
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, env={"MSGRAPH_ENDPOINT": endpoint})
    assert result.rc != 0
    assert "graph_endpoint" in result.task("read")["msg"]
    assert graph_requests(emulator) == []
