# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault matrix: every module, its GET and POST paths, against the emulator's fault injection.

Each case asserts the task's outcome and, from the emulator's log, the attempts it made and the exact number
of write requests; and from the emulator's state, how many times a write took effect (never twice).

Several cases share one playbook (each an ``ignore_errors`` task). A case's faults reach only its own task:
either the fault matches the task's own path (``path_regex`` on the identity or action id), or, for a path
every task shares (a collection), the route gets a queue of one-shot faults in task order, where a
pass-through entry (0 ms latency) answers the retry that follows each fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import failed, playbook, short
from reliability_helpers import (
    IDENTITY_GET,
    IDENTITY_LIST,
    INVOKE,
    MDE,
    SA_CANCEL,
    SA_CREATE,
    SA_LIST,
    SLOW_ACTIONS,
    app_token,
    create_security_action,
    describe,
    gap,
    invocations,
    pick_identities,
    play,
    security_actions,
    statuses,
    succeeded,
    task,
    token_requests_between,
    wait_for,
    warnings_of,
)

PASS = {"kind": "latency", "latency_ms": 0}  # a queue entry that lets one request through unchanged


def status(code, **extra):
    return dict({"kind": "status", "status": code}, **extra)


@dataclass
class Fault:
    """One fault case: ``specs`` fire on consecutive attempts of the faulted request."""

    key: str
    description: str
    specs: list
    outcome: str  # ok | reconciled | unknown | fail
    statuses: list  # expected status of each attempt of the faulted request (None: no answer)
    expected: str
    min_gap: float = 0.0  # seconds the client must wait between the first answer and the retry
    words: tuple = ()  # the failure message must contain these
    options: dict = field(default_factory=dict)
    effects: int = 1  # how many times the write must have taken effect
    reacquire: bool = False


BUDGET_OPTIONS = {"retry_budget": 2, "max_retries": 10}
TIMEOUT_OPTIONS = {"timeout": 2}

GET_FAULTS = [
    Fault("429s", "HTTP 429, Retry-After: 1 (seconds)", [status(429, retry_after=1)], "ok", [429, 200],
          "retried after Retry-After, then success", min_gap=0.9),
    Fault("429d", "HTTP 429, Retry-After as an HTTP date (+2 s)", [status(429, retry_after=2, retry_after_format="date")],
          "ok", [429, 200], "retried after the HTTP date, then success", min_gap=0.9),
    Fault("503", "HTTP 503 once, then healthy", [status(503)], "ok", [503, 200], "retried with backoff, then success"),
    Fault("504", "HTTP 504 once, then healthy", [status(504)], "ok", [504, 200], "retried with backoff, then success"),
    Fault("reset", "connection reset (TCP RST)", [{"kind": "reset"}], "ok", [None, 200], "retried, then success"),
    Fault("drop", "connection closed without an answer", [{"kind": "drop"}], "ok", [None, 200], "retried, then success"),
    Fault("timeout", "read timeout (no answer within timeout=2)", [{"kind": "timeout", "delay_s": 4}], "ok", [200, 200],
          "retried, then success", options=TIMEOUT_OPTIONS),
    Fault("truncated", "2xx body truncated (half of Content-Length)", [{"kind": "truncate"}], "ok", [200, 200],
          "retried, then success"),
    Fault("non-json", "2xx with a non-JSON body", [{"kind": "malformed"}], "ok", [200, 200], "retried, then success"),
    Fault("expired", "token expired mid-run (HTTP 401)", [{"kind": "expire_token"}], "ok", [401, 200],
          "one token re-acquired, request sent again, success", reacquire=True),
    Fault("budget", "HTTP 503 (Retry-After: 1) on every attempt; retry_budget 2",
          [status(503, retry_after=1, times=None)], "fail", [503, 503, 503],
          "fails naming the retry budget and the last request-id; zero writes",
          words=("retry budget of 2s exhausted", "retry_budget"), options=BUDGET_OPTIONS, effects=0),
]

