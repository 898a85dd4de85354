# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection settings, auth selection, certificates, MSAL token providers and AADSTS mapping (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import itertools
from urllib.parse import parse_qs

import jwt
import msal
import pytest
import requests
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.msgraph.security.plugins.module_utils import _credentials
from ansible_collections.msgraph.security.plugins.module_utils._certificates import load_certificate
from ansible_collections.msgraph.security.plugins.module_utils._connection import ConnectionSettings, select_auth_method
from ansible_collections.msgraph.security.plugins.module_utils._credentials import (
    ManagedIdentityTokenProvider,
    MsalConfidentialTokenProvider,
    StaticTokenProvider,
    build_token_provider,
)
from ansible_collections.msgraph.security.plugins.module_utils._token_service_errors import AADSTS_HINTS, auth_error_from_result
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphAuthError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._http import VerifyingSession
from ansible_collections.msgraph.security.plugins.module_utils._retries import RetryingHttpClient

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "very-secret-value-42"
LOGIN = "https://login.microsoftonline.com"


def discovery_url(host=LOGIN, tenant=TENANT):
    return "%s/%s/v2.0/.well-known/openid-configuration" % (host, tenant)


def token_url(host=LOGIN, tenant=TENANT):
    return "%s/%s/oauth2/v2.0/token" % (host, tenant)


def add_discovery(rsps, host=LOGIN, tenant=TENANT):
    rsps.add(responses.GET, discovery_url(host, tenant), json={
        "authorization_endpoint": "%s/%s/oauth2/v2.0/authorize" % (host, tenant),
        "token_endpoint": token_url(host, tenant),
        "issuer": "%s/%s/v2.0" % (host, tenant),
    })


def add_token(rsps, token="graph-token-1", host=LOGIN, tenant=TENANT, status=200, body=None):
    rsps.add(responses.POST, token_url(host, tenant), status=status,
             json=body if body is not None else {"access_token": token, "token_type": "Bearer", "expires_in": 3599})


def settings(**params):
    return ConnectionSettings(**params).validate()


def secret_settings(**extra):
    params = dict(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=SECRET)
    params.update(extra)
    return settings(**params)


def form(call):
    body = call.request.body
    if isinstance(body, bytes):
        body = body.decode()
    return dict((key, values[0]) for key, values in parse_qs(body).items())


# --- ConnectionSettings --------------------------------------------------------------------------

def test_settings_defaults_and_empty_values():
    s = ConnectionSettings(tenant_id="", client_id="  ", cloud_environment="", auth_method=None, timeout=None)
    assert s.tenant_id is None and s.client_id is None
    assert s.cloud_environment == "global"
    assert s.auth_method == "auto"
    assert s.api_version == "beta"
    assert s.validate_certs is True
    assert (s.timeout, s.max_retries, s.retry_budget) == (30, 5, 120)


def test_settings_strip_ids_but_not_secrets():
    s = ConnectionSettings(tenant_id=" %s " % TENANT, client_secret=" spaced ")
    assert s.tenant_id == TENANT
    assert s.client_secret == " spaced "


def test_from_params_ignores_module_options_and_repr_hides_secrets():
    s = ConnectionSettings.from_params({"tenant_id": TENANT, "client_secret": SECRET, "state": "present"})
    assert s.tenant_id == TENANT
    assert SECRET not in repr(s)
    assert "client_secret='********'" in repr(s)
    with pytest.raises(TypeError):
        ConnectionSettings(state="present")


@pytest.mark.parametrize("cloud, authority, scope", [
    ("global", "https://login.microsoftonline.com/" + TENANT, "https://graph.microsoft.com/.default"),
    ("AzureUSGovernment", "https://login.microsoftonline.us/" + TENANT, "https://graph.microsoft.us/.default"),
    ("usgov_dod", "https://login.microsoftonline.us/" + TENANT, "https://dod-graph.microsoft.us/.default"),
    ("AzureChinaCloud", "https://login.chinacloudapi.cn/" + TENANT, "https://microsoftgraph.chinacloudapi.cn/.default"),
])
def test_authority_and_scope_per_cloud(cloud, authority, scope):
    s = settings(tenant_id=TENANT, cloud_environment=cloud)
    assert s.authority == authority
    assert s.scope == scope
    assert s.graph_endpoint_url + "/.default" == scope
    assert s.authority_overridden is False


