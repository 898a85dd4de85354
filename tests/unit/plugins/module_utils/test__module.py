# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GraphModule: argument spec, env fallbacks (empty = unset, AWX names, parameter wins), early checks, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import datetime
import sys
from pathlib import Path

import pytest
import responses
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.errors import AnsibleFallbackNotFound
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.msgraph.security.plugins.module_utils import _http, _module
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphUnsupportedCloudError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import GRAPH_APIS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient
from ansible_collections.msgraph.security.plugins.module_utils._module import (
    GraphModule,
    connection_argument_spec,
    env_fallback_nonempty,
)
from ansible_collections.msgraph.security.plugins.module_utils._options import CONNECTION_OPTIONS

TOKEN = "opaque-access-token-0123456789"


class FailJson(Exception):
    def __init__(self, result):
        super(FailJson, self).__init__(result.get("msg"))
        self.result = result


@pytest.fixture
def warnings(monkeypatch):
    collected = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, message: collected.append(message))
    return collected


@pytest.fixture
def build(module_args, monkeypatch, warnings):
    def fail_json(self, **kwargs):
        kwargs["failed"] = True
        raise FailJson(kwargs)

    monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)

    def make(args=None, argument_spec=None, api="identity_accounts", **kwargs):
        with module_args(args or {}):
            return GraphModule(argument_spec=argument_spec or {}, api=api, **kwargs)

    return make


@pytest.fixture
def failing(build):
    def make(*args, **kwargs):
        with pytest.raises(FailJson) as caught:
            build(*args, **kwargs)
        return caught.value.result

    return make


# --- argument spec ---------------------------------------------------------------------------------

def test_env_fallback_skips_missing_and_empty_values(monkeypatch):
    monkeypatch.setenv("AZURE_TENANT_ID", "")
    monkeypatch.setenv("AZURE_TENANT", "from-awx")
    assert env_fallback_nonempty("AZURE_TENANT_ID", "AZURE_TENANT") == "from-awx"
    monkeypatch.setenv("AZURE_TENANT", "   ")
    with pytest.raises(AnsibleFallbackNotFound):
        env_fallback_nonempty("AZURE_TENANT_ID", "AZURE_TENANT")
    with pytest.raises(AnsibleFallbackNotFound):
        env_fallback_nonempty("NOT_SET_ANYWHERE_X")


def test_connection_argument_spec_uses_the_nonempty_fallback():
    spec = connection_argument_spec()
    assert set(spec) == set(CONNECTION_OPTIONS)
    assert spec["client_secret"]["fallback"] == (env_fallback_nonempty, ["AZURE_CLIENT_SECRET", "AZURE_SECRET"])
    assert spec["client_secret"]["no_log"] is True
    assert "fallback" not in spec["timeout"]


def test_module_options_are_merged_and_passed_through(build, failing):
    own = {"state": {"type": "str", "choices": ["present", "absent"], "default": "present"}, "a": {"type": "str"},
           "b": {"type": "str"}}
    module = build({"a": "x"}, argument_spec=own, mutually_exclusive=[("a", "b")], supports_check_mode=True)
    assert module.params["state"] == "present"
    assert module.params["api_version"] == "beta"
    assert module.api == "identity_accounts"
    assert module.check_mode is False
    result = failing({"a": "x", "b": "y"}, argument_spec=own, mutually_exclusive=[("a", "b")])
    assert "mutually exclusive" in result["msg"]


def test_clashing_module_option_is_a_programming_error(build):
    with pytest.raises(ValueError):
        build({}, argument_spec={"timeout": {"type": "int"}})


# --- env fallbacks ---------------------------------------------------------------------------------

def test_defaults(build):
    params = build().params
    assert params["auth_method"] == "auto"
    assert params["cloud_environment"] == "global"
    assert (params["timeout"], params["max_retries"], params["retry_budget"]) == (30, 5, 120)
    assert params["validate_certs"] is True
    assert params["tenant_id"] is None


