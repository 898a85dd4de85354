# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""The one write protocol: preview, send exactly once, reconcile an unknown outcome by reading, report it.

Layer 3 (see docs/architecture.md), beside the Graph client: no Ansible imports. Every writing module goes through
:func:`send_once`; a resource brings only its own rules, as arguments of a :class:`Write`: what to read after an
unknown outcome (``read_back``), what in that read proves the write happened (``proves``), and how to describe it.

The protocol, once:

1. **Preview.** :meth:`Write.preview` is the exact request (method, URL, body). Check mode returns it and sends nothing.
2. **Send once,** with a fresh ``client-request-id``. The client retries only what provably was not carried out
   (a 429, a connection never opened); every other failure after sending raises ``GraphOutcomeUnknownError``.
3. **Reconcile** such an outcome by reading the target again, with a bounded wait (:class:`ReconcileWait`), never by
   sending again. A read that proves the write makes the outcome ``reconciled``.
4. **Unknown outcome.** No read-back, a failed read, or reads that do not show the write within the wait: the task
   fails with ``outcome: unknown``, the request, and the ``client-request-id`` to look up in the resource's audit trail.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import time
from typing import Any, Callable

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_answers import GraphResponse
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient

OUTCOME_UNCHANGED = "unchanged"
OUTCOME_CHECK_MODE = "check_mode"
OUTCOME_SENT = "sent"
OUTCOME_RECONCILED = "reconciled"


class ReconcileWait:
    """How long an unknown outcome is reconciled: the target is read again until it shows the write, or ``timeout``
    seconds have passed (0: one read). Services that apply a write asynchronously (Defender for Identity) need a wait."""

    def __init__(self, timeout: float = 0, interval: float = 2.0, max_interval: float = 10.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 option: str = "reconcile_timeout") -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0 or timeout > 3600:
            raise InputError(option, f"must be a number of seconds between 0 and 3600; got {timeout!r}")
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max_interval
        self.sleep = sleep
        self.clock = clock
        self.option = option


class Write:
    """One planned write and the resource's rules for it.

    ``what`` names it in messages ("the 'disable' request for account X"); ``audit_trail`` is where an operator looks
    its client-request-id up. ``read_back()`` reads the target again after an unknown outcome (None: nothing can
    be read back, so the outcome stays unknown), ``proves(state)`` says whether that read shows the write, and
    ``describe(state)`` says what the read showed. ``explain(error)`` may add a resource's hint to a refusal.
    """

    def __init__(self, method: str, path: str, body: Any = None, permission: str | None = None, what: str = "the request",
                 audit_trail: str = "Microsoft's audit log", read_back: Callable[[], Any] | None = None,
                 proves: Callable[[Any], bool] | None = None, describe: Callable[[Any], str] | None = None,
                 read_what: str = "the target", unreadable: str = "", wait: ReconcileWait | None = None,
                 explain: Callable[[GraphError], GraphError] | None = None, hint: str | None = None) -> None:
        self.method = method
        self.path = path
        self.body = body
        self.permission = permission
        self.what = what
        self.audit_trail = audit_trail
        self.read_back = read_back
        self.proves = proves or (lambda state: False)
        self.describe = describe
        self.read_what = read_what
        self.unreadable = unreadable
        self.wait = wait or ReconcileWait()
        self.explain = explain
        self.hint = hint

    def preview(self, client: GraphClient) -> dict[str, Any]:
        """The exact request: method, absolute URL and body (a copy), as check mode shows it."""
        return {"method": self.method, "url": client.url_for(self.path), "body": _copy(self.body)}


class Sent:
    """What sending a :class:`Write` established: ``outcome`` (sent or reconciled), the ``response`` (None when
    reconciled), the read that proved it (``state``), its ``request_ids`` and, when reconciled, the warning that says so."""

    def __init__(self, outcome: str, request_ids: dict[str, str | None], response: GraphResponse | None = None,
                 state: Any = None, warning: str | None = None) -> None:
        self.outcome = outcome
        self.request_ids = request_ids
        self.response = response
        self.state = state
        self.warning = warning

    @property
    def answer(self) -> GraphResponse:
        """The service's answer to a write sent (outcome ``sent``); a reconciled write has none."""
        if self.response is None:
            raise ValueError("a reconciled write has no answer; read Sent.state")
        return self.response

    @property
    def reconciled(self) -> bool:
        """Whether the outcome was unknown and a read showed the write happened."""
        return self.outcome == OUTCOME_RECONCILED


def send_once(client: GraphClient, write: Write, client_request_id: str | None = None) -> Sent:
    """Send ``write`` exactly once and settle its outcome (see the module docstring); never sends it again."""
    client_request_id = client_request_id or GraphClient.new_client_request_id()
    send = client.patch if write.method == "PATCH" else client.post
    try:
        response = send(write.path, body=write.body, client_request_id=client_request_id, permission=write.permission)
    except GraphOutcomeUnknownError as error:
        # The id the client reports is the one it sent (a test double may name its own).
        return _reconcile(client, write, error, error.client_request_id or client_request_id)
    except GraphError as error:
        raise write.explain(error) if write.explain else error
    return Sent(OUTCOME_SENT, {"request_id": response.request_id, "client_request_id": response.client_request_id or client_request_id},
                response=response)


def unknown_outcome(client: GraphClient, write: Write, error: GraphError, client_request_id: str, why: str) -> GraphOutcomeUnknownError:
    """The failure of a write whose outcome stays unknown: ``error``'s details, what ``why`` found, the request, and
    where to look its client-request-id up."""
    unknown = GraphOutcomeUnknownError.after_reconciling(
        error, f"{write.what} was sent but its outcome is unknown ({error}); {why}", client_request_id, write.audit_trail)
    if write.hint:
        unknown.hint = write.hint
    unknown.request = write.preview(client)
    return unknown


def _reconcile(client, write, error, client_request_id):
    if write.read_back is None:
        raise unknown_outcome(client, write, error, client_request_id, f"it was not sent again{write.unreadable}")
    wait = write.wait
    deadline = wait.clock() + wait.timeout
    interval, reads = wait.interval, 0
    while True:
        reads += 1
        try:
            state = write.read_back()
        except (GraphError, InputError) as read_error:  # a failed read after a write is no bad input
            raise unknown_outcome(client, write, error, client_request_id,
                                  f"reading {write.read_what} again failed too ({read_error}); it was not sent again") from read_error
        if write.proves(state):
            break
        remaining = deadline - wait.clock()
        if remaining <= 0:
            shown = f" ({write.describe(state)})" if write.describe else ""
            over = f" over {wait.timeout}s ({wait.option})" if wait.timeout else ""
            raise unknown_outcome(client, write, error, client_request_id,
                                  f"{reads} read(s) of {write.read_what}{over} do not show it{shown}; it was not sent again,"
                                  " and it may still be applied")
        wait.sleep(min(interval, remaining))
        interval = min(interval * 2, wait.max_interval)
    shown = f" ({write.describe(state)})" if write.describe else ""
    warning = (f"{write.what}: its outcome was unknown ({error}); {reads} read(s) of {write.read_what} show it took effect{shown}, "
               f"so it was not sent again (client-request-id {client_request_id})")
    return Sent(OUTCOME_RECONCILED, {"request_id": error.request_id, "client_request_id": client_request_id}, state=state, warning=warning)


def _copy(body):
    return dict(body) if isinstance(body, dict) else body
