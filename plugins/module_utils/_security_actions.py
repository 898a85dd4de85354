# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _graph_client, _writes, _security_action_requests and the standard library only. No Ansible imports.

"""Domain logic for the legacy Microsoft Graph ``securityActions`` entity.

Every decision of ``security_action`` and ``security_action_info`` lives here; the modules only
map options and results (see docs/architecture.md).

Decisions documented once, here:

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
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import time
from typing import Any, Callable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import SECURITY_ACTIONS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import (
    GraphClient,
    odata_string,
    path_segment,
    read_one,
    unwrap_entity,
    validate_server_id,
)
from ansible_collections.msgraph.security.plugins.module_utils._security_action_requests import (
    WRITE_PERMISSION,
    action_to_snake,
    normalize_status,
    parameters_to_snake,
    projected_action,
    request_key,
)
from ansible_collections.msgraph.security.plugins.module_utils._writes import (
    OUTCOME_CHECK_MODE,
    OUTCOME_UNCHANGED,
    Write,
    send_once,
)

COLLECTION_PATH = "/security/securityActions"
# Application permissions the two modules need (the API rejects delegated tokens).
READ_PERMISSION = SECURITY_ACTIONS.permissions["read"]

DEPRECATION_WARNING = (
    "The legacy Microsoft Graph securityActions API is deprecated by Microsoft (announced removal "
    "2026-04-10) and only ever worked for BlockIp on Microsoft Defender for Endpoint. Use the "
    "Microsoft Defender for Endpoint indicators API instead: "
    "POST https://api.securitycenter.microsoft.com/api/indicators"
)

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

def is_terminal(status: str | None) -> bool:
    """Whether a securityAction status is final (set and not one of the in-progress statuses)."""
    return isinstance(status, str) and bool(status) and status.lower() not in _IN_PROGRESS_STATUSES


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


def _refuse_conflict(existing, body):
    """An explicit client_context already naming a different action is a mistake, not a no-op."""
    if request_key(existing) != request_key(body):
        raise InputError("client_context", f"{body['clientContext']!r} already identifies security action {existing.get('id')} ({existing.get('name')}"
                                           f" {parameters_to_snake(existing.get('parameters'))}) which differs "
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
            "diff": {"before": {}, "after": projected_action(body)},
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
