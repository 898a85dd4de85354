# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Bulk identity actions: many targets in one task, sent concurrently, every outcome reported.

Layer 2 (see docs/architecture.md): no Ansible imports; identity_account_action only maps its options here.

1. More targets than ``max_targets`` refuses the whole task before any request.
2. Each target's input is checked (lookup, provider, action, account id, matrix); a bad target is
   refused and the others go on.
3. Lookups are read in batches: targets looked up by UPN, SID or display name share one ``$filter`` of
   up to LOOKUP_BATCH_SIZE ``eq`` clauses joined with ``or`` (matched again locally); ids are read one by
   one (GET by id, the documented way). One IdentityFinder serves the whole task: the first batch of a kind
   finds the query the service answers, and if it answers none, every target is matched on one shared scan.
4. Each identity then goes through the same checks as a single target (protected_accounts, account,
   idempotency); the same identity, account and action twice is sent once.
5. The actions are sent by ``max_concurrency`` threads sharing one GraphClient: one token, one connection
   pool, one throttling gate (a 429 pauses them all, see _http.RetryPolicy). ``fail_fast`` stops
   starting new actions after the first failure; the rest are reported ``not_started``.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
    redact,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient
from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import (
    ACTION_TARGET_OPTIONS,
    ActionRequest,
    ReconcileWait,
    action_diff,
    execute_plan,
    plan_for_identity,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import (
    IdentityFinder,
    IdentityResolutionError,
    exactly_one,
    get_identity,
    matches_selector,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    LOOKUP_ID,
    match_key,
    normalize_action_matrix,
    selector_from_params,
)
from ansible_collections.msgraph.security.plugins.module_utils._protected_accounts import ProtectedAccounts

SUCCEEDED = "succeeded"
UNCHANGED = "unchanged"
WOULD_RUN = "would_run"
REFUSED = "refused"
FAILED = "failed"
OUTCOME_UNKNOWN = "outcome_unknown"
NOT_STARTED = "not_started"
STATUSES = (SUCCEEDED, UNCHANGED, WOULD_RUN, REFUSED, FAILED, OUTCOME_UNKNOWN, NOT_STARTED)
FAILURE_STATUSES = frozenset([REFUSED, FAILED, OUTCOME_UNKNOWN])

DEFAULT_MAX_CONCURRENCY = 10
MAX_CONCURRENCY_LIMIT = 50
DEFAULT_MAX_TARGETS = 100
# eq clauses per $filter: keeps the URL short, and 15 is the usual Graph cap on 'or' clauses.
LOOKUP_BATCH_SIZE = 15
TARGET_KEYS = tuple(ACTION_TARGET_OPTIONS) + ("identity_provider", "action", "account_id")


class BulkOptions:
    """Task-level settings. ``identity_provider`` and ``action`` are defaults each target may override."""

    def __init__(self, identity_provider: str | None = None, action: str | None = None, protected_accounts: Iterable[str] | None = None,
                 action_matrix: str | None = None, max_concurrency: int = DEFAULT_MAX_CONCURRENCY, max_targets: int = DEFAULT_MAX_TARGETS,
                 fail_fast: bool = False, require_offered_action: bool = False, reconcile: ReconcileWait | None = None) -> None:
        self.identity_provider = identity_provider
        self.action = action
        # Task-level input: a bad entry fails the whole task before any request, not every target one by one.
        self.protected = ProtectedAccounts(protected_accounts)
        self.require_offered_action = bool(require_offered_action)
        self.reconcile = reconcile or ReconcileWait()
        self.action_matrix = normalize_action_matrix(action_matrix)
        self.max_concurrency = _bounded_int(max_concurrency, "max_concurrency", 1, MAX_CONCURRENCY_LIMIT)
        self.max_targets = _bounded_int(max_targets, "max_targets", 1, None)
        self.fail_fast = bool(fail_fast)


def _bounded_int(value, option, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        limit = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InputError(option, f"must be an integer {limit}; got {value!r}")
    return value


def check_limits(targets: Any, options: BulkOptions) -> None:
    """The safety cap: refuse the whole task, before any request, when the list is longer than expected."""
    if not isinstance(targets, list):
        raise InputError("targets", "must be a list of targets")
    if len(targets) > options.max_targets:
        raise InputError(
            "max_targets",
            f"{len(targets)} targets exceed max_targets ({options.max_targets}); nothing was sent. Check the target list, or raise max_targets if "
            "this many accounts really must be acted on",
        )


# --- per-target outcome -----------------------------------------------------------------------------

def _error_code(error):
    if isinstance(error, IdentityResolutionError):
        return "IdentityAmbiguous" if error.matches else "IdentityNotFound"
    if isinstance(error, InputError):
        return "ProtectedAccount" if error.option == "protected_accounts" else "InvalidInput"
    return getattr(error, "code", None) or type(error).__name__


class TargetResult:
    """What happened to one target; :meth:`to_dict` is its entry in ``results`` (snake_case, no secrets)."""

    def __init__(self, index: int, target: Mapping[str, Any] | None) -> None:
        self.index = index
        self.target = dict((key, value) for key, value in (target or {}).items() if value not in (None, ""))
        self.status: str | None = None
        self.changed = False
        self.reason: str | None = None
        self.identity_account_id: str | None = None
        self.account_id: str | None = None
        self.identity_provider: str | None = None
        self.action: str | None = None
        self.correlation_id: str | None = None
        self.request_id: str | None = None
        self.client_request_id: str | None = None
        self.error_code: str | None = None
        self.error_message: str | None = None
        self.warnings: list[str] = []

    def done(self, status: str, changed: bool = False, reason: str | None = None) -> None:
        """Record the target's final status (one of STATUSES)."""
        self.status, self.changed, self.reason = status, changed, reason

    def error(self, status: str, error: BaseException) -> None:
        """Record a failure: its status, error code, redacted message and the request ids it carries."""
        self.done(status, changed=status == OUTCOME_UNKNOWN, reason=None)
        self.error_code = _error_code(error)
        self.error_message = redact(str(error))
        self.request_id = getattr(error, "request_id", None) or self.request_id
        self.client_request_id = getattr(error, "client_request_id", None) or self.client_request_id

    def to_dict(self) -> dict[str, Any]:
        """This target's entry in ``results``."""
        names = ("index", "target", "status", "changed", "reason", "identity_account_id", "account_id", "identity_provider",
                 "action", "correlation_id", "request_id", "client_request_id", "error_code", "error_message", "warnings")
        return dict((name, getattr(self, name)) for name in names)


class _Work:
    """One target on its way through the pipeline."""

    def __init__(self, index, target):
        self.result = TargetResult(index, target)
        self.request = None
        self.identity = None
        self.plan = None

    @property
    def open(self):
        return self.result.status is None

    def label(self):
        selector = self.request.selector if self.request else None
        what = selector.value if selector else "?"
        return f"target {self.result.index}: {what}"


# --- 1. input ------------------------------------------------------------------------------------

def _target_value(target, key, default):
    value = target.get(key)
    return default if value in (None, "") else value


def _check_target_shape(target):
    if not isinstance(target, dict):
        raise InputError("targets", f"each target must be a dictionary; got {target!r}")
    unknown = sorted(set(target) - set(TARGET_KEYS))
    if unknown:
        raise InputError("targets", f"unknown key(s) {', '.join(unknown)}; a target takes {', '.join(TARGET_KEYS)}")


def build_requests(targets: list[Any], options: BulkOptions) -> list[_Work]:
    """A _Work per target; a target whose input is wrong is refused here, before any request."""
    works = []
    for index, target in enumerate(targets):
        work = _Work(index, target if isinstance(target, dict) else {})
        try:
            _check_target_shape(target)
            work.request = ActionRequest(
                selector_from_params(target, ACTION_TARGET_OPTIONS),
                _target_value(target, "identity_provider", options.identity_provider),
                _target_value(target, "action", options.action),
                account_id=target.get("account_id"),
                protected_accounts=options.protected,
                action_matrix=options.action_matrix,
                require_offered_action=options.require_offered_action,
                reconcile=options.reconcile,
            )
            work.result.identity_provider = work.request.identity_provider
            work.result.action = work.request.action
        except InputError as error:
            work.result.error(REFUSED, error)
        works.append(work)
    return works


# --- 2. lookups ----------------------------------------------------------------------------------

def _chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)]