@pytest.mark.parametrize("env, expected", [
    ({"AZURE_TENANT": "awx-tenant"}, "awx-tenant"),
    ({"AZURE_TENANT_ID": "azid-tenant", "AZURE_TENANT": "awx-tenant"}, "azid-tenant"),
    ({"AZURE_TENANT_ID": "", "AZURE_TENANT": "awx-tenant"}, "awx-tenant"),
    ({"AZURE_TENANT_ID": "", "AZURE_TENANT": ""}, None),
])
def test_tenant_fallback_order_and_empty_values(build, monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert build().params["tenant_id"] == expected


def test_parameter_wins_over_the_environment(build, monkeypatch):
    monkeypatch.setenv("AZURE_TENANT_ID", "env-tenant")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "env-secret-value")
    monkeypatch.setenv("AZURE_CLOUD_ENVIRONMENT", "china")
    module = build({"tenant_id": "param-tenant", "client_secret": "param-secret-value", "cloud_environment": "usgov"})
    assert module.params["tenant_id"] == "param-tenant"
    assert module.params["client_secret"] == "param-secret-value"
    assert module.connection_settings.cloud.name == "usgov"


def test_explicit_empty_parameter_counts_as_unset(build, monkeypatch):
    monkeypatch.setenv("AZURE_TENANT_ID", "env-tenant")
    monkeypatch.setenv("AZURE_SECRET", "awx-secret-value")
    module = build({"tenant_id": "", "client_secret": "", "cloud_environment": "", "graph_endpoint": None})
    assert module.params["tenant_id"] == "env-tenant"
    assert module.params["client_secret"] == "awx-secret-value"
    assert "awx-secret-value" in module.no_log_values
    assert module.params["cloud_environment"] == "global"
    assert module.params["graph_endpoint"] is None


def test_awx_azure_rm_variables(build, monkeypatch):
    """What AWX's Microsoft Azure Resource Manager credential injects, blank fields as ''."""
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "ignored-subscription")
    monkeypatch.setenv("AZURE_CLIENT_ID", "awx-client")
    monkeypatch.setenv("AZURE_TENANT", "awx-tenant.onmicrosoft.com")
    monkeypatch.setenv("AZURE_SECRET", "awx-secret-value")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "")
    monkeypatch.setenv("AZURE_CLOUD_ENVIRONMENT", "AzureUSGovernment")
    monkeypatch.setenv("AZURE_AD_USER", "")
    monkeypatch.setenv("AZURE_PASSWORD", "")
    module = build()
    assert module.params["client_id"] == "awx-client"
    assert module.params["tenant_id"] == "awx-tenant.onmicrosoft.com"
    assert module.params["client_secret"] == "awx-secret-value"
    assert "awx-secret-value" in module.no_log_values
    settings = module.connection_settings
    assert settings.cloud.name == "usgov"
    assert settings.scope == "https://graph.microsoft.us/.default"
    assert "subscription" not in " ".join(module.params)


@pytest.mark.parametrize("variable, option, value", [
    ("AZURE_CLIENT_ID", "client_id", "cid"),
    ("AZURE_CLIENT_CERTIFICATE_PATH", "client_certificate_path", "/tmp/cert.pem"),
    ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "client_certificate_password", "cert-password"),
    ("AZURE_FEDERATED_TOKEN_FILE", "federated_token_file", "/var/run/secrets/token"),
    ("MSGRAPH_ACCESS_TOKEN", "access_token", TOKEN),
    ("MSGRAPH_AUTH_METHOD", "auth_method", "managed_identity"),
    ("AZURE_AUTHORITY_HOST", "authority_host", "https://login.microsoftonline.us"),
    ("MSGRAPH_ENDPOINT", "graph_endpoint", "https://graph.microsoft.us"),
])
def test_each_variable_feeds_its_option(build, monkeypatch, variable, option, value):
    monkeypatch.setenv("AZURE_CLOUD_ENVIRONMENT", "usgov")  # the endpoint variables name usgov hosts
    monkeypatch.setenv(variable, value)
    module = build()
    assert module.params[option] == value
    if CONNECTION_OPTIONS[option]["no_log"]:
        assert value in module.no_log_values


