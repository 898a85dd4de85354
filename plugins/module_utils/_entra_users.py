# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Entra ID directory containment: a user's accountEnabled, revokeSignInSessions, riskyUsers confirm/dismiss.

Layer 2 (see docs/architecture.md): no Ansible imports. The modules entra_user and entra_user_action only map
options to these calls. Microsoft sources (docs/service-contract.md, "Entra ID directory actions"; example payloads
vendored under tests/contract/payloads/entra/):

* ``GET /users/{id | userPrincipalName}?$select=...`` (user-get.md): accountEnabled and the on-premises properties
  are not in the default property set, so they are always selected;
* ``PATCH /users/{id}`` -> ``204 No Content`` (user-update.md); least privilege User.EnableDisableAccount.All with
  User.Read.All. Administrators can only be changed by callers holding a sufficient directory role ("who can perform
  sensitive actions"); Graph refuses with 403 ``Authorization_RequestDenied``;
* ``POST /users/{id}/revokeSignInSessions``: ``200`` with ``{"value": true}`` (the page's example) or ``204 No
  Content`` (other revisions and the known issue); both are success. External users are not revoked;
* ``POST /identityProtection/riskyUsers/confirmCompromised`` and ``/dismiss`` with ``{"userIds": [...]}`` -> ``204``;
  IdentityRiskyUser.ReadWrite.All and a Microsoft Entra ID P2 license.
* The Defender for Identity identity's Entra ID account identifier is the user's object id (a GUID in Microsoft's
  example). Its ``cloudSecurityIdentifier`` is not a reliable key: Microsoft's example shows an ``S-1-12-4`` value
  that does not decode to the account identifier. Only the ``S-1-12-1`` form (Entra ID's SID of a user object)
  is converted to an object id; any other cloud SID is refused.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import functools
import re
import time
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._clouds import Cloud, require_api
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    InputError,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import ENTRA_USERS, RISKY_USERS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient, path_segment, read_one
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import IdentityResolutionError
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    LOOKUP_ID,
    LOOKUP_UPN,
    Selector,
    cloud_sid_from_object_id,
    is_guid,
    match_key,
    normalize_user_id,
    selector_from_params,
)
from ansible_collections.msgraph.security.plugins.module_utils._protected_accounts import ProtectedAccounts
from ansible_collections.msgraph.security.plugins.module_utils._writes import (
    OUTCOME_CHECK_MODE,
    OUTCOME_SENT,
    OUTCOME_UNCHANGED,
    Write,
    send_once,
)

USERS_PATH = "/users"
RISKY_USERS_PATH = "/identityProtection/riskyUsers"
USER_SELECT = ("id,userPrincipalName,displayName,mail,accountEnabled,userType,onPremisesSyncEnabled,"
               "onPremisesSecurityIdentifier,signInSessionsValidFromDateTime")

# Least-privileged application permissions of each call; a 403 names them.
READ_PERMISSION = ENTRA_USERS.permissions["read"]
ENABLE_PERMISSION = ENTRA_USERS.permissions["enable"]
REVOKE_PERMISSION = ENTRA_USERS.permissions["revoke_sign_in_sessions"]
RISK_PERMISSION = RISKY_USERS.permissions["risk_action"]
AUDIT_TRAIL = "the Entra ID audit log"

# Option -> lookup kind: both modules target one user by object id (or its S-1-12-1 form) or UPN.
USER_TARGET_OPTIONS = {"user_id": LOOKUP_ID, "user_principal_name": LOOKUP_UPN}

REVOKE_SIGN_IN_SESSIONS = "revoke_sign_in_sessions"
CONFIRM_COMPROMISED = "confirm_compromised"
DISMISS_RISK = "dismiss_risk"
USER_ACTIONS = (REVOKE_SIGN_IN_SESSIONS, CONFIRM_COMPROMISED, DISMISS_RISK)
# The API (_graph_apis.GRAPH_APIS) each action needs.
ACTION_API = {REVOKE_SIGN_IN_SESSIONS: "entra_users", CONFIRM_COMPROMISED: "risky_users", DISMISS_RISK: "risky_users"}
_RISK_SEGMENT = {CONFIRM_COMPROMISED: "confirmCompromised", DISMISS_RISK: "dismiss"}
# What riskyUser documents each action does (riskyuser-confirmcompromised.md, riskyuser-dismiss.md).
_RISK_EFFECT = {CONFIRM_COMPROMISED: {"risk_state": "confirmedCompromised", "risk_level": "high"},
                DISMISS_RISK: {"risk_state": "dismissed", "risk_level": "none"}}

# "The maximum count of users to dismiss in one call is 60." (beta riskyusers-dismiss.md); the confirmCompromised
# pages state no number, so the one documented maximum bounds both actions' userIds.
MAX_RISKY_USER_IDS = 60
# Identity Protection: 1 request per second per tenant for all apps, and its 429 carries no Retry-After (Graph
# throttling limits page): one request of up to 60 ids at a time, at most one a second.
RISKY_USERS_INTERVAL_S = 1.0
DEFAULT_MAX_TARGETS = 100
BULK_ACTIONS = (CONFIRM_COMPROMISED, DISMISS_RISK)

_NOT_LICENSED = "not licensed"


# ---------------------------------------------------------------------------------------------
# Identifiers
# ---------------------------------------------------------------------------------------------


def user_selector(params: Mapping[str, Any]) -> Selector:
    """The one target of ``user_id`` / ``user_principal_name`` (exactly one, validated, before any request)."""
    params = dict(params)
    if params.get("user_id") is not None and params.get("user_principal_name") is None:
        # Before the shared selector's id check, whose words are about identity accounts.
        params["user_id"] = normalize_user_id(params["user_id"], "user_id")
    return selector_from_params(params, USER_TARGET_OPTIONS)


def user_path(user_id: str) -> str:
    """The Graph path of one user, its id percent-encoded as one path segment."""
    return f"{USERS_PATH}/{path_segment(user_id)}"


# ---------------------------------------------------------------------------------------------
# Reading and guarding
# ---------------------------------------------------------------------------------------------


def parse_user(raw: Any) -> dict[str, Any]:
    """A Graph user -> snake_case, with the S-1-12-1 form of its id."""
    raw = raw if isinstance(raw, dict) else {}
    user_id = raw.get("id")
    return {
        "id": user_id,
        "user_principal_name": raw.get("userPrincipalName"),
        "display_name": raw.get("displayName"),
        "mail": raw.get("mail"),
        "account_enabled": raw.get("accountEnabled"),
        "user_type": raw.get("userType"),
        "on_premises_sync_enabled": raw.get("onPremisesSyncEnabled"),
        "on_premises_security_identifier": raw.get("onPremisesSecurityIdentifier"),
        "cloud_security_identifier": cloud_sid_from_object_id(user_id) if is_guid(user_id) else None,
        "sign_in_sessions_valid_from_date_time": raw.get("signInSessionsValidFromDateTime"),
    }


def read_user(client: GraphClient, selector: Selector) -> dict[str, Any]:
    """GET the one user ``selector`` names; fails closed when Graph answers with another user or none."""
    response = read_one(client, user_path(selector.value), params={"$select": USER_SELECT}, permission=READ_PERMISSION,
                        missing=lambda error: IdentityResolutionError(
                            selector.option, f"no Entra ID user matches {selector.describe()} (Graph: {error.code or error.status})"))
    user = parse_user(response.body if response is not None else None)
    if not is_guid(user["id"]):
        raise IdentityResolutionError(selector.option, f"Graph answered {selector.describe()} with a user without an object id")
    expected = user["id"] if selector.kind == LOOKUP_ID else user["user_principal_name"]
    # As the identity lookups compare (match_key: NFC, A-Z only): casefold() would take U+FB01 'ﬁnance@' for 'finance@'.
    if not isinstance(expected, str) or match_key(expected) != match_key(selector.value):
        raise IdentityResolutionError(
            selector.option,
            f"Graph answered {selector.describe()} with another user ({user['id']}, {user['user_principal_name']}); refusing to act",
            [{"id": user["id"], "display_name": user["display_name"], "user_principal_name": user["user_principal_name"]}],
        )
    return user


def read_user_again(client: GraphClient, user: Mapping[str, Any]) -> dict[str, Any]:
    """After a write: the user read by the object id resolved before it, never by the task's UPN (which may have moved to
    another user, or away from a renamed target, in the meantime)."""
    return read_user(client, Selector(LOOKUP_ID, user["id"], "user_id"))


def check_user_not_protected(user: Mapping[str, Any], protected: ProtectedAccounts) -> None:
    """The identity modules' guard (a ProtectedAccounts), on the user's id, UPN, mail, on-premises SID and cloud SID."""
    protected.check(
        {
            "id": user["id"],
            "display_name": user["display_name"],
            "user_principal_name": user["user_principal_name"],
            "email_address": user["mail"],
            "on_premises_security_identifier": user["on_premises_security_identifier"],
            "cloud_security_identifier": user["cloud_security_identifier"],
            "accounts": [],
        }
    )


def sync_warning(user: Mapping[str, Any], account_enabled: bool) -> str | None:
    """A user synchronised from Active Directory gets accountEnabled back from AD at the next sync."""
    if user.get("on_premises_sync_enabled") is not True:
        return None
    action = "enable" if account_enabled else "disable"
    return (
        f"user {user['user_principal_name'] or user['id']} is synchronised from on-premises Active Directory (onPremisesSyncEnabled): "
        f"directory sync overwrites accountEnabled with the AD account's state, so {action} the Active Directory account too "
        f"(msgraph.security.identity_account_action, identity_provider: activeDirectory, action: {action})"
    )


def _explain_forbidden(error, permission, user):
    """A 403 on a write after the read succeeded: a missing permission, or (Authorization_RequestDenied) an admin."""
    error.required_permission = permission
    if error.code == "Authorization_RequestDenied":
        error.hint = (
            f"Graph refused to change {user['user_principal_name'] or user['id']}. Either the app lacks {permission} (with admin consent), "
            "or the user holds a privileged administrator role: changing administrators is a sensitive action that needs the caller to hold a"
            " directory role at least as privileged (for example Privileged Authentication Administrator). Contain"
            " administrators through your break-glass procedure, or assign the app such a role deliberately"
        )
    return error


def _explain_synced_refusal(error, user, account_enabled):
    """A 400 on the accountEnabled PATCH of a user mastered on-premises: the change belongs in Active Directory."""
    if user.get("on_premises_sync_enabled") is True:
        action = "enable" if account_enabled else "disable"
        error.hint = (
            f"{user['user_principal_name'] or user['id']} is mastered in on-premises Active Directory (onPremisesSyncEnabled), and Graph "
            f"refused to change its synchronised accountEnabled. {action.capitalize()} the Active Directory account instead: "
            f"msgraph.security.identity_account_action with identity_provider: activeDirectory and action: {action} (Defender for "
            "Identity); directory sync then carries the change to Entra ID. Revoke the user's sessions with "
            "msgraph.security.entra_user_action meanwhile"
        )
    return error


def _explain_risky_users_forbidden(error):
    error.required_permission = RISK_PERMISSION
    if _NOT_LICENSED in str(error.message).lower():
        error.hint = ("the tenant has no Microsoft Entra ID P2 license, which the riskyUsers API requires (this is not a"
                      " missing permission); revoke sessions and disable the account instead")
    else:
        error.hint = f"grant the application permission {RISK_PERMISSION} with admin consent; the riskyUsers API also needs a Microsoft Entra ID P2 license"
    return error


# ---------------------------------------------------------------------------------------------
# accountEnabled (entra_user)
# ---------------------------------------------------------------------------------------------


def run_account_enabled(client: GraphClient, selector: Selector, account_enabled: bool, protected_accounts: Iterable[str] | None = None,
                        check_mode: bool = False, client_request_id: str | None = None) -> dict[str, Any]:
    """Read the user, guard, and PATCH accountEnabled only when it differs. Returns the module's result keys."""
    protected = ProtectedAccounts(protected_accounts)
    if not isinstance(account_enabled, bool):
        raise InputError("account_enabled", "must be true or false")
    user = read_user(client, selector)
    check_user_not_protected(user, protected)
    warnings = protected.warnings()
    before = user["account_enabled"]
    if before is None:
        warnings.append(f"Graph did not return accountEnabled for {user['id']}; sending the change")
    changed = before is not account_enabled
    result = {
        "changed": changed,
        "user": user,
        "diff": {"before": {"account_enabled": before}, "after": {"account_enabled": account_enabled if changed else before}},
        "warnings": warnings,
    }
    warning = sync_warning(user, account_enabled)
    if warning:
        warnings.append(warning)
    if not changed:
        result.update(outcome=OUTCOME_UNCHANGED, reason=f"accountEnabled is already {str(before).lower()}")
        return result
    write = Write("PATCH", user_path(user["id"]), {"accountEnabled": account_enabled}, ENABLE_PERMISSION,
                  what=f"the accountEnabled change for {user['id']}", audit_trail=AUDIT_TRAIL, read_what="the user",
                  read_back=lambda: read_user_again(client, user), proves=lambda now: now["account_enabled"] is account_enabled,
                  describe=lambda now: f"accountEnabled={str(now['account_enabled']).lower()}",
                  explain=lambda error: _explain_write_refusal(error, ENABLE_PERMISSION, user, account_enabled))
    _send(client, write, result, check_mode, client_request_id)
    return result


def _send(client, write, result, check_mode, client_request_id=None):
    """The one write protocol (:func:`_writes.send_once`) into the module's result keys: ``request`` always,
    ``outcome`` and ``request_ids`` once sent. Returns what sending established, or None in check mode."""
    result["request"] = write.preview(client)
    if check_mode:
        result["outcome"] = OUTCOME_CHECK_MODE
        return None
    sent = send_once(client, write, client_request_id)
    if sent.warning:
        result["warnings"].append(sent.warning)
    result["outcome"], result["request_ids"] = sent.outcome, sent.request_ids
    return sent


def _explain_write_refusal(error, permission, user, account_enabled):
    """A 403 names the permission (or the administrator it protects); a 400 on a synchronised user points to AD."""
    if error.status == 403:
        return _explain_forbidden(error, permission, user)
    if error.status == 400:
        return _explain_synced_refusal(error, user, account_enabled)
    return error


# ---------------------------------------------------------------------------------------------
# Commands (entra_user_action)
# ---------------------------------------------------------------------------------------------


def normalize_user_action(value: Any, option: str = "action") -> str:
    """The action's canonical name (case, spaces and dashes forgiven); :class:`InputError` names ``option`` otherwise."""
    key = re.sub(r"[\s\-]", "_", value.strip()).lower() if isinstance(value, str) else None
    if key not in USER_ACTIONS:
        raise InputError(option, f"'{value}' is not a known action; use one of: {', '.join(USER_ACTIONS)}")
    return key


def validate_user_action(cloud: Cloud | str | None, action: Any) -> str:
    """Input checks before any request: the action, and whether the cloud offers the API it needs."""
    action = normalize_user_action(action)
    require_api(cloud, ACTION_API[action])
    return action


def _action_request(user, action):
    if action == REVOKE_SIGN_IN_SESSIONS:
        return f"{user_path(user['id'])}/revokeSignInSessions", None, REVOKE_PERMISSION
    return f"{RISKY_USERS_PATH}/{_RISK_SEGMENT[action]}", {"userIds": [user["id"]]}, RISK_PERMISSION


def _action_diff(user, action):
    if action == REVOKE_SIGN_IN_SESSIONS:
        before = {"sign_in_sessions_valid_from_date_time": user["sign_in_sessions_valid_from_date_time"]}
        return {"before": before, "after": {"sign_in_sessions_valid_from_date_time": "(the time Graph carries out the request)"}}
    return {"before": {"risk_state": None, "risk_level": None}, "after": dict(_RISK_EFFECT[action])}


def run_user_action(client: GraphClient, selector: Selector, action: Any, protected_accounts: Iterable[str] | None = None,
                    check_mode: bool = False, client_request_id: str | None = None) -> dict[str, Any]:
    """Read the user, guard, and send the command (every run: commands have no state to compare)."""
    protected = ProtectedAccounts(protected_accounts)
    action = normalize_user_action(action)
    user = read_user(client, selector)
    check_user_not_protected(user, protected)
    warnings = protected.warnings()
    if action == REVOKE_SIGN_IN_SESSIONS and (user["user_type"] or "").lower() == "guest":
        warnings.append(f"{user['user_principal_name'] or user['id']} is an external (guest) user: revokeSignInSessions does not "
                        "revoke their sessions, which their home tenant issues; disable the account or remove the guest instead")
    path, body, permission = _action_request(user, action)
    result = {"changed": True, "user": user, "action": action, "diff": _action_diff(user, action), "warnings": warnings}
    before = user["sign_in_sessions_valid_from_date_time"]
    write = Write("POST", path, body, permission, what=f"the {action} request for {user['id']}", audit_trail=AUDIT_TRAIL,
                  read_what="the user", explain=lambda error: _explain_action_refusal(error, action, permission, user))
    if action == REVOKE_SIGN_IN_SESSIONS:
        # A revocation shows as a newer signInSessionsValidFromDateTime, read by the object id resolved before it.
        write.read_back = lambda: read_user_again(client, user)
        write.proves = lambda now: bool(now["sign_in_sessions_valid_from_date_time"]) and now["sign_in_sessions_valid_from_date_time"] != before
        write.describe = lambda now: f"signInSessionsValidFromDateTime {before} -> {now['sign_in_sessions_valid_from_date_time']}"
    sent = _send(client, write, result, check_mode, client_request_id)
    if sent is not None and action == REVOKE_SIGN_IN_SESSIONS:
        if sent.reconciled:
            _record_sessions(result, sent.state["sign_in_sessions_valid_from_date_time"])
        else:
            _check_revoke_answer(sent.answer)
            _read_back_sessions(client, user, result)
    return result


def _explain_action_refusal(error, action, permission, user):
    if error.status != 403:
        return error
    return _explain_forbidden(error, permission, user) if action == REVOKE_SIGN_IN_SESSIONS else _explain_risky_users_forbidden(error)


def _record_sessions(result, after):
    result["sign_in_sessions_valid_from_date_time"] = after
    result["diff"]["after"] = {"sign_in_sessions_valid_from_date_time": after}


def _check_revoke_answer(response):
    """200 ``{"value": true}`` and 204 (empty) are both success (the page's revisions disagree); false is not."""
    body = response.body
    if isinstance(body, dict) and "value" in body and body["value"] is not True:
        raise GraphError(
            f"revokeSignInSessions answered HTTP {response.status} with value={body['value']!r}: Graph did not confirm the revocation",
            status=response.status, code="RevocationNotConfirmed", request_id=response.request_id,
            client_request_id=response.client_request_id, method="POST", url=response.url,
            hint="check the user's signInSessionsValidFromDateTime and the Entra ID audit log, then run the task again",
        )


def _read_back_sessions(client, user, result):
    """The new signInSessionsValidFromDateTime, when readable; a failed read only warns (the revocation was accepted)."""
    before = user["sign_in_sessions_valid_from_date_time"]
    try:
        after = read_user_again(client, user)["sign_in_sessions_valid_from_date_time"]
    except (GraphError, IdentityResolutionError) as error:
        result["warnings"].append(f"the revocation was accepted but signInSessionsValidFromDateTime could not be read back ({error})")
        after = None
    _record_sessions(result, after)
    if after is not None and after == before and (user["user_type"] or "").lower() != "guest":
        result["warnings"].append(f"signInSessionsValidFromDateTime still shows {after}; Graph says revocation can take a few minutes")


# ---------------------------------------------------------------------------------------------
# Risk actions in bulk (entra_user_action targets)
# ---------------------------------------------------------------------------------------------


def target_selectors(targets: Any, max_targets: Any = DEFAULT_MAX_TARGETS) -> list[Selector]:
    """One Selector per ``targets`` entry (``{user_id | user_principal_name}``), validated before any request."""
    if not isinstance(targets, list) or not targets:
        raise InputError("targets", "must be a non-empty list of {user_id} or {user_principal_name} entries")
    if isinstance(max_targets, bool) or not isinstance(max_targets, int) or max_targets < 1:
        raise InputError("max_targets", "must be a positive integer")
    if len(targets) > max_targets:
        raise InputError("max_targets", f"{len(targets)} targets exceed max_targets ({max_targets}); nothing was sent. Check the "
                         "target list, or raise max_targets if the incident really is that large")
    selectors = []
    for index, target in enumerate(targets):
        option = f"targets[{index}]"
        if not isinstance(target, Mapping) or set(target) - set(USER_TARGET_OPTIONS):
            raise InputError(option, "must be a dict with exactly one of user_id or user_principal_name")
        try:
            selector = user_selector({key: target.get(key) for key in USER_TARGET_OPTIONS})
        except InputError as error:
            raise InputError(f"{option}.{error.option}", error.message)
        selectors.append(Selector(selector.kind, selector.value, f"{option}.{selector.option}"))
    return selectors


def chunked(items: list[Any], size: int = MAX_RISKY_USER_IDS) -> list[list[Any]]:
    """``items`` in consecutive lists of at most ``size`` (by default the riskyUsers requests' limit of user ids)."""
    return [items[start:start + size] for start in range(0, len(items), size)]


def run_bulk_risk_action(client: GraphClient, selectors: list[Selector], action: Any, protected_accounts: Iterable[str] | None = None,
                         check_mode: bool = False, sleep: Callable[[float], None] = time.sleep,
                         clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """confirm_compromised / dismiss_risk for many users: every user read and guarded first (one unknown, ambiguous or
    protected target refuses the whole task, nothing sent), then ceil(users / 60) requests, at most one a second."""
    action = normalize_user_action(action)
    if action not in BULK_ACTIONS:
        raise InputError("targets", f"targets are for {' and '.join(BULK_ACTIONS)}, whose request takes many userIds; loop the task for {action}")
    protected = ProtectedAccounts(protected_accounts)
    users, seen = [], set()
    for selector in selectors:
        user = read_user(client, selector)
        check_user_not_protected(user, protected)
        if user["id"] not in seen:
            seen.add(user["id"])
            users.append(user)
    warnings = protected.warnings()
    batches = chunked([user["id"] for user in users])
    path = f"{RISKY_USERS_PATH}/{_RISK_SEGMENT[action]}"
    result = {"changed": True, "action": action, "users": users, "warnings": warnings,
              "batch_requests": [{"method": "POST", "url": client.url_for(path), "body": {"userIds": batch}} for batch in batches],
              "diff": {"before": {"risk_state": None, "risk_level": None}, "after": dict(_RISK_EFFECT[action], users=len(users))}}
    if check_mode:
        result["outcome"] = OUTCOME_CHECK_MODE
        return result
    result["batch_request_ids"], last_answer = [], None
    for number, batch in enumerate(batches):
        if last_answer is not None:
            # From the previous answer, not the previous send: the service counts arrivals, and an answer comes after its arrival.
            sleep(max(0.0, RISKY_USERS_INTERVAL_S - (clock() - last_answer)))
        first = number * MAX_RISKY_USER_IDS + 1
        write = Write("POST", path, {"userIds": batch}, RISK_PERMISSION, audit_trail=AUDIT_TRAIL,
                      what=f"the {action} request for users {first}-{first + len(batch) - 1} of {len(users)}",
                      unreadable=f"; {number} earlier request(s) were accepted",
                      explain=functools.partial(_explain_batch_refusal, accepted=number, total=len(users)))
        sent = send_once(client, write)
        last_answer = clock()
        result["batch_request_ids"].append(sent.request_ids)
    result["outcome"] = OUTCOME_SENT
    return result


def _explain_batch_refusal(error, accepted, total):
    """A refused batch says how many users earlier batches already covered; the rest were not sent."""
    if accepted:
        error.message = (f"{error.message} (users 1-{accepted * MAX_RISKY_USER_IDS} of {total} were accepted in "
                         f"{accepted} earlier request(s); the rest were not sent)")
    return _explain_risky_users_forbidden(error) if error.status == 403 else error