def _resolve_chunk(finder, kind, works):
    """One lookup for ``works`` (the same kind); each target must match exactly one identity."""
    distinct: dict[str, Any] = {}
    for work in works:
        distinct.setdefault(match_key(work.request.selector.value), work.request.selector.value)
    try:
        found = finder.find(kind, list(distinct.values()))
    except Exception as error:  # pylint: disable=broad-except
        # A GraphError or anything else: reported on each of these targets, the others' outcomes are kept.
        for work in works:
            work.result.error(FAILED, error)
        return
    for work in works:
        selector = work.request.selector
        try:
            work.identity = exactly_one(selector, [identity for identity in found if matches_selector(identity, selector)])
        except IdentityResolutionError as error:
            work.result.error(REFUSED, error)


def _resolve_by_id(client, work):
    selector = work.request.selector
    try:
        work.identity = get_identity(client, selector.value, "identity_account_id")
    except GraphError as error:
        work.result.error(REFUSED if error.status == 404 else FAILED, error)
    except Exception as error:  # pylint: disable=broad-except
        # Reported on the target: a batch must not lose the other targets' outcomes.
        work.result.error(FAILED, error)


def _lookup_jobs(client, finder, works):
    """Callables that fill ``work.identity`` (or the target's result): batched where a $filter can do it."""
    jobs = []
    batched: dict[str, list[Any]] = {}
    for work in works:
        kind = work.request.selector.kind
        if kind == LOOKUP_ID:
            jobs.append(functools.partial(_resolve_by_id, client, work))
        else:
            batched.setdefault(kind, []).append(work)
    for kind, group in batched.items():
        by_value: dict[str, list[Any]] = {}
        for work in group:
            by_value.setdefault(match_key(work.request.selector.value), []).append(work)
        for values in _chunks(sorted(by_value), LOOKUP_BATCH_SIZE):
            chunk = [work for value in values for work in by_value[value]]
            jobs.append(functools.partial(_resolve_chunk, finder, kind, chunk))
    return jobs