# invokeAction / securityActions create: a write is replayed only when Graph provably rejected it (429, 401).
POST_FAULTS = [
    Fault("429s", "HTTP 429, Retry-After: 1 (seconds)", [status(429, retry_after=1)], "ok", [429, 200],
          "rejected write retried after Retry-After; takes effect once", min_gap=0.9),
    Fault("429d", "HTTP 429, Retry-After as an HTTP date (+2 s)", [status(429, retry_after=2, retry_after_format="date")],
          "ok", [429, 200], "rejected write retried after the HTTP date; takes effect once", min_gap=0.9),
    Fault("503", "HTTP 503, write not applied", [status(503)], "unknown", [503],
          "not replayed: fails as unknown outcome with the client-request-id", effects=0),
    Fault("503a", "HTTP 503 after the write was applied", [status(503, after_processing=True)], "reconciled", [503],
          "not replayed: state re-read, reconciled"),
    Fault("504", "HTTP 504, write not applied", [status(504)], "unknown", [504],
          "not replayed: fails as unknown outcome with the client-request-id", effects=0),
    Fault("504a", "HTTP 504 after the write was applied", [status(504, after_processing=True)], "reconciled", [504],
          "not replayed: state re-read, reconciled"),
    Fault("reset", "connection reset, write not applied", [{"kind": "reset"}], "unknown", [None],
          "not replayed: fails as unknown outcome with the client-request-id", effects=0),
    Fault("reseta", "connection reset after the write was applied", [{"kind": "reset", "after_processing": True}],
          "reconciled", [None], "not replayed: state re-read, reconciled"),
    Fault("timeout", "read timeout; the write lands after the client gave up", [{"kind": "timeout", "delay_s": 6}],
          "unknown", [200], "not replayed: fails as unknown outcome with the client-request-id; takes effect once (late)",
          options=TIMEOUT_OPTIONS),
    Fault("truncated", "2xx body truncated after the write was applied", [{"kind": "truncate"}], "reconciled", [200],
          "not replayed: state re-read, reconciled"),
    Fault("tlsa", "TLS session broken (a corrupt record) after the write was applied", [{"kind": "tls_corrupt"}],
          "reconciled", [200], "not replayed: state re-read, reconciled"),
    Fault("tlsp", "plaintext answer after the write was applied (WRONG_VERSION_NUMBER, as from a plaintext server)",
          [{"kind": "tls_plaintext"}], "reconciled", [200], "not replayed: state re-read, reconciled; never a plain TLS failure"),
    Fault("non-json", "2xx with a non-JSON body, write not applied", [{"kind": "malformed"}], "unknown", [200],
          "not replayed: fails as unknown outcome with the client-request-id", effects=0),
    Fault("json-string", "2xx whose JSON body is not an object (write applied)",
          [{"kind": "malformed", "body": '"accepted"', "content_type": "application/json", "after_processing": True}],
          "ok", [200], "no crash: the write is not replayed and the task reports it done"),
    Fault("expired", "token expired (HTTP 401) on the write", [{"kind": "expire_token"}], "ok", [401, 200],
          "one token re-acquired, write sent again (the 401 was not applied); takes effect once", reacquire=True),
    Fault("budget", "HTTP 429 (Retry-After: 1) on every attempt; retry_budget 2",
          [status(429, retry_after=1, times=None)], "fail", [429, 429, 429],
          "fails naming the retry budget and the last request-id; never applied",
          words=("retry budget of 2s exhausted", "retry_budget"), options=BUDGET_OPTIONS, effects=0),
]

CANCEL_FAULTS = [
    Fault("429s", "HTTP 429, Retry-After: 1 (seconds)", [status(429, retry_after=1)], "ok", [429, 200],
          "rejected cancel retried after Retry-After; canceled", min_gap=0.9),
    Fault("503", "HTTP 503, cancel not applied", [status(503)], "unknown", [503],
          "not replayed: action re-read (still running), fails as unknown outcome with the client-request-id",
          effects=0),
    # Microsoft documents no status for a canceled action, so no re-read can prove a cancel took effect: each of
    # these is reported as an unknown outcome, with the status read afterwards (a repeated cancel is harmless).
    Fault("504a", "HTTP 504 after the cancel was applied", [status(504, after_processing=True)], "unknown", [504],
          "not replayed: action re-read, reported as an unknown outcome with the status read afterwards"),
    Fault("reseta", "connection reset after the cancel was applied", [{"kind": "reset", "after_processing": True}],
          "unknown", [None], "not replayed: action re-read, reported as an unknown outcome with the status read afterwards"),
    Fault("tlspa", "plaintext answer after the cancel was applied (WRONG_VERSION_NUMBER)", [{"kind": "tls_plaintext"}],
          "unknown", [200], "not replayed: action re-read, reported as an unknown outcome with the status read afterwards"),
    Fault("timeouta", "read timeout after the cancel was applied", [{"kind": "timeout", "delay_s": 4, "after_processing": True}],
          "unknown", [200], "not replayed: action re-read, reported as an unknown outcome with the status read afterwards",
          options=TIMEOUT_OPTIONS),
]


# A lookup by user principal name asks for the derived type microsoft.graph.security.user first (issue 11).
UPN_LOOKUP = "list_identity_accounts_cast"

# disable/enable: Defender for Identity applies actions asynchronously, so the identity is read again until the late
# write shows (reconcile_timeout, issue 11): a write landing after the client gave up is reconciled, not unknown.
IDENTITY_POST_FAULTS = [Fault(fault.key, fault.description, fault.specs, "reconciled", fault.statuses,
                              "not replayed: state re-read until the late write shows (reconcile_timeout), reconciled; "
                              "takes effect once", options=fault.options) if fault.key == "timeout" else fault
                        for fault in POST_FAULTS]


# --- fault placement ---------------------------------------------------------------------------------------


