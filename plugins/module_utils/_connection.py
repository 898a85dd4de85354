# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: the standard library, _errors, _options, _clouds and _http only. No Ansible imports.

"""Connection settings: the option values, their validation, and which endpoints may receive a credential.

``authority_host`` and ``graph_endpoint`` must be official hosts of ``cloud_environment`` unless
``allow_custom_endpoints`` is true; managed identity endpoints from the environment must be on this host.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
from typing import Any, Mapping
from urllib.parse import urlparse, urlsplit

from ansible_collections.msgraph.security.plugins.module_utils._clouds import CLOUDS, Cloud, resolve_cloud
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._http import validate_ca_path
from ansible_collections.msgraph.security.plugins.module_utils._options import (
    API_VERSIONS,
    AUTH_METHODS,
    AUTO_AUTH_ORDER,
    CONNECTION_OPTIONS,
    describe_option,
    is_unset,
)

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


def normalize_https_url(option: str, value: str | None, allow_path: bool = True) -> str | None:
    """``https://host[:port][/path]`` without a trailing slash; a bare host gets ``https://``; the default port 443 is
    dropped, so that ``https://graph.microsoft.com:443`` is the same endpoint as Graph's own links name."""
    if is_unset(value):
        return None
    text = str(value).strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parsed = urlparse(text)
        port = parsed.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise InputError(option, f"{value!r} is not a valid URL: {exc}")
    if parsed.scheme.lower() != "https":
        raise InputError(option, f"{value!r} must be an https:// URL ({parsed.scheme}:// is not allowed: tokens would travel in clear text)")
    if not parsed.hostname:
        raise InputError(option, f"{value!r} has no host name")
    if parsed.username or parsed.password or parsed.query or parsed.fragment:
        raise InputError(option, f"{value!r} must not contain credentials, a query or a fragment")
    path = parsed.path.rstrip("/")
    if path and not allow_path:
        raise InputError(option, f"{value!r} must be a host (https://login.example), without a path: the tenant comes from tenant_id")
    host = parsed.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, 443) else f"{host}:{port}"
    return f"https://{netloc.lower()}{path}"


_TRUE_STRINGS = frozenset(["1", "true", "yes", "on", "y", "t"])
_FALSE_STRINGS = frozenset(["0", "false", "no", "off", "n", "f"])


def _as_bool(option, value):
    """A bool option's value; strings as Ansible reads them (environment variables arrive as text)."""
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in _TRUE_STRINGS:
        return True
    if text in _FALSE_STRINGS:
        return False
    raise InputError(option, f"must be true or false, got {value!r}")


def _is_official(url, hosts):
    """``url`` is ``https://<one of hosts>`` on port 443, without a path."""
    parsed = urlsplit(url)
    return parsed.hostname in hosts and parsed.port in (None, 443) and not parsed.path.strip("/")


def _cloud_owning(url, attribute):
    for cloud in CLOUDS.values():
        if _is_official(url, getattr(cloud, attribute)):
            return cloud
    return None


# What each endpoint receives, for the refusal and the warning.
_ENDPOINT_RECEIVES = {
    "authority_host": "the client credential (client secret, certificate assertion or federated token)",
    "graph_endpoint": "every access token",
}
_CLOUD_HOSTS = {"authority_host": "authority_hosts", "graph_endpoint": "graph_hosts"}


