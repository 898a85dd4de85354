# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: msal, the standard library, _errors, _http, _retries, _token_cache and the other credential files
# (_connection, _certificates, _token_service_errors) only. No Ansible imports.

"""Token providers: MSAL confidential client (secret, certificate, federated), managed identity, static token.

``auth_method: auto`` looks at ``access_token``, ``client_certificate_path``, ``client_secret`` and
``federated_token_file`` (in that order); exactly one of them must be given. Managed identity is used only
when ``auth_method: managed_identity``. Connection settings live in ``_connection``, certificates in
``_certificates``, the sign-in error mapping in ``_token_service_errors``.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import traceback
from typing import Any, Callable

from ansible_collections.msgraph.security.plugins.module_utils._certificates import load_certificate
from ansible_collections.msgraph.security.plugins.module_utils._connection import (
    ConnectionSettings,
    check_managed_identity_environment,
    select_auth_method,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphAuthError,
    GraphError,
    InputError,
    one_line,
    register_secret,
)
from ansible_collections.msgraph.security.plugins.module_utils._http import VerifyingSession, is_tls_error
from ansible_collections.msgraph.security.plugins.module_utils._retries import RetryingHttpClient, RetryPolicy
from ansible_collections.msgraph.security.plugins.module_utils._token_cache import (
    PersistentTokenCache,
    credential_fingerprint,
    open_token_cache,
)
from ansible_collections.msgraph.security.plugins.module_utils._token_service_errors import (
    auth_error_from_result,
    authority_error,
    transport_error,
)

try:
    import msal

    HAS_MSAL = True
    MSAL_IMPORT_ERROR = None
except ImportError:
    msal = None
    HAS_MSAL = False
    MSAL_IMPORT_ERROR = traceback.format_exc()


# --- token providers ------------------------------------------------------------------------

class TokenProvider:
    """Hands out bearer tokens for Microsoft Graph.

    ``auth_method``: the method actually used (client_secret, certificate, federated, managed_identity,
    access_token). ``refreshable``: False when ``force_refresh`` cannot produce a different token.
    ``sensitive_values``: strings the module adds to ``no_log_values`` (e.g. a certificate's private key).
    """

    auth_method: str | None = None
    refreshable = True

    def __init__(self, http: RetryingHttpClient | VerifyingSession | None = None, token_cache: msal.TokenCache | None = None,
                 verify: bool | str = True) -> None:
        self.sensitive_values: list[str] = []
        self._http = http  # what MSAL sends its requests through (the task's session, or its retrying wrapper)
        self.token_cache = token_cache  # None: MSAL's in-memory cache
        self._verify = verify

    def get_token(self, force_refresh: bool = False) -> str:
        """A bearer token; raises :class:`GraphAuthError`."""
        raise NotImplementedError


class StaticTokenProvider(TokenProvider):
    """``access_token``: a token acquired elsewhere; it cannot be refreshed."""

    auth_method: str = "access_token"
    refreshable = False

    def __init__(self, token: str) -> None:
        super().__init__()
        token = token.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            raise InputError("access_token", "is empty")
        register_secret(token)
        self.sensitive_values.append(token)
        self._token = token

    def get_token(self, force_refresh: bool = False) -> str:
        """The token given; ``force_refresh`` cannot change it (``refreshable`` is False)."""
        return self._token


class MsalConfidentialTokenProvider(TokenProvider):
    """Client credentials through ``msal.ConfidentialClientApplication`` (secret, certificate, federated)."""

    auth_method: str

    def __init__(self, auth_method: str, client_id: str, authority: str, scope: str, client_credential: str | dict[str, Any],
                 http: RetryingHttpClient, instance_discovery: bool | None = None, token_cache: msal.TokenCache | None = None,
                 verify: bool | str = True) -> None:
        super().__init__(http, token_cache, verify)
        self.auth_method = auth_method
        self._client_id = client_id
        self._authority = authority
        self._scope = scope
        self._client_credential = client_credential
        self._instance_discovery = instance_discovery
        self._app: Any = None  # msal.ConfidentialClientApplication, built on first use

    def _application(self):
        if self._app is None:
            kwargs = {
                "client_credential": self._client_credential,
                "authority": self._authority,
                "http_client": self._http,
                "token_cache": self.token_cache,
            }
            if self._instance_discovery is False:
                kwargs["instance_discovery"] = False
            try:
                self._app = msal.ConfidentialClientApplication(self._client_id, **kwargs)
            except (GraphError, InputError):
                raise
            except ValueError as exc:
                raise authority_error(exc, self.auth_method, self._authority)
            except Exception as exc:
                raise transport_error(exc, self.auth_method, self._authority, self._verify)
        return self._app

    def get_token(self, force_refresh: bool = False) -> str:
        """A token from MSAL's cache or the token endpoint (``force_refresh``: a new one); raises :class:`GraphAuthError`."""
        app = self._application()
        try:
            if force_refresh:
                app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=[self._scope])
        except (GraphError, InputError):
            raise
        except Exception as exc:
            raise transport_error(exc, self.auth_method, self._authority, self._verify)
        save_token_cache(self.token_cache)
        return _token_from_result(result, self.auth_method, self._authority)