def add_targeted(emulator, fault, route, path_part):
    """The case's faults match only its own path (its identity's or action's id)."""
    for spec in fault.specs:
        spec = dict(spec, route=route, path_regex=re.escape(path_part))
        _add(emulator, spec)


def add_queue(emulator, route, faults, method=None):
    """One-shot faults in task order on a route all tasks share; a pass-through answers each retry."""
    persistent = [fault for fault in faults if any(spec.get("times", 1) is None for spec in fault.specs)]
    assert not persistent or persistent == [faults[-1]], "a persistent fault can only close a queue"
    for fault in faults:
        for spec in fault.specs:
            _add(emulator, dict(spec, route=route, method=method))
        if len(fault.statuses) > len(fault.specs) and fault not in persistent:
            _add(emulator, dict(PASS, route=route, method=method))


def _add(emulator, spec):
    """Add one fault; it fires once unless the spec says ``times: None`` (forever)."""
    forever = "times" in spec and spec["times"] is None
    spec = {key: value for key, value in spec.items() if value is not None}
    if not forever:
        spec.setdefault("times", 1)
    emulator.admin.add_fault(**spec)


def settled_log(emulator):
    """The whole log, once every request held by a timeout fault has been answered (and logged)."""
    held = sum(fault["hits"] for fault in emulator.admin.faults() if fault["kind"] == "timeout")
    wait_for(lambda: len([e for e in emulator.admin.requests() if e["fault"] == "timeout"]) >= held, timeout=20)
    return sorted(emulator.admin.requests(), key=lambda entry: entry["time"])


# --- checks ------------------------------------------------------------------------------------------------


def check_attempts(fault, attempts, result, log, case):
    """The faulted request's attempts: statuses, waits, token re-acquisition, and what the failure says."""
    seen = [normal(code) for code in statuses(attempts)]
    case["observed"] = describe(attempts)
    assert seen == [normal(code) for code in fault.statuses], f"attempts {seen}, expected {fault.statuses}"
    assert len({entry["client_request_id"] for entry in attempts}) == 1, "a retry changed the client-request-id"
    if fault.min_gap:
        waited = gap(attempts[0], attempts[1])
        case["observed"] += f" (waited {waited:.1f} s)"
        assert waited >= fault.min_gap, f"retried {waited:.2f} s after the 429, before Retry-After"
    if fault.reacquire:
        fresh = token_requests_between(log, attempts[0]["seq"], attempts[1]["seq"])
        assert len(fresh) == 1, f"{len(fresh)} token requests between the 401 and the retry, expected exactly 1"
    if len(fault.statuses) > 1 and fault.outcome != "fail" and not fault.reacquire:
        assert any("retrying in" in warning for warning in warnings_of(result)), "the retry was not reported as a warning"
    if fault.outcome == "fail":
        message = result.get("msg", "")
        for word in fault.words:
            assert word in message, f"the failure does not say {word!r}: {short(result)}"
        assert attempts[-1]["request_id"] in message, "the failure does not name the last request-id"


def normal(code):
    """2xx statuses compare equal (a create answers 201)."""
    return "2xx" if isinstance(code, int) and 200 <= code < 300 else code


def check_outcome(fault, played, name):
    """The task's status for this fault's outcome; returns the task result."""
    state = played.status(name)
    result = played.task(name)
    if fault.outcome in ("ok", "reconciled"):
        assert state in ("ok", "changed"), f"expected success, got {state}: {short(result)}"
    else:
        assert state == "failed", f"expected a clear failure, got {state}"
        assert "Traceback (most recent call last)" not in str(result.get("module_stderr", "")), "the module crashed"
    return result


def check_unknown_outcome(result, write):
    """Unknown outcome: the failure carries the write's client-request-id, and says it was not resent."""
    error = result["error"]
    assert error.get("client_request_id") == write["client_request_id"], \
        f"client_request_id {error.get('client_request_id')} is not the write's {write['client_request_id']}"
    assert write["client_request_id"] in result["msg"], "the message does not quote the client-request-id"


def count_writes(mine):
    return [entry for entry in mine if entry["family"] == "graph" and entry["method"] != "GET"]


# --- identity_account_info and identity_account_action: faults on each identity's own path ----------------


@pytest.fixture
def many_identities(emulator):
    emulator.admin.configure(extra_identities=60)
    return emulator