def test_a_crash_prints_its_traceback_without_the_secrets(build, monkeypatch, capsys):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    build({"client_secret": "crash-secret-value-xyz"})
    try:
        raise KeyboardInterrupt("a library said client_secret=crash-secret-value-xyz")
    except KeyboardInterrupt:
        sys.excepthook(*sys.exc_info())
    printed = capsys.readouterr().err
    assert "KeyboardInterrupt" in printed and "Traceback" in printed
    assert "crash-secret-value-xyz" not in printed


def test_secret_parameters_are_no_log_values(build):
    module = build({"client_secret": "param-secret-xyz", "client_certificate_password": "pw-secret-xyz",
                    "access_token": TOKEN})
    for value in ("param-secret-xyz", "pw-secret-xyz", TOKEN):
        assert value in module.no_log_values


def test_ca_path_from_the_environment(build, monkeypatch, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    monkeypatch.setenv("MSGRAPH_CA_PATH", str(ca))
    assert build().params["ca_path"] == str(ca)


# --- early checks: before any request --------------------------------------------------------------

@responses.activate
@pytest.mark.parametrize("args, option", [
    ({"graph_endpoint": "http://graph.example.test"}, "graph_endpoint"),
    ({"authority_host": "http://login.example.test"}, "authority_host"),
    ({"cloud_environment": "mars"}, "cloud_environment"),
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path"),
    ({"tenant_id": "organizations"}, "tenant_id"),
])
def test_bad_connection_input_fails_before_any_request(failing, args, option):
    result = failing(args)
    assert result["option"] == option
    assert result["msg"].startswith(option + ":")
    assert len(responses.calls) == 0


def test_env_bad_cloud_fails(failing, monkeypatch):
    monkeypatch.setenv("AZURE_CLOUD_ENVIRONMENT", "AzureGermanCloud")
    assert failing()["option"] == "cloud_environment"


@pytest.mark.parametrize("cloud, api", [("usgov", "security_actions"), ("AzureChinaCloud", "identity_accounts")])
def test_api_not_offered_in_the_cloud_fails_at_once(failing, cloud, api):
    result = failing({"cloud_environment": cloud, "access_token": TOKEN}, api=api)
    assert api in result["msg"]
    assert result["error"]["error_code"] == "UnsupportedCloud"
    assert "error_code" not in result


# --- the API version, from the API's facts (_graph_apis) ------------------------------------------------

@pytest.mark.parametrize("api, default", [("identity_accounts", "beta"), ("security_actions", "beta"), ("incidents", "v1.0"),
                                          ("alerts", "v1.0")])
def test_api_version_defaults_to_the_apis_default(build, api, default):
    module = build({"access_token": TOKEN}, api=api)
    assert module.params["api_version"] == module.connection_settings.api_version == default
    assert module.argument_spec["api_version"]["default"] == default


def test_an_explicit_api_version_is_kept(build):
    assert build({"access_token": TOKEN, "api_version": "beta"}, api="incidents").connection_settings.api_version == "beta"
    assert build({"access_token": TOKEN, "api_version": "v1.0"}).connection_settings.api_version == "v1.0"


@pytest.mark.parametrize("requested", [None, "beta", "v1.0"])
def test_an_api_called_in_one_version_is_called_in_it_whatever_api_version_says(build, requested):
    args = {"access_token": TOKEN} if requested is None else {"access_token": TOKEN, "api_version": requested}
    module = build(args, api="entra_users")
    assert module.connection_settings.api_version == "v1.0"
    assert module.argument_spec["api_version"]["default"] == "beta"  # the connection options' documented default


def test_a_version_the_api_is_not_offered_in_fails_at_once_after_the_cloud_check(failing, warnings):
    result = failing({"access_token": TOKEN, "api_version": "v1.0", "graph_endpoint": "https://graph.example.test",
                      "allow_custom_endpoints": True}, api="security_actions")
    assert result["option"] == "api_version" and "beta only" in result["msg"]
    assert any("graph.example.test" in warning for warning in warnings)  # warned before the refusal, as before
    result = failing({"access_token": TOKEN, "api_version": "v1.0", "cloud_environment": "china"}, api="security_actions")
    assert result["error"]["error_code"] == "UnsupportedCloud"


MODULES = Path(__file__).resolve().parents[4] / "plugins" / "modules"


@pytest.mark.parametrize("path", sorted(MODULES.glob("*.py")), ids=lambda path: path.stem)
def test_a_module_names_only_its_api_and_never_sets_the_api_version(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    [call] = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "GraphModule"]
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    assert isinstance(keywords.get("api"), ast.Constant) and keywords["api"].value in GRAPH_APIS
    assert "default_api_version" not in keywords
    assigned = [target.attr for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Attribute)]
    assert "api_version" not in assigned


