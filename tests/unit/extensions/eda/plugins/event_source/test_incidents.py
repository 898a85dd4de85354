# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The incidents event source without a network: a fake Graph client serves raw incidents, a simulated clock
drives the schedule and the retry policy. Emulator-backed tests are in tests/eda."""

from __future__ import annotations

import asyncio
import datetime
import importlib.util
import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphAuthError, GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._retries import RetryPolicy
from ansible_collections.msgraph.security.plugins.module_utils._options import CONNECTION_OPTIONS

from ansible_collections.msgraph.security.tests.unit.fakes import FakeClock


def _load_source():
    for entry in sys.path:
        path = Path(entry) / "ansible_collections" / "msgraph" / "security" / "extensions" / "eda" / "plugins" / "event_source" / "incidents.py"
        if path.exists():
            spec = importlib.util.spec_from_file_location("msgraph_incidents_source_unit", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise RuntimeError("put the directory holding ansible_collections/ on PYTHONPATH")


source_module = _load_source()
NOW = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.timezone.utc)
PREFIX = "msgraph.security respond_to_incident"


def incident(incident_id="7", updated="2026-05-01T08:40:00Z", comments=(), status="active", assigned_to=None, alerts=None):
    return {"id": incident_id, "displayName": "Pass-the-ticket", "severity": "high", "status": status, "assignedTo": assigned_to,
            "lastUpdateDateTime": updated, "createdDateTime": "2026-05-01T08:31:00Z", "customTags": [],
            "comments": [{"comment": text, "createdByDisplayName": "x", "createdDateTime": updated} for text in comments],
            "alerts": alerts if alerts is not None else [
                {"id": "da1", "serviceSource": "microsoftDefenderForIdentity", "status": "new", "lastUpdateDateTime": updated,
                 "evidence": []}]}


class FakeClient:
    """Serves ``self.items`` to every list request (filtered by lastUpdateDateTime ge like Graph); ``failures``
    is a queue of exceptions raised by the next polls."""

    def __init__(self, items=(), failures=()):
        self.items = list(items)
        self.failures = list(failures)
        self.retry = RetryPolicy(max_retries=1, budget_seconds=40)
        self.requests = []

    def get_all(self, path, params=None, max_items=None, permission=None):
        self.requests.append(params)
        if self.failures:
            raise self.failures.pop(0)
        return [dict(item) for item in self.items]


class ListQueue:
    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


def make(tmp_path=None, items=(), failures=(), clock=None, **args):
    clock = clock or FakeClock()

    async def sleep(seconds):
        clock.sleep(seconds)

    args.setdefault("updated_since", "2026-05-01T08:30:00Z")
    if tmp_path is not None:
        args.setdefault("state_file", str(tmp_path / "state" / "incidents.json"))
    source = source_module.IncidentsSource(ListQueue(), args, client=FakeClient(items, failures), sleep=sleep,
                                           clock=clock.clock, now=lambda: NOW)
    source.fake_clock = clock
    return source


def polls(source, count):
    asyncio.run(source.run(polls=count))
    return [event["incident"]["id"] for event in source.queue.events]


# --- loop-proof: the collection's own write is never a reason to emit again --------------------------------

def test_an_own_audit_comment_does_not_emit_the_incident_again(tmp_path):
    source = make(tmp_path, [incident()])
    assert polls(source, 1) == ["7"]
    source.client.items = [incident(updated="2026-05-01T08:41:00Z", comments=[PREFIX + ", incident 7: containment executed\nx"])]
    assert polls(source, 3) == ["7"]  # no second event
    saved = json.loads((tmp_path / "state" / "incidents.json").read_text())
    assert saved["emitted"]["7"]["updated"] == "2026-05-01T08:41:00Z" and saved["since"] == "2026-05-01T08:41:00Z"


def test_status_and_owner_set_with_the_audit_comment_do_not_emit_again(tmp_path):
    source = make(tmp_path, [incident()])
    polls(source, 1)
    source.client.items = [incident(updated="2026-05-01T08:42:00Z", comments=[PREFIX + ": containment executed"],
                                    status="inProgress", assigned_to="soc@contoso.com")]
    assert polls(source, 2) == ["7"]


@pytest.mark.parametrize("change", [
    {"comments": ["Please contain also the laptop"]},
    {"status": "resolved"},
    {"assigned_to": "someone@contoso.com"},
    {"alerts": [{"id": "da1", "serviceSource": "microsoftDefenderForIdentity", "status": "new", "evidence": []},
                {"id": "da2", "serviceSource": "microsoftDefenderForIdentity", "status": "new", "evidence": []}]},
    {"comments": [PREFIX + ": containment executed", "a person's note"]},
    {"comments": ["  " + "prefix later: " + PREFIX]},
])
def test_a_change_by_someone_else_is_emitted_again(tmp_path, change):
    source = make(tmp_path, [incident()])
    polls(source, 1)
    source.client.items = [incident(updated="2026-05-01T08:43:00Z", **change)]
    assert polls(source, 1) == ["7", "7"]


def test_a_new_status_after_the_comment_was_absorbed_is_emitted(tmp_path):
    source = make(tmp_path, [incident()])
    polls(source, 1)
    ours = [PREFIX + ": containment executed"]
    source.client.items = [incident(updated="2026-05-01T08:41:00Z", comments=ours)]
    assert polls(source, 1) == ["7"]
    source.client.items = [incident(updated="2026-05-01T08:44:00Z", comments=ours, status="resolved")]
    assert polls(source, 1) == ["7", "7"]


def test_a_version_1_state_file_is_read_and_its_incidents_count_as_changed(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    path = folder / "incidents.json"
    path.write_text(json.dumps({"version": 1, "since": "2026-05-01T08:40:00Z", "emitted": {"7": "2026-05-01T08:40:00Z"}}))
    path.chmod(0o600)
    source = make(tmp_path, [incident(updated="2026-05-01T08:40:00Z")])
    assert polls(source, 1) == []
    source.client.items = [incident(updated="2026-05-01T08:45:00Z", comments=[PREFIX + ": x"])]
    assert polls(source, 1) == ["7"]  # no content recorded: emitted once more (the runbook is idempotent)


# --- at least once ------------------------------------------------------------------------------------------

def test_the_state_is_saved_after_the_event_is_queued_so_a_crash_loses_nothing(tmp_path, monkeypatch):
    source = make(tmp_path, [incident()])

    def crash(*_args):
        raise KeyboardInterrupt("killed between queueing and saving")

    monkeypatch.setattr(source_module, "save_state", crash)
    with pytest.raises(KeyboardInterrupt):
        polls(source, 1)
    assert [event["incident"]["id"] for event in source.queue.events] == ["7"]  # queued before the crash
    monkeypatch.undo()
    restarted = make(tmp_path, [incident()])
    assert polls(restarted, 1) == ["7"]  # emitted again, not lost
    assert polls(make(tmp_path, [incident()]), 1) == []  # and saved this time


# --- keeps running ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("error", [
    GraphAuthError("Could not get a token: MsalServiceError: HTTP Error: 503", status=503),
    GraphAuthError("AADSTS90033: A transient error has occurred", code="AADSTS90033"),
    GraphAuthError("Timed out waiting for the token endpoint", code="Timeout"),
    GraphError("throttled", status=429, code="TooManyRequests"),
    GraphError("retry budget exhausted", code="RetryBudgetExhausted"),
])
def test_token_service_and_graph_outages_are_waited_out(tmp_path, error):
    source = make(tmp_path, [incident()], failures=[error, error], interval=10, max_interval=30)
    assert polls(source, 3) == ["7"]
    assert source.fake_clock.sleeps == [20, 30]  # doubled, bounded by max_interval


@pytest.mark.parametrize("error", [
    GraphAuthError("AADSTS7000215: Invalid client secret provided", code="AADSTS7000215"),
    GraphError("Forbidden", status=403, code="Forbidden"),
])
def test_configuration_errors_stop_the_source(tmp_path, error):
    source = make(tmp_path, [incident()], failures=[error])
    with pytest.raises(GraphError):
        polls(source, 2)


class ThrottledClient(FakeClient):
    """Every list request is throttled once for 30 s (Retry-After) before it is answered, as the Graph client's
    retry policy would wait it out; a spent budget fails the request as the client does."""

    def get_all(self, path, params=None, max_items=None, permission=None):
        if not self.retry.hold(30):
            raise GraphError("retry budget of 40s exhausted", code="RetryBudgetExhausted")
        self.retry.wait_until_open()
        return super().get_all(path, params, max_items, permission)


def test_every_poll_gets_a_fresh_retry_budget_over_a_long_run(tmp_path):
    clock = FakeClock()
    source = make(tmp_path, [incident()], clock=clock, interval=60, max_interval=600)
    source.client = ThrottledClient([incident()])
    source.client.retry.sleep, source.client.retry.clock = clock.sleep, clock.clock
    asyncio.run(source.run(polls=20))  # 20 polls, each throttled 30 s of a 40 s budget: 20 x 30 s > 40 s
    assert [event["incident"]["id"] for event in source.queue.events] == ["7"]
    assert source.client.retry.pauses == 20 and len(source.client.requests) == 20
    assert clock.now - 1000.0 == 19 * 60 + 30  # on the 60 s grid throughout: never backed off


def test_a_malformed_item_is_skipped_with_a_warning_naming_it(tmp_path, caplog):
    broken = dict(incident("8"), comments=5)
    source = make(tmp_path, [broken, incident("9")])
    with caplog.at_level(logging.WARNING):
        assert polls(source, 2) == ["9"]
    assert "'8'" in caplog.text and "malformed" in caplog.text


def test_polls_run_on_a_fixed_period_whatever_a_poll_takes(tmp_path):
    clock = FakeClock(now=0.0)
    source = make(tmp_path, clock=clock, interval=60)
    started = []

    def slow_poll(original=source.poll):
        started.append(clock.now)
        clock.now += 2.5  # the poll itself takes time
        return original()

    source.poll = slow_poll
    asyncio.run(source.run(polls=5))
    assert started == [0.0, 60.0, 120.0, 180.0, 240.0]


def test_an_overrunning_poll_skips_to_the_next_slot_of_the_grid():
    source = make(interval=60)
    source.clock = lambda: 130.0  # the poll due at 60 ended at 130
    assert source.next_due(60.0, 60) == 180.0


# --- the state file is checked like the token cache ---------------------------------------------------------

def _state(tmp_path, content, mode=0o600, folder_mode=0o700):
    folder = tmp_path / "state"
    folder.mkdir(mode=folder_mode, exist_ok=True)
    folder.chmod(folder_mode)
    path = folder / "incidents.json"
    path.write_text(content)
    path.chmod(mode)
    return path


def test_a_state_file_readable_by_others_is_refused(tmp_path):
    _state(tmp_path, json.dumps({"since": "2026-05-01T08:30:00Z"}), mode=0o644)
    with pytest.raises(InputError) as caught:
        make(tmp_path)
    assert caught.value.option == "state_file" and "chmod 0600" in str(caught.value)


def test_a_state_directory_open_to_others_is_refused(tmp_path):
    _state(tmp_path, json.dumps({"since": "2026-05-01T08:30:00Z"}), folder_mode=0o755)
    with pytest.raises(InputError) as caught:
        make(tmp_path)
    assert "chmod 0700" in str(caught.value)


def test_a_symlinked_state_file_is_refused(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"since": "2030-01-01T00:00:00Z"}))
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    (folder / "incidents.json").symlink_to(target)
    with pytest.raises(InputError) as caught:
        make(tmp_path)
    assert "symbolic link" in str(caught.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a file of another user needs root")
def test_a_state_file_of_another_user_is_refused(tmp_path):
    path = _state(tmp_path, json.dumps({"since": "2026-05-01T08:30:00Z"}))
    os.chown(path, 65534, 65534)
    with pytest.raises(InputError) as caught:
        make(tmp_path)
    assert "owned by uid 65534" in str(caught.value)


def test_the_state_directory_is_created_private_whatever_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        source = make(tmp_path, [incident()])
        polls(source, 1)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "state").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "state" / "incidents.json").st_mode) == 0o600


def test_a_future_watermark_is_refused_with_a_warning(tmp_path, caplog):
    path = _state(tmp_path, json.dumps({"version": 2, "since": "2099-01-01T00:00:00Z", "emitted": {}}))
    saved = (NOW - datetime.timedelta(minutes=20)).timestamp()
    os.utime(path, (saved, saved))
    with caplog.at_level(logging.WARNING):
        source = make(tmp_path, [incident(updated="2026-05-01T08:50:00Z")])
    assert "in the future" in caplog.text
    assert source.watermark.since == "2026-05-01T08:40:00Z"  # the file's last save
    assert polls(source, 1) == ["7"]


def test_a_truncated_state_file_restarts_from_its_last_save(tmp_path, caplog):
    path = _state(tmp_path, '{"version": 2, "since": "2026-05-01T08:')
    saved = (NOW - datetime.timedelta(minutes=30)).timestamp()
    os.utime(path, (saved, saved))
    with caplog.at_level(logging.WARNING):
        source = make(tmp_path, [incident(updated="2026-05-01T08:45:00Z")])
    assert "unreadable" in caplog.text and source.watermark.since == "2026-05-01T08:30:00Z"
    assert polls(source, 1) == ["7"]


# --- documentation: every argument the source takes, as ansible.eda documents sources -----------------------

def test_documentation_lists_every_argument_with_its_type():
    documented = yaml.safe_load(source_module.DOCUMENTATION)["options"]
    taken = dict((name, kind) for name, (kind, _default) in source_module.SOURCE_OPTIONS.items())
    taken.update((name, spec["type"]) for name, spec in CONNECTION_OPTIONS.items())
    assert sorted(documented) == sorted(taken)
    assert {name: option["type"] for name, option in documented.items()} == taken
    for name, (_kind, default) in source_module.SOURCE_OPTIONS.items():
        assert documented[name].get("default") == default, name
    examples = yaml.safe_load(source_module.EXAMPLES)
    for rulebook in examples:
        for source in rulebook["sources"]:
            assert set(source["msgraph.security.incidents"]) <= set(documented)


def test_string_arguments_from_a_rulebook_are_converted_and_bad_ones_named(tmp_path):
    source = make(tmp_path, interval="5", max_interval="30", include_alerts="false")
    assert (source.interval, source.max_interval, source.include_alerts) == (5, 30, False)
    with pytest.raises(InputError) as caught:
        make(tmp_path, include_alerts="maybe")
    assert caught.value.option == "include_alerts"


def test_connection_options_resolve_as_the_modules_do_with_v1_as_the_api_version():
    params = source_module.connection_params({"tenant_id": "", "client_id": "app"}, {"AZURE_TENANT_ID": "contoso.onmicrosoft.com"})
    assert (params["tenant_id"], params["client_id"], params["api_version"]) == ("contoso.onmicrosoft.com", "app", "v1.0")
    assert source_module.connection_params({"api_version": "beta"}, {})["api_version"] == "beta"


def test_the_outages_waited_out_are_what_graph_and_the_token_service_retry():
    assert sorted(source_module.TRANSIENT_STATUSES) == [429, 500, 502, 503, 504]
    assert not source_module.is_transient(GraphError("bad request", status=400, code="BadRequest"))
