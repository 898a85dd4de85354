# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: msal, requests, the standard library, _errors, _options, _clouds and _http only. No Ansible imports.

"""Connection settings and token providers (MSAL confidential client, managed identity, static token).

``auth_method: auto`` looks at ``access_token``, ``client_certificate_path``, ``client_secret`` and
``federated_token_file`` (in that order); exactly one of them must be given. Managed identity is used only
when ``auth_method: managed_identity``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import os
import re
import traceback
from urllib.parse import urlparse

from ansible_collections.msgraph.security.plugins.module_utils._clouds import resolve_cloud
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphAuthError,
    GraphError,
    InputError,
    register_secret,
)
from ansible_collections.msgraph.security.plugins.module_utils._http import (
    RetryingHttpClient,
    is_tls_error,
    tls_error,
    validate_ca_path,
)
from ansible_collections.msgraph.security.plugins.module_utils._options import (
    API_VERSIONS,
    AUTH_METHODS,
    AUTO_AUTH_ORDER,
    CONNECTION_OPTIONS,
    describe_option,
)
from ansible_collections.msgraph.security.plugins.module_utils._token_cache import open_token_cache

try:
    import msal

    HAS_MSAL = True
    MSAL_IMPORT_ERROR = None
except ImportError:
    msal = None
    HAS_MSAL = False
    MSAL_IMPORT_ERROR = traceback.format_exc()

# cryptography is imported on first use (certificate auth only): it costs ~50 ms of start-up on every run.
x509 = serialization = rsa = None
UnsupportedAlgorithm = ValueError
HAS_CRYPTOGRAPHY = None  # None: not tried yet; see _load_cryptography()
CRYPTOGRAPHY_IMPORT_ERROR = None


def _load_cryptography():
    """Import cryptography once, when a certificate is read; returns HAS_CRYPTOGRAPHY."""
    global x509, serialization, rsa, UnsupportedAlgorithm, HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_IMPORT_ERROR
    if HAS_CRYPTOGRAPHY is None:
        try:
            from cryptography import x509
            from cryptography.exceptions import UnsupportedAlgorithm
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            HAS_CRYPTOGRAPHY = True
        except ImportError:
            HAS_CRYPTOGRAPHY = False
            CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
    return HAS_CRYPTOGRAPHY


try:
    import requests.exceptions as _requests_exceptions
except ImportError:
    _requests_exceptions = None


# Seconds; one request waiting longer than a day is never meant, and far larger values crash the socket layer.
MAX_TIMEOUT = 86400

# Tenant ids are GUIDs or domain names; anything else would end up in a URL path.
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
_MULTI_TENANT_NAMES = frozenset(["common", "organizations", "consumers"])

# What each explicit auth_method needs.
_REQUIRED_BY_METHOD = {
    "client_secret": ("tenant_id", "client_id", "client_secret"),
    "certificate": ("tenant_id", "client_id", "client_certificate_path"),
    "federated": ("tenant_id", "client_id", "federated_token_file"),
    "managed_identity": (),
    "access_token": ("access_token",),
}

# One sentence per common AADSTS code: what to fix.
AADSTS_HINTS = {
    "7000215": "the client secret is wrong: check client_secret (AZURE_CLIENT_SECRET) is the secret's value, not its ID, "
               "or rotate the secret in the app registration",
    "7000222": "the client secret has expired: create a new secret in the app registration and update client_secret",
    "700016": "the application (client_id) was not found in the tenant: check client_id and tenant_id, and that the app "
              "is registered or consented in that tenant",
    "90002": "the tenant was not found: check tenant_id and cloud_environment (a tenant lives in exactly one cloud)",
    "900023": "tenant_id is not a valid tenant GUID or domain name: check tenant_id",
    "900021": "tenant_id is not a valid tenant GUID or domain name: check tenant_id",
    "700027": "the certificate is not registered on the app registration: upload the certificate (public part) to the "
              "app registration, or point client_certificate_path at the registered certificate",
    "700024": "the federated assertion has expired or is not yet valid: refresh the federated token file "
              "(federated_token_file / AZURE_FEDERATED_TOKEN_FILE) before running the task",
    "700213": "no federated identity credential matches the assertion: check the issuer and subject of the federated "
              "credential on the app registration",
    "70021": "no federated identity credential matches the assertion: check the issuer, subject and audience of the "
             "federated credential on the app registration",
    "1002012": "the requested scope is invalid: check cloud_environment (the Graph scope follows the cloud)",
    "70011": "the requested scope is invalid: check cloud_environment (the Graph scope follows the cloud)",
    "500011": "the Microsoft Graph resource was not found in the tenant: check cloud_environment matches the tenant's cloud",
    "7000229": "the application has no service principal in the tenant: grant admin consent for the app in that tenant",
    "7000112": "the application is disabled: enable the app (or its service principal) in the tenant",
    "53003": "access was blocked by Conditional Access: ask the tenant administrator to exclude this workload identity",
    "50049": "the authority is unknown or invalid: check authority_host and cloud_environment",
}

# Hints for OAuth error strings without an AADSTS code (managed identity endpoints, emulators).
ERROR_HINTS = {
    "invalid_client": "the client credential was rejected: check client_id and the secret, certificate or federated token",
    "unauthorized_client": "the application is not known in this tenant: check client_id and tenant_id",
    "invalid_tenant": "the tenant was not found: check tenant_id and cloud_environment",
    "invalid_scope": "the requested scope is invalid: check cloud_environment",
    "invalid_resource": "the requested resource is invalid: check cloud_environment",
    "invalid_request": "the token request was rejected: check tenant_id, client_id and the credential",
}


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def normalize_https_url(option, value, allow_path=True):
    """``https://host[:port][/path]`` without a trailing slash; a bare host gets ``https://``."""
    if _blank(value):
        return None
    text = str(value).strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parsed = urlparse(text)
        port = parsed.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise InputError(option, "%r is not a valid URL: %s" % (value, exc))
    if parsed.scheme.lower() != "https":
        raise InputError(option, "%r must be an https:// URL (%s:// is not allowed: tokens would travel in clear text)"
                         % (value, parsed.scheme))
    if not parsed.hostname:
        raise InputError(option, "%r has no host name" % (value,))
    if parsed.username or parsed.password or parsed.query or parsed.fragment:
        raise InputError(option, "%r must not contain credentials, a query or a fragment" % (value,))
    path = parsed.path.rstrip("/")
    if path and not allow_path:
        raise InputError(option, "%r must be a host (https://login.example), without a path: the tenant comes from tenant_id"
                         % (value,))
    host = parsed.hostname
    if ":" in host:  # IPv6 literal
        host = "[%s]" % host
    netloc = host if port is None else "%s:%s" % (host, port)
    return "https://%s%s" % (netloc.lower(), path)


