# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every authentication method, end to end: ansible-playbook -> module -> MSAL -> emulator over HTTPS."""

from __future__ import annotations

import socket
import threading

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


# --- endpoints bound to their cloud -------------------------------------------------------------

@pytest.mark.smoke
@pytest.mark.parametrize("auth, refused_option", [("secret", "authority_host"), (None, "graph_endpoint")])
def test_without_the_opt_in_nothing_reaches_a_host_outside_the_cloud(ansible, emulator, auth, refused_option):
    """The emulator is not Microsoft: without allow_custom_endpoints the secret (or token) is never sent to it."""
    secret = emulator.info["clients"]["responder"]["client_secret"]
    env = {"MSGRAPH_ALLOW_CUSTOM_ENDPOINTS": "false"}
    if auth is None:
        env.update(MSGRAPH_ACCESS_TOKEN="eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig-outside-the-cloud", AZURE_AUTHORITY_HOST="")
    emulator.admin.clear_requests()
    result = ansible.play(read_playbook(), extra_vars={"upn": "x@contoso.com"}, auth=auth, env=env, verbosity=4)
    assert result.rc != 0
    failed = result.task("read")
    assert failed["option"] == refused_option
    assert "is not a Microsoft host of the global cloud" in failed["msg"] and "allow_custom_endpoints" in failed["msg"]
    assert emulator.admin.requests() == []  # not a discovery GET, not a token POST, not a Graph call
    assert secret not in result.output


@pytest.mark.smoke
def test_allowed_custom_endpoints_warn_which_host_receives_the_credential(ansible, emulator):
    identity = some_identity(emulator)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]})
    assert_read_worked(result, identity)
    warnings = " | ".join(result.task("read").get("warnings", []))
    authority = emulator.info["authority_host"].split("://", 1)[1]
    graph = emulator.info["graph_endpoint"].split("://", 1)[1]
    assert f"authority_host {authority} is not a Microsoft host" in warnings and "client credential" in warnings
    assert f"graph_endpoint {graph} is not a Microsoft host" in warnings and "every access token" in warnings


# --- managed identity never through a proxy -----------------------------------------------------

class RecordingProxy:
    """A TCP listener standing in for an HTTP proxy: it records every connection and closes it."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.2)
        self.url = "http://127.0.0.1:%d" % self.server.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, dummy = self.server.accept()
            except socket.timeout:
                continue
            self.connections += 1
            connection.close()

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.server.close()


def msal_reads_imds_override():
    """msal honours AZURE_POD_IDENTITY_AUTHORITY_HOST (newer than the 1.29.0 floor, which always asks 169.254.169.254)."""
    import inspect

    import msal.managed_identity
    return "AZURE_POD_IDENTITY_AUTHORITY_HOST" in inspect.getsource(msal.managed_identity)


@pytest.mark.smoke
@pytest.mark.parametrize("style", ["imds", "app_service"])
def test_managed_identity_token_request_ignores_http_proxy(ansible, emulator, style):
    """With HTTP(S)_PROXY set, the identity request still goes straight to the endpoint and the proxy sees nothing."""
    if style == "imds" and not msal_reads_imds_override():
        pytest.skip("this msal cannot point IMDS at the emulator (AZURE_POD_IDENTITY_AUTHORITY_HOST)")
    identity = some_identity(emulator)
    mi = emulator.info["managed_identity"]
    # The identity endpoint by the name "localhost", Graph by 127.0.0.1 (NO_PROXY): only the identity request would
    # go through the proxy if the environment's proxy were used for it.
    if style == "imds":
        env = {"AZURE_POD_IDENTITY_AUTHORITY_HOST": mi["imds_authority_host"].replace("127.0.0.1", "localhost")}
        route = "msi_token"
    else:
        env = {"IDENTITY_ENDPOINT": mi["identity_endpoint"].replace("127.0.0.1", "localhost"),
               "IDENTITY_HEADER": mi["identity_header"]}
        route = None
    proxy = RecordingProxy()
    try:
        env.update({"HTTP_PROXY": proxy.url, "HTTPS_PROXY": proxy.url, "http_proxy": proxy.url, "https_proxy": proxy.url,
                    "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"})
        result = ansible.play(read_playbook(auth_method="managed_identity"),
                              extra_vars={"upn": identity["userPrincipalName"]}, auth=None, env=env)
    finally:
        proxy.close()
    assert_read_worked(result, identity)
    tokens = [entry for entry in emulator.admin.requests() if entry["family"] == "msi"]
    if route:
        tokens = [entry for entry in tokens if entry["route"] == route]
    assert len(tokens) == 1 and {k.lower(): v for k, v in tokens[0]["headers"].items()}.get("metadata") == "true"
    assert proxy.connections == 0


def test_managed_identity_endpoint_off_the_host_is_refused(ansible, emulator):
    env = {"IDENTITY_ENDPOINT": "https://mi.example.test/msi/token", "IDENTITY_HEADER": "header-value"}
    result = ansible.play(read_playbook(auth_method="managed_identity"), extra_vars={"upn": "x@contoso.com"}, auth=None,
                          env=env)
    assert result.rc != 0
    failed = result.task("read")
    assert "IDENTITY_ENDPOINT=https://mi.example.test/msi/token is not a loopback or link-local" in failed["msg"]
    assert emulator.admin.requests(route="msi_token") == [] and graph_requests(emulator) == []