def test_identity_account_info_get(ansible, many_identities, reliability):
    emulator = many_identities
    emulator.admin.configure(shape="example")
    targets = pick_identities(emulator, len(GET_FAULTS))
    for fault, identity in zip(GET_FAULTS, targets):
        add_targeted(emulator, fault, IDENTITY_GET, identity["id"])
    tasks = [task(fault.key, "identity_account_info", dict(fault.options, id=identity["id"]))
             for fault, identity in zip(GET_FAULTS, targets)]
    played = play(ansible, playbook(*tasks))
    log = settled_log(emulator)
    for fault, identity in zip(GET_FAULTS, targets):
        with reliability.case("fault", fault.description, "identity_account_info", fault.expected, path="GET (example shape)",
                              expected_writes=0) as case:
            mine = played.during(fault.key, log)
            case["writes"] = len(count_writes(mine))
            result = check_outcome(fault, played, fault.key)
            attempts = [entry for entry in mine if entry["route"] == IDENTITY_GET]
            check_attempts(fault, attempts, result, log, case)
            if fault.outcome == "ok":
                assert [item["id"] for item in result["identity_accounts"]] == [identity["id"]]
                providers = [account["identity_provider"] for account in result["identity_accounts"][0]["accounts"]]
                assert "activeDirectory" in providers, f"accounts not normalized from the example shape: {providers}"
            assert case["writes"] == 0
    reliability.verify()


def test_identity_account_action_get(ansible, many_identities, reliability):
    emulator = many_identities
    targets = pick_identities(emulator, len(GET_FAULTS))
    for fault, identity in zip(GET_FAULTS, targets):
        add_targeted(emulator, fault, IDENTITY_GET, identity["id"])
    tasks = [task(fault.key, "identity_account_action", dict(fault.options, identity_account_id=identity["id"],
                                                             identity_provider="activeDirectory", action="disable"))
             for fault, identity in zip(GET_FAULTS, targets)]
    played = play(ansible, playbook(*tasks))
    log = settled_log(emulator)
    for fault, identity in zip(GET_FAULTS, targets):
        expected_writes = 1 if fault.outcome == "ok" else 0
        with reliability.case("fault", fault.description, "identity_account_action", fault.expected + "; the action sent once"
                              if fault.outcome == "ok" else fault.expected, path="GET (resolve)",
                              expected_writes=expected_writes) as case:
            mine = played.during(fault.key, log)
            case["writes"] = len(count_writes(mine))
            applied = len(invocations(emulator, identity["id"]))
            case["duplicates"] = max(0, applied - fault.effects)
            result = check_outcome(fault, played, fault.key)
            check_attempts(fault, [entry for entry in mine if entry["route"] == IDENTITY_GET], result, log, case)
            assert case["writes"] == expected_writes, f"{case['writes']} writes, expected {expected_writes}"
            assert applied == fault.effects, f"the action took effect {applied} times, expected {fault.effects}"
            if fault.outcome == "ok":
                assert result["changed"] is True and result["outcome"] == "sent"
    reliability.verify()


def test_identity_account_action_post(ansible, many_identities, reliability):
    emulator = many_identities
    emulator.admin.configure(shape="example")
    targets = pick_identities(emulator, len(IDENTITY_POST_FAULTS))
    for fault, identity in zip(IDENTITY_POST_FAULTS, targets):
        add_targeted(emulator, fault, INVOKE, identity["id"])
    tasks = [task(fault.key, "identity_account_action", dict(fault.options, identity_account_id=identity["id"],
                                                             identity_provider="activeDirectory", action="disable"))
             for fault, identity in zip(IDENTITY_POST_FAULTS, targets)]
    played = play(ansible, playbook(*tasks))
    log = settled_log(emulator)
    for fault, identity in zip(IDENTITY_POST_FAULTS, targets):
        with reliability.case("fault", fault.description, "identity_account_action", fault.expected,
                              path="POST invokeAction (example shape)", expected_writes=len(fault.statuses)) as case:
            mine = played.during(fault.key, log)
            written = count_writes(mine)
            case["writes"] = len(written)
            applied = len(invocations(emulator, identity["id"]))
            case["duplicates"] = max(0, applied - 1)
            result = check_outcome(fault, played, fault.key)
            check_attempts(fault, written, result, log, case)
            assert applied == fault.effects, f"the action took effect {applied} times, expected {fault.effects}"
            if fault.outcome == "reconciled":
                assert result["outcome"] == "reconciled" and result["changed"] is True, short(result)
                assert result["invoke_action_result"]["client_request_id"] == written[0]["client_request_id"]
            elif fault.outcome == "ok":
                assert result["outcome"] == "sent" and result["invoke_action_result"]["action"] == "disable"
            elif fault.outcome == "unknown":
                check_unknown_outcome(result, written[0])
                assert "may still be applied" in result["msg"], short(result)
    reliability.verify()