class ConnectionSettings:
    """The connection options as plain attributes (see ``_options.CONNECTION_OPTIONS``).

    Empty strings count as unset: defaults from the option table apply to ``None`` and ``''``.
    Call :meth:`validate` before use: it raises :class:`InputError` for bad input, before any request.
    """

    def __init__(self, **params):
        unknown = set(params) - set(CONNECTION_OPTIONS)
        if unknown:
            raise TypeError("unknown connection settings: %s" % ", ".join(sorted(unknown)))
        for name, definition in CONNECTION_OPTIONS.items():
            value = params.get(name)
            if _blank(value):
                value = None
            elif isinstance(value, str) and not definition.get("no_log"):
                value = value.strip()
            if value is None and "default" in definition:
                value = definition["default"]
            setattr(self, name, value)
        self._validated = False

    @classmethod
    def from_params(cls, params):
        """Build from a module's ``params`` (other keys are ignored)."""
        return cls(**dict((name, params.get(name)) for name in CONNECTION_OPTIONS))

    def __repr__(self):
        shown = []
        for name, definition in CONNECTION_OPTIONS.items():
            value = getattr(self, name)
            if definition.get("no_log") and value is not None:
                value = "********"
            shown.append("%s=%r" % (name, value))
        return "ConnectionSettings(%s)" % ", ".join(shown)

    # --- derived values -------------------------------------------------------------------
    @property
    def cloud(self):
        return resolve_cloud(self.cloud_environment)

    @property
    def authority_host_url(self):
        """The authority host actually used: the override, else the cloud's."""
        return normalize_https_url("authority_host", self.authority_host, allow_path=False) or self.cloud.authority_host

    @property
    def authority_overridden(self):
        return bool(self.authority_host) and self.authority_host_url != self.cloud.authority_host

    @property
    def authority(self):
        """``https://login.microsoftonline.com/<tenant_id>``."""
        return "%s/%s" % (self.authority_host_url, self.tenant_id)

    @property
    def graph_endpoint_url(self):
        """The Graph root actually used: the override, else the cloud's (never changes the scope)."""
        return normalize_https_url("graph_endpoint", self.graph_endpoint) or self.cloud.graph_root

    @property
    def scope(self):
        """Always the cloud's Graph scope, whatever graph_endpoint/authority_host say."""
        return self.cloud.scope

    # --- validation -----------------------------------------------------------------------
    def validate(self):
        """Raise :class:`InputError` for anything wrong that can be seen without a request. Returns self."""
        cloud = self.cloud  # InputError for an unknown cloud name
        normalize_https_url("authority_host", self.authority_host, allow_path=False)
        endpoint = self.graph_endpoint_url
        last_segment = endpoint.rstrip("/").rsplit("/", 1)[-1].lower()
        if endpoint != cloud.graph_root and last_segment in [version.lower() for version in API_VERSIONS]:
            raise InputError("graph_endpoint", "%s ends with the API version; give the root (e.g. %s) and set api_version"
                             % (endpoint, cloud.graph_root))
        if self.api_version not in API_VERSIONS:
            raise InputError("api_version", "must be one of %s, got %r" % (", ".join(API_VERSIONS), self.api_version))
        if self.auth_method not in AUTH_METHODS:
            raise InputError("auth_method", "must be one of %s, got %r" % (", ".join(AUTH_METHODS), self.auth_method))
        if self.tenant_id is not None:
            if not _TENANT_RE.match(self.tenant_id):
                raise InputError("tenant_id", "%r is not a tenant GUID or domain name (e.g. contoso.onmicrosoft.com)" % self.tenant_id)
            if self.tenant_id.lower() in _MULTI_TENANT_NAMES:
                raise InputError("tenant_id", "%r cannot be used for application (client credentials) sign-in; give the "
                                 "tenant's GUID or domain name" % self.tenant_id)
        for name, minimum in (("timeout", 1), ("max_retries", 0), ("retry_budget", 0)):
            value = getattr(self, name)
            if value is None or int(value) < minimum:
                raise InputError(name, "must be an integer >= %d, got %r" % (minimum, value))
        if int(self.timeout) > MAX_TIMEOUT:  # a larger value overflows the socket timeout (OverflowError, a crash)
            raise InputError("timeout", "must be an integer between 1 and %d seconds, got %r" % (MAX_TIMEOUT, self.timeout))
        if self.validate_certs and self.ca_path:
            validate_ca_path(self.ca_path)
        self._validated = True
        return self


