# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The msgraph.security.incidents event source under faults: the emulator over HTTPS with real MSAL tokens, the
source loaded as ansible-rulebook loads it, a simulated clock for its schedule (and, where a case says so, for the
retry policy). Every case ends with the incidents created during it emitted (none lost) and nothing written."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time

import pytest

from graph_emulator.environment import module_environment

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.tests.unit.fakes import FakeClock as Clock
from ansible_collections.msgraph.security.tests.unit.extensions.eda.plugins.event_source.test_incidents import source_module

CLIENT = "incident_responder"
MODULE = "incidents (event source)"
START = "2026-05-01T08:30:01Z"
OWN = "msgraph.security respond_to_incident, incident {id}: containment executed"


class Queue:
    def __init__(self):
        self.events = []

    async def put(self, event):
        self.events.append(event)


@pytest.fixture
def environment(emulator, monkeypatch):
    for name, value in module_environment(emulator.info, client=CLIENT).items():
        monkeypatch.setenv(name, value)
    return emulator


def source(tmp_path, clock=None, **args):
    clock = clock or Clock()

    async def sleep(seconds):
        clock.sleep(seconds)

    args.setdefault("updated_since", START)
    args.setdefault("state_file", str(tmp_path / "state" / "incidents.json"))
    made = source_module.IncidentsSource(Queue(), args, sleep=sleep, clock=clock.clock)
    made.fake_clock = clock
    return made


def emitted(made, polls):
    asyncio.run(made.run(polls=polls))
    return [event["incident"]["id"] for event in made.queue.events]


