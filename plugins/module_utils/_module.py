# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 1: the Ansible glue. The only module_utils file that imports ansible.

"""``GraphModule``: the connection argument spec, early input checks, the Graph client, error mapping."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import copy
import os
import sys
import traceback
from typing import TYPE_CHECKING, Any, NoReturn

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.msgraph.security.plugins.module_utils._clouds import availability_warnings, explain_unavailable, require_api
from ansible_collections.msgraph.security.plugins.module_utils._connection import ConnectionSettings, select_auth_method
from ansible_collections.msgraph.security.plugins.module_utils._credentials import (
    HAS_MSAL,
    MSAL_IMPORT_ERROR,
    open_persistent_cache,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError, redact, register_secret
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import api_version_for, graph_api
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient, connect
from ansible_collections.msgraph.security.plugins.module_utils._http import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    REQUESTS_REQUIREMENT,
    REQUESTS_TOO_OLD,
)
from ansible_collections.msgraph.security.plugins.module_utils._options import (
    connection_argument_spec as _table_argument_spec,
    first_env_value,
    resolve_unset_options,
)


def env_fallback_nonempty(*names: str) -> str:
    """Like ``env_fallback``, but an empty (or blank) variable counts as unset, as AWX injects ``''``."""
    value = first_env_value(names, os.environ)
    if value is None:
        raise AnsibleFallbackNotFound
    return value


def _redacting_excepthook(kind, value, trace):
    """Print a crash's traceback with secrets removed.

    An exception nothing catches (e.g. a BaseException from a library) reaches Python's hook; its message may carry a
    credential the library was given, and Ansible shows module stderr as it is.
    """
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, trace))))


def connection_argument_spec() -> dict[str, dict[str, Any]]:
    """The connection options' argument spec, with env fallbacks that skip empty variables."""
    return _table_argument_spec(fallback=env_fallback_nonempty)