def save_token_cache(token_cache: msal.TokenCache | None) -> None:
    """A persistent cache (``_token_cache.PersistentTokenCache``) writes itself back if MSAL changed it."""
    save = getattr(token_cache, "save_if_changed", None)
    if save is not None:
        save()


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

    auth_method: str = "managed_identity"

    def __init__(self, resource: str, http: VerifyingSession, client_id: str | None = None, token_cache: msal.TokenCache | None = None,
                 verify: bool | str = True) -> None:
        super().__init__(http, token_cache, verify)
        self._resource = resource
        self._client_id = client_id
        self._client: Any = None  # msal.ManagedIdentityClient, built on first use

    def _identity(self):
        if self._client_id:
            return msal.UserAssignedManagedIdentity(client_id=self._client_id)
        return msal.SystemAssignedManagedIdentity()

    def _build(self, fresh_cache=False):
        if not hasattr(msal, "ManagedIdentityClient"):
            raise GraphAuthError(f"auth_method managed_identity needs msal >= 1.29.0; installed: {getattr(msal, '__version__', 'unknown')}",
                                 code="MsalTooOld", hint="upgrade the Python library msal on the host running the module")
        cache = msal.TokenCache() if self.token_cache is None else self.token_cache
        if fresh_cache:
            _forget_access_tokens(cache)
        return msal.ManagedIdentityClient(self._identity(), http_client=self._http, token_cache=cache)

    def get_token(self, force_refresh: bool = False) -> str:
        """A token from the managed identity endpoint (``force_refresh``: a new one); raises :class:`GraphAuthError`."""
        which = f"user-assigned managed identity {self._client_id}" if self._client_id else "system-assigned managed identity"
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
                    f"Could not get a token from the {which}: {type(exc).__name__}: {one_line(exc)}",
                    code="ManagedIdentityError",
                    hint="run on an Azure host with this managed identity assigned (check managed_identity_client_id), "
                         "or use another auth_method",
                )
            raise transport_error(exc, self.auth_method, None, self._verify, target="the managed identity endpoint")
        save_token_cache(self.token_cache)
        token = (result or {}).get("access_token")
        if token:
            register_secret(token)
            return token
        error = auth_error_from_result(result, self.auth_method)
        error.hint = f"check that the {which} is assigned to this host and that it may call Microsoft Graph ({error.hint})"
        raise error


def _federated_reader(path):
    """A callable MSAL calls whenever it needs an assertion: the file is re-read every time (tokens rotate)."""

    def read_assertion():
        try:
            with open(path, "r") as handle:
                assertion = handle.read().strip()
        except (IOError, OSError) as exc:
            raise GraphAuthError(f"Cannot read the federated token file {path}: {exc.strerror or exc}",
                                 code="FederatedTokenFileUnreadable",
                                 hint="check federated_token_file (AZURE_FEDERATED_TOKEN_FILE) and that the token is mounted")
        if not assertion:
            raise GraphAuthError(f"The federated token file {path} is empty", code="FederatedTokenFileEmpty",
                                 hint="refresh the federated token file (federated_token_file / AZURE_FEDERATED_TOKEN_FILE)")
        register_secret(assertion)
        return assertion

    return read_assertion


def _check_readable_file(option, path):
    if not os.path.isfile(path):
        raise InputError(option, f"{path} does not exist or is not a file")
    if not os.access(path, os.R_OK):
        raise InputError(option, f"{path} is not readable by this user")


def _required(value: str | None) -> str:
    """A credential option that select_auth_method has required for the auth method in use: never None here."""
    if value is None:
        raise AssertionError("select_auth_method requires this option for the auth method in use")
    return value


