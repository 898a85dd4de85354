"""msal acquires real tokens from the emulator: secret, certificate (RS256 and PS256), encrypted key, federated, managed identity."""

from urllib.parse import parse_qs

import jwt
import msal
import pytest

from emulator_helpers import GLOBAL_SCOPE, CaSession

MI_VARIABLES = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT",
                "AZURE_POD_IDENTITY_AUTHORITY_HOST")


def _app(info, http, client_id, credential, tenant=None):
    return msal.ConfidentialClientApplication(client_id, authority=f"{info['base_url']}/{tenant or info['tenant_id']}",
                                              client_credential=credential, instance_discovery=False, http_client=http,
                                              token_cache=msal.TokenCache())


def _claims(result):
    assert "access_token" in result, result
    return jwt.decode(result["access_token"], options={"verify_signature": False})


def _sent_assertion_header(http):
    """The JOSE header of the client assertion msal posted last."""
    form = [entry["data"] for entry in http.sent if entry["method"] == "POST"][-1]
    fields = form if isinstance(form, dict) else {k: v[0] for k, v in parse_qs(form).items()}
    return jwt.get_unverified_header(fields["client_assertion"])


def test_secret_flow_makes_two_requests_and_caches(info, http, admin):
    client = info["clients"]["responder"]
    app = _app(info, http, client["client_id"], client["client_secret"])
    first = app.acquire_token_for_client([GLOBAL_SCOPE])
    second = app.acquire_token_for_client([GLOBAL_SCOPE])
    assert _claims(first)["appid"] == client["client_id"]
    assert second["token_source"] == "cache"
    counters = admin.counters()
    assert counters["token_requests"] == 1 and counters["discovery_requests"] == 1


def test_certificate_with_thumbprint_uses_rs256(info, http):
    client = info["clients"]["responder"]
    key = open(client["certificate_path"]).read()
    result = _app(info, http, client["client_id"], {"private_key": key, "thumbprint": client["certificate_thumbprint"]}) \
        .acquire_token_for_client([GLOBAL_SCOPE])
    assert _claims(result)["appidacr"] == "2"
    header = _sent_assertion_header(http)
    assert header["alg"] == "RS256" and "x5t" in header


def test_certificate_without_thumbprint_uses_ps256(info, http):
    client = info["clients"]["reader"]
    pem = open(client["certificate_path"]).read()
    result = _app(info, http, client["client_id"], {"private_key": pem, "public_certificate": pem}).acquire_token_for_client([GLOBAL_SCOPE])
    assert _claims(result)["roles"] == ["SecurityIdentitiesAccount.Read.All"]
    header = _sent_assertion_header(http)
    assert header["alg"] == "PS256" and "x5t#S256" in header


def test_encrypted_key_with_passphrase(info, http):
    client = info["clients"]["legacy_actions"]
    pem = open(client["encrypted_certificate_path"]).read()
    assert "ENCRYPTED PRIVATE KEY" in pem
    credential = {"private_key": pem, "thumbprint": client["certificate_thumbprint"], "passphrase": client["certificate_password"]}
    result = _app(info, http, client["client_id"], credential).acquire_token_for_client([GLOBAL_SCOPE])
    assert _claims(result)["roles"] == ["SecurityActions.ReadWrite.All"]


def test_unregistered_certificate_is_refused(info, http):
    client = info["clients"]["responder"]
    pem = open(client["unregistered_certificate_path"]).read()
    result = _app(info, http, client["client_id"], {"private_key": pem, "public_certificate": pem}).acquire_token_for_client([GLOBAL_SCOPE])
    assert result["error"] == "invalid_client" and 700027 in result["error_codes"]


def test_federated_assertion_from_token_file(info, http):
    fed = info["federated"]

    def read_token_file():  # a callable, as msal recommends: the file is re-read when a new token is needed
        with open(fed["token_file"], encoding="ascii") as handle:
            return handle.read()

    result = _app(info, http, fed["client_id"], {"client_assertion": read_token_file}).acquire_token_for_client([GLOBAL_SCOPE])
    assert _claims(result)["appid"] == fed["client_id"]


def test_wrong_secret_is_a_result_dict(info, http):
    client = info["clients"]["responder"]
    result = _app(info, http, client["client_id"], "not-the-secret").acquire_token_for_client([GLOBAL_SCOPE])
    assert result["error"] == "invalid_client" and result["error_description"].startswith("AADSTS7000215")


def test_unknown_tenant_raises_in_constructor(info, http):
    with pytest.raises(ValueError):
        _app(info, http, info["clients"]["responder"]["client_id"], "x", tenant="nosuch.onmicrosoft.com")


def test_domain_authority_works(info, http):
    client = info["clients"]["responder"]
    result = _app(info, http, client["client_id"], client["client_secret"], tenant="contoso.com").acquire_token_for_client([GLOBAL_SCOPE])
    assert _claims(result)["tid"] == info["tenant_id"]


# --- managed identity ----------------------------------------------------------------------------

@pytest.fixture
def mi_env(monkeypatch):
    """Clear every managed identity variable so msal can never fall back to 169.254.169.254."""
    for name in MI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _mi_token(info, identity):
    http = CaSession(info["ca_path"])
    client = msal.ManagedIdentityClient(identity, http_client=http)
    return client.acquire_token_for_client(resource="https://graph.microsoft.com")


@pytest.mark.parametrize("style", ["app_service", "machine_learning", "imds"])
@pytest.mark.parametrize("assigned", ["system", "user"])
def test_managed_identity_styles(info, mi_env, admin, style, assigned):
    mi = info["managed_identity"]
    if style == "app_service":
        mi_env.setenv("IDENTITY_ENDPOINT", mi["identity_endpoint"])
        mi_env.setenv("IDENTITY_HEADER", mi["identity_header"])
    elif style == "machine_learning":
        mi_env.setenv("MSI_ENDPOINT", mi["msi_endpoint"])
        mi_env.setenv("MSI_SECRET", mi["msi_secret"])
    else:
        mi_env.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", mi["imds_authority_host"])
    if assigned == "system":
        identity, expected = msal.SystemAssignedManagedIdentity(), mi["system_assigned_client_id"]
    else:
        identity, expected = msal.UserAssignedManagedIdentity(client_id=mi["user_assigned_client_id"]), mi["user_assigned_client_id"]
    claims = _claims(_mi_token(info, identity))
    assert claims["appid"] == expected and claims["aud"] == "https://graph.microsoft.com"
    assert admin.counters()["token_requests_by_client"] == {expected: 1}
    entry = admin.requests(route="msi_token")[0]
    assert entry["status"] == 200
    if style == "app_service":
        assert entry["headers"]["X-IDENTITY-HEADER"] == "<redacted>"
    if style == "machine_learning":
        assert entry["headers"]["secret"] == "<redacted>"


def test_managed_identity_wrong_header_is_an_error_dict(info, mi_env):
    mi_env.setenv("IDENTITY_ENDPOINT", info["managed_identity"]["identity_endpoint"])
    mi_env.setenv("IDENTITY_HEADER", "wrong")
    result = _mi_token(info, msal.SystemAssignedManagedIdentity())
    assert "access_token" not in result and result["error_description"].startswith("401")