@pytest.mark.parametrize("cloud", ["usgov", "usgov_dod"])
def test_v1_identity_accounts_in_us_government_fail_at_once(failing, cloud):
    result = failing({"cloud_environment": cloud, "access_token": TOKEN, "api_version": "v1.0"})
    assert result["error"]["error_code"] == "UnsupportedCloud" and "v1.0-Fairfax.csdl" in result["msg"]


def test_beta_identity_accounts_in_us_government_warn_and_explain_a_404(build, warnings):
    module = build({"cloud_environment": "usgov", "access_token": TOKEN, "api_version": "beta"})
    assert len(warnings) == 1 and "disagree" in warnings[0]
    error = GraphError("Resource not found for the segment 'identities'.", status=404, code="BadRequest", request_id="req-1")
    with pytest.raises(FailJson) as caught:
        module.fail_on_error(error)
    assert "may not be offered in this cloud" in caught.value.result["error"]["hint"]
    assert caught.value.result["error"]["request_id"] == "req-1"


def test_global_beta_identity_accounts_neither_warn_nor_explain(build, warnings):
    module = build({"access_token": TOKEN})
    with pytest.raises(FailJson) as caught:
        module.fail_on_error(GraphError("not found", status=404, hint="check the id"))
    assert warnings == [] and caught.value.result["error"]["hint"] == "check the id"


# --- graph_client ---------------------------------------------------------------------------------

@responses.activate
def test_graph_client_with_an_access_token(build):
    module = build({"access_token": TOKEN, "graph_endpoint": "https://graph.example.test", "allow_custom_endpoints": True})
    client = module.graph_client()
    assert isinstance(client, GraphClient)
    assert module.graph_client() is client
    responses.add(responses.GET, "https://graph.example.test/beta/security/identities/identityAccounts", json={"value": []})
    client.get("/security/identities/identityAccounts")
    assert responses.calls[0].request.headers["Authorization"] == "Bearer " + TOKEN
    assert client.retry.max_retries == 5 and client.retry.budget_seconds == 120
    assert client.timeout == 30


@responses.activate
def test_retries_become_module_warnings(build, warnings):
    module = build({"access_token": TOKEN, "max_retries": 2, "retry_budget": 5})
    responses.add(responses.GET, "https://graph.microsoft.com/beta/x", status=429, headers={"Retry-After": "0"})
    responses.add(responses.GET, "https://graph.microsoft.com/beta/x", json={})
    module.graph_client().get("/x")
    assert len(warnings) == 1 and "HTTP 429" in warnings[0]
    assert TOKEN not in warnings[0]


def test_pool_size_reaches_the_shared_session(build):
    client = build({"access_token": TOKEN}).graph_client(pool_size=20)
    assert client.http.get_adapter("https://graph.microsoft.com")._pool_maxsize == 20