def credential_of(settings: ConnectionSettings, method: str) -> str | bytes | None:
    """What the cache key fingerprints for ``method``: the secret, the certificate file's bytes, or the federated
    token file's path (its content rotates by design); None for managed identity (the client id is in the key)."""
    if method == "client_secret":
        return settings.client_secret
    if method == "certificate":
        try:
            with open(_required(settings.client_certificate_path), "rb") as handle:
                return handle.read()
        except (IOError, OSError):
            return None  # build_token_provider reports the unreadable file
    if method == "federated":
        return settings.federated_token_file
    return None


def open_persistent_cache(settings: ConnectionSettings, method: str, warn: Callable[[str], None] | None = None) -> PersistentTokenCache | None:
    """The opt-in persistent token cache of ``settings.token_cache_dir`` for ``method``, loaded; None when unset.

    One file per authority, client, auth method and credential fingerprint: after a secret or certificate is
    rotated, tokens obtained with the old one are never used. :class:`InputError` (``token_cache_dir``) when the
    directory or file is not private to this user. ``access_token`` has nothing to cache.
    """
    if not settings.token_cache_dir or method == "access_token":
        return None
    if method == "managed_identity":
        authority = f"managed_identity {settings.cloud.msi_resource}"
        client_id = settings.managed_identity_client_id or "system-assigned"
    else:
        # cache_file_name reads a missing client id as "": the same file name as before.
        authority, client_id = settings.authority, settings.client_id or ""
    return open_token_cache(settings.token_cache_dir, authority, client_id, method, warn=warn,
                            fingerprint=credential_fingerprint(credential_of(settings, method)))


def build_token_provider(settings: ConnectionSettings, http: VerifyingSession, token_cache: msal.TokenCache | None = None,
                         retry: RetryPolicy | None = None, on_retry: Callable[[str], None] | None = None) -> TokenProvider:
    """The :class:`TokenProvider` for ``settings`` (a validated :class:`ConnectionSettings`).

    ``http``: the shared :class:`VerifyingSession` (MSAL's ``http_client``). ``token_cache``: an optional
    ``msal.TokenCache`` (``None`` = in memory, per task); the hook for an opt-in persistent cache. ``retry``: the
    task's :class:`_retries.RetryPolicy`, shared with the Graph client; ``on_retry(message)``: called before each retry.
    Raises :class:`InputError` for bad or inconsistent credentials; no request is made here.
    """
    if not getattr(settings, "_validated", False):
        settings.validate()
    method = select_auth_method(settings)
    for value in (settings.client_secret, settings.access_token, settings.client_certificate_password):
        register_secret(value)
    if method == "access_token":
        return StaticTokenProvider(_required(settings.access_token))
    if not HAS_MSAL:
        raise RuntimeError(f"the Python library msal is required for auth_method {method}: {MSAL_IMPORT_ERROR}")
    verify = getattr(http, "forced_verify", True)
    if method == "managed_identity":
        check_managed_identity_environment()
        local_http = http.without_environment_proxy() if hasattr(http, "without_environment_proxy") else http
        return ManagedIdentityTokenProvider(settings.cloud.msi_resource, local_http,
                                            client_id=settings.managed_identity_client_id,
                                            token_cache=token_cache, verify=verify)
    sensitive: list[str] = []
    credential: str | dict[str, Any]
    if method == "client_secret":
        credential = _required(settings.client_secret)
        sensitive.append(credential)
    elif method == "certificate":
        _check_readable_file("client_certificate_path", settings.client_certificate_path)
        certificate = load_certificate(_required(settings.client_certificate_path), settings.client_certificate_password)
        credential = certificate.msal_credential()
        sensitive.extend(certificate.sensitive_values)
    else:  # federated
        _check_readable_file("federated_token_file", settings.federated_token_file)
        credential = {"client_assertion": _federated_reader(settings.federated_token_file)}
    # MSAL does not retry: transient token-service failures (429, 5xx, resets) are retried by the client it gets, on
    # the task's one retry policy (the Graph client's), so both services together stay within retry_budget.
    retrying = RetryingHttpClient(http, policy=retry or RetryPolicy(max_retries=settings.max_retries,
                                                                    budget_seconds=settings.retry_budget),
                                  on_retry=on_retry, stored_answers=getattr(token_cache, "discovery", None))
    provider = MsalConfidentialTokenProvider(
        method, _required(settings.client_id), settings.authority, settings.scope, credential, retrying,
        instance_discovery=False if settings.authority_overridden else None,
        token_cache=token_cache, verify=verify,
    )
    provider.sensitive_values.extend(value for value in sensitive if value)
    return provider
