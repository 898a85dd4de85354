"""Entra side without msal: discovery, JWKS, token endpoint errors, assertions, managed identity endpoints."""

import time
import uuid

import jwt
import pytest

from graph_emulator.tokens import Credential

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _aadsts(response):
    body = response.json()
    assert set(body) >= {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"}
    assert body["error_description"].startswith(f"AADSTS{body['error_codes'][0]}: ")
    return body["error"], body["error_codes"][0]


@pytest.mark.parametrize("suffix", ["/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"])
def test_openid_configuration_uses_https_and_tenant_id(info, http, suffix):
    response = http.get(f"{info['base_url']}/contoso.onmicrosoft.com{suffix}")
    assert response.status_code == 200
    doc = response.json()
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri", "issuer"):
        assert doc[key].startswith("https://127.0.0.1:")
    assert doc["token_endpoint"] == f"{info['base_url']}/{info['tenant_id']}/oauth2/v2.0/token"


def test_unknown_tenant_discovery_is_aadsts90002(info, http):
    response = http.get(f"{info['base_url']}/nosuchtenant.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert _aadsts(response) == ("invalid_tenant", 90002)


def test_instance_discovery_points_back_to_emulator(info, http):
    response = http.get(f"{info['base_url']}/common/discovery/instance",
                        params={"api-version": "1.1", "authorization_endpoint": f"{info['base_url']}/contoso.com/oauth2/v2.0/authorize"})
    assert response.json()["tenant_discovery_endpoint"] == f"{info['base_url']}/contoso.com/v2.0/.well-known/openid-configuration"


def test_access_token_is_rs256_signed_by_published_jwks(info, http, api):
    keys = http.get(f"{info['base_url']}/{info['tenant_id']}/discovery/v2.0/keys").json()["keys"]
    token = api.token("responder")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == keys[0]["kid"]
    public_key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="https://graph.microsoft.com")
    client = info["clients"]["responder"]
    assert claims["appid"] == client["client_id"] and claims["tid"] == info["tenant_id"]
    assert claims["roles"] == client["roles"]
    assert claims["iss"] == f"https://sts.windows.net/{info['tenant_id']}/"
    assert 3500 < claims["exp"] - claims["iat"] <= 3599
    assert {"oid", "nbf", "iat"} <= set(claims)


@pytest.mark.parametrize("root", ["https://graph.microsoft.us", "https://dod-graph.microsoft.us", "https://microsoftgraph.chinacloudapi.cn"])
def test_token_audience_follows_the_requested_cloud(api, root):
    claims = jwt.decode(api.token(scope=root + "/.default"), options={"verify_signature": False})
    assert claims["aud"] == root


def test_token_lifetime_is_configurable(api, admin):
    admin.configure(token_lifetime_s=120)
    response = api.token_response()
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert response.json()["expires_in"] == 120 and claims["exp"] - claims["iat"] == 120


def test_token_response_shape_and_headers(api):
    response = api.token_response()
    body = response.json()
    assert body["token_type"] == "Bearer" and body["ext_expires_in"] == body["expires_in"] == 3599
    assert "no-store" in response.headers["Cache-Control"]
    assert uuid.UUID(response.headers["request-id"])


@pytest.mark.parametrize("form, status, expected", [
    ({"client_secret": "wrong"}, 401, ("invalid_client", 7000215)),
    ({"client_id": "00000000-0000-0000-0000-000000000000"}, 400, ("unauthorized_client", 700016)),
    ({"grant_type": "password"}, 400, ("unsupported_grant_type", 70003)),
    ({"grant_type": ""}, 400, ("invalid_request", 900144)),
    ({"scope": "https://graph.microsoft.com/User.Read"}, 400, ("invalid_scope", 1002012)),
    ({"scope": "https://graph.microsoft.com/.default offline_access"}, 400, ("invalid_scope", 70011)),
    ({"scope": "https://management.azure.com/.default"}, 400, ("invalid_resource", 500011)),
    ({"scope": ""}, 400, ("invalid_request", 900144)),
])
def test_token_endpoint_errors(api, form, status, expected):
    response = api.token_response(**form)
    assert response.status_code == status
    assert _aadsts(response) == expected


def test_missing_credentials_is_7000218(api, info, http):
    client = info["clients"]["responder"]
    response = http.post(f"{info['base_url']}/{info['tenant_id']}/oauth2/v2.0/token",
                         data={"grant_type": "client_credentials", "client_id": client["client_id"], "scope": "https://graph.microsoft.com/.default"})
    assert response.status_code == 401 and _aadsts(response) == ("invalid_client", 7000218)


def test_unknown_tenant_on_token_endpoint(api):
    response = api.token_response(tenant="nosuch.onmicrosoft.com")
    assert _aadsts(response)[1] == 90002


def test_app_of_other_tenant_is_not_found(api, info):
    response = api.token_response("not_onboarded", tenant=info["tenant_id"])
    assert _aadsts(response) == ("unauthorized_client", 700016)
    assert api.token_response("not_onboarded").status_code == 200  # fine in its own tenant


def test_token_requests_are_counted_per_client(api, admin, info):
    api.token("responder")
    api.token("responder")
    api.token_response("reader", client_secret="bad")
    counters = admin.counters()
    assert counters["token_requests"] == 3
    assert counters["token_requests_by_client"] == {info["clients"]["responder"]["client_id"]: 2, info["clients"]["reader"]["client_id"]: 1}


# --- client assertions ----------------------------------------------------------------------------

@pytest.fixture
def registered(emulator, info):
    """The responder's registered certificate credential."""
    return emulator.directory.app(info["clients"]["responder"]["client_id"]).credentials[0]


def _assertion(info, credential, **overrides):
    """A client assertion like msal builds it (RS256 with x5t)."""
    entry = info["clients"]["responder"]
    now = int(time.time())
    claims = {"aud": f"{info['base_url']}/{info['tenant_id']}/oauth2/v2.0/token", "iss": entry["client_id"], "sub": entry["client_id"],
              "jti": str(uuid.uuid4()), "iat": now, "nbf": now, "exp": now + 600}
    claims.update(overrides)
    return jwt.encode(claims, credential.key, algorithm="RS256", headers={"x5t": credential.x5t})


def _post_assertion(api, assertion, client="responder"):
    return api.token_response(client, client_secret=None, client_assertion=assertion, client_assertion_type=JWT_BEARER)


def test_valid_assertion_gets_token(api, info, registered):
    response = _post_assertion(api, _assertion(info, registered))
    assert response.status_code == 200
    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["appidacr"] == "2"


@pytest.mark.parametrize("overrides, code", [
    ({"aud": "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token"}, 700023),
    ({"exp": 1000, "iat": 100, "nbf": 100}, 700024),
    ({"iss": "someone-else"}, 700021),
])
def test_bad_assertion_claims(api, info, registered, overrides, code):
    response = _post_assertion(api, _assertion(info, registered, **overrides))
    assert response.status_code == 401 and _aadsts(response) == ("invalid_client", code)


def test_unregistered_certificate_is_700027(api, info):
    stranger = Credential("stranger")
    response = _post_assertion(api, _assertion(info, stranger))
    assert _aadsts(response) == ("invalid_client", 700027)
    assert "not registered" in response.json()["error_description"]


def test_forged_signature_is_700027(api, info, registered):
    forged = Credential("forger")
    forged.x5t = registered.x5t  # claims to be the registered certificate, signed with another key
    response = _post_assertion(api, _assertion(info, forged))
    assert _aadsts(response)[1] == 700027
    assert "signature validation" in response.json()["error_description"]


def test_assertion_type_required(api, info, registered):
    response = api.token_response(client_secret=None, client_assertion=_assertion(info, registered))
    assert _aadsts(response)[1] == 900144


# --- federated credentials -----------------------------------------------------------------------

def _federated(api, info, assertion):
    fed = info["federated"]
    return api.token_response("federated", client_id=fed["client_id"], client_secret=None, client_assertion=assertion,
                              client_assertion_type=JWT_BEARER, tenant=info["tenant_id"])


def test_federated_token_file_is_accepted(api, info):
    response = _federated(api, info, open(info["federated"]["token_file"]).read())
    assert response.status_code == 200
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["appid"] == info["federated"]["client_id"] and "SecurityActions.ReadWrite.All" in claims["roles"]


def test_expired_federated_token_is_700024(api, info):
    response = _federated(api, info, open(info["federated"]["expired_token_file"]).read())
    assert _aadsts(response) == ("invalid_client", 700024)


@pytest.mark.parametrize("kwargs, code", [({"audience": "api://SomethingElse"}, 700212), ({"subject": "system:serviceaccount:x:y"}, 700213)])
def test_federated_claim_mismatch(api, info, emulator, kwargs, code):
    response = _federated(api, info, emulator.directory.federated_token(**kwargs))
    assert _aadsts(response)[1] == code


def test_federated_wrong_issuer_is_700211(api, info):
    forged = Credential("other issuer")
    now = int(time.time())
    token = forged.sign({"iss": "https://token.actions.githubusercontent.com", "sub": info["federated"]["subject"],
                         "aud": ["api://AzureADTokenExchange"], "iat": now, "exp": now + 600})
    assert _aadsts(_federated(api, info, token))[1] == 700211


def test_federated_app_has_no_secret(api, info):
    response = api.token_response("federated", client_id=info["federated"]["client_id"], client_secret="guess")
    assert _aadsts(response)[1] == 7000215


# --- managed identity endpoints (raw) -------------------------------------------------------------

def test_app_service_style_needs_identity_header(info, http):
    mi = info["managed_identity"]
    params = {"api-version": "2019-08-01", "resource": "https://graph.microsoft.com"}
    assert http.get(mi["identity_endpoint"], params=params, headers={"X-IDENTITY-HEADER": "nope"}).status_code == 401
    response = http.get(mi["identity_endpoint"], params=params, headers={"X-IDENTITY-HEADER": mi["identity_header"]})
    body = response.json()
    assert response.status_code == 200 and int(body["expires_on"]) > time.time() and body["resource"] == "https://graph.microsoft.com"


def test_imds_style_needs_metadata_header_and_returns_expires_in(info, http):
    url = info["managed_identity"]["imds_authority_host"] + "/metadata/identity/oauth2/token"
    params = {"api-version": "2018-02-01", "resource": "https://graph.microsoft.com"}
    missing = http.get(url, params=params)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    body = http.get(url, params=params, headers={"Metadata": "true"}).json()
    assert body["expires_in"] == "3599" and body["client_id"] == info["managed_identity"]["system_assigned_client_id"]


@pytest.mark.parametrize("params, status", [
    ({"api-version": "2019-08-01", "resource": "https://graph.microsoft.com", "client_id": "unknown"}, 400),
    ({"api-version": "2019-08-01", "resource": "https://vault.azure.net"}, 400),
    ({"api-version": "2017-09-01", "resource": "https://graph.microsoft.com"}, 400),
])
def test_app_service_style_errors(info, http, params, status):
    mi = info["managed_identity"]
    response = http.get(mi["identity_endpoint"], params=params, headers={"X-IDENTITY-HEADER": mi["identity_header"]})
    assert response.status_code == status and response.json()["statusCode"] == status


def test_machine_learning_style_needs_secret(info, http):
    mi = info["managed_identity"]
    params = {"api-version": "2017-09-01", "resource": "https://graph.microsoft.com", "clientid": mi["user_assigned_client_id"]}
    assert http.get(mi["msi_endpoint"], params=params).status_code == 401
    body = http.get(mi["msi_endpoint"], params=params, headers={"secret": mi["msi_secret"]}).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["appid"] == mi["user_assigned_client_id"]