# --- 3. plans ------------------------------------------------------------------------------------

def _plan(works):
    """Per identity: the same checks and idempotency decision as a single target. No request."""
    first_seen: dict[tuple[Any, ...], Any] = {}
    for work in works:
        result = work.result
        result.identity_account_id = work.identity.get("id")
        try:
            work.plan = plan_for_identity(work.request, work.identity, result.warnings)
        except InputError as error:
            result.error(REFUSED, error)
            continue
        result.account_id = work.plan.body["accountId"]
        key = (result.identity_account_id, match_key(result.account_id), work.plan.action)
        if key in first_seen:
            result.done(UNCHANGED, reason=f"same identity, account and action as target {first_seen[key]}; sent once")
            work.plan = None
            continue
        first_seen[key] = result.index
        if not work.plan.send:
            result.done(UNCHANGED, reason=work.plan.reason)


# --- 4. actions ----------------------------------------------------------------------------------

def _act(client, work, stop, fail_fast):
    result = work.result
    if stop.is_set():
        result.done(NOT_STARTED, reason="fail_fast: not started after an earlier target failed")
        return
    try:
        outcome, sent = execute_plan(client, work.plan)
    except GraphOutcomeUnknownError as error:
        result.error(OUTCOME_UNKNOWN, error)
    except GraphError as error:
        result.error(FAILED, error)
    except Exception as error:  # pylint: disable=broad-except
        # One target's surprise must not lose the others' outcomes.
        result.error(FAILED, error)
    else:
        result.done(SUCCEEDED, changed=True, reason="the outcome was unknown, reading the identity again shows it took effect"
                    if outcome == "reconciled" else None)
        result.correlation_id = sent.get("correlation_id")
        result.request_id = sent.get("request_id")
        result.client_request_id = sent.get("client_request_id")
    if fail_fast and result.status in FAILURE_STATUSES:
        stop.set()


