# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 5, shared by all (docs/architecture.md): plain data and the standard library only, no Ansible imports.

"""The connection option table: one source for the argument spec, the env fallbacks and the docs test.

``plugins/doc_fragments/connection.py`` documents exactly these options; a unit test holds the two equal
(names, types, defaults, choices, no_log, and every environment variable named in the description).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import copy
import os
from typing import Any, Callable, Iterable, Mapping

# The collection version, used in the user agent. Keep equal to galaxy.yml (a unit test checks it).
COLLECTION_VERSION = "1.0.0"
COLLECTION_NAME = "msgraph.security"

AUTH_METHODS = ("auto", "client_secret", "certificate", "federated", "managed_identity", "access_token")

# auth_method=auto looks at these credentials, in this order; more than one given is an error.
AUTO_AUTH_ORDER = (
    ("access_token", "access_token"),
    ("client_certificate_path", "certificate"),
    ("client_secret", "client_secret"),
    ("federated_token_file", "federated"),
)

API_VERSIONS = ("beta", "v1.0")

# name -> spec. Keys: type, default, choices, no_log (always explicit), env (fallback variables, first
# non-empty wins; an explicit parameter always wins over the environment).
CONNECTION_OPTIONS: dict[str, dict[str, Any]] = {
    "tenant_id": {"type": "str", "no_log": False, "env": ["AZURE_TENANT_ID", "AZURE_TENANT"]},
    "client_id": {"type": "str", "no_log": False, "env": ["AZURE_CLIENT_ID"]},
    "client_secret": {"type": "str", "no_log": True, "env": ["AZURE_CLIENT_SECRET", "AZURE_SECRET"]},
    "client_certificate_path": {"type": "path", "no_log": False, "env": ["AZURE_CLIENT_CERTIFICATE_PATH"]},
    "client_certificate_password": {"type": "str", "no_log": True, "env": ["AZURE_CLIENT_CERTIFICATE_PASSWORD"]},
    "federated_token_file": {"type": "path", "no_log": False, "env": ["AZURE_FEDERATED_TOKEN_FILE"]},
    "access_token": {"type": "str", "no_log": True, "env": ["MSGRAPH_ACCESS_TOKEN"]},
    "auth_method": {"type": "str", "no_log": False, "default": "auto", "choices": list(AUTH_METHODS),
                    "env": ["MSGRAPH_AUTH_METHOD"]},
    "managed_identity_client_id": {"type": "str", "no_log": False, "env": []},
    # Validated in code (not with choices) so that AWX's names (AzureCloud, ...) work in any case.
    "cloud_environment": {"type": "str", "no_log": False, "default": "global", "env": ["AZURE_CLOUD_ENVIRONMENT"]},
    "authority_host": {"type": "str", "no_log": False, "env": ["AZURE_AUTHORITY_HOST"]},
    "graph_endpoint": {"type": "str", "no_log": False, "env": ["MSGRAPH_ENDPOINT"]},
    # Off: authority_host and graph_endpoint must be official hosts of the cloud (they receive credentials).
    "allow_custom_endpoints": {"type": "bool", "no_log": False, "default": False,
                               "env": ["MSGRAPH_ALLOW_CUSTOM_ENDPOINTS"]},
    "api_version": {"type": "str", "no_log": False, "default": "beta", "choices": list(API_VERSIONS), "env": []},
    "validate_certs": {"type": "bool", "no_log": False, "default": True, "env": []},
    "ca_path": {"type": "path", "no_log": False, "env": ["MSGRAPH_CA_PATH"]},
    "timeout": {"type": "int", "no_log": False, "default": 30, "env": []},
    "max_retries": {"type": "int", "no_log": False, "default": 5, "env": []},
    "retry_budget": {"type": "int", "no_log": False, "default": 120, "env": []},
    # Opt-in: unset keeps tokens in memory only (nothing on disk unless asked).
    "token_cache_dir": {"type": "path", "no_log": False, "env": ["MSGRAPH_TOKEN_CACHE_DIR"]},
}


def env_names(option: str) -> list[str]:
    """The environment variables an option falls back to (possibly empty)."""
    return list(CONNECTION_OPTIONS[option].get("env") or [])


def is_unset(value: Any) -> bool:
    """The one rule for every connection option: None or a blank string counts as unset (AWX injects ``''`` for blank
    credential fields), so the environment and then the default apply."""
    return value is None or (isinstance(value, str) and not value.strip())


def first_env_value(names: Iterable[str], environ: Mapping[str, str]) -> str | None:
    """The value of the first of the environment variables ``names`` that is set and not blank, else None."""
    return next((environ[name] for name in names if not is_unset(environ.get(name))), None)


def resolve_unset_options(params: Mapping[str, Any], environ: Mapping[str, str],
                          defaults: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Every connection option's value: as given in ``params`` unless unset (:func:`is_unset`), else its first usable
    environment variable (a path expanded as Ansible expands one), else ``defaults`` (a caller's own default, such
    as an ``api_version``), else the table's default, else None.

    Returns ``(values, secrets)``: ``secrets`` are the values of ``no_log`` options taken from the environment, for
    the caller to keep out of its output. The modules (``_module.GraphModule``) and the event source use it alike.
    """
    values, secrets = {}, []
    for name, definition in CONNECTION_OPTIONS.items():
        value = params.get(name)
        if not is_unset(value):
            values[name] = value
            continue
        env_value = first_env_value(env_names(name), environ)
        if env_value is not None:
            if definition.get("no_log"):
                secrets.append(env_value)
            if definition["type"] == "path":
                env_value = os.path.expanduser(os.path.expandvars(env_value))
            values[name] = env_value
        elif defaults and name in defaults:
            values[name] = defaults[name]
        elif "default" in definition:
            values[name] = copy.deepcopy(definition["default"])
        else:
            values[name] = None
    return values, secrets


def describe_option(option: str) -> str:
    """``client_secret (or AZURE_CLIENT_SECRET, AZURE_SECRET)`` for messages."""
    names = env_names(option)
    if names:
        return f"{option} (or {', '.join(names)})"
    return option


def connection_argument_spec(fallback: Callable[..., str] | None = None) -> dict[str, dict[str, Any]]:
    """The argument spec of the connection options, as ``AnsibleModule`` takes it.

    ``fallback``: a callable ``fallback(*env_names)`` that returns the first usable environment
    value or raises ``AnsibleFallbackNotFound``; it is attached to every option that has env names.
    This module stays free of Ansible imports: ``_module.py`` passes the callable in.
    """
    spec = {}
    for name, definition in CONNECTION_OPTIONS.items():
        entry = {"type": definition["type"], "no_log": definition["no_log"]}
        if "default" in definition:
            entry["default"] = copy.deepcopy(definition["default"])
        if "choices" in definition:
            entry["choices"] = list(definition["choices"])
        names = env_names(name)
        if fallback is not None and names:
            entry["fallback"] = (fallback, names)
        spec[name] = entry
    return spec