class GraphModule(AnsibleModule):
    """An ``AnsibleModule`` taking the connection options, for the Graph ``api`` it calls.

    ``api``: a name of ``_graph_apis.GRAPH_APIS``, whose facts decide the rest: a cloud that does not offer the API
    fails the task before any request; ``api_version`` defaults to the API's default version (a module whose API
    defaults to another version than the connection options' documents it by overriding the option), a version
    the API is not offered in is refused, and an API called in one version only is called in it whatever
    ``api_version`` says (``connection_settings.api_version`` is the version used). Other keyword arguments
    (``supports_check_mode``, ``mutually_exclusive``, ``required_if``, ...) go to ``AnsibleModule``.
    """

    # The MSAL token cache: None = in memory, per task; set from token_cache_dir (the opt-in persistent cache)
    # when the client is built, unless something set it before.
    token_cache = None

    if TYPE_CHECKING:  # AnsibleModule has no type hints: what mypy needs to know of the two that end the task
        def fail_json(self, msg: str, **kwargs: Any) -> NoReturn:
            ...

        def exit_json(self, **kwargs: Any) -> NoReturn:
            ...

    def __init__(self, argument_spec: dict[str, dict[str, Any]] | None = None, api: str | None = None, **kwargs: Any) -> None:
        spec = connection_argument_spec()
        self._default_overrides = {}
        facts = graph_api(api) if api else None
        if facts is not None and facts.follows_api_version:
            spec["api_version"]["default"] = facts.default_version
            self._default_overrides["api_version"] = facts.default_version
        own = copy.deepcopy(argument_spec or {})
        clash = sorted(set(spec) & set(own))
        if clash:
            raise ValueError(f"module options clash with the connection options: {', '.join(clash)}")
        spec.update(own)
        super().__init__(argument_spec=spec, **kwargs)
        sys.excepthook = _redacting_excepthook
        for value in self.no_log_values:
            register_secret(value)
        self.api = api
        self._graph_client: GraphClient | None = None
        self._resolve_unset_connection_params()
        try:
            self.connection_settings = ConnectionSettings.from_params(self.params).validate()
            if api:
                require_api(self.connection_settings.cloud, api, self.connection_settings.api_version)
        except (GraphError, InputError) as err:
            self.fail_on_error(err)
        for message in availability_warnings(self.connection_settings.cloud, api, self.connection_settings.api_version):
            self.warn(message)
        for message in self.connection_settings.custom_endpoint_warnings(self._auth_method_or_none()):
            self.warn(message)
        if api:
            # After the cloud check and the warnings: a cloud without the API is said first, the warnings still shown.
            try:
                self.connection_settings.api_version = api_version_for(api, self.connection_settings.api_version)
            except InputError as err:
                self.fail_on_error(err)

    def _auth_method_or_none(self):
        try:
            return select_auth_method(self.connection_settings)
        except InputError:
            return None  # reported when the client is built

    def auth_method(self) -> str:
        """The auth method the task uses (never ``auto``); fails the task when the credentials do not add up."""
        try:
            return select_auth_method(self.connection_settings)
        except InputError as err:
            self.fail_on_error(err)

    def _resolve_unset_connection_params(self):
        """An explicit ``''``/``null`` connection parameter counts as unset: environment, then default."""
        resolved, secrets = resolve_unset_options(self.params, os.environ, self._default_overrides)
        self.no_log_values.update(secrets)
        self.params.update(resolved)

    def graph_client(self, pool_size: int | None = None) -> GraphClient:
        """The :class:`GraphClient`, built once (session -> token provider -> client). Fails the task on error.

        ``pool_size``: connections kept open to each host, for modules that send requests from several threads.
        """
        if self._graph_client is not None:
            return self._graph_client
        if not HAS_REQUESTS:
            message = missing_required_lib(REQUESTS_REQUIREMENT)
            self.fail_json(msg=f"{message} {REQUESTS_TOO_OLD}" if REQUESTS_TOO_OLD else message, exception=REQUESTS_IMPORT_ERROR)
        settings = self.connection_settings
        try:
            method = select_auth_method(settings)
            if method != "access_token" and not HAS_MSAL:
                self.fail_json(msg=missing_required_lib("msal"), exception=MSAL_IMPORT_ERROR)
            if self.token_cache is None:
                self.token_cache = open_persistent_cache(settings, method, warn=self.warn)
            self._graph_client = connect(settings, token_cache=self.token_cache, pool_size=pool_size, warn=self.warn)
            for value in self._graph_client.token_provider.sensitive_values:
                if value:
                    self.no_log_values.add(value)
        except (GraphError, InputError) as err:
            self.fail_on_error(err)
        return self._graph_client

    def fail_on_error(self, error: BaseException, **result: Any) -> NoReturn:
        """Fail the task for ``error``, keeping ``result`` (e.g. ``changed``, what was read so far).

        GraphError -> ``msg=str(error)`` and ``error=error.to_result()`` (the details once, never again at the top
        level); InputError -> ``msg=str(error)``, ``option``; anything else -> its type and message with a traceback.
        """
        payload = dict(result)
        if isinstance(error, GraphError):
            settings = getattr(self, "connection_settings", None)
            if settings is not None:
                error = explain_unavailable(error, settings.cloud, self.api, settings.api_version)
            payload["error"] = error.to_result()
            payload["msg"] = str(error)
            self.fail_json(**payload)
        if isinstance(error, InputError):
            payload["msg"] = str(error)
            payload["option"] = error.option
            self.fail_json(**payload)
        payload["msg"] = f"{type(error).__name__}: {redact(str(error))}"
        payload["exception"] = redact("".join(traceback.format_exception(type(error), error, error.__traceback__)))
        self.fail_json(**payload)

    def exit_with_result(self, result: dict[str, Any]) -> NoReturn:
        """End the task with a domain result: its ``warnings`` go to :meth:`warn`, its ``diff`` is returned only in
        diff mode, and a result marked ``failed`` (a bulk target that did not succeed) fails the task."""
        for warning in result.pop("warnings", None) or []:
            self.warn(warning)
        diff = result.pop("diff", None)
        if self._diff and diff is not None:
            result["diff"] = diff
        if result.pop("failed", False):
            self.fail_json(**result)
        self.exit_json(**result)
