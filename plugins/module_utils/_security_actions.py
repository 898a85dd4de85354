# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _graph_client and the standard library only. No Ansible imports.

"""Domain logic for the legacy Microsoft Graph ``securityActions`` entity.

Every decision of ``security_action`` and ``security_action_info`` lives here; the modules only
map options and results (see docs/architecture.md).

Decisions documented once, here:

* **Client context.** ``clientContext`` identifies an action for idempotency. Without one, it is
  derived: ``msgraph.security:v1:`` followed by the SHA-256 hex digest of the canonical JSON
  (sorted keys, no spaces, UTF-8) of ``{"name", "parameters", "provider", "vendor"}`` where the
  name, the parameter names, the vendor and the provider are lower-cased (the service echoes
  ``BlockIp`` as ``blockIp``) and ``parameters`` is the sorted list of ``[name, value]`` pairs.
  Parameter values are kept as given. ``action_reason``, ``sub_provider`` and
  ``provider_version`` are not part of it: changing the reason does not make a new action.
  The result is 84 characters, well below the 256-character limit.
* **Lookup.** An action is found by client context with the server-side filter
  ``$filter=clientContext eq '...'`` over every page. The service does not document ``$filter``
  for securityActions, so every result is re-checked on the client (exact match), and when the
  service answers 400 or 501 to the filter, every page is scanned without it.
* **Exactly once.** A create whose outcome is unknown (timeout, 5xx, reset after sending) is never
  sent again. The client context is looked up: found means the create happened (the task reports
  it, with a warning that the outcome was reconciled); not found fails the task with the
  ``client-request-id``. A not-found cannot tell "never arrived" from "still being processed", so
  a second POST could create a second action; re-running the task later is safe because it looks
  the client context up before creating.
* **Status.** Compared case-insensitively (``notStarted`` and ``NotStarted`` both occur) and
  returned in the documented spelling. Completed and Failed are terminal.
* **Cancel, as Graph reports it.** ``cancelSecurityAction`` answers ``200 OK`` with no body, and the
  documented ``operationStatus`` enum (NotStarted, Running, Completed, Failed) has no canceled member;
  Microsoft does not document the status a canceled action then shows. So the collection claims nothing
  about it: it reports that the service accepted the cancel request, and the action as read afterwards,
  status as it is. Only NotStarted and Running are cancellable; any other status (documented or not) is
  final, and canceling it is a no-op. A cancel refused with 400/409 is re-read: if the action finished
  in the meantime, nothing changed; otherwise the error stands. An unknown outcome is reported as unknown,
  with the state read afterwards (repeating a cancel is harmless).
* **Permissions in 403s.** Reads made on the way to a write name ``SecurityActions.ReadWrite.All``
  (what the task needs), reads of security_action_info name ``SecurityActions.Read.All``.
* **Application tokens only.** A user-supplied ``access_token`` whose payload (decoded without
  checking the signature) has an ``scp`` claim is delegated and refused before any request.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import json
import time
from typing import Any, Callable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import SECURITY_ACTIONS
from ansible_collections.msgraph.security.plugins.module_utils._writes import (
    OUTCOME_CHECK_MODE,
    OUTCOME_UNCHANGED,
    Write,
    send_once,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import (
    GraphClient,
    odata_string,
    path_segment,
    read_one,
    unwrap_entity,
    validate_path_id,
    validate_server_id,
)

COLLECTION_PATH = "/security/securityActions"
CLIENT_CONTEXT_MAX_LENGTH = 256
DERIVED_CONTEXT_PREFIX = "msgraph.security:v1:"

# Application permissions the two modules need (the API rejects delegated tokens).
READ_PERMISSION = SECURITY_ACTIONS.permissions["read"]
WRITE_PERMISSION = SECURITY_ACTIONS.permissions["write"]

DEPRECATION_WARNING = (
    "The legacy Microsoft Graph securityActions API is deprecated by Microsoft (announced removal "
    "2026-04-10) and only ever worked for BlockIp on Microsoft Defender for Endpoint. Use the "
    "Microsoft Defender for Endpoint indicators API instead: "
    "POST https://api.securitycenter.microsoft.com/api/indicators"
)

# Properties the service sets itself (some from the caller's token); never accepted as input.
READ_ONLY_FIELDS = (
    "id", "appId", "azureTenantId", "user", "status", "states", "errorInfo",
    "createdDateTime", "completedDateTime", "lastActionDateTime",
)
_READ_ONLY_LOWER = dict((field.lower(), field) for field in READ_ONLY_FIELDS)

VENDOR_FIELDS = (
    ("vendor", "vendor", True),
    ("provider", "provider", True),
    ("sub_provider", "subProvider", False),
    ("provider_version", "providerVersion", False),
)

_STATUS_SPELLING = {
    "notstarted": "NotStarted",
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
}
# The documented statuses of an action still in progress; every other status is final (an undocumented one too,
# so that ``wait`` ends and reports it rather than polling until wait_timeout).
_IN_PROGRESS_STATUSES = ("notstarted", "running")

# Statuses with which the service refuses a query option it does not support.
_FILTER_UNSUPPORTED_STATUSES = (400, 501)
# Statuses with which the service refuses to cancel an action that has already finished.
_CANCEL_REFUSED_STATUSES = (400, 409)


class SecurityActionFailedError(GraphError):
    """The action reached status Failed; ``action`` holds it in snake_case."""

    def __init__(self, action: dict[str, Any]) -> None:
        self.action = action
        info = action.get("error_info") or {}
        message = (f"Security action {action.get('id')} ended with status {action.get('status')}: code {info.get('code')}, "
                   f"subcode {info.get('subcode')}, message {info.get('message')!r}")
        super().__init__(
            message, code="securityActionFailed",
            hint="Read error_info; only BlockIp on Microsoft Defender for Endpoint is known to work. "
                 "A new attempt needs a different client_context (this one stays Failed).",
        )


class SecurityActionTimeoutError(GraphError):
    """``wait`` ran out of time; ``action`` holds the last state read, in snake_case."""

    def __init__(self, action: dict[str, Any], wait_timeout: float) -> None:
        self.action = action
        message = f"Security action {action.get('id')} still {action.get('status')} after wait_timeout={wait_timeout}s"
        super().__init__(
            message, code="waitTimeout",
            hint="Raise wait_timeout, or re-run the task: it finds the action by its client "
                 "context and does not create another one.",
        )


# ---------------------------------------------------------------------------------------------
# Input normalization (no requests)
# ---------------------------------------------------------------------------------------------

def normalize_status(status: str | None) -> str | None:
    """The documented spelling of a status (``notStarted`` -> ``NotStarted``); unknown as given."""
    if not isinstance(status, str):
        return status
    return _STATUS_SPELLING.get(status.lower(), status)


def is_terminal(status: str | None) -> bool:
    """Whether a securityAction status is final (set and not one of the in-progress statuses)."""
    return isinstance(status, str) and bool(status) and status.lower() not in _IN_PROGRESS_STATUSES


def _refuse_read_only(key, option):
    field = _READ_ONLY_LOWER.get(str(key).lower())
    if field:
        raise InputError(option, f"'{field}' is a read-only securityAction property the service sets itself "
                                 "(appId, azureTenantId and user come from the token); remove it")


def _stringify(value, option, name):
    """keyValuePair.value is a String: scalars are converted, nested structures refused."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    raise InputError(option, f"value of parameter '{name}' must be a string, number or boolean, got {'null' if value is None else type(value).__name__}")