def _missing_message(option):
    return "is required for this auth_method; set %s" % describe_option(option)


def select_auth_method(settings):
    """The auth method to use (never ``auto``); :class:`InputError` when the credentials do not add up."""
    method = settings.auth_method or "auto"
    if method == "auto":
        given = [(option, chosen) for option, chosen in AUTO_AUTH_ORDER if not _blank(getattr(settings, option))]
        if len(given) > 1:
            options = [option for option, dummy in given]
            raise InputError(
                options,
                "auth_method is auto but several credentials are set: %s. Set auth_method to one of %s, or remove "
                "all but one (check the environment variables too)"
                % (", ".join(describe_option(option) for option in options),
                   ", ".join(chosen for dummy, chosen in given)),
            )
        if not given:
            message = (
                "no credential is set. Set one of: %s; together with tenant_id (or AZURE_TENANT_ID, AZURE_TENANT) and "
                "client_id (or AZURE_CLIENT_ID) for the secret, certificate and federated methods. For a managed "
                "identity set auth_method: managed_identity"
                % "; ".join(describe_option(option) for option, dummy in AUTO_AUTH_ORDER)
            )
            raise InputError("auth_method", message)
        method = given[0][1]
    elif method not in _REQUIRED_BY_METHOD:
        raise InputError("auth_method", "must be one of %s, got %r" % (", ".join(AUTH_METHODS), method))
    for option in _REQUIRED_BY_METHOD[method]:
        if _blank(getattr(settings, option)):
            raise InputError(option, "%s (auth_method %s)" % (_missing_message(option), method))
    return method


