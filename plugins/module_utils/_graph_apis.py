# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: the standard library and _errors only. No Ansible imports.

"""The Graph APIs the collection calls, one row of facts each: the clouds and API versions offering it, and the
permission each of its calls needs.

A module names only the API it uses (``GraphModule(api=...)``); ``_module.GraphModule`` decides the task's API
version with :func:`api_version_for`, ``_clouds.require_api`` refuses a cloud that does not offer the API, and the
domain helpers name their calls' permissions from :data:`GRAPH_APIS` (a 403's hint quotes them).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import dataclasses
from typing import Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError

US_GOVERNMENT = frozenset(["usgov", "usgov_dod"])
GLOBAL_AND_US_GOVERNMENT = frozenset(["global"]) | US_GOVERNMENT
ALL_CLOUDS = GLOBAL_AND_US_GOVERNMENT | frozenset(["china"])  # the names of _clouds.CLOUDS


@dataclasses.dataclass(frozen=True)
class GraphApi:
    """What the collection knows of one Graph API (docs/service-contract.md rows 18 and 23).

    ``name``: how modules and ``_clouds.require_api`` name it; ``description`` and ``resource`` (what messages call
    the things it serves) are for messages. ``versions``: the API versions it is called in, the default first.
    ``follows_api_version``: True when the task's ``api_version`` chooses among ``versions`` (another is refused
    before any request); False when the API is always called in ``versions[0]``, whatever ``api_version`` says.
    ``clouds``: the clouds offering it. ``not_in_version``: version -> clouds where that version does not offer it
    (refused before any request; ``not_in_version_source`` says why). ``disputed``: version -> clouds where
    Microsoft's sources disagree (allowed, with a warning citing ``dispute_sources``). ``permissions``: call -> its
    least-privileged application permission, which a 403's hint names.
    """

    name: str
    description: str
    resource: str
    clouds: frozenset[str]
    versions: tuple[str, ...]
    permissions: Mapping[str, str]
    follows_api_version: bool = True
    not_in_version: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    not_in_version_source: str = ""
    disputed: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)
    dispute_sources: str = ""

    @property
    def default_version(self) -> str:
        """The API version a task uses when ``api_version`` is not set (the module documents it)."""
        return self.versions[0]


IDENTITY_ACCOUNTS = GraphApi(
    "identity_accounts", "Microsoft Defender for Identity identity accounts API (/security/identities/identityAccounts)",
    "identityAccounts", clouds=GLOBAL_AND_US_GOVERNMENT, versions=("beta", "v1.0"),
    permissions={"read": "SecurityIdentitiesAccount.Read.All", "invoke_action": "SecurityIdentitiesActions.ReadWrite.All"},
    # The US Government v1.0 metadata (microsoftgraph/msgraph-metadata schemas/v1.0-Fairfax.csdl at f54f11b6, vendored
    # excerpt tests/unit/plugins/module_utils/data/v1.0-identityContainer-Prod-and-Fairfax.xml) has no identityAccounts
    # under identityContainer and no invokeAction action; the v1.0 List and invokeAction pages say global only as well.
    not_in_version={"v1.0": US_GOVERNMENT},
    not_in_version_source="Microsoft's v1.0 metadata for US Government (v1.0-Fairfax.csdl) has no identityAccounts and no invokeAction",
    # docs/service-contract.md row 23a: a 404/400 there is explained as "may not be offered in this cloud".
    disputed={"beta": US_GOVERNMENT},
    dispute_sources=(
        "Microsoft's sources disagree on whether US Government clouds offer the identityAccounts API in beta: the rendered beta "
        "List and invokeAction pages (learn.microsoft.com, view=graph-rest-beta) show US Government L4 and L5 as available, while "
        "the beta invokeAction revision this collection pins (microsoft-graph-docs-contrib f2d3e93f) and the v1.0 pages say "
        "global only, and the US Government v1.0 metadata (v1.0-Fairfax.csdl) has no identityAccounts"
    ),
)

# In the beta metadata only (no v1.0 page, no v1.0-Prod entity): another api_version is refused up front.
SECURITY_ACTIONS = GraphApi(
    "security_actions", "legacy security actions API (/security/securityActions)", "securityActions",
    clouds=frozenset(["global"]), versions=("beta",),
    permissions={"read": "SecurityActions.Read.All", "write": "SecurityActions.ReadWrite.All"})

# Users and revokeSignInSessions: generally available in v1.0, in every cloud (national cloud table of
# user-revokesigninsessions); the modules always call v1.0.
ENTRA_USERS = GraphApi(
    "entra_users", "Microsoft Entra ID users API (/users)", "users", clouds=ALL_CLOUDS, versions=("v1.0",), follows_api_version=False,
    permissions={"read": "User.Read.All", "enable": "User.EnableDisableAccount.All and User.Read.All",
                 "revoke_sign_in_sessions": "User.RevokeSessions.All"})

# Identity Protection's riskyUsers: not in the China (21Vianet) cloud (docs/service-contract.md); called by the
# Entra ID user modules, in their v1.0.
RISKY_USERS = GraphApi(
    "risky_users", "Microsoft Entra ID Protection risky users API (/identityProtection/riskyUsers)", "riskyUsers",
    clouds=GLOBAL_AND_US_GOVERNMENT, versions=("v1.0",), follows_api_version=False,
    permissions={"risk_action": "IdentityRiskyUser.ReadWrite.All"})

# Defender XDR incidents and alerts_v2: generally available in v1.0 (the default); the v1.0 pages include
# global-us.md (Global, US Gov L4, L5; not China).
INCIDENTS = GraphApi(
    "incidents", "Microsoft Defender XDR incidents API (/security/incidents)", "incidents",
    clouds=GLOBAL_AND_US_GOVERNMENT, versions=("v1.0", "beta"),
    permissions={"read": "SecurityIncident.Read.All", "write": "SecurityIncident.ReadWrite.All"})
ALERTS = GraphApi(
    "alerts", "Microsoft Defender XDR alerts API (/security/alerts_v2)", "alerts",
    clouds=GLOBAL_AND_US_GOVERNMENT, versions=("v1.0", "beta"), permissions={"read": "SecurityAlert.Read.All"})

GRAPH_APIS = {api.name: api for api in (IDENTITY_ACCOUNTS, SECURITY_ACTIONS, ENTRA_USERS, RISKY_USERS, INCIDENTS, ALERTS)}


def graph_api(name: str) -> GraphApi:
    """The facts of the API ``name``; an unknown name is a programming error (ValueError)."""
    if name not in GRAPH_APIS:
        raise ValueError(f"unknown API {name!r}; known: {', '.join(sorted(GRAPH_APIS))}")
    return GRAPH_APIS[name]


def api_version_for(name: str, requested: str | None) -> str:
    """The API version a task calls the API ``name`` in, given its ``api_version``.

    An API that follows ``api_version`` is called in the requested version if it is offered there, else the task
    fails before any request (:class:`InputError` naming ``api_version``); any other API is called in its one version.
    """
    api = graph_api(name)
    if not api.follows_api_version:
        return api.default_version
    if requested in api.versions:
        return requested
    raise InputError("api_version", f"{api.resource} are offered in Microsoft Graph {' and '.join(api.versions)} only, not in {requested}; "
                                    f"nothing was sent. Set api_version={api.default_version} (the default) for this task")