def test_command_action_with_unknown_outcome_is_not_resent(ansible, many_identities, reliability):
    """A command (no readable state) after a read timeout, a reset or a TLS failure: reported with the id, never resent."""
    emulator = many_identities
    # lands late / applied, then reset / applied, then the TLS session breaks
    faults = [fault for fault in POST_FAULTS if fault.key in ("timeout", "reseta", "tlsa")]
    targets = pick_identities(emulator, len(faults), offering="forcePasswordReset")
    for fault, identity in zip(faults, targets):
        add_targeted(emulator, fault, INVOKE, identity["id"])
    tasks = [task(fault.key, "identity_account_action", dict(fault.options, identity_account_id=identity["id"],
                                                             identity_provider="activeDirectory", action="forcePasswordReset"))
             for fault, identity in zip(faults, targets)]
    played = play(ansible, playbook(*tasks))
    log = settled_log(emulator)
    for fault, identity in zip(faults, targets):
        with reliability.case("fault", fault.description + " (command forcePasswordReset)", "identity_account_action",
                              "not replayed: fails as unknown outcome with the client-request-id (Action center)",
                              path="POST invokeAction", expected_writes=1) as case:
            mine = played.during(fault.key, log)
            written = count_writes(mine)
            case["writes"] = len(written)
            applied = len(invocations(emulator, identity["id"]))
            case["duplicates"] = max(0, applied - 1)
            case["observed"] = describe(written)
            assert played.status(fault.key) == "failed", short(played.task(fault.key))
            result = played.task(fault.key)
            assert len(written) == 1, f"{len(written)} writes"
            check_unknown_outcome(result, written[0])
            assert "Action center" in result["error"].get("hint", ""), short(result)
            assert applied == 1, f"the command took effect {applied} times"
    reliability.verify()


# --- security_action: lookups and creates share the collection path, so faults are queued --------------------


def block(ip, **options):
    return dict(options, name="BlockIp", parameters={"IP": ip}, vendor_information=MDE)


def stored_with_ip(emulator, ip):
    return [action for action in security_actions(emulator)
            if any(p.get("value") == ip for p in action.get("parameters") or [])]


def test_security_action_get(ansible, emulator, reliability):
    add_queue(emulator, SA_LIST, GET_FAULTS, method="GET")
    ips = [f"203.0.113.{index + 10}" for index in range(len(GET_FAULTS))]
    tasks = [task(fault.key, "security_action", block(ip, **fault.options)) for fault, ip in zip(GET_FAULTS, ips)]
    played = play(ansible, playbook(*tasks), client="legacy_actions")
    log = settled_log(emulator)
    for fault, ip in zip(GET_FAULTS, ips):
        expected_writes = 1 if fault.outcome == "ok" else 0
        with reliability.case("fault", fault.description, "security_action",
                              fault.expected + ("; created once" if fault.outcome == "ok" else ""),
                              path="GET (client-context lookup)", expected_writes=expected_writes) as case:
            mine = played.during(fault.key, log)
            case["writes"] = len(count_writes(mine))
            stored = stored_with_ip(emulator, ip)
            case["duplicates"] = max(0, len(stored) - 1)
            result = check_outcome(fault, played, fault.key)
            check_attempts(fault, [entry for entry in mine if entry["route"] == SA_LIST], result, log, case)
            assert case["writes"] == expected_writes, f"{case['writes']} writes, expected {expected_writes}"
            assert len(stored) == fault.effects, f"{len(stored)} actions stored, expected {fault.effects}"
    reliability.verify()


def test_security_action_create(ansible, emulator, reliability):
    emulator.admin.configure(shape="example")
    add_queue(emulator, SA_CREATE, POST_FAULTS)
    ips = [f"198.51.100.{index + 10}" for index in range(len(POST_FAULTS))]
    tasks = [task(fault.key, "security_action", block(ip, **fault.options)) for fault, ip in zip(POST_FAULTS, ips)]
    played = play(ansible, playbook(*tasks), client="legacy_actions")
    log = settled_log(emulator)
    for fault, ip in zip(POST_FAULTS, ips):
        with reliability.case("fault", fault.description, "security_action", fault.expected,
                              path="POST create (example shape)", expected_writes=len(fault.statuses)) as case:
            mine = played.during(fault.key, log)
            written = count_writes(mine)
            case["writes"] = len(written)
            stored = stored_with_ip(emulator, ip)
            case["duplicates"] = max(0, len(stored) - 1)
            result = check_outcome(fault, played, fault.key)
            check_attempts(fault, written, result, log, case)
            assert len(stored) == fault.effects, f"{len(stored)} actions stored, expected {fault.effects}"
            if fault.outcome in ("ok", "reconciled"):
                assert result["changed"] is True and result["security_action"]["id"] == stored[0]["id"], short(result)
            if fault.outcome == "reconciled":
                assert result["outcome"] == "reconciled", short(result)
                assert any("took effect" in warning for warning in warnings_of(result)), "reconciliation not reported"
            elif fault.outcome == "unknown":
                check_unknown_outcome(result, written[0])
                assert "not sent again" in result["msg"], short(result)
    reliability.verify()