def _parameter_pairs(parameters):
    """(name, value) pairs from a dict or a list of {name, value} dicts, in the order given."""
    if isinstance(parameters, dict):
        return list(parameters.items())
    if not isinstance(parameters, (list, tuple)):
        raise InputError("parameters", "must be a list of {name, value} dicts or a dict of name: value")
    pairs = []
    for index, item in enumerate(parameters):
        if not isinstance(item, dict) or set(item) != {"name", "value"}:
            raise InputError("parameters", f"item {index} must be a dict with exactly the keys name and value, "
                                           f"got {item!r}")
        pairs.append((item["name"], item["value"]))
    return pairs


def normalize_parameters(parameters: dict[str, Any] | list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """Graph keyValuePair list ``[{"name": str, "value": str}]``; at least one pair (Required)."""
    if not parameters:
        raise InputError("parameters", "at least one parameter is required, e.g. {IP: 192.0.2.10} for BlockIp")
    normalized = []
    for name, value in _parameter_pairs(parameters):
        if not isinstance(name, str) or not name.strip():
            raise InputError("parameters", f"parameter names must be non-empty strings, got {name!r}")
        _refuse_read_only(name, "parameters")
        normalized.append({"name": name, "value": _stringify(value, "parameters", name)})
    return normalized


def normalize_vendor_information(vendor_information: dict[str, Any]) -> dict[str, str]:
    """snake_case vendor_information -> Graph securityVendorInformation (camelCase, unset dropped)."""
    if not isinstance(vendor_information, dict):
        raise InputError("vendor_information", "must be a dict with at least vendor and provider")
    allowed = [option for option, _camel, _required in VENDOR_FIELDS]
    for key in vendor_information:
        _refuse_read_only(key, "vendor_information")
        if key not in allowed:
            raise InputError("vendor_information", f"unknown key '{key}'; allowed: {', '.join(allowed)}")
    vendor = {}
    for option, camel, required in VENDOR_FIELDS:
        value = vendor_information.get(option)
        if value is None or value == "":
            if required:
                raise InputError("vendor_information", f"'{option}' is required (e.g. vendor: Microsoft, "
                                                       "provider: Windows Defender ATP)")
            continue
        if not isinstance(value, str):
            raise InputError("vendor_information", f"'{option}' must be a string")
        vendor[camel] = value
    return vendor


def validate_client_context(client_context: Any) -> str:
    """``client_context`` as given, when it is a non-empty string within Graph's length limit; :class:`InputError` otherwise."""
    if not isinstance(client_context, str) or not client_context:
        raise InputError("client_context", "must be a non-empty string")
    if len(client_context) > CLIENT_CONTEXT_MAX_LENGTH:
        raise InputError("client_context", f"is {len(client_context)} characters long; Graph allows at most {CLIENT_CONTEXT_MAX_LENGTH}")
    return client_context


def validate_action_id(action_id: Any, option: str = "id") -> str:
    """A security action id, safe to put in the URL path (see ``validate_path_id``)."""
    return validate_path_id(action_id, option, "the id of a security action")


def derive_client_context(name: str, parameters: list[dict[str, str]], vendor_information: Mapping[str, str]) -> str:
    """Deterministic client context from already normalized name, parameters and vendor (see module doc)."""
    canonical = {
        "name": name.lower(),
        "parameters": sorted([p["name"].lower(), p["value"]] for p in parameters),
        "provider": vendor_information["provider"].lower(),
        "vendor": vendor_information["vendor"].lower(),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DERIVED_CONTEXT_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_create_body(name: str | None, parameters: dict[str, Any] | list[dict[str, Any]] | None, vendor_information: dict[str, Any],
                      client_context: str | None = None, action_reason: str | None = None) -> dict[str, Any]:
    """The POST body for a new action; raises InputError before any request."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("name", "is required, e.g. BlockIp")
    pairs = normalize_parameters(parameters)
    vendor = normalize_vendor_information(vendor_information)
    if client_context is None or client_context == "":
        client_context = derive_client_context(name, pairs, vendor)
    body = {
        "name": name,
        "parameters": pairs,
        "vendorInformation": vendor,
        "clientContext": validate_client_context(client_context),
    }
    if action_reason:
        body["actionReason"] = action_reason
    return body


def _jwt_payload(token):
    """The decoded payload of a JWT, or None for anything else (opaque or encrypted tokens)."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(segment.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


def refuse_delegated_token(access_token: str | None, auth_method: str) -> None:
    """Refuse a user-supplied delegated token before any request.

    ``auth_method`` is the method actually used (never ``auto``). securityActions only accept
    application permissions, and every auth method of the collection except a user-supplied
    ``access_token`` is app-only. The payload is decoded without checking the signature (the
    service does that): an ``scp`` claim means delegated. A token that is not a readable JWT is
    passed on unchanged and the service decides.
    """
    if auth_method != "access_token" or not access_token:
        return
    payload = _jwt_payload(access_token)
    if payload is not None and "scp" in payload:
        raise InputError("access_token", "is a delegated token (it has an 'scp' claim); securityActions "
                                         "accept application permissions only: use an app-only token with "
                                         f"the {WRITE_PERMISSION} role, or client credentials")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def _vendor_to_snake(vendor):
    if not isinstance(vendor, dict):
        return vendor
    return dict((option, vendor.get(camel)) for option, camel, _required in VENDOR_FIELDS)


def _error_info_to_snake(info):
    if not isinstance(info, dict):
        return info
    return {"code": info.get("code"), "message": info.get("message"), "subcode": info.get("subcode")}


def _state_to_snake(state):
    return {
        "app_id": state.get("appId"),
        "status": normalize_status(state.get("status")),
        "updated_date_time": state.get("updatedDateTime"),
        "user": state.get("user"),
    }


def _parameters_to_snake(parameters):
    return [{"name": p.get("name"), "value": p.get("value")} for p in parameters or [] if isinstance(p, dict)]


def action_to_snake(action: Mapping[str, Any]) -> dict[str, Any]:
    """Graph securityAction (camelCase, either response shape) -> the documented snake_case dict."""
    return {
        "id": action.get("id"),
        "name": action.get("name"),
        "status": normalize_status(action.get("status")),
        "states": [_state_to_snake(s) for s in action.get("states") or [] if isinstance(s, dict)],
        "error_info": _error_info_to_snake(action.get("errorInfo")),
        "parameters": _parameters_to_snake(action.get("parameters")),
        "vendor_information": _vendor_to_snake(action.get("vendorInformation")),
        "client_context": action.get("clientContext"),
        "action_reason": action.get("actionReason"),
        "app_id": action.get("appId"),
        "azure_tenant_id": action.get("azureTenantId"),
        "user": action.get("user"),
        "created_date_time": action.get("createdDateTime"),
        "completed_date_time": action.get("completedDateTime"),
        "last_action_date_time": action.get("lastActionDateTime"),
    }


def _projected_action(body):
    """What a created action would look like, for check-mode diffs (service fields unknown)."""
    projected = action_to_snake(body)
    projected["status"] = "NotStarted"
    return projected


# ---------------------------------------------------------------------------------------------
# Reads
# ---------------------------------------------------------------------------------------------

def _item_path(action_id):
    return f"{COLLECTION_PATH}/{path_segment(action_id)}"


def get_action(client: GraphClient, action_id: str, permission: str = READ_PERMISSION) -> dict[str, Any]:
    """The raw action; GraphError (404) when it does not exist.

    ``permission`` is what a 403 names: the write paths name the permission the whole task needs.
    """
    return unwrap_entity(client.get(_item_path(action_id), permission=permission).body)


def get_action_or_none(client: GraphClient, action_id: str) -> dict[str, Any] | None:
    """One securityAction by id as Graph returns it, or None when Graph answers 404."""
    response = read_one(client, _item_path(action_id), permission=READ_PERMISSION)
    return None if response is None else unwrap_entity(response.body)


def list_actions(client: GraphClient, odata_filter: str | None = None, top: int | None = None) -> list[Any]:
    """Every securityAction (following next links), optionally filtered (``$filter``) and capped at ``top``."""
    params: dict[str, Any] = {}
    if odata_filter:
        params["$filter"] = odata_filter
    if top:
        params["$top"] = top
    return client.get_all(COLLECTION_PATH, params=params or None, max_items=top, permission=READ_PERMISSION)


def read_actions(client: GraphClient, action_id: str | None = None, client_context: str | None = None, odata_filter: str | None = None,
                 top: int | None = None) -> list[dict[str, Any]]:
    """security_action_info: one by id (missing -> empty), by client context, or a (filtered) list; snake_case."""
    if action_id:
        found = get_action_or_none(client, action_id)
        raw = [found] if found else []
    elif client_context:
        raw = find_by_client_context(client, client_context)
    else:
        raw = list_actions(client, odata_filter=odata_filter, top=top)
    return [action_to_snake(action) for action in raw if isinstance(action, dict)]


def find_by_client_context(client: GraphClient, client_context: str, permission: str = READ_PERMISSION) -> list[dict[str, Any]]:
    """Every action whose clientContext equals ``client_context`` exactly (raw, oldest first).

    Server filter first; results are re-checked here because the filter is undocumented for this
    entity. A 400/501 answer to the filter means it is not supported: scan every page instead.
    """
    params = {"$filter": f"clientContext eq {odata_string(client_context)}"}
    try:
        candidates = client.get_all(COLLECTION_PATH, params=params, permission=permission)
    except GraphError as error:
        if error.status not in _FILTER_UNSUPPORTED_STATUSES:
            raise
        candidates = client.get_all(COLLECTION_PATH, permission=permission)
    matches = [a for a in candidates if isinstance(a, dict) and a.get("clientContext") == client_context]
    return sorted(matches, key=lambda a: a.get("createdDateTime") or "")


def _only_match(matches, client_context, warn):
    if len(matches) > 1:
        warn(f"{len(matches)} security actions share client context {client_context!r} (ids {', '.join(str(a.get('id')) for a in matches)}); using the"
             f" oldest, {matches[0].get('id')}")
    return matches[0] if matches else None


# ---------------------------------------------------------------------------------------------
# state: present
# ---------------------------------------------------------------------------------------------

# Reads made on the way to a write name the permission the whole task needs in a 403.
def _lookup(client, client_context, warn):
    return _only_match(find_by_client_context(client, client_context, WRITE_PERMISSION), client_context, warn)


def _reread(client, action_id):
    return get_action(client, action_id, WRITE_PERMISSION)


def _returned_id(action):
    """The id of an action the service returned, checked before it goes into a path (``..`` would collapse it)."""
    return validate_server_id(action.get("id"), "a security action id")


def _reread_returned(client, action):
    return _reread(client, _returned_id(action))


def _identity(action):
    """What makes two actions the same request: name, parameters, vendor and provider (folded)."""
    vendor = action.get("vendorInformation") or {}
    return (
        (action.get("name") or "").lower(),
        sorted([(p.get("name") or "").lower(), p.get("value")] for p in action.get("parameters") or []),
        (vendor.get("vendor") or "").lower(),
        (vendor.get("provider") or "").lower(),
    )


def _refuse_conflict(existing, body):
    """An explicit client_context already naming a different action is a mistake, not a no-op."""
    if _identity(existing) != _identity(body):
        raise InputError("client_context", f"{body['clientContext']!r} already identifies security action {existing.get('id')} ({existing.get('name')}"
                                           f" {_parameters_to_snake(existing.get('parameters'))}) which differs "
                                           "in name, parameters or vendor_information; actions cannot be "
                                           "changed, use another client_context or omit it")


AUDIT_TRAIL = "the list of security actions (security_action_info)"


def _create_write(client, body, warn):
    """The create as a :class:`Write`: after an unknown outcome, only a lookup by client context proves it (see
    module doc); a not-found cannot tell "never arrived" from "still being processed", so it stays unknown."""
    return Write("POST", COLLECTION_PATH, body, WRITE_PERMISSION, audit_trail=AUDIT_TRAIL,
                 what=f"the create of the security action with client context {body['clientContext']!r}",
                 read_what="the actions with this client context", read_back=lambda: _lookup(client, body["clientContext"], warn),
                 proves=lambda found: found is not None, describe=lambda found: "none exists (yet)" if found is None else f"action {found.get('id')}",
                 hint="Re-run the task later: it looks the client context up first and creates the action only if it still does not exist.")


def _create_exactly_once(client, body, warn):
    """POST once through the write protocol; returns (what sending established, the action created)."""
    sent = send_once(client, _create_write(client, body, warn))
    if sent.reconciled:
        warn(sent.warning)
        return sent, sent.state
    response = sent.answer
    created = unwrap_entity(response.body)
    if not created.get("id"):  # tolerate a 201 without the entity: read it back
        created = _lookup(client, body["clientContext"], warn) or {}
    if not created.get("id"):
        raise GraphError(f"The service accepted the create (HTTP {response.status}) but returned no action and none with client "
                         f"context {body['clientContext']!r} can be found",
                         status=response.status, request_id=response.request_id,
                         client_request_id=response.client_request_id, method="POST", url=response.url,
                         hint="Check with security_action_info later; re-running the task does not create a second "
                              "action once it is visible.")
    return sent, created


def wait_for_terminal(client: GraphClient, action: dict[str, Any], wait_timeout: float, poll_interval: float,
                      sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Poll until the action is terminal; any end but Completed, and timeouts, raise with the action."""
    deadline = clock() + wait_timeout
    while not is_terminal(action.get("status")):
        remaining = deadline - clock()
        if remaining <= 0:
            raise SecurityActionTimeoutError(action_to_snake(action), wait_timeout)
        sleep(min(poll_interval, remaining))
        action = _reread_returned(client, action)
    if not _is_completed(action):
        raise SecurityActionFailedError(action_to_snake(action))
    return action


def ensure_present(client: GraphClient, body: dict[str, Any], check_mode: bool = False, wait: bool = False, wait_timeout: float = 300,
                   poll_interval: float = 5, warn: Callable[[str], None] | None = None, sleep: Callable[[float], None] = time.sleep,
                   clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Create the action described by ``body`` (from build_create_body) unless its client context exists.

    Returns ``{changed, security_action, diff, [reason], [request]}`` with snake_case values.
    """
    warn = _ignore if warn is None else warn
    client_context = body["clientContext"]
    existing = _lookup(client, client_context, warn)
    if existing is not None:
        _refuse_conflict(existing, body)
        if is_terminal(existing.get("status")) and not _is_completed(existing) and not wait:
            warn(f"The existing security action {existing.get('id')} with client context {client_context!r} is {describe_status(existing)}; "
                 "it is not tried again. Give a new client_context to repeat it.")
        action = existing
        result = {"changed": False, "outcome": OUTCOME_UNCHANGED,
                  "reason": f"security action {existing.get('id')} with client context {client_context!r} already exists"}
    elif check_mode:
        return {
            "changed": True,
            "outcome": OUTCOME_CHECK_MODE,
            "security_action": {},
            "request": _create_write(client, body, warn).preview(client),
            "diff": {"before": {}, "after": _projected_action(body)},
        }
    else:
        sent, action = _create_exactly_once(client, body, warn)
        result = {"changed": True, "outcome": sent.outcome, "request": _create_write(client, body, warn).preview(client),
                  "request_ids": sent.request_ids}
    if wait and not check_mode:
        action = wait_for_terminal(client, action, wait_timeout, poll_interval, sleep=sleep, clock=clock)
    result["security_action"] = action_to_snake(action)
    result["diff"] = {"before": action_to_snake(existing) if existing else {}, "after": result["security_action"]}
    return result


def _ignore(message):
    pass


# ---------------------------------------------------------------------------------------------
# state: canceled
# ---------------------------------------------------------------------------------------------

def _is_completed(action):
    return str(action.get("status") or "").lower() == "completed"


def describe_status(action: Mapping[str, Any]) -> str | None:
    """The action's status in its documented spelling (see :func:`normalize_status`); None when it has none."""
    return normalize_status(action.get("status"))


def _unchanged(action, reason):
    snake = action_to_snake(action) if action else {}
    return {"changed": False, "outcome": OUTCOME_UNCHANGED, "reason": reason, "security_action": snake, "diff": {"before": snake, "after": snake}}


def _find_for_cancel(client, action_id, client_context, warn):
    if action_id:
        return _reread(client, action_id)  # a wrong id is an error (404), not a no-op
    return _lookup(client, client_context, warn)


def _cancel_write(client, action, path):
    """The cancel as a :class:`Write`: Microsoft documents no status for a canceled action, so no read proves it; an
    unknown outcome is reported with the action as read afterwards (repeating a cancel is harmless)."""
    return Write("POST", path, None, WRITE_PERMISSION, what=f"the cancel request of security action {action.get('id')}",
                 audit_trail=AUDIT_TRAIL, read_what="the action", read_back=lambda: _reread_returned(client, action),
                 describe=lambda now: f"the action now reads {describe_status(action_to_snake(now))}",
                 hint="Read the action again with security_action_info; repeating the cancel is harmless.")


def _post_cancel(client, action, write):
    """Send the cancel once; returns (what sending established, or None if the action finished first, the action read after)."""
    try:
        sent = send_once(client, write)
    except GraphOutcomeUnknownError:
        raise
    except GraphError as error:
        if error.status not in _CANCEL_REFUSED_STATUSES:
            raise
        current = _reread_returned(client, action)
        if not is_terminal(current.get("status")):
            raise
        return None, current  # it finished between our read and the cancel
    return sent, _reread_returned(client, action)


def ensure_canceled(client: GraphClient, action_id: str | None = None, client_context: str | None = None, check_mode: bool = False,
                    warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Cancel by id or client context; terminal or missing (by client context) actions are left alone."""
    warn = _ignore if warn is None else warn
    if not action_id and not client_context:
        raise InputError(["id", "client_context"], "state=canceled needs id or client_context (or name, parameters "
                                                   "and vendor_information to derive the client context)")
    action = _find_for_cancel(client, action_id, client_context, warn)
    if action is None:
        return _unchanged(None, f"no security action with client context {client_context!r} exists; nothing to cancel")
    if is_terminal(action.get("status")):
        return _unchanged(action, f"security action {action.get('id')} is already {describe_status(action)}; nothing to cancel")
    write = _cancel_write(client, action, f"{_item_path(_returned_id(action))}/cancelSecurityAction")
    if check_mode:
        # Microsoft documents no status for a canceled action, so the diff predicts none.
        return {
            "changed": True,
            "outcome": OUTCOME_CHECK_MODE,
            "security_action": action_to_snake(action),
            "request": write.preview(client),
            "diff": {"before": action_to_snake(action), "after": action_to_snake(action)},
        }
    sent, current = _post_cancel(client, action, write)
    if sent is None:
        return _unchanged(current, f"security action {action['id']} became {describe_status(current)} before it could be canceled")
    return {
        "changed": True,
        "security_action": action_to_snake(current),
        "outcome": sent.outcome,
        "request": write.preview(client),
        "request_ids": sent.request_ids,
        "diff": {"before": action_to_snake(action), "after": action_to_snake(current)},
    }
