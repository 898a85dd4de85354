# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: standard library, _errors and the per-API facts of _graph_apis only. No Ansible imports.

"""National clouds: token authority, Graph root, ``.default`` scope; whether a cloud offers an API (the clouds each
API is offered in are facts of ``_graph_apis.GRAPH_APIS``)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from typing import Iterable

from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphUnsupportedCloudError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import graph_api


class Cloud:
    """One Microsoft cloud. The scope always follows the cloud, whatever endpoint overrides say.

    ``authority_hosts`` / ``graph_hosts``: every official host name of the cloud's token service and Graph root
    (lower case, port 443); the first authority host is the default.
    """

    def __init__(self, name: str, display_name: str, authority_host: str, graph_root: str, other_authority_hosts: Iterable[str] = ()) -> None:
        self.name = name
        self.display_name = display_name
        self.authority_host = authority_host  # https://login.microsoftonline.com
        self.graph_root = graph_root  # https://graph.microsoft.com
        self.authority_hosts = tuple([_host_of(authority_host)] + list(other_authority_hosts))
        self.graph_hosts = (_host_of(graph_root),)

    @property
    def scope(self) -> str:
        """The client-credentials scope for Microsoft Graph in this cloud."""
        return self.graph_root + "/.default"

    @property
    def msi_resource(self) -> str:
        """The managed identity ``resource`` for Microsoft Graph in this cloud."""
        return self.graph_root


def _host_of(url):
    return url.split("://", 1)[-1].split("/", 1)[0].lower()


# Official endpoints, from Microsoft's national cloud pages (docs/service-contract.md row 23):
# - https://learn.microsoft.com/graph/deployments (microsoft-graph-docs-contrib: concepts/deployments.md):
#   Graph roots graph.microsoft.com, graph.microsoft.us, dod-graph.microsoft.us, microsoftgraph.chinacloudapi.cn and
#   token services login.microsoftonline.com, login.microsoftonline.us, login.chinacloudapi.cn;
# - MicrosoftDocs/entra-docs: docs/identity-platform/authentication-national-cloud.md names
#   login.partner.microsoftonline.cn for Azure operated by 21Vianet. The two pages disagree, so China accepts both
#   (MSAL's authority.WELL_KNOWN_AUTHORITY_HOSTS lists both as well).
CLOUDS = {
    "global": Cloud("global", "Microsoft Azure global (also GCC moderate)",
                    "https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": Cloud("usgov", "Azure US Government L4 (GCC High)",
                   "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "usgov_dod": Cloud("usgov_dod", "Azure US Government L5 (DoD)",
                       "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": Cloud("china", "Microsoft Azure operated by 21Vianet (China)",
                   "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn",
                   other_authority_hosts=("login.partner.microsoftonline.cn",)),
}

# Lower-cased accepted names -> cloud name. AWX's Azure RM credential uses AzureCloud, AzureUSGovernment,
# AzureChinaCloud.
CLOUD_ALIASES = {
    "global": "global",
    "usgov": "usgov",
    "usgov_dod": "usgov_dod",
    "china": "china",
    "azurecloud": "global",
    "azureusgovernment": "usgov",
    "azurechinacloud": "china",
}


def resolve_cloud(name: Cloud | str | None) -> Cloud:
    """The :class:`Cloud` for a name (case-insensitive; AWX names accepted). ``None``/'' means global."""
    if isinstance(name, Cloud):
        return name
    if name is None or (isinstance(name, str) and not name.strip()):
        return CLOUDS["global"]
    key = CLOUD_ALIASES.get(str(name).strip().lower())
    if key is None:
        raise InputError(
            "cloud_environment",
            f"unknown cloud {name!r}; use one of global, usgov, usgov_dod, china (or AWX's names AzureCloud, AzureUSGovernment, AzureChinaCloud)",
        )
    return CLOUDS[key]


def require_api(cloud: Cloud | str | None, api: str, api_version: str | None = None) -> None:
    """Raise :class:`GraphUnsupportedCloudError` if ``api`` (a name of ``_graph_apis.GRAPH_APIS``) is not offered in
    ``cloud`` (in ``api_version``, when given). No request is made."""
    cloud = resolve_cloud(cloud)
    facts = graph_api(api)
    available = facts.clouds
    if cloud.name in available and cloud.name in facts.not_in_version.get(api_version or "", ()):
        other = sorted(version for version, clouds in facts.disputed.items() if cloud.name in clouds)
        raise GraphUnsupportedCloudError(
            f"The {api} ({facts.description}) is not offered in {api_version} in the {cloud.name} cloud ({cloud.display_name}): "
            f"{facts.not_in_version_source}; nothing was sent",
            code="UnsupportedCloud",
            hint=(f"set api_version: {other[0]} (Microsoft's sources disagree on whether it is offered there; the task warns) "
                  if other else "") + "or run the task against a tenant in the global cloud",
        )
    if cloud.name in available:
        return
    raise GraphUnsupportedCloudError(
        f"The {api} ({facts.description}) is not offered in the {cloud.name} cloud ({cloud.display_name}); it is available in: {', '.join(sorted(available))}",
        code="UnsupportedCloud",
        hint=f"run this task against a tenant in one of: {', '.join(sorted(available))} (cloud_environment)",
    )


def _disputed(cloud, api, api_version):
    return bool(api) and resolve_cloud(cloud).name in graph_api(api).disputed.get(api_version, ())


def availability_warnings(cloud: Cloud | str | None, api: str | None, api_version: str | None) -> list[str]:
    """Warnings for an API whose availability in ``cloud`` and ``api_version`` Microsoft's sources disagree on."""
    if not api or not _disputed(cloud, api, api_version):
        return []
    name = resolve_cloud(cloud).name
    return [f"{graph_api(api).dispute_sources}. The task goes ahead in {api_version} in the {name} cloud; if the tenant lacks the API, "
            "Graph answers 404 or 400 and the error says so"]


def explain_unavailable(error: GraphError, cloud: Cloud | str | None, api: str | None, api_version: str | None) -> GraphError:
    """A 404 or 400 for an API whose availability is disputed in this cloud: the hint says it may not be offered
    here, citing both sources, and keeps what Graph said (code, request ids). Any other error is returned as it is."""
    if error.status not in (400, 404) or not api or not _disputed(cloud, api, api_version):
        return error
    name = resolve_cloud(cloud).name
    note = (f"the {api} may not be offered in this cloud ({name}, {api_version}): {graph_api(api).dispute_sources}; if the tenant "
            "lacks it, run the task against a tenant in the global cloud")
    error.hint = f"{note}; otherwise: {error.hint}" if error.hint else note
    return error