class ConnectionSettings:
    """The connection options as plain attributes (see ``_options.CONNECTION_OPTIONS``).

    Empty strings count as unset: defaults from the option table apply to ``None`` and ``''``.
    Call :meth:`validate` before use: it raises :class:`InputError` for bad input, before any request.
    """

    # One attribute per option of CONNECTION_OPTIONS, set by __init__; an option with a default is never None.
    tenant_id: str | None
    client_id: str | None
    client_secret: str | None
    client_certificate_path: str | None
    client_certificate_password: str | None
    federated_token_file: str | None
    access_token: str | None
    auth_method: str
    managed_identity_client_id: str | None
    cloud_environment: str
    authority_host: str | None
    graph_endpoint: str | None
    allow_custom_endpoints: bool
    api_version: str
    validate_certs: bool
    ca_path: str | None
    timeout: int
    max_retries: int
    retry_budget: int
    token_cache_dir: str | None

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(CONNECTION_OPTIONS)
        if unknown:
            raise TypeError(f"unknown connection settings: {', '.join(sorted(unknown))}")
        for name, definition in CONNECTION_OPTIONS.items():
            value = params.get(name)
            if is_unset(value):
                value = None
            elif isinstance(value, str) and not definition.get("no_log"):
                value = value.strip()
            if value is None and "default" in definition:
                value = definition["default"]
            if definition["type"] == "bool":
                value = _as_bool(name, value)
            setattr(self, name, value)
        self._validated = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ConnectionSettings:
        """Build from a module's ``params`` (other keys are ignored)."""
        return cls(**dict((name, params.get(name)) for name in CONNECTION_OPTIONS))

    def __repr__(self) -> str:
        shown = []
        for name, definition in CONNECTION_OPTIONS.items():
            value = getattr(self, name)
            if definition.get("no_log") and value is not None:
                value = "********"
            shown.append(f"{name}={value!r}")
        return f"ConnectionSettings({', '.join(shown)})"

    # --- derived values -------------------------------------------------------------------
    @property
    def cloud(self) -> Cloud:
        """The cloud cloud_environment names (its official hosts)."""
        return resolve_cloud(self.cloud_environment)

    @property
    def authority_host_url(self) -> str:
        """The authority host actually used: the override, else the cloud's."""
        return normalize_https_url("authority_host", self.authority_host, allow_path=False) or self.cloud.authority_host

    @property
    def authority_overridden(self) -> bool:
        """Whether authority_host points somewhere other than the cloud's own sign-in host."""
        return bool(self.authority_host) and self.authority_host_url != self.cloud.authority_host

    @property
    def authority(self) -> str:
        """``https://login.microsoftonline.com/<tenant_id>``."""
        return f"{self.authority_host_url}/{self.tenant_id}"

    @property
    def graph_endpoint_url(self) -> str:
        """The Graph root actually used: the override, else the cloud's (never changes the scope)."""
        return normalize_https_url("graph_endpoint", self.graph_endpoint) or self.cloud.graph_root

    @property
    def scope(self) -> str:
        """Always the cloud's Graph scope, whatever graph_endpoint/authority_host say."""
        return self.cloud.scope

    def custom_endpoints(self) -> list[tuple[str, str]]:
        """``[(option, url)]`` for ``authority_host``/``graph_endpoint`` set to a host that is not one of the cloud's
        official hosts (``_clouds.Cloud.authority_hosts``/``graph_hosts``)."""
        cloud = self.cloud
        found = []
        for option, url in (("authority_host", normalize_https_url("authority_host", self.authority_host, allow_path=False)),
                            ("graph_endpoint", normalize_https_url("graph_endpoint", self.graph_endpoint))):
            if url and not _is_official(url, getattr(cloud, _CLOUD_HOSTS[option])):
                found.append((option, url))
        return found

    def custom_endpoint_warnings(self, auth_method: str | None = None) -> list[str]:
        """One warning per non-Microsoft host that receives a credential (``allow_custom_endpoints: true``)."""
        messages = []
        for option, url in self.custom_endpoints():
            if option == "authority_host" and auth_method in ("access_token", "managed_identity"):
                continue  # this method never talks to the authority
            messages.append(
                f"allow_custom_endpoints is true: {option} {urlsplit(url).netloc} is not a Microsoft host of the {self.cloud.name} cloud, and it receives"
                f" {_ENDPOINT_RECEIVES[option]}")
        return messages

    def _check_official_endpoints(self):
        if self.allow_custom_endpoints:
            return
        for option, url in self.custom_endpoints():
            owner = _cloud_owning(url, _CLOUD_HOSTS[option])
            if owner is not None:
                fix = f"set cloud_environment: {owner.name} (that host belongs to the {owner.name} cloud), or remove {option}"
            else:
                official = ", ".join("https://" + host for host in getattr(self.cloud, _CLOUD_HOSTS[option]))
                fix = (f"use an official host of the {self.cloud.name} cloud ({official}) or leave {option} unset; only for an emulator or a proxy you "
                       "control set allow_custom_endpoints: true (MSGRAPH_ALLOW_CUSTOM_ENDPOINTS)")
            raise InputError(option, f"{url} is not a Microsoft host of the {self.cloud.name} cloud and would receive "
                                     f"{_ENDPOINT_RECEIVES[option]}; nothing was sent. Fix: {fix}")

    # --- validation -----------------------------------------------------------------------
    def validate(self) -> ConnectionSettings:
        """Raise :class:`InputError` for anything wrong that can be seen without a request. Returns self."""
        cloud = self.cloud  # InputError for an unknown cloud name
        normalize_https_url("authority_host", self.authority_host, allow_path=False)
        endpoint = self.graph_endpoint_url
        last_segment = endpoint.rstrip("/").rsplit("/", 1)[-1].lower()
        if endpoint != cloud.graph_root and last_segment in [version.lower() for version in API_VERSIONS]:
            raise InputError("graph_endpoint", f"{endpoint} ends with the API version; give the root (e.g. {cloud.graph_root}) and set api_version")
        if self.api_version not in API_VERSIONS:
            raise InputError("api_version", f"must be one of {', '.join(API_VERSIONS)}, got {self.api_version!r}")
        if self.auth_method not in AUTH_METHODS:
            raise InputError("auth_method", f"must be one of {', '.join(AUTH_METHODS)}, got {self.auth_method!r}")
        if self.tenant_id is not None:
            if not _TENANT_RE.match(self.tenant_id):
                raise InputError("tenant_id", f"{self.tenant_id!r} is not a tenant GUID or domain name (e.g. contoso.onmicrosoft.com)")
            if self.tenant_id.lower() in _MULTI_TENANT_NAMES:
                raise InputError("tenant_id", f"{self.tenant_id!r} cannot be used for application (client credentials) sign-in; give the "
                                 "tenant's GUID or domain name")
        for name, minimum in (("timeout", 1), ("max_retries", 0), ("retry_budget", 0)):
            value = getattr(self, name)
            if value is None or int(value) < minimum:
                raise InputError(name, f"must be an integer >= {minimum}, got {value!r}")
        if int(self.timeout) > MAX_TIMEOUT:  # a larger value overflows the socket timeout (OverflowError, a crash)
            raise InputError("timeout", f"must be an integer between 1 and {MAX_TIMEOUT} seconds, got {self.timeout!r}")
        if self.validate_certs and self.ca_path:
            validate_ca_path(self.ca_path)
        self._check_official_endpoints()
        self._validated = True
        return self


