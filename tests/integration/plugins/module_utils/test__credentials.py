# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every authentication method, end to end: ansible-playbook -> module -> MSAL -> emulator over HTTPS."""

from __future__ import annotations

import pytest
import requests

from connection_helpers import graph_requests, read_playbook, some_identity, token_requests

pytestmark = pytest.mark.usefixtures("emulator")


def assert_read_worked(result, identity):
    assert result.rc == 0, result.output
    found = result.task("read")["identity_accounts"]
    assert [item["id"] for item in found] == [identity["id"]]


@pytest.mark.smoke
@pytest.mark.parametrize("auth", ["secret", "certificate", "encrypted_certificate"])
def test_confidential_client_methods(ansible, emulator, auth):
    identity = some_identity(emulator)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]}, auth=auth)
    assert_read_worked(result, identity)
    [token] = token_requests(emulator)
    grant = token["body"]
    if auth == "secret":
        assert grant["client_secret"] != emulator.info["clients"]["responder"]["client_secret"]  # redacted in the log
        assert "client_assertion" not in grant
    else:
        assert grant["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert grant["scope"] == "https://graph.microsoft.com/.default"


def test_federated_token_file(ansible, emulator):
    identity = some_identity(emulator)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]}, auth="federated")
    assert_read_worked(result, identity)
    assert len(token_requests(emulator)) == 1


def test_expired_federated_token_names_the_file_and_aadsts_code(ansible, emulator):
    env = {"AZURE_FEDERATED_TOKEN_FILE": emulator.info["federated"]["expired_token_file"]}
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, auth="federated", env=env)
    assert result.rc != 0
    assert "AADSTS700024" in result.task("read")["msg"]
    assert graph_requests(emulator) == []


@pytest.mark.parametrize("user_assigned", [False, True])
def test_managed_identity_app_service(ansible, emulator, user_assigned):
    identity = some_identity(emulator)
    mi = emulator.info["managed_identity"]
    env = {"IDENTITY_ENDPOINT": mi["identity_endpoint"], "IDENTITY_HEADER": mi["identity_header"]}
    options = {"auth_method": "managed_identity"}
    if user_assigned:
        options["managed_identity_client_id"] = mi["user_assigned_client_id"]
    result = ansible.play(read_playbook(**options), extra_vars={"upn": identity["userPrincipalName"]}, auth=None, env=env)
    assert_read_worked(result, identity)
    [token] = emulator.admin.requests(route="msi_token")
    assert token["query"]["resource"] == "https://graph.microsoft.com"
    assert (token["query"].get("client_id") == mi["user_assigned_client_id"]) is user_assigned


def test_access_token_from_elsewhere(ansible, emulator):
    identity = some_identity(emulator)
    app = emulator.info["clients"]["responder"]
    reply = requests.post(
        f"{emulator.info['authority_host']}/{emulator.info['tenant_id']}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
              "scope": "https://graph.microsoft.com/.default"},
        verify=emulator.info["ca_path"], timeout=10)
    reply.raise_for_status()
    token = reply.json()["access_token"]
    emulator.admin.clear_requests()
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]}, auth=None,
                          env={"MSGRAPH_ACCESS_TOKEN": token}, verbosity=4)
    assert_read_worked(result, identity)
    assert token_requests(emulator) == []
    assert token not in result.output


@pytest.mark.smoke
def test_wrong_secret_reports_aadsts_code_and_fix_without_the_secret(ansible, emulator):
    wrong = "not-the-secret-0123456789"
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, env={"AZURE_CLIENT_SECRET": wrong}, verbosity=4)
    assert result.rc != 0
    message = result.task("read")["msg"]
    assert "AADSTS7000215" in message
    assert "client_secret" in message
    assert wrong not in result.output
    assert graph_requests(emulator) == []


def test_unregistered_certificate_reports_aadsts700027(ansible, emulator):
    env = {"AZURE_CLIENT_CERTIFICATE_PATH": emulator.info["clients"]["responder"]["unregistered_certificate_path"]}
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, auth="certificate", env=env)
    assert result.rc != 0
    assert "AADSTS700027" in result.task("read")["msg"]


def test_unknown_tenant_names_tenant_id(ansible, emulator):
    env = {"AZURE_TENANT_ID": "00000000-0000-0000-0000-00000000dead"}
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, env=env)
    assert result.rc != 0
    assert "tenant_id" in result.task("read")["msg"]
    assert graph_requests(emulator) == []