def test_security_action_cancel(ansible, emulator, reliability):
    emulator.admin.configure(security_action_timing=SLOW_ACTIONS)
    token = app_token(emulator)
    targets = [create_security_action(emulator, token, f"192.0.2.{index + 10}") for index in range(len(CANCEL_FAULTS))]
    emulator.admin.clear_requests()
    for fault, action in zip(CANCEL_FAULTS, targets):
        add_targeted(emulator, fault, SA_CANCEL, action["id"])
    tasks = [task(fault.key, "security_action", dict(fault.options, state="canceled", id=action["id"]))
             for fault, action in zip(CANCEL_FAULTS, targets)]
    played = play(ansible, playbook(*tasks), client="legacy_actions")
    log = settled_log(emulator)
    for fault, action in zip(CANCEL_FAULTS, targets):
        with reliability.case("fault", fault.description, "security_action", fault.expected, path="POST cancel",
                              expected_writes=len(fault.statuses)) as case:
            mine = played.during(fault.key, log)
            written = count_writes(mine)
            case["writes"] = len(written)
            result = check_outcome(fault, played, fault.key)
            check_attempts(fault, written, result, log, case)
            if fault.outcome == "unknown":
                check_unknown_outcome(result, written[0])
                assert "the action now reads" in result["msg"], short(result)
            else:
                assert result["outcome"] == "sent" and result["request_ids"]["client_request_id"], short(result)
    reliability.verify()


# --- security_action_info: client-context lookups share the collection path ----------------------------------


def test_security_action_info_get(ansible, emulator, reliability):
    emulator.admin.configure(shape="example")
    token = app_token(emulator)
    contexts = [f"reliability-{fault.key}" for fault in GET_FAULTS]
    created = [create_security_action(emulator, token, f"203.0.113.{index + 100}", client_context=context)
               for index, context in enumerate(contexts)]
    emulator.admin.clear_requests()
    add_queue(emulator, SA_LIST, GET_FAULTS, method="GET")
    tasks = [task(fault.key, "security_action_info", dict(fault.options, client_context=context))
             for fault, context in zip(GET_FAULTS, contexts)]
    played = play(ansible, playbook(*tasks), client="legacy_reader")
    log = settled_log(emulator)
    for fault, action in zip(GET_FAULTS, created):
        with reliability.case("fault", fault.description, "security_action_info", fault.expected, path="GET (example shape)",
                              expected_writes=0) as case:
            mine = played.during(fault.key, log)
            case["writes"] = len(count_writes(mine))
            result = check_outcome(fault, played, fault.key)
            check_attempts(fault, [entry for entry in mine if entry["route"] == SA_LIST], result, log, case)
            if fault.outcome == "ok":
                assert [item["id"] for item in result["security_actions"]] == [action["id"]], short(result)
            assert case["writes"] == 0
    reliability.verify()


# --- paging: many pages, faults on some, empty pages -----------------------------------------------------------


def graph_get(emulator, token, url):
    import requests  # the set-up reads pages directly to learn the emulator's paging links

    reply = requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=emulator.info["ca_path"], timeout=10)
    reply.raise_for_status()
    return reply.json()


def test_paging_many_pages_with_faults_and_empty_pages(ansible, emulator, reliability):
    emulator.admin.configure(extra_identities=150, page_size=7)
    everyone = {identity["id"] for identity in emulator.admin.state()["identities"]}
    token = app_token(emulator, client="responder")
    # The set-up walks the emulator's real paging links ($top=7, 7 per page) to know each page's URL and items.
    links, pages = [f"{emulator.info['graph_endpoint']}/beta/security/identities/identityAccounts?$top=7"], []
    while links[-1]:
        page = graph_get(emulator, token, links[-1])
        pages.append({item["id"] for item in page["value"]})
        links.append(page.get("@odata.nextLink"))
    emulator.admin.clear_requests()
    faulted = {3: status(429, retry_after=1), 9: status(503), 15: {"kind": "reset"}}
    empty_at = len(pages) - 5
    # The first answer is an empty page pointing at the first real page; page ``empty_at`` is answered with an empty
    # page pointing at the next one, so its items are (rightly) not returned; pages 3, 9, 15 fail once each.
    queue = [empty_page(links[0])]
    for number in range(1, len(pages) + 1):
        if number in faulted:
            queue += [faulted[number], PASS]
        elif number == empty_at:
            queue.append(empty_page(links[number]))
        else:
            queue.append(PASS)
    for spec in queue:
        _add(emulator, dict(spec, route=IDENTITY_LIST))
    played = play(ansible, playbook(task("all pages", "identity_account_info", {})))
    log = settled_log(emulator)
    requests_made = [entry for entry in played.during("all pages", log) if entry["route"] == IDENTITY_LIST]
    expected = everyone - pages[empty_at - 1]
    with reliability.case("fault", f"{len(pages)} pages of 7; HTTP 429, 503 and a connection reset on pages 3, 9 and 15",
                          "identity_account_info", "every link followed, each faulted page retried once, "
                          "every identity exactly once", path="GET (paging)", expected_writes=0) as case:
        case["writes"] = len(count_writes(played.during("all pages", log)))
        case["observed"] = f"{len(requests_made)} requests for {len(pages)} pages"
        result = succeeded(played, "all pages")
        found = [item["id"] for item in result["identity_accounts"]]
        assert len(found) == len(set(found)), f"{len(found) - len(set(found))} identities returned twice"
        assert set(found) == expected, f"{len(expected - set(found))} identities lost"
        assert len(requests_made) == len(queue), f"{len(requests_made)} requests, expected {len(queue)}"
        assert statuses([requests_made[i] for i in (3, 4)]) == [429, 200], "page 3 was not retried once"
    with reliability.case("fault", "an empty first page and an empty page before the end, both with @odata.nextLink",
                          "identity_account_info", "empty pages tolerated, their @odata.nextLink followed to the end",
                          path="GET (paging)", expected_writes=0) as case:
        case["writes"] = 0
        case["observed"] = f"{len(set(found))} identities from {len(pages) - 1} non-empty pages"
        assert played.status("all pages") == "ok"
        assert requests_made[0]["fault"] == "malformed" and requests_made[1]["query"].get("$top") == "7", \
            "the empty first page's link was not followed"
        assert requests_made[-1]["query"].get("$skiptoken"), "the last link was not followed"
        assert set(found) == expected
    reliability.verify()