def test_overrides_never_change_the_scope():
    s = settings(tenant_id=TENANT, cloud_environment="usgov", graph_endpoint="https://127.0.0.1:8443/",
                 authority_host="login.emulator.test:9443", allow_custom_endpoints=True)
    assert s.graph_endpoint_url == "https://127.0.0.1:8443"
    assert s.authority == "https://login.emulator.test:9443/" + TENANT
    assert s.authority_overridden is True
    assert s.scope == "https://graph.microsoft.us/.default"


def test_authority_equal_to_the_clouds_is_not_an_override():
    s = settings(tenant_id=TENANT, authority_host="https://LOGIN.microsoftonline.com/")
    assert s.authority_overridden is False


@pytest.mark.parametrize("option, value, fragment", [
    ("authority_host", "http://login.example.test", "https://"),
    ("graph_endpoint", "http://graph.example.test", "https://"),
    ("graph_endpoint", "ftp://graph.example.test", "https://"),
    ("authority_host", "https://login.example.test/contoso", "without a path"),
    ("graph_endpoint", "https://graph.microsoft.com/beta", "api_version"),
    ("graph_endpoint", "https://graph.microsoft.com/v1.0/", "api_version"),
    ("graph_endpoint", "https://graph.example.test/?x=1", "query"),
    ("graph_endpoint", "https://user:pw@graph.example.test", "credentials"),
    ("authority_host", "https://host:99999", "not a valid URL"),
    ("cloud_environment", "AzureGermanCloud", "unknown cloud"),
    ("tenant_id", "contoso/../x", "tenant GUID"),
    ("tenant_id", "common", "cannot be used"),
    ("timeout", 0, ">= 1"),
    ("timeout", 10 ** 12, "between 1 and 86400"),
    ("max_retries", -1, ">= 0"),
    ("retry_budget", -5, ">= 0"),
    ("api_version", "v2", "must be one of"),
    ("auth_method", "kerberos", "must be one of"),
])
def test_validate_rejects_bad_input_before_any_request(option, value, fragment):
    with pytest.raises(InputError) as caught:
        settings(**{option: value})
    assert caught.value.option == option
    assert fragment in str(caught.value)


def test_graph_endpoint_may_have_a_path_prefix():
    assert settings(graph_endpoint="https://proxy.example.test/graph/", allow_custom_endpoints="true").graph_endpoint_url \
        == "https://proxy.example.test/graph"


def test_ca_path_must_exist_unless_verification_is_off(tmp_path):
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(InputError) as caught:
        settings(ca_path=missing)
    assert caught.value.option == "ca_path"
    settings(ca_path=missing, validate_certs=False)


# --- auth method selection -----------------------------------------------------------------------

CREDENTIALS = {
    "access_token": "token-abc",
    "client_certificate_path": "/tmp/cert.pem",
    "client_secret": SECRET,
    "federated_token_file": "/tmp/token",
}
EXPECTED_METHOD = {
    "access_token": "access_token",
    "client_certificate_path": "certificate",
    "client_secret": "client_secret",
    "federated_token_file": "federated",
}


@pytest.mark.parametrize("option", sorted(CREDENTIALS))
def test_auto_picks_the_single_credential(option):
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, **{option: CREDENTIALS[option]})
    assert select_auth_method(s) == EXPECTED_METHOD[option]


