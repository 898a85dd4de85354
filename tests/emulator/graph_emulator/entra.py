"""Entra ID side: OpenID discovery, JWKS, the v2.0 token endpoint and the managed identity endpoints."""

import hmac
import time

import jwt

from .config import CLOUDS
from .directory import FEDERATED_AUDIENCE
from .messages import ENTRA, MSI, HttpError, Response, entra_error, iso_time
from .routing import Route

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLOCK_SKEW_S = 300
TENANT = r"/(?P<tenant>[^/]+)"
NOT_FOUND_HINT = ("This can happen if the application has not been installed by the administrator of the tenant or consented to by any "
                  "user in the tenant. You may have sent your authentication request to the wrong tenant.")
CERT_DOCS = "Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
FIC_DOCS = ("Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. "
            "https://learn.microsoft.com/entra/workload-id/workload-identity-federation")
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def _same(given, expected):
    """Constant-time comparison of secrets (bytes, so non-ASCII input cannot raise)."""
    return given is not None and expected is not None and hmac.compare_digest(str(given).encode("utf-8"), str(expected).encode("utf-8"))


def _unauthorized(req, code, description):
    return entra_error(req, 401, "invalid_client", code, description)


class Entra:
    def __init__(self, directory, signer, config):
        self.directory = directory
        self.signer = signer
        self.config = config

    def routes(self):
        return [
            Route("openid_config", ENTRA, "GET", TENANT + r"(?:/v2\.0)?/\.well-known/openid-configuration", self.openid_config),
            Route("jwks", ENTRA, "GET", TENANT + r"/discovery(?:/v2\.0)?/keys", self.jwks),
            Route("instance_discovery", ENTRA, "GET", r"/common/discovery/instance", self.instance_discovery),
            Route("token", ENTRA, "POST", TENANT + r"/oauth2/v2\.0/token", self.token),
            Route("msi_token", MSI, "GET", r"/msi/token", self.msi_app_service),
            Route("msi_token", MSI, "GET", r"/msi-ml/token", self.msi_machine_learning),
            Route("msi_token", MSI, "GET", r"/metadata/identity/oauth2/token", self.msi_imds),
        ]

    # --- discovery -------------------------------------------------------------------------------

    def _tenant(self, req, segment, error):
        tenant = self.directory.tenant(segment)
        if tenant is None:
            raise entra_error(req, 400, error, 90002,
                              f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the "
                              "correct cloud. Check with your subscription administrator, this may happen if there are no active "
                              "subscriptions for the tenant.")
        return tenant

    def openid_config(self, req, tenant):
        tid = self._tenant(req, tenant, "invalid_tenant").id
        base = f"{req.base_url}/{tid}"
        return Response.json(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "tenant_region_scope": "EU",
            "cloud_instance_name": "graph-emulator.invalid",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": self.config.graph_root().split("//", 1)[1],
        })

    def jwks(self, req, tenant):
        tid = self._tenant(req, tenant, "invalid_tenant").id
        return Response.json(200, self.signer.jwks(f"{req.base_url}/{tid}/v2.0"))

    def instance_discovery(self, req):
        endpoint = req.query.get("authorization_endpoint", f"{req.base_url}/common/oauth2/v2.0/authorize")
        tenant = endpoint.split("/oauth2/", 1)[0].rsplit("/", 1)[-1]
        host = req.base_url.split("//", 1)[1]
        return Response.json(200, {
            "tenant_discovery_endpoint": f"{req.base_url}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        })

    # --- token endpoint --------------------------------------------------------------------------

    def token(self, req, tenant):
        tenant = self._tenant(req, tenant, "invalid_request")
        form = req.form()
        req.client_id = form.get("client_id") or None
        grant = form.get("grant_type")
        if not grant:
            raise entra_error(req, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        if grant != "client_credentials":
            raise entra_error(req, 400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'.")
        if not req.client_id:
            raise entra_error(req, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
        app = self.directory.app(req.client_id, tenant.id)
        if app is None or app.kind == "managed_identity":
            raise entra_error(req, 400, "unauthorized_client", 700016,
                              f"Application with identifier '{req.client_id}' was not found in the directory '{tenant.display_name}'. {NOT_FOUND_HINT}")
        method = self._authenticate(req, app, form)
        audience = self._audience(req, form.get("scope"), tenant)
        lifetime = self.config["token_lifetime_s"]
        token = self.signer.issue(app, tenant.id, audience, lifetime, method)[0]
        return Response.json(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token},
                             headers=NO_STORE)

    def _audience(self, req, scope, tenant):
        if not scope:
            raise entra_error(req, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
        scopes = scope.split()
        if len(scopes) != 1:
            raise entra_error(req, 400, "invalid_scope", 70011,
                              f"The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.")
        if not scopes[0].endswith("/.default"):
            raise entra_error(req, 400, "invalid_scope", 1002012,
                              f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
                              "/.default suffixed to the resource identifier (application ID URI).")
        resource = scopes[0][:-len("/.default")].rstrip("/")
        if resource not in CLOUDS.values():
            raise entra_error(req, 400, "invalid_resource", 500011,
                              f"The resource principal named {resource} was not found in the tenant named {tenant.display_name}. {NOT_FOUND_HINT}")
        return resource

    def _authenticate(self, req, app, form):
        """Return the appidacr claim value: "1" for a secret, "2" for an assertion."""
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                raise entra_error(req, 400, "invalid_request", 900144,
                                  f"The request body must contain the following parameter: 'client_assertion_type' with value '{JWT_BEARER}'.")
            if app.kind == "federated":
                self._check_federated(req, app, assertion)
            else:
                self._check_certificate(req, app, assertion)
            return "2"
        if "client_secret" in form:
            if not _same(form["client_secret"], app.secret):
                raise _unauthorized(req, 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                                    f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.")
            return "1"
        raise _unauthorized(req, 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")

    def _check_certificate(self, req, app, assertion):
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise _unauthorized(req, 50027, "JWT token is invalid or malformed.") from None
        cred = app.find_certificate(header.get("x5t"), header.get("x5t#S256"))
        if cred is None:
            thumb = header.get("x5t") or header.get("x5t#S256") or "(none)"
            raise _unauthorized(req, 700027, "The certificate with identifier used to sign the client assertion is not registered on application. "
                                f"[Reason - The key was not found., Thumbprint of key used by client: '{thumb}', Please visit the Azure Portal, "
                                f"Graph Explorer or directly use MS Graph to see configured keys for app Id '{app.client_id}'.]")
        claims = self._verified(req, assertion, cred.cert.public_key(), header.get("alg"))
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if req.base_url + req.path not in audiences:
            raise _unauthorized(req, 700023, f"Client assertion audience claim does not match Realm issuer. {CERT_DOCS}")
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            raise _unauthorized(req, 700021, f"Client assertion application identifier doesn't match 'client_id' parameter. {CERT_DOCS}")
        self._check_lifetime(req, claims)

    def _check_federated(self, req, app, assertion):
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _unauthorized(req, 50027, "JWT token is invalid or malformed.") from None
        if unverified.get("iss") != self.directory.federated_issuer:
            raise _unauthorized(req, 700211,
                                f"No matching federated identity record found for presented assertion issuer '{unverified.get('iss')}'. {FIC_DOCS}")
        claims = self._verified(req, assertion, self.directory.federated_key.key.public_key(), "RS256")
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if FEDERATED_AUDIENCE not in audiences:
            raise _unauthorized(req, 700212, f"No matching federated identity record found for presented assertion audience '{claims.get('aud')}'. {FIC_DOCS}")
        if claims.get("sub") != app.subject:
            raise _unauthorized(req, 700213, f"No matching federated identity record found for presented assertion subject '{claims.get('sub')}'. {FIC_DOCS}")
        self._check_lifetime(req, claims)

    @staticmethod
    def _verified(req, assertion, public_key, alg):
        if alg not in ("RS256", "PS256"):
            raise _unauthorized(req, 700027, "Client assertion failed signature validation.")
        try:
            return jwt.decode(assertion, public_key, algorithms=[alg],
                              options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError:
            raise _unauthorized(req, 700027, "Client assertion failed signature validation.") from None

    @staticmethod
    def _check_lifetime(req, claims):
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat", 0))
        if not isinstance(exp, (int, float)) or not isinstance(nbf, (int, float)):
            raise _unauthorized(req, 50027, "JWT token is invalid or malformed.")
        if now > exp or nbf > now + CLOCK_SKEW_S:
            raise _unauthorized(req, 700024, f"Client assertion is not within its valid time range. Current time: {iso_time(now)}, assertion "
                                f"valid from {iso_time(nbf)}, expiry time of assertion {iso_time(exp)}. {CERT_DOCS}")

    # --- managed identity ------------------------------------------------------------------------

    def msi_app_service(self, req):
        if not _same(req.header("X-IDENTITY-HEADER"), self.directory.identity_header):
            raise HttpError(Response.json(401, {"statusCode": 401, "message": "The X-IDENTITY-HEADER header is missing or does not match."}))
        return self._msi(req, "2019-08-01", ("client_id",), _app_service_error, _app_service_body)

    def msi_machine_learning(self, req):
        if not _same(req.header("secret"), self.directory.msi_secret):
            raise HttpError(Response.json(401, {"statusCode": 401, "message": "The secret header is missing or does not match."}))
        return self._msi(req, "2017-09-01", ("clientid", "client_id"), _app_service_error, _app_service_body)

    def msi_imds(self, req):
        if req.header("Metadata", "").lower() != "true":
            raise _imds_error(400, "invalid_request", "Required metadata header not specified")
        return self._msi(req, None, ("client_id",), _imds_error, _imds_body)

    def _msi(self, req, api_version, id_params, error, body):
        """Shared managed identity flow; ``error(status, code, message)`` and ``body(...)`` give the style."""
        given = req.query.get("api-version")
        if not given or (api_version and given != api_version):
            raise error(400, "invalid_request", f"Unsupported or missing api-version '{given}'.")
        requested = next((req.query[name] for name in id_params if req.query.get(name)), None)
        system = self.directory.managed_identity("system_assigned")
        user = self.directory.managed_identity("user_assigned")
        app = system if requested is None else (user if requested == user.client_id else None)
        req.client_id = app.client_id if app else requested
        if app is None:
            raise error(400, "invalid_request", f"Identity not found: no managed identity with client id '{requested}' is assigned.")
        resource = (req.query.get("resource") or "").rstrip("/")
        if resource not in CLOUDS.values():
            raise error(400, "invalid_resource", f"AADSTS500011: The resource principal named {resource or '(empty)'} was not found in the tenant.")
        lifetime = self.config["token_lifetime_s"]
        token, claims = self.signer.issue(app, app.tenant_id, resource, lifetime, "2")
        return Response.json(200, body(token, claims, resource, lifetime, app), headers=NO_STORE)


def _app_service_error(status, _code, message):
    return HttpError(Response.json(status, {"statusCode": status, "message": message}))


def _imds_error(status, code, message):
    return HttpError(Response.json(status, {"error": code, "error_description": message}))


def _app_service_body(token, claims, resource, _lifetime, app):
    return {"access_token": token, "expires_on": str(claims["exp"]), "resource": resource, "token_type": "Bearer", "client_id": app.client_id}


def _imds_body(token, claims, resource, lifetime, app):
    return {"access_token": token, "client_id": app.client_id, "expires_in": str(lifetime), "expires_on": str(claims["exp"]),
            "ext_expires_in": str(lifetime), "not_before": str(claims["nbf"]), "resource": resource, "token_type": "Bearer"}