SECRET_APP = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "app-1", "client_secret": "secret-value-1"}


def test_token_cache_dir_opens_a_private_persistent_cache(build, tmp_path):
    module = build(dict(SECRET_APP, token_cache_dir=str(tmp_path / "tokens")))
    client = module.graph_client()
    assert module.token_cache is client.token_provider.token_cache
    assert module.token_cache.path.startswith(str(tmp_path / "tokens"))
    assert build(SECRET_APP).graph_client().token_provider.token_cache is None  # default: in memory only
    assert not list(tmp_path.glob("tokens/*.json"))  # nothing written before a token is acquired


def test_token_cache_dir_from_the_environment_and_a_loose_directory_fails(build, tmp_path, monkeypatch):
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o755)
    monkeypatch.setenv("MSGRAPH_TOKEN_CACHE_DIR", str(loose))
    with pytest.raises(FailJson) as caught:
        build(SECRET_APP).graph_client()
    assert caught.value.result["option"] == "token_cache_dir" and "chmod 0700" in caught.value.result["msg"]


def test_validate_certs_false_warns(build, warnings):
    build({"access_token": TOKEN, "validate_certs": False}).graph_client()
    assert any("validate_certs is false" in message for message in warnings)


def test_auth_conflict_fails_with_both_options(failing, build, monkeypatch):
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "env-secret-value")
    module = build({"access_token": TOKEN})
    with pytest.raises(FailJson) as caught:
        module.graph_client()
    result = caught.value.result
    assert "access_token" in result["option"] and "client_secret" in result["option"]
    assert "env-secret-value" not in result["msg"]


def test_missing_msal_and_requests_are_reported(build, monkeypatch):
    monkeypatch.setattr(_module, "HAS_MSAL", False)
    module = build({"tenant_id": "t.onmicrosoft.com", "client_id": "c", "client_secret": "secret-value-1"})
    with pytest.raises(FailJson) as caught:
        module.graph_client()
    assert "msal" in caught.value.result["msg"]
    # A static token works without msal.
    assert build({"access_token": TOKEN}).graph_client() is not None
    monkeypatch.setattr(_module, "HAS_REQUESTS", False)
    with pytest.raises(FailJson) as caught:
        build({"access_token": TOKEN}).graph_client()
    assert "requests>=2.32.4" in caught.value.result["msg"]


def test_a_requests_below_the_floor_fails_like_a_missing_one_and_says_why(build, monkeypatch):
    monkeypatch.setattr(_module, "HAS_REQUESTS", False)
    monkeypatch.setattr(_module, "REQUESTS_TOO_OLD", _http.requests_too_old("2.27.1"))
    with pytest.raises(FailJson) as caught:
        build({"access_token": TOKEN}).graph_client()
    message = caught.value.result["msg"]
    assert "Failed to import the required Python library (requests>=2.32.4)" in message
    assert "requests 2.27.1 is installed" in message and "CURL_CA_BUNDLE" in message