@pytest.mark.parametrize("pair", list(itertools.combinations(sorted(CREDENTIALS), 2)))
def test_auto_with_two_credentials_names_both(pair):
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, **dict((option, CREDENTIALS[option]) for option in pair))
    with pytest.raises(InputError) as caught:
        select_auth_method(s)
    assert sorted(caught.value.options) == sorted(pair)
    for option in pair:
        assert option in str(caught.value)
    assert "auth_method" in str(caught.value)


def test_auto_without_credentials_lists_what_to_set():
    with pytest.raises(InputError) as caught:
        select_auth_method(settings(tenant_id=TENANT, client_id=CLIENT_ID))
    text = str(caught.value)
    assert caught.value.option == "auth_method"
    for name in ("access_token", "MSGRAPH_ACCESS_TOKEN", "client_certificate_path", "AZURE_CLIENT_CERTIFICATE_PATH",
                 "client_secret", "AZURE_CLIENT_SECRET", "AZURE_SECRET", "federated_token_file",
                 "AZURE_FEDERATED_TOKEN_FILE", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "managed_identity"):
        assert name in text
    # The order of the message follows the documented auto order.
    assert text.index("access_token") < text.index("client_certificate_path") < text.index("client_secret (") \
        < text.index("federated_token_file")


def test_managed_identity_only_when_asked():
    with pytest.raises(InputError):
        select_auth_method(settings(managed_identity_client_id="mi-client"))
    assert select_auth_method(settings(auth_method="managed_identity")) == "managed_identity"


def test_explicit_method_ignores_other_credentials():
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=SECRET, access_token="tok",
                 auth_method="client_secret")
    assert select_auth_method(s) == "client_secret"


@pytest.mark.parametrize("method, params, missing", [
    ("client_secret", {"tenant_id": TENANT, "client_id": CLIENT_ID}, "client_secret"),
    ("client_secret", {"client_id": CLIENT_ID, "client_secret": SECRET}, "tenant_id"),
    ("certificate", {"tenant_id": TENANT, "client_certificate_path": "/x"}, "client_id"),
    ("federated", {"tenant_id": TENANT, "client_id": CLIENT_ID}, "federated_token_file"),
    ("access_token", {}, "access_token"),
    ("auto", {"client_secret": SECRET, "client_id": CLIENT_ID}, "tenant_id"),
])
def test_explicit_method_requires_its_options(method, params, missing):
    with pytest.raises(InputError) as caught:
        select_auth_method(settings(auth_method=method, **params))
    assert caught.value.option == missing
    assert missing in str(caught.value)


# --- certificates ---------------------------------------------------------------------------------

def _self_signed(key, name="msgraph-test", issuer_key=None, issuer_name=None):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name or name)])
    now = datetime.datetime(2025, 1, 1)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(issuer_key or key, hashes.SHA256()))


def _pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key, password=None, traditional=False):
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cert = _self_signed(key)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ca_cert = _self_signed(ca_key, name="msgraph-test-ca")
    leaf = _self_signed(key, name="msgraph-leaf", issuer_key=ca_key, issuer_name="msgraph-test-ca")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    files = {
        "plain": _pem(cert) + _key_pem(key),
        "key_first": _key_pem(key) + _pem(cert),
        "traditional": _pem(cert) + _key_pem(key, traditional=True),
        "encrypted": _pem(cert) + _key_pem(key, password="pa55word"),
        "chain": _pem(ca_cert) + _pem(leaf) + _key_pem(key),
        "mismatch": _pem(cert) + _key_pem(other_key),
        "cert_only": _pem(cert),
        "key_only": _key_pem(key),
        "two_keys": _pem(cert) + _key_pem(key) + _key_pem(other_key),
        "garbage": "this is not a certificate\n",
        "bad_base64": "-----BEGIN CERTIFICATE-----\n!!!notbase64!!!\n-----END CERTIFICATE-----\n" + _key_pem(key),
        "ec": _pem(_self_signed(ec_key)) + _key_pem(ec_key),
    }
    paths = {}
    for name, content in files.items():
        path = directory / ("%s.pem" % name)
        path.write_text(content)
        paths[name] = str(path)
    binary = directory / "cert.der"
    binary.write_bytes(cert.public_bytes(serialization.Encoding.DER) + b"\xff\xfe")
    paths["binary"] = str(binary)
    return {"paths": paths, "key": key, "cert": cert, "leaf": leaf, "ca": ca_cert,
            "thumbprint": cert.fingerprint(hashes.SHA1()).hex().upper(), "key_pem": _key_pem(key)}