def _missing_message(option):
    return f"is required for this auth_method; set {describe_option(option)}"


def select_auth_method(settings: ConnectionSettings) -> str:
    """The auth method to use (never ``auto``); :class:`InputError` when the credentials do not add up."""
    method = settings.auth_method or "auto"
    if method == "auto":
        given = [(option, chosen) for option, chosen in AUTO_AUTH_ORDER if not is_unset(getattr(settings, option))]
        if len(given) > 1:
            options = [option for option, dummy in given]
            raise InputError(
                options,
                f"auth_method is auto but several credentials are set: {', '.join(describe_option(option) for option in options)}. Set auth_method to one of"
                f" {', '.join(chosen for dummy, chosen in given)}, or remove "
                "all but one (check the environment variables too)",
            )
        if not given:
            message = (
                f"no credential is set. Set one of: {'; '.join(describe_option(option) for option, dummy in AUTO_AUTH_ORDER)}; together with tenant_id (or"
                " AZURE_TENANT_ID, AZURE_TENANT) and "
                "client_id (or AZURE_CLIENT_ID) for the secret, certificate and federated methods. For a managed "
                "identity set auth_method: managed_identity"
            )
            raise InputError("auth_method", message)
        method = given[0][1]
    elif method not in _REQUIRED_BY_METHOD:
        raise InputError("auth_method", f"must be one of {', '.join(AUTH_METHODS)}, got {method!r}")
    for option in _REQUIRED_BY_METHOD[method]:
        if is_unset(getattr(settings, option)):
            raise InputError(option, f"{_missing_message(option)} (auth_method {method})")
    return method


# The environment variables MSAL reads a managed identity endpoint from (msal.managed_identity._obtain_token):
# App Service / Functions / Container Apps / Arc (IDENTITY_ENDPOINT), Machine Learning and Cloud Shell
# (MSI_ENDPOINT), IMDS overrides (AZURE_POD_IDENTITY_AUTHORITY_HOST), Arc (IMDS_ENDPOINT).
MANAGED_IDENTITY_ENDPOINT_VARIABLES = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
                                       "IMDS_ENDPOINT")


def _is_local_host(host):
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_link_local


def check_managed_identity_environment(environ: Mapping[str, str] | None = None) -> None:
    """:class:`InputError` unless every managed identity endpoint in the environment is loopback or link-local.

    The endpoint is given the identity request and answers with a token that Graph then receives: a variable
    pointing elsewhere would let whoever set it mint the token the task uses, or collect the identity's requests.
    """
    environ = os.environ if environ is None else environ
    for name in MANAGED_IDENTITY_ENDPOINT_VARIABLES:
        value = (environ.get(name) or "").strip()
        if not value:
            continue
        try:
            host = urlsplit(value if "://" in value else "http://" + value).hostname
        except ValueError:
            host = None
        if not _is_local_host(host):
            raise InputError("auth_method", f"managed_identity: the environment variable {name}={value} is not a loopback or "
                             "link-local address; refusing to ask it for a token. Managed identity endpoints are local "
                             f"to the host (169.254.169.254, 127.0.0.1, localhost): unset {name} or fix it")