# --- certificates ---------------------------------------------------------------------------

_PEM_BLOCK_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)\r?\n?-----END \1-----", re.S)
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY")


class CertificateCredential:
    """A PEM certificate + private key read from ``client_certificate_path``, ready for MSAL."""

    def __init__(self, private_key_pem, certificates_pem, thumbprint, passphrase=None):
        self.private_key_pem = private_key_pem
        self.certificates_pem = certificates_pem  # leaf first
        self.thumbprint = thumbprint  # SHA-1 of the leaf certificate's DER, upper-case hex
        self.passphrase = passphrase

    def msal_credential(self):
        credential = {
            "private_key": self.private_key_pem,
            "thumbprint": self.thumbprint,
            # Sent as x5c so that Subject Name/Issuer authentication works too.
            "public_certificate": "\n".join(self.certificates_pem),
        }
        if self.passphrase:
            credential["passphrase"] = self.passphrase
        return credential

    @property
    def sensitive_values(self):
        return [self.private_key_pem]


def _pem_der(block_body):
    body = "".join(line.strip() for line in block_body.splitlines() if line.strip() and ":" not in line)
    return base64.b64decode(body.encode("ascii"), validate=True)


def load_certificate(path, password=None):
    """Read a PEM file holding a certificate and its private key. :class:`InputError` names the option at fault.

    Messages never include key material.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise InputError("client_certificate_path", "cannot read the certificate file %s: %s" % (path, exc.strerror or exc))
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("client_certificate_path", "%s is not a PEM file (binary content; a .pfx/.p12 file can be "
                         "converted with: openssl pkcs12 -in file.pfx -out file.pem -nodes)" % path)
    blocks = [(match.group(1), match.group(0), match.group(2)) for match in _PEM_BLOCK_RE.finditer(text)]
    certificates = [(pem, body) for label, pem, body in blocks if label == "CERTIFICATE"]
    keys = [(label, pem) for label, pem, body in blocks if label in _KEY_LABELS]
    if not certificates:
        raise InputError("client_certificate_path", "no certificate (-----BEGIN CERTIFICATE-----) found in %s; give a PEM "
                         "file holding the certificate and its private key" % path)
    if not keys:
        raise InputError("client_certificate_path", "no private key (-----BEGIN PRIVATE KEY-----) found in %s; give a PEM "
                         "file holding the certificate and its private key" % path)
    if len(keys) > 1:
        raise InputError("client_certificate_path", "%s holds %d private keys; keep only the key of the certificate"
                         % (path, len(keys)))
    key_label, key_pem = keys[0]
    register_secret(key_pem)
    encrypted = "ENCRYPTED" in key_label or "Proc-Type: 4,ENCRYPTED" in key_pem
    if password and isinstance(password, str):
        register_secret(password)

    ordered = list(certificates)
    if _load_cryptography():
        key = _load_private_key(path, key_pem, password, encrypted)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InputError("client_certificate_path", "the private key in %s is not an RSA key; Microsoft Entra ID "
                             "certificate credentials need an RSA key" % path)
        ordered = _leaf_first(path, key, certificates)
    elif encrypted and not password:
        raise InputError("client_certificate_password", "the private key in %s is encrypted; set client_certificate_password "
                         "(or AZURE_CLIENT_CERTIFICATE_PASSWORD)" % path)
    try:
        der = _pem_der(ordered[0][1])
    except (ValueError, binascii.Error, TypeError):
        raise InputError("client_certificate_path", "the certificate in %s is malformed (invalid base64)" % path)
    thumbprint = hashlib.sha1(der).hexdigest().upper()  # nosec - the x5t thumbprint Entra ID expects is SHA-1
    return CertificateCredential(key_pem, [pem for pem, body in ordered], thumbprint,
                                 passphrase=password if encrypted and password else None)


def _load_private_key(path, key_pem, password, encrypted):
    secret = password.encode("utf-8") if password and encrypted else None
    try:
        return serialization.load_pem_private_key(key_pem.encode("ascii"), password=secret)
    except TypeError:
        # cryptography: "Password was not given but private key is encrypted".
        raise InputError("client_certificate_password", "the private key in %s is encrypted; set client_certificate_password "
                         "(or AZURE_CLIENT_CERTIFICATE_PASSWORD)" % path)
    except (ValueError, UnsupportedAlgorithm):
        if encrypted:
            raise InputError("client_certificate_password", "cannot decrypt the private key in %s: "
                             "client_certificate_password is wrong" % path)
        raise InputError("client_certificate_path", "the private key in %s is malformed or in an unsupported format" % path)


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _leaf_first(path, key, certificates):
    wanted = _public_der(key.public_key())
    leaf = None
    for index, (pem, dummy) in enumerate(certificates):
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
        except ValueError:
            raise InputError("client_certificate_path", "certificate #%d in %s is malformed" % (index + 1, path))
        if leaf is None and _public_der(cert.public_key()) == wanted:
            leaf = index
    if leaf is None:
        raise InputError("client_certificate_path", "the private key in %s does not belong to any certificate in the file"
                         % path)
    return [certificates[leaf]] + [item for index, item in enumerate(certificates) if index != leaf]


# --- token providers ------------------------------------------------------------------------

class TokenProvider:
    """Hands out bearer tokens for Microsoft Graph.

    ``auth_method``: the method actually used (client_secret, certificate, federated, managed_identity,
    access_token). ``refreshable``: False when ``force_refresh`` cannot produce a different token.
    ``sensitive_values``: strings the module adds to ``no_log_values`` (e.g. a certificate's private key).
    """

    auth_method = None
    refreshable = True

    def __init__(self):
        self.sensitive_values = []

    def get_token(self, force_refresh=False):
        """A bearer token; raises :class:`GraphAuthError`."""
        raise NotImplementedError


class StaticTokenProvider(TokenProvider):
    """``access_token``: a token acquired elsewhere; it cannot be refreshed."""

    auth_method = "access_token"
    refreshable = False

    def __init__(self, token):
        super(StaticTokenProvider, self).__init__()
        token = token.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            raise InputError("access_token", "is empty")
        register_secret(token)
        self.sensitive_values.append(token)
        self._token = token

    def get_token(self, force_refresh=False):
        return self._token


def parse_token_error(result):
    """``(code, message, trace_id, correlation_id, timestamp, number)`` from an MSAL error dict."""
    result = result or {}
    error = result.get("error") or ""
    description = result.get("error_description") or ""
    if not isinstance(description, str):
        description = str(description)
    number = None
    match = re.search(r"AADSTS(\d+)", description)
    if match:
        number = match.group(1)
    elif result.get("error_codes"):
        try:
            number = str(int(result["error_codes"][0]))
        except (TypeError, ValueError, IndexError):
            number = None
    first_line = ""
    for line in description.splitlines():
        if line.strip():
            first_line = line.strip()
            break
    first_line = re.sub(r"^AADSTS\d+:\s*", "", first_line)
    trace_id = result.get("trace_id") or _search(r"Trace ID:\s*([0-9A-Fa-f-]+)", description)
    correlation_id = result.get("correlation_id") or _search(r"Correlation ID:\s*([0-9A-Fa-f-]+)", description)
    timestamp = result.get("timestamp") or _search(r"Timestamp:\s*([0-9T:\-. Z]+?)\s*$", description, re.M)
    code = "AADSTS%s" % number if number else (error or "TokenRequestFailed")
    message = first_line or error or "no error description"
    return code, message, trace_id, correlation_id, timestamp, number


def _search(pattern, text, flags=0):
    match = re.search(pattern, text, flags)
    return match.group(1).strip() if match else None


def auth_error_from_result(result, auth_method, authority=None):
    """A :class:`GraphAuthError` for an MSAL error dict: AADSTS code, one-line message and what to fix."""
    code, message, trace_id, correlation_id, timestamp, number = parse_token_error(result)
    error = (result or {}).get("error")
    hint = AADSTS_HINTS.get(number or "") or ERROR_HINTS.get(error or "")
    if not hint:
        hint = "check tenant_id, client_id, the credential for auth_method %s, and cloud_environment" % auth_method
    where = " from %s" % authority if authority else ""
    text = "Could not get a token for Microsoft Graph (auth_method %s)%s: %s" % (auth_method, where, message)
    if error and error not in message and not code.startswith(error):
        text += " [%s]" % error
    return GraphAuthError(text, code=code, request_id=trace_id, client_request_id=correlation_id, date=timestamp,
                          hint=hint)


def _transport_error(exc, auth_method, url, verify, target=None):
    """Map an exception raised while talking to the token endpoint to a :class:`GraphAuthError`."""
    target = target or "the token endpoint %s" % url
    if is_tls_error(exc):
        return tls_error(exc, url=url, verify=verify, auth=True)
    if _requests_exceptions is not None and isinstance(exc, _requests_exceptions.Timeout):
        return GraphAuthError("Timed out waiting for %s (auth_method %s)" % (target, auth_method),
                              code="Timeout", url=url,
                              hint="check network access to the token endpoint (proxy, firewall), or raise timeout")
    if _requests_exceptions is not None and isinstance(exc, _requests_exceptions.ConnectionError):
        return GraphAuthError("Could not connect to %s (auth_method %s): %s" % (target, auth_method, _short(exc)),
                              code="ConnectionError", url=url,
                              hint="check authority_host and cloud_environment, DNS, and proxy settings (HTTPS_PROXY)")
    return GraphAuthError("Could not get a token for Microsoft Graph (auth_method %s): %s: %s"
                          % (auth_method, type(exc).__name__, _short(exc)), url=url,
                          hint="check the connection options for auth_method %s" % auth_method)


def _short(exc, limit=300):
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _cause_text(exc):
    texts = [str(exc)]
    context = getattr(exc, "__context__", None)
    if context is not None:
        texts.append(str(context))
    return " ".join(texts)


def _authority_error(exc, auth_method, authority):
    """MSAL raises ValueError from the app constructor when tenant discovery fails (unknown tenant)."""
    text = _cause_text(exc)
    number = _search(r"AADSTS(\d+)", text)
    if "authority configuration" in text or "OIDC Discovery" in text or "invalid_instance" in text or number:
        hint = AADSTS_HINTS.get(number or "90002")
        return GraphAuthError(
            "Tenant discovery failed for %s (auth_method %s): the tenant was not found or the authority did not answer "
            "with an OpenID configuration" % (authority, auth_method),
            code="AADSTS%s" % number if number else "TenantDiscoveryFailed", url=authority,
            hint=hint + "; with authority_host overridden, check that it points at the token service",
        )
    return GraphAuthError("MSAL rejected the configuration for auth_method %s: %s" % (auth_method, _short(exc)),
                          url=authority, hint="check tenant_id, client_id and the credential options")


class MsalConfidentialTokenProvider(TokenProvider):
    """Client credentials through ``msal.ConfidentialClientApplication`` (secret, certificate, federated)."""

    def __init__(self, auth_method, client_id, authority, scope, client_credential, http, instance_discovery=None,
                 token_cache=None, verify=True):
        super(MsalConfidentialTokenProvider, self).__init__()
        self.auth_method = auth_method
        self._client_id = client_id
        self._authority = authority
        self._scope = scope
        self._client_credential = client_credential
        self._http = http
        self._instance_discovery = instance_discovery
        self._token_cache = token_cache
        self._verify = verify
        self._app = None

    def _application(self):
        if self._app is None:
            kwargs = {
                "client_credential": self._client_credential,
                "authority": self._authority,
                "http_client": self._http,
                "token_cache": self._token_cache,
            }
            kwargs.update(_http_cache_kwargs(self._token_cache))
            if self._instance_discovery is False:
                kwargs["instance_discovery"] = False
            try:
                self._app = msal.ConfidentialClientApplication(self._client_id, **kwargs)
            except (GraphError, InputError):
                raise
            except ValueError as exc:
                raise _authority_error(exc, self.auth_method, self._authority)
            except Exception as exc:
                raise _transport_error(exc, self.auth_method, self._authority, self._verify)
        return self._app

    def get_token(self, force_refresh=False):
        app = self._application()
        try:
            if force_refresh:
                app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=[self._scope])
        except (GraphError, InputError):
            raise
        except Exception as exc:
            raise _transport_error(exc, self.auth_method, self._authority, self._verify)
        save_token_cache(self._token_cache)
        return _token_from_result(result, self.auth_method, self._authority)


def save_token_cache(token_cache):
    """A persistent cache (``_token_cache.PersistentTokenCache``) writes itself back if MSAL changed it."""
    save = getattr(token_cache, "save_if_changed", None)
    if save is not None:
        save()


def _http_cache_kwargs(token_cache):
    """A persistent cache also keeps MSAL's discovery responses: no discovery GET in a new process."""
    http_cache = getattr(token_cache, "http_cache", None)
    return {} if http_cache is None else {"http_cache": http_cache}


def _forget_access_tokens(token_cache):
    """Drop cached access tokens (after Graph rejected one), so a persistent cache does not keep it."""
    kind = msal.TokenCache.CredentialType.ACCESS_TOKEN
    for entry in list(token_cache.search(kind)):
        token_cache.remove_at(entry)


def _token_from_result(result, auth_method, authority):
    token = (result or {}).get("access_token")
    if token:
        register_secret(token)
        return token
    raise auth_error_from_result(result, auth_method, authority)


class ManagedIdentityTokenProvider(TokenProvider):
    """``msal.ManagedIdentityClient``: system-assigned, or user-assigned with ``managed_identity_client_id``."""

    auth_method = "managed_identity"

    def __init__(self, resource, http, client_id=None, token_cache=None, verify=True):
        super(ManagedIdentityTokenProvider, self).__init__()
        self._resource = resource
        self._http = http
        self._client_id = client_id
        self._token_cache = token_cache
        self._verify = verify
        self._client = None

    def _identity(self):
        if self._client_id:
            return msal.UserAssignedManagedIdentity(client_id=self._client_id)
        return msal.SystemAssignedManagedIdentity()

    def _build(self, fresh_cache=False):
        if not hasattr(msal, "ManagedIdentityClient"):
            raise GraphAuthError("auth_method managed_identity needs msal >= 1.29.0; installed: %s"
                                 % getattr(msal, "__version__", "unknown"),
                                 code="MsalTooOld", hint="upgrade the Python library msal on the host running the module")
        cache = msal.TokenCache() if self._token_cache is None else self._token_cache
        if fresh_cache:
            _forget_access_tokens(cache)
        return msal.ManagedIdentityClient(self._identity(), http_client=self._http, token_cache=cache,
                                          **_http_cache_kwargs(self._token_cache))

    def get_token(self, force_refresh=False):
        which = "user-assigned managed identity %s" % self._client_id if self._client_id else "system-assigned managed identity"
        try:
            if self._client is None or force_refresh:
                self._client = self._build(fresh_cache=force_refresh)
            result = self._client.acquire_token_for_client(resource=self._resource)
        except (GraphError, InputError):
            raise
        except Exception as exc:
            if isinstance(exc, ValueError) and not is_tls_error(exc):
                # msal.ManagedIdentityError is a ValueError; so is a non-JSON answer from an unexpected endpoint.
                raise GraphAuthError(
                    "Could not get a token from the %s: %s: %s" % (which, type(exc).__name__, _short(exc)),
                    code="ManagedIdentityError",
                    hint="run on an Azure host with this managed identity assigned (check managed_identity_client_id), "
                         "or use another auth_method",
                )
            raise _transport_error(exc, self.auth_method, None, self._verify, target="the managed identity endpoint")
        save_token_cache(self._token_cache)
        token = (result or {}).get("access_token")
        if token:
            register_secret(token)
            return token
        error = auth_error_from_result(result, self.auth_method)
        error.hint = ("check that the %s is assigned to this host and that it may call Microsoft Graph "
                      "(%s)" % (which, error.hint))
        raise error


def _federated_reader(path):
    """A callable MSAL calls whenever it needs an assertion: the file is re-read every time (tokens rotate)."""

    def read_assertion():
        try:
            with open(path, "r") as handle:
                assertion = handle.read().strip()
        except (IOError, OSError) as exc:
            raise GraphAuthError("Cannot read the federated token file %s: %s" % (path, exc.strerror or exc),
                                 code="FederatedTokenFileUnreadable",
                                 hint="check federated_token_file (AZURE_FEDERATED_TOKEN_FILE) and that the token is mounted")
        if not assertion:
            raise GraphAuthError("The federated token file %s is empty" % path, code="FederatedTokenFileEmpty",
                                 hint="refresh the federated token file (federated_token_file / AZURE_FEDERATED_TOKEN_FILE)")
        register_secret(assertion)
        return assertion

    return read_assertion


def _check_readable_file(option, path):
    if not os.path.isfile(path):
        raise InputError(option, "%s does not exist or is not a file" % path)
    if not os.access(path, os.R_OK):
        raise InputError(option, "%s is not readable by this user" % path)


def open_persistent_cache(settings, method, warn=None):
    """The opt-in persistent token cache of ``settings.token_cache_dir`` for ``method``, loaded; None when unset.

    One file per authority, client and auth method. :class:`InputError` (``token_cache_dir``) when the
    directory or file is not private to this user. ``access_token`` has nothing to cache.
    """
    if not settings.token_cache_dir or method == "access_token":
        return None
    if method == "managed_identity":
        authority = "managed_identity %s" % settings.cloud.msi_resource
        client_id = settings.managed_identity_client_id or "system-assigned"
    else:
        authority, client_id = settings.authority, settings.client_id
    return open_token_cache(settings.token_cache_dir, authority, client_id, method, warn=warn)


def build_token_provider(settings, http, token_cache=None):
    """The :class:`TokenProvider` for ``settings`` (a validated :class:`ConnectionSettings`).

    ``http``: the shared :class:`VerifyingSession` (MSAL's ``http_client``). ``token_cache``: an optional
    ``msal.TokenCache`` (``None`` = in memory, per task); the hook for an opt-in persistent cache.
    Raises :class:`InputError` for bad or inconsistent credentials; no request is made here.
    """
    if not getattr(settings, "_validated", False):
        settings.validate()
    method = select_auth_method(settings)
    for value in (settings.client_secret, settings.access_token, settings.client_certificate_password):
        register_secret(value)
    if method == "access_token":
        return StaticTokenProvider(settings.access_token)
    if not HAS_MSAL:
        raise RuntimeError("the Python library msal is required for auth_method %s: %s" % (method, MSAL_IMPORT_ERROR))
    verify = getattr(http, "forced_verify", True)
    if method == "managed_identity":
        return ManagedIdentityTokenProvider(settings.cloud.msi_resource, http, client_id=settings.managed_identity_client_id,
                                            token_cache=token_cache, verify=verify)
    sensitive = []
    if method == "client_secret":
        credential = settings.client_secret
        sensitive.append(settings.client_secret)
    elif method == "certificate":
        _check_readable_file("client_certificate_path", settings.client_certificate_path)
        if not _load_cryptography():
            raise InputError("client_certificate_path", "the Python library cryptography is required to read the certificate")
        certificate = load_certificate(settings.client_certificate_path, settings.client_certificate_password)
        credential = certificate.msal_credential()
        sensitive.extend(certificate.sensitive_values)
    else:  # federated
        _check_readable_file("federated_token_file", settings.federated_token_file)
        credential = {"client_assertion": _federated_reader(settings.federated_token_file)}
    # MSAL does not retry: transient token-service failures (429, 5xx, resets) are retried by the client it gets.
    retrying = RetryingHttpClient(http, max_retries=settings.max_retries, budget_seconds=settings.retry_budget)
    provider = MsalConfidentialTokenProvider(
        method, settings.client_id, settings.authority, settings.scope, credential, retrying,
        instance_discovery=False if settings.authority_overridden else None,
        token_cache=token_cache, verify=verify,
    )
    provider.sensitive_values.extend(value for value in sensitive if value)
    return provider