@pytest.mark.parametrize("variant", ["plain", "key_first", "traditional"])
def test_certificate_thumbprint_is_the_sha1_of_the_der(pki, variant):
    cred = load_certificate(pki["paths"][variant])
    assert cred.thumbprint == pki["thumbprint"]
    msal_cred = cred.msal_credential()
    assert msal_cred["thumbprint"] == pki["thumbprint"]
    assert msal_cred["public_certificate"].strip() == _pem(pki["cert"]).strip()
    assert "PRIVATE KEY" in msal_cred["private_key"]
    assert "passphrase" not in msal_cred


def test_encrypted_certificate_with_the_right_password(pki):
    cred = load_certificate(pki["paths"]["encrypted"], "pa55word")
    assert cred.msal_credential()["passphrase"] == "pa55word"
    assert cred.thumbprint == pki["thumbprint"]


def test_chain_puts_the_leaf_first(pki):
    cred = load_certificate(pki["paths"]["chain"])
    assert cred.thumbprint == pki["leaf"].fingerprint(hashes.SHA1()).hex().upper()
    assert cred.certificates_pem[0].strip() == _pem(pki["leaf"]).strip()
    assert cred.certificates_pem[1].strip() == _pem(pki["ca"]).strip()


@pytest.mark.parametrize("variant, password, option, fragment", [
    ("encrypted", "wrong-password", "client_certificate_password", "client_certificate_password is wrong"),
    ("encrypted", None, "client_certificate_password", "is encrypted"),
    ("garbage", None, "client_certificate_path", "no certificate"),
    ("cert_only", None, "client_certificate_path", "no private key"),
    ("key_only", None, "client_certificate_path", "no certificate"),
    ("two_keys", None, "client_certificate_path", "2 private keys"),
    ("mismatch", None, "client_certificate_path", "does not belong"),
    ("bad_base64", None, "client_certificate_path", "malformed"),
    ("binary", None, "client_certificate_path", "not a PEM file"),
    ("ec", None, "client_certificate_path", "not an RSA key"),
])
def test_certificate_errors_name_the_option_and_never_the_key(pki, variant, password, option, fragment):
    with pytest.raises(InputError) as caught:
        load_certificate(pki["paths"][variant], password)
    assert caught.value.option == option
    text = str(caught.value)
    assert fragment in text
    key_body = pki["key_pem"].splitlines()[1]
    assert key_body not in text
    assert "wrong-password" not in text


def test_unreadable_certificate_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as caught:
        load_certificate(str(tmp_path / "missing.pem"))
    assert caught.value.option == "client_certificate_path"
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, client_certificate_path=str(tmp_path / "missing.pem"))
    with pytest.raises(InputError) as caught:
        build_token_provider(s, VerifyingSession())
    assert caught.value.option == "client_certificate_path"


@pytest.mark.filterwarnings("ignore:The RSA key is 1024 bits")  # small test keys keep the suite fast
@responses.activate
def test_certificate_flow_sends_a_signed_assertion_with_x5t_and_x5c(pki):
    add_discovery(responses)
    add_token(responses, token="cert-token")
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, client_certificate_path=pki["paths"]["encrypted"],
                 client_certificate_password="pa55word")
    provider = build_token_provider(s, VerifyingSession())
    assert provider.auth_method == "certificate"
    assert provider.get_token() == "cert-token"
    sent = form(responses.calls[-1])
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in sent
    header = jwt.get_unverified_header(sent["client_assertion"])
    assert header["alg"] == "RS256"
    assert header["x5c"]
    assert "x5t" in header
    claims = jwt.decode(sent["client_assertion"], pki["cert"].public_key(), algorithms=["RS256"], audience=token_url())
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    # The private key is reported to the module for no_log_values.
    assert any("PRIVATE KEY" in value for value in provider.sensitive_values)