def test_event_source_faults(environment, tmp_path, reliability, caplog, monkeypatch):
    emulator = environment

    with reliability.case("eda", "token service answers 503 for three polls (beyond max_retries)", MODULE,
                          "the source keeps running, backs off (bounded), then emits the incident; none lost",
                          path="token", expected_writes=0) as case:
        emulator.admin.reset()
        made = source(tmp_path / "a", interval=5, max_interval=20, max_retries=1)
        created = emulator.admin.put_incident({"displayName": "outage", "severity": "high"})
        emulator.admin.add_fault(route="token", kind="status", status=503, retry_after=0, times=6)
        ids = emitted(made, 4)
        assert ids == [created["id"]], ids
        assert made.fake_clock.sleeps == [10, 20, 20], made.fake_clock.sleeps
        case["writes"] = len(emulator.admin.writes())
        case["observed"] = f"waits {made.fake_clock.sleeps}, then emitted {ids}"

    with reliability.case("eda", "Graph answers 429 with Retry-After 30 on each of 20 polls, retry_budget 40 (simulated clock)",
                          MODULE, "every poll gets a fresh budget: 20 polls served, no backoff, nothing lost",
                          path="GET (list)", expected_writes=0) as case:
        emulator.admin.reset()
        clock = Clock()
        made = source(tmp_path / "b", clock=clock, interval=60, max_interval=600, retry_budget=40)
        made.client.retry.sleep, made.client.retry.clock = clock.sleep, clock.clock
        created = []
        original = made.poll

        def throttled_poll():
            emulator.admin.add_fault(route="list_incidents", kind="status", status=429, retry_after=30, times=1)
            created.append(emulator.admin.put_incident({"displayName": f"long run {len(created)}", "severity": "high"})["id"])
            return original()

        made.poll = throttled_poll
        ids = emitted(made, 20)
        assert ids == created, (ids, created)
        assert clock.now - 1000.0 == 19 * 60 + 30, clock.now  # stayed on the 60 s grid: never backed off
        case["writes"] = len(emulator.admin.writes())
        case["observed"] = f"{len(ids)} of {len(created)} incidents emitted over 20 throttled polls ({clock.now - 1000.0:.0f} s simulated)"

    with reliability.case("eda", "a malformed incident (comments: 5) among good ones", MODULE,
                          "skipped with a warning naming its id; the others emitted; the source keeps running",
                          path="GET (list)", expected_writes=0) as case:
        emulator.admin.reset()
        made = source(tmp_path / "c")
        broken = emulator.admin.put_incident({"displayName": "broken", "severity": "high", "comments": 5})
        good = emulator.admin.put_incident({"displayName": "good", "severity": "high"})
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            ids = emitted(made, 2)
        assert ids == [good["id"]], ids
        assert f"'{broken['id']}'" in caplog.text, caplog.text
        case["writes"] = len(emulator.admin.writes())
        case["observed"] = f"emitted {ids}; warning names {broken['id']}"

    for name, plant in (("a planted state file readable by others (0644)", "mode"),
                        ("a symlinked state file (pointing at a future watermark)", "symlink"),
                        ("a state directory open to others (0755)", "directory")):
        with reliability.case("eda", name, MODULE, "refused at start with an error naming state_file and the fix; nothing read",
                              path="-", expected_writes=0) as case:
            emulator.admin.reset()
            folder = tmp_path / ("d-" + plant) / "state"
            folder.mkdir(parents=True, mode=0o700)
            path = folder / "incidents.json"
            content = json.dumps({"version": 2, "since": "2099-01-01T00:00:00Z", "emitted": {}})
            if plant == "symlink":
                target = tmp_path / ("d-" + plant) / "planted.json"
                target.write_text(content)
                path.symlink_to(target)
            else:
                path.write_text(content)
                path.chmod(0o644 if plant == "mode" else 0o600)
                if plant == "directory":
                    folder.chmod(0o755)
            with pytest.raises(InputError) as caught:
                source(tmp_path / ("d-" + plant))
            assert caught.value.option == "state_file", caught.value
            assert emulator.admin.requests(route="list_incidents") == []
            case["writes"] = len(emulator.admin.writes())
            case["observed"] = str(caught.value).replace(str(tmp_path), "<tmp>")

    for name, content, warning in (
            ("a private state file with a planted future watermark",
             json.dumps({"version": 2, "since": "2099-01-01T00:00:00Z", "emitted": {}}), "in the future"),
            ("a truncated state file", '{"version": 2, "since": "2026-', "unreadable")):
        with reliability.case("eda", name, MODULE, "refused or replaced with a warning, polling from the file's last save; "
                              "the incident emitted", path="-", expected_writes=0) as case:
            emulator.admin.reset()
            folder = tmp_path / name.split()[-3] / "state"
            folder.mkdir(parents=True, mode=0o700)
            path = folder / "incidents.json"
            path.write_text(content)
            path.chmod(0o600)
            saved = time.time() - 60  # the last save, a minute ago
            os.utime(path, (saved, saved))
            created = emulator.admin.put_incident({"displayName": name, "severity": "high"})
            caplog.clear()
            with caplog.at_level(logging.WARNING):
                made = source(folder.parent)
            assert warning in caplog.text, caplog.text
            ids = emitted(made, 1)
            assert ids == [created["id"]], ids
            case["writes"] = len(emulator.admin.writes())
            case["observed"] = f"warned ({warning}), polling from {made.watermark.since}; emitted {ids}"

    with reliability.case("eda", "the process dies between queueing the event and saving the state", MODULE,
                          "at least once: the restarted source emits the incident again (none lost)",
                          path="-", expected_writes=0) as case:
        emulator.admin.reset()
        created = emulator.admin.put_incident({"displayName": "crash", "severity": "high"})
        made = source(tmp_path / "g")

        def crash(*_args):
            raise KeyboardInterrupt("killed between queueing and saving")

        with monkeypatch.context() as patch:
            patch.setattr(source_module, "save_state", crash)
            with pytest.raises(KeyboardInterrupt):
                emitted(made, 1)
        first = [event["incident"]["id"] for event in made.queue.events]
        again = emitted(source(tmp_path / "g"), 1)
        assert first == [created["id"]] and again == [created["id"]], (first, again)
        assert emitted(source(tmp_path / "g"), 1) == []  # saved after the second emission
        case["writes"] = len(emulator.admin.writes())
        case["observed"] = f"queued {first} before the crash; re-emitted {again} after the restart"

    with reliability.case("eda", "the runbook's own write (status, owner, then its audit comment) over 3 polls", MODULE,
                          "not emitted again (the loop of issue 19); a person's comment afterwards is emitted",
                          path="PATCH, POST comments", expected_writes=3) as case:
        emulator.admin.reset()
        from ansible_collections.msgraph.security.plugins.module_utils import _incidents as incidents
        made = source(tmp_path / "h")
        created = emulator.admin.put_incident({"displayName": "loop", "severity": "high"})
        assert emitted(made, 1) == [created["id"]]
        client = source_module.build_client({})
        incidents.update_incident(client, created["id"], {"status": "inProgress", "assigned_to": "soc@contoso.com"},
                                  comment=OWN.format(id=created["id"]))
        made.queue.events.clear()
        assert emitted(made, 3) == [], made.queue.events
        incidents.update_incident(client, created["id"], {}, comment="A person: the user is travelling")
        assert emitted(made, 1) == [created["id"]]
        case["writes"] = len(emulator.admin.writes())
        case["observed"] = "3 polls after the runbook's write: 0 events; after a person's comment: 1 event"

    reliability.verify()