def test_certificate_private_key_becomes_a_no_log_value(build, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "unit")])
    now = datetime.datetime(2025, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path = tmp_path / "cert.pem"
    path.write_text(cert.public_bytes(serialization.Encoding.PEM).decode() + key_pem)
    module = build({"tenant_id": "t.onmicrosoft.com", "client_id": "c", "client_certificate_path": str(path)})
    module.graph_client()
    assert key_pem.strip() in [value.strip() for value in module.no_log_values]


# --- fail_on_error ------------------------------------------------------------------------------------

def test_fail_on_error_graph_error(build):
    module = build()
    err = GraphError("Insufficient privileges", status=403, code="Forbidden", request_id="r-1",
                     required_permission="SecurityIdentitiesAccount.Read.All", hint="grant it")
    with pytest.raises(FailJson) as caught:
        module.fail_on_error(err, changed=False, identity_account={"id": "x"})
    result = caught.value.result
    assert result["msg"] == str(err)
    assert result["error"] == err.to_result()
    assert result["error"]["status"] == 403 and result["error"]["required_permission"] == "SecurityIdentitiesAccount.Read.All"
    # Once, under error: none of its keys is repeated at the top level.
    assert not set(result["error"]) & set(result)
    assert result["changed"] is False and result["identity_account"] == {"id": "x"}


def test_fail_on_error_input_error(build):
    module = build()
    with pytest.raises(FailJson) as caught:
        module.fail_on_error(InputError("action", "must be one of disable, enable"), changed=False)
    result = caught.value.result
    assert result["option"] == "action"
    assert result["msg"] == "action: must be one of disable, enable"
    assert result["changed"] is False


def test_fail_on_error_subclass_keeps_its_fields(build):
    module = build()
    with pytest.raises(FailJson) as caught:
        module.fail_on_error(GraphUnsupportedCloudError("not here", code="UnsupportedCloud"))
    assert caught.value.result["error"]["error_code"] == "UnsupportedCloud"


def test_fail_on_error_other_exceptions(build):
    module = build()
    result = None
    try:
        raise KeyError("surprise Bearer abc.def")
    except KeyError as exc:
        with pytest.raises(FailJson) as caught:
            module.fail_on_error(exc)
        result = caught.value.result
    assert result["msg"].startswith("KeyError:")
    assert "abc.def" not in result["msg"]
    assert "Traceback" in result["exception"]


# --- endpoints bound to the cloud, auth_method() ---------------------------------------------------

def test_a_custom_endpoint_without_the_opt_in_fails_before_any_request(failing):
    result = failing({"access_token": TOKEN, "graph_endpoint": "https://graph.example.test"})
    assert result["option"] == "graph_endpoint" and "allow_custom_endpoints" in result["msg"]


def test_each_allowed_custom_endpoint_warns_naming_its_host(build, warnings):
    build({"client_id": "cid", "tenant_id": "contoso.onmicrosoft.com", "client_secret": "s3cret-value-1",
           "authority_host": "https://127.0.0.1:8443", "graph_endpoint": "https://127.0.0.1:9443",
           "allow_custom_endpoints": True})
    mine = [w for w in warnings if w.startswith("allow_custom_endpoints is true")]
    assert len(mine) == 2 and "127.0.0.1:8443" in mine[0] and "127.0.0.1:9443" in mine[1]


def test_auth_method_for_the_modules(build, failing):
    assert build({"access_token": TOKEN}).auth_method() == "access_token"
    module = build({"access_token": TOKEN, "client_secret": "s3cret-value-2"})
    with pytest.raises(FailJson) as caught:
        module.auth_method()
    assert caught.value.result["option"] == "access_token, client_secret"


class ExitJson(Exception):
    def __init__(self, result):
        super(ExitJson, self).__init__("exit_json")
        self.result = result


def exit_json(self, **result):
    raise ExitJson(result)


@pytest.mark.parametrize("diff_mode", [False, True])
def test_exit_with_result_warns_keeps_the_diff_only_in_diff_mode(build, monkeypatch, warnings, diff_mode):
    monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
    module = build({"access_token": TOKEN})
    module._diff = diff_mode
    with pytest.raises(ExitJson) as caught:
        module.exit_with_result({"changed": True, "warnings": ["sent twice"], "diff": {"before": {}, "after": {"x": 1}}})
    assert warnings[-1] == "sent twice"
    assert "warnings" not in caught.value.result
    assert ("diff" in caught.value.result) is diff_mode


def test_exit_with_result_fails_a_result_marked_failed(build, monkeypatch):
    monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
    module = build({"access_token": TOKEN})
    with pytest.raises(FailJson) as caught:
        module.exit_with_result({"changed": True, "warnings": [], "diff": None, "failed": True, "msg": "1 of 3 failed"})
    assert caught.value.result["msg"] == "1 of 3 failed" and caught.value.result["changed"] is True