# --- secret flow with MSAL's production defaults ----------------------------------------------------

@responses.activate
def test_secret_flow_uses_the_shared_session_and_caches(monkeypatch, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/else.pem")
    add_discovery(responses)
    add_token(responses)
    session = VerifyingSession(ca_path=str(ca), timeout=12)
    provider = build_token_provider(secret_settings(ca_path=str(ca)), session)
    assert provider.auth_method == "client_secret"
    assert provider.get_token() == "graph-token-1"
    assert provider.get_token() == "graph-token-1"
    posts = [call for call in responses.calls if call.request.method == "POST"]
    assert len(posts) == 1
    sent = form(posts[0])
    assert sent["client_secret"] == SECRET
    assert sent["scope"] == "https://graph.microsoft.com/.default"
    assert sent["grant_type"] == "client_credentials"
    for call in responses.calls:  # discovery and token: ca_path on every request, our user agent
        assert call.request.req_kwargs["verify"] == str(ca)
        assert call.request.req_kwargs["timeout"] == 12
        assert call.request.headers["User-Agent"].startswith("msgraph.security/")
    assert SECRET in provider.sensitive_values


@responses.activate
def test_force_refresh_gets_a_new_token():
    add_discovery(responses)
    add_token(responses, token="first")
    add_token(responses, token="second")
    responses.add(responses.GET, LOGIN + "/common/discovery/instance", json={"metadata": []})
    provider = build_token_provider(secret_settings(), VerifyingSession())
    assert provider.get_token() == "first"
    assert provider.get_token(force_refresh=True) == "second"
    assert len([call for call in responses.calls if call.request.method == "POST"]) == 2


@responses.activate
def test_usgov_scope_and_authority():
    host = "https://login.microsoftonline.us"
    add_discovery(responses, host=host)
    add_token(responses, host=host)
    provider = build_token_provider(secret_settings(cloud_environment="AzureUSGovernment"), VerifyingSession())
    provider.get_token()
    assert form(responses.calls[-1])["scope"] == "https://graph.microsoft.us/.default"


@responses.activate
def test_overridden_authority_turns_instance_discovery_off():
    host = "https://login.emulator.test:8443"
    add_discovery(responses, host=host)
    add_token(responses, host=host)
    provider = build_token_provider(secret_settings(authority_host=host, cloud_environment="usgov_dod",
                                                    allow_custom_endpoints=True), VerifyingSession())
    assert provider.get_token() == "graph-token-1"
    # Only the emulator host was contacted (no login.microsoftonline.com instance discovery) ...
    assert all(call.request.url.startswith(host) for call in responses.calls)
    # ... and the scope still follows the cloud.
    assert form(responses.calls[-1])["scope"] == "https://dod-graph.microsoft.us/.default"


def test_instance_discovery_kwarg(monkeypatch):
    seen = []

    class FakeApp:
        def __init__(self, client_id, **kwargs):
            seen.append(kwargs)

        def acquire_token_for_client(self, scopes):
            return {"access_token": "t"}

    monkeypatch.setattr(msal, "ConfidentialClientApplication", FakeApp)
    cache = msal.TokenCache()
    build_token_provider(secret_settings(), VerifyingSession(), token_cache=cache).get_token()
    build_token_provider(secret_settings(authority_host="https://login.example.test", allow_custom_endpoints=True),
                         VerifyingSession()).get_token()
    assert "instance_discovery" not in seen[0]
    assert seen[0]["token_cache"] is cache
    # The shared session (one TLS policy), wrapped so that transient token-service failures are retried.
    assert isinstance(seen[0]["http_client"], RetryingHttpClient)
    assert isinstance(seen[0]["http_client"].session, VerifyingSession)
    assert seen[1]["instance_discovery"] is False
    assert seen[1]["authority"] == "https://login.example.test/" + TENANT


def test_no_request_is_made_when_the_provider_is_built(monkeypatch):
    def explode(*args, **kwargs):
        raise AssertionError("built the MSAL app too early")

    monkeypatch.setattr(msal, "ConfidentialClientApplication", explode)
    provider = build_token_provider(secret_settings(), VerifyingSession())
    assert isinstance(provider, MsalConfidentialTokenProvider)


# --- token errors ----------------------------------------------------------------------------------

def _aad_error(number, text, error="invalid_client"):
    return {
        "error": error,
        "error_description": "AADSTS%s: %s\r\nTrace ID: 0a1b2c3d-0000-4000-8000-000000000001\r\n"
                             "Correlation ID: 9f8e7d6c-0000-4000-8000-000000000002\r\nTimestamp: 2026-11-01 10:00:00Z"
                             % (number, text),
        "error_codes": [int(number)],
    }


@pytest.mark.parametrize("number, words", [
    ("7000215", "rotate the secret"),
    ("700016", "client_id and tenant_id"),
    ("90002", "check tenant_id and cloud_environment"),
    ("700027", "upload the certificate"),
    ("700024", "refresh the federated token file"),
    ("1002012", "check cloud_environment"),
    ("70011", "check cloud_environment"),
])
def test_aadsts_codes_become_one_clear_message(number, words):
    err = auth_error_from_result(_aad_error(number, "Something went wrong. More text follows."), "client_secret",
                                 authority=LOGIN + "/" + TENANT)
    assert isinstance(err, GraphAuthError)
    assert err.code == "AADSTS" + number
    assert words in err.hint
    assert err.hint == AADSTS_HINTS[number]
    text = str(err)
    assert "\n" not in text and "\r" not in text
    assert text.startswith("AADSTS%s: Could not get a token" % number)
    assert "Something went wrong. More text follows." in text
    assert err.request_id == "0a1b2c3d-0000-4000-8000-000000000001"
    assert err.client_request_id == "9f8e7d6c-0000-4000-8000-000000000002"
    assert err.date == "2026-11-01 10:00:00Z"


def test_error_codes_list_is_used_without_aadsts_in_the_text():
    err = auth_error_from_result({"error": "invalid_client", "error_description": "bad", "error_codes": [700016]},
                                 "certificate")
    assert err.code == "AADSTS700016"


def test_unknown_error_without_code_gets_a_generic_hint():
    err = auth_error_from_result({"error": "weird_error"}, "federated")
    assert err.code == "weird_error"
    assert "federated" in err.hint


@responses.activate
def test_wrong_secret_end_to_end_never_leaks_the_secret():
    add_discovery(responses)
    body = _aad_error("7000215", "Invalid client secret provided for %s." % SECRET)
    add_token(responses, status=401, body=body)
    responses.add(responses.GET, LOGIN + "/common/discovery/instance", json={"metadata": []})
    provider = build_token_provider(secret_settings(), VerifyingSession())
    with pytest.raises(GraphAuthError) as caught:
        provider.get_token()
    assert caught.value.code == "AADSTS7000215"
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.to_result())