def empty_page(next_link):
    return {"kind": "malformed", "content_type": "application/json",
            "body": '{"value": [], "@odata.nextLink": "%s"}' % next_link}


# --- token endpoint failures ---------------------------------------------------------------------------------

UNKNOWN_GUID = "00000000-0000-4000-8000-00000000dead"


def token_failures(info):
    responder = info["clients"]["responder"]
    federated = info["federated"]
    return [
        ("invalid client", "client_id not registered in the tenant", {"client_id": UNKNOWN_GUID},
         "AADSTS700016", ["client_id", "registered"]),
        ("wrong secret", "wrong client secret", {"client_secret": "wrong-secret-value-0123456789"},
         "AADSTS7000215", ["client secret is wrong", "client_secret"]),
        ("unknown tenant", "tenant_id that does not exist", {"tenant_id": UNKNOWN_GUID},
         "AADSTS90002", ["tenant_id", "cloud_environment"]),
        ("unregistered certificate", "certificate not registered on the app",
         {"auth_method": "certificate", "client_certificate_path": responder["unregistered_certificate_path"]},
         "AADSTS700027", ["upload the certificate", "client_certificate_path"]),
        ("expired federated token", "expired federated token",
         {"auth_method": "federated", "client_id": federated["client_id"], "federated_token_file": federated["expired_token_file"]},
         "AADSTS700024", ["refresh the federated token file", "federated_token_file"]),
    ]


MODULE_ARGS = {
    "identity_account_info": {"user_principal_name": "meganb@contoso.com"},
    "identity_account_action": {"user_principal_name": "meganb@contoso.com", "identity_provider": "activeDirectory",
                                "action": "disable"},
    "security_action": block("203.0.113.200"),
    "security_action_info": {},
}


def test_token_endpoint_failures(ansible, emulator, reliability):
    cases = token_failures(emulator.info)
    tasks = []
    for module, args in MODULE_ARGS.items():
        for key, description, credentials, code, words in cases:
            tasks.append(task(f"{module} {key}", module, dict(args, **credentials)))
    played = play(ansible, playbook(*tasks))
    log = emulator.admin.requests()
    for module in MODULE_ARGS:
        for key, description, credentials, code, words in cases:
            with reliability.case("fault", f"token endpoint: {description}", module, f"fails with {code} and the fix; "
                                  "zero Graph requests", path="token", expected_writes=0) as case:
                name = f"{module} {key}"
                mine = played.during(name, log)
                case["writes"] = len(count_writes(mine))
                assert played.status(name) == "failed", short(played.task(name))
                result = played.task(name)
                error = result["error"]
                case["observed"] = f"{error.get('error_code')}: {short(error.get('hint', ''), 100)}"
                assert error.get("error_code") == code, f"error_code {error.get('error_code')}, expected {code}"
                assert code in result["msg"], "the message does not name the AADSTS code"
                text = result["msg"] + " " + result["error"].get("hint", "")
                for word in words:
                    assert word in text, f"the failure does not say {word!r}: {short(result)}"
                assert any(entry["family"] == "entra" for entry in mine), "no request reached the token service"
                assert [entry for entry in mine if entry["family"] == "graph"] == [], "Graph was called without a token"
    reliability.verify()