class _RetryCounter:
    """Replaces the client's per-retry warning during a bulk run: one summary instead of one line per 429."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, message):
        with self._lock:
            self.count += 1


def _run_all(pool, jobs):
    for dummy in pool.map(lambda job: job(), jobs):
        pass


# --- the run -------------------------------------------------------------------------------------

def run_bulk(client: GraphClient, targets: list[Any], options: BulkOptions, check_mode: bool = False) -> dict[str, Any]:
    """Act on every target. Returns changed, failed, msg, results, summary, diff (a list), warnings.

    Raises :class:`InputError` only for the whole task (the max_targets cap), before any request.
    """
    check_limits(targets, options)
    works = build_requests(targets, options)
    warnings = options.protected.warnings()
    warn_lock = threading.Lock()

    def warn(message):
        with warn_lock:
            if message not in warnings:
                warnings.append(message)

    ensure_token = getattr(client, "ensure_token", None)
    if ensure_token is not None and any(work.open for work in works):  # refused targets alone need no token
        ensure_token()  # a credential problem fails the task once, before any Graph request
    counter = _RetryCounter()
    finder = IdentityFinder(client, warn)
    previous_on_retry = getattr(client, "on_retry", None)
    client.on_retry = counter
    try:
        with ThreadPoolExecutor(max_workers=options.max_concurrency) as pool:
            _run_all(pool, _lookup_jobs(client, finder, [work for work in works if work.open]))
            _plan([work for work in works if work.open])
            sending = [work for work in works if work.open]
            if check_mode:
                for work in sending:
                    work.result.done(WOULD_RUN, changed=True)
            else:
                stop = threading.Event()
                if options.fail_fast and any(work.result.status in FAILURE_STATUSES for work in works):
                    stop.set()
                _run_all(pool, [functools.partial(_act, client, work, stop, options.fail_fast) for work in sending])
    finally:
        client.on_retry = previous_on_retry
    if counter.count:
        warnings.append(_throttle_warning(client, counter))
    report = _report(works, warnings, check_mode)
    report["lookups"] = {"scans": finder.scans, "queries": dict((kind, finder.query_used(kind)) for kind in finder.QUERIES
                                                                if finder.query_used(kind))}
    return report


def _throttle_warning(client, counter):
    waited = getattr(getattr(client, "retry", None), "waited", 0.0)
    return (f"Microsoft Graph throttled (or briefly failed) {counter.count} request(s) of the batch; they were retried, and the batch "
            f"paused {waited:.1f}s in total")


def _report(works, warnings, check_mode):
    results = [work.result.to_dict() for work in works]
    summary = dict((status, 0) for status in STATUSES)
    for result in results:
        summary[result["status"]] += 1
    summary["total"] = len(results)
    failures = [result for result in results if result["status"] in FAILURE_STATUSES]
    with_warnings = [result["index"] for result in results if result["warnings"]]
    if with_warnings:
        warnings.append(f"{len(with_warnings)} target(s) have warnings, see results[].warnings (targets"
                        f" {', '.join(str(index) for index in with_warnings[:20])})")
    return {
        "changed": any(result["changed"] for result in results),
        "failed": bool(failures),
        "msg": _message(summary, failures, check_mode),
        "results": results,
        "summary": summary,
        "diff": [_target_diff(work) for work in works if work.plan is not None and work.result.changed],
        "warnings": warnings,
    }


def _message(summary, failures, check_mode):
    counts = ", ".join(f"{summary[status]} {status}" for status in STATUSES if summary[status])
    text = f"{summary['total']} target(s){' (check mode)' if check_mode else ''}: {counts or 'none'}"
    if failures:
        first = "; ".join(f"target {result['index']}: {result['error_message']}" for result in failures[:3])
        text += f". {len(failures)} did not succeed, see results; first: {first}"
    return text


def _target_diff(work):
    plan = work.plan
    diff = action_diff(plan.identity, plan.account, plan.action, True)
    header = f"{work.label()} ({plan.body['identityProvider']} {plan.action} {plan.body['accountId']})"
    diff.update(before_header=header, after_header=header)
    return diff