@responses.activate
def test_unknown_tenant_raises_from_the_constructor_and_is_mapped():
    responses.add(responses.GET, discovery_url(tenant="nosuch.onmicrosoft.com"), status=400, json={
        "error": "invalid_tenant",
        "error_description": "AADSTS90002: Tenant 'nosuch.onmicrosoft.com' not found.",
    })
    provider = build_token_provider(secret_settings(tenant_id="nosuch.onmicrosoft.com"), VerifyingSession())
    with pytest.raises(GraphAuthError) as caught:
        provider.get_token()
    assert caught.value.code == "AADSTS90002"
    assert "tenant_id" in caught.value.hint and "cloud_environment" in caught.value.hint
    assert "nosuch.onmicrosoft.com" in str(caught.value)


@responses.activate
def test_tls_failure_at_the_token_endpoint_has_the_ca_path_hint():
    responses.add(responses.GET, discovery_url(), body=requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate"))
    provider = build_token_provider(secret_settings(), VerifyingSession())
    with pytest.raises(GraphAuthError) as caught:
        provider.get_token()
    assert "the endpoint's certificate is not trusted; set ca_path to the CA bundle" in caught.value.hint


@responses.activate
def test_connection_error_at_the_token_endpoint():
    add_discovery(responses)
    responses.add(responses.POST, token_url(), body=requests.exceptions.ConnectionError("connection refused"))
    # No retries: the retrying HTTP client's backoff is covered in test__http.py; here only the mapping counts.
    provider = build_token_provider(secret_settings(max_retries=0), VerifyingSession())
    with pytest.raises(GraphAuthError) as caught:
        provider.get_token()
    assert caught.value.code == "ConnectionError"
    assert "authority_host" in caught.value.hint


# --- federated -------------------------------------------------------------------------------------

@responses.activate
def test_federated_token_file_is_read_for_every_token_request(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("assertion-one\n")
    add_discovery(responses)
    add_token(responses, token="t1")
    add_token(responses, token="t2")
    responses.add(responses.GET, LOGIN + "/common/discovery/instance", json={"metadata": []})
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, federated_token_file=str(token_file))
    provider = build_token_provider(s, VerifyingSession())
    assert provider.auth_method == "federated"
    assert provider.get_token() == "t1"
    token_file.write_text("assertion-two")
    assert provider.get_token(force_refresh=True) == "t2"
    posts = [form(call) for call in responses.calls if call.request.method == "POST"]
    assert [post["client_assertion"] for post in posts] == ["assertion-one", "assertion-two"]
    assert posts[0]["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@responses.activate
def test_empty_federated_token_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("   \n")
    add_discovery(responses)
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, federated_token_file=str(token_file))
    with pytest.raises(GraphAuthError) as caught:
        build_token_provider(s, VerifyingSession()).get_token()
    assert "empty" in str(caught.value)
    assert "federated_token_file" in caught.value.hint


def test_missing_federated_token_file_is_an_input_error(tmp_path):
    s = settings(tenant_id=TENANT, client_id=CLIENT_ID, federated_token_file=str(tmp_path / "none"))
    with pytest.raises(InputError) as caught:
        build_token_provider(s, VerifyingSession())
    assert caught.value.option == "federated_token_file"


# --- managed identity ------------------------------------------------------------------------------

class FakeMIClient:
    instances = []

    def __init__(self, identity, http_client, token_cache=None):
        self.identity = identity
        self.http_client = http_client
        self.token_cache = token_cache
        self.resources = []
        FakeMIClient.instances.append(self)

    def acquire_token_for_client(self, resource):
        self.resources.append(resource)
        return {"access_token": "mi-token-%d" % len(FakeMIClient.instances)}


@pytest.mark.parametrize("cloud, resource", [
    ("global", "https://graph.microsoft.com"),
    ("usgov", "https://graph.microsoft.us"),
    ("usgov_dod", "https://dod-graph.microsoft.us"),
    ("china", "https://microsoftgraph.chinacloudapi.cn"),
])
def test_managed_identity_resource_follows_the_cloud(monkeypatch, cloud, resource):
    FakeMIClient.instances = []
    monkeypatch.setattr(msal, "ManagedIdentityClient", FakeMIClient)
    session = VerifyingSession()
    provider = build_token_provider(settings(auth_method="managed_identity", cloud_environment=cloud), session)
    assert isinstance(provider, ManagedIdentityTokenProvider)
    assert provider.get_token() == "mi-token-1"
    client = FakeMIClient.instances[0]
    assert client.resources == [resource]
    # Its own session: the same TLS policy, but never an environment proxy (the IMDS request is clear text).
    assert client.http_client is not session and client.http_client.trust_env is False
    assert client.http_client.forced_verify == session.forced_verify
    assert isinstance(client.identity, msal.SystemAssignedManagedIdentity)


def test_user_assigned_identity_and_force_refresh(monkeypatch):
    FakeMIClient.instances = []
    monkeypatch.setattr(msal, "ManagedIdentityClient", FakeMIClient)
    provider = build_token_provider(settings(auth_method="managed_identity", managed_identity_client_id="mi-1"),
                                    VerifyingSession())
    assert provider.get_token() == "mi-token-1"
    assert provider.get_token() == "mi-token-1"
    assert provider.get_token(force_refresh=True) == "mi-token-2"
    assert len(FakeMIClient.instances) == 2
    identity = FakeMIClient.instances[0].identity
    assert isinstance(identity, msal.UserAssignedManagedIdentity)
    assert identity[msal.managed_identity.ManagedIdentity.ID] == "mi-1"


@responses.activate
def test_managed_identity_with_real_msal_app_service_endpoint(monkeypatch):
    endpoint = "http://169.254.0.10:8081/msi/token"
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "header-secret")
    responses.add(responses.GET, endpoint, json={
        "access_token": "app-service-token", "expires_on": "4102444800", "resource": "https://graph.microsoft.com",
        "token_type": "Bearer"})
    provider = build_token_provider(settings(auth_method="managed_identity"), VerifyingSession())
    assert provider.get_token() == "app-service-token"
    request = responses.calls[0].request
    assert "resource=https%3A%2F%2Fgraph.microsoft.com" in request.url
    assert request.headers["X-IDENTITY-HEADER"] == "header-secret"