def test_token_endpoint_transient_errors(ansible, emulator, reliability):
    """The token service answers 503, or 429 with Retry-After, once; the task must still get its token."""
    cases = [("token 503", "token endpoint HTTP 503 once", status(503), "identity_account_info",
              {"user_principal_name": "meganb@contoso.com"}, "responder"),
             ("token 429", "token endpoint HTTP 429 (Retry-After: 1) once", status(429, retry_after=1),
              "security_action_info", {}, "legacy_reader")]
    for key, description, spec, module, args, client in cases:
        emulator.admin.clear_faults()
        _add(emulator, dict(spec, route="token"))
        played = play(ansible, playbook(task(key, module, args)), client=client)
        log = emulator.admin.requests()
        with reliability.case("fault", description, module, "token request retried (it changes nothing), then success",
                              path="token", expected_writes=0) as case:
            tokens = [entry for entry in played.during(key, log) if entry["route"] == "token"]
            case["writes"] = len(count_writes(played.during(key, log)))
            case["observed"] = " -> ".join(str(code) for code in statuses(tokens))
            assert played.status(key) == "ok", short(played.task(key))
            assert statuses(tokens) == [spec["status"], 200], f"token attempts {statuses(tokens)}"
            if spec.get("retry_after"):
                assert gap(tokens[0], tokens[1]) >= 0.9, "the token request was retried before Retry-After"
    reliability.verify()


def test_bulk_command_meeting_a_tls_failure_after_sending_is_outcome_unknown(ansible, many_identities, reliability):
    """Bulk mode: the target whose write met a TLS failure is outcome_unknown (not failed, which invites a re-run that
    would repeat forcePasswordReset); the other targets carry on; every write is sent once."""
    emulator = many_identities
    targets = pick_identities(emulator, 3, offering="forcePasswordReset")
    add_targeted(emulator, Fault("tlsa", "", [{"kind": "tls_corrupt"}], "unknown", [200], ""), INVOKE, targets[1]["id"])
    args = {"targets": [{"identity_account_id": identity["id"]} for identity in targets],
            "identity_provider": "activeDirectory", "action": "forcePasswordReset"}
    bulk = task("bulk", "identity_account_action", args)
    played = play(ansible, playbook(bulk))
    log = settled_log(emulator)
    with reliability.case("fault", "TLS session broken after a command was applied, in bulk mode (targets)",
                          "identity_account_action", "that target outcome_unknown with its client-request-id, the others "
                          "succeed; nothing resent", path="POST invokeAction (bulk)", expected_writes=3) as case:
        written = count_writes(played.during("bulk", log))
        case["writes"] = len(written)
        applied = [len(invocations(emulator, identity["id"])) for identity in targets]
        case["duplicates"] = sum(max(0, count - 1) for count in applied)
        result = played.task("bulk")
        outcomes = [item["status"] for item in result["results"]]
        case["observed"] = ", ".join(outcomes)
        assert outcomes == ["succeeded", "outcome_unknown", "succeeded"], short(result)
        assert result["summary"]["outcome_unknown"] == 1 and result["summary"]["failed"] == 0
        faulted = [entry for entry in written if targets[1]["id"] in entry["path"]]
        assert len(faulted) == 1 and result["results"][1]["client_request_id"] == faulted[0]["client_request_id"]
        assert len(written) == 3 and applied == [1, 1, 1], f"writes {len(written)}, applied {applied}"
    reliability.verify()


def test_token_and_graph_throttling_together_stay_within_retry_budget(ansible, emulator, reliability):
    """The token service throttles (Retry-After 2), then Graph does (Retry-After 2, forever): with retry_budget 3 the
    task stops at once when the second wait no longer fits, so it never waits longer than retry_budget in total."""
    _add(emulator, dict(status(429, retry_after=2), route="token"))
    _add(emulator, dict(status(429, retry_after=2, times=None), route=UPN_LOOKUP))
    args = {"user_principal_name": "meganb@contoso.com", "retry_budget": 3, "max_retries": 10}
    played = play(ansible, playbook(task("read", "identity_account_info", args)))
    log = emulator.admin.requests()
    with reliability.case("fault", "token endpoint HTTP 429 (Retry-After 2) then Graph HTTP 429 (Retry-After 2) on "
                          "every attempt; retry_budget 3", "identity_account_info", "one budget for both services: "
                          "fails naming the retry budget after waiting at most retry_budget", path="token + GET (list)",
                          expected_writes=0) as case:
        mine = played.during("read", log)
        tokens = [entry for entry in mine if entry["route"] == "token"]
        reads = [entry for entry in mine if entry["route"] == UPN_LOOKUP]
        span = reads[-1]["time"] - tokens[0]["time"]
        case["writes"] = len(count_writes(mine))
        case["observed"] = "token %s; Graph %s; %.1f s from the first token request to the last Graph request" % (
            describe(tokens), describe(reads), span)
        result = failed(played, "read")
        assert statuses(tokens) == [429, 200], f"token attempts {statuses(tokens)}"
        assert statuses(reads) == [429], f"Graph attempts {statuses(reads)}: the token wait was not charged to the budget"
        assert span < 3, f"waited {span:.1f} s, more than retry_budget 3"
        assert "retry budget of 3s exhausted" in result["msg"], short(result)
        assert any("token service POST" in warning and "retrying in 2.0s" in warning
                   for warning in warnings_of(result)), "the token retry was not reported as a warning"
    reliability.verify()