@responses.activate
def test_managed_identity_error_is_an_auth_error(monkeypatch):
    endpoint = "http://169.254.0.10:8081/msi/token"
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", "wrong")
    responses.add(responses.GET, endpoint, status=401, json={"error": {"code": "Unauthorized", "message": "bad header"}})
    provider = build_token_provider(settings(auth_method="managed_identity"), VerifyingSession())
    with pytest.raises(GraphAuthError) as caught:
        provider.get_token()
    assert "managed identity" in caught.value.hint


def test_managed_identity_needs_a_recent_msal(monkeypatch):
    monkeypatch.delattr(msal, "ManagedIdentityClient")
    provider = build_token_provider(settings(auth_method="managed_identity"), VerifyingSession())
    with pytest.raises(GraphAuthError) as caught:
        provider.get_token()
    assert "msal >= 1.29.0" in str(caught.value)


# --- static token ----------------------------------------------------------------------------------

def test_static_token_strips_bearer_and_cannot_refresh():
    provider = build_token_provider(settings(access_token="Bearer opaque-static-token"), VerifyingSession())
    assert isinstance(provider, StaticTokenProvider)
    assert provider.auth_method == "access_token"
    assert provider.refreshable is False
    assert provider.get_token() == "opaque-static-token"
    assert provider.get_token(force_refresh=True) == "opaque-static-token"
    assert "opaque-static-token" in provider.sensitive_values
    assert "opaque-static-token" not in str(GraphAuthError("echo opaque-static-token"))


def test_msal_missing_is_reported(monkeypatch):
    monkeypatch.setattr(_credentials, "HAS_MSAL", False)
    with pytest.raises(RuntimeError) as caught:
        build_token_provider(secret_settings(), VerifyingSession())
    assert "msal" in str(caught.value)
    # A static token needs no msal.
    assert build_token_provider(settings(access_token="tok-1234"), VerifyingSession()).get_token() == "tok-1234"


def test_sha1_thumbprint_helper_matches_hashlib(pki):
    der = pki["cert"].public_bytes(serialization.Encoding.DER)
    assert load_certificate(pki["paths"]["plain"]).thumbprint == hashlib.sha1(der).hexdigest().upper()
