# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The incidents event source against the emulator: real MSAL tokens over HTTPS, watermark, state file, 429 backoff."""

from __future__ import annotations

import asyncio
import json
import os
import stat

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphUnsupportedCloudError, InputError

START = "2026-05-01T08:30:01Z"  # the seed's newest update: only later updates are new


def run(source, polls):
    """Run ``polls`` polls on a simulated clock (a wait advances it, a poll takes no time); the events queued."""
    queue = asyncio.Queue()
    source.queue = queue
    clock = [1000.0]

    async def no_wait(seconds):
        source.waits.append(round(seconds, 3))
        clock[0] += seconds

    source.sleep = no_wait
    source.clock = lambda: clock[0]
    source.waits = []
    asyncio.run(source.run(polls=polls))
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


def make(source_module, graph_env, monkeypatch, **args):
    for name, value in graph_env.items():
        monkeypatch.setenv(name, value)
    args.setdefault("updated_since", START)
    return source_module.IncidentsSource(None, args)


def test_new_and_changed_incidents_are_emitted_once_and_survive_a_restart(source_module, graph_env, emulator, monkeypatch, tmp_path):
    state = tmp_path / "state" / "incidents.json"
    source = make(source_module, graph_env, monkeypatch, state_file=str(state), severity=["high"])
    assert run(source, 1) == []  # the seed is older than the start watermark
    created = emulator.admin.put_incident({"displayName": "Pass-the-ticket", "severity": "high"})
    emulator.admin.put_incident({"displayName": "Low noise", "severity": "low"})
    events = run(source, 2)
    assert [event["incident"]["id"] for event in events] == [created["id"]]
    assert events[0]["incident"]["alerts"] == [] and events[0]["incident"]["severity"] == "high"
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert {key: record["updated"] for key, record in json.loads(state.read_text())["emitted"].items()} == {
        created["id"]: created["lastUpdateDateTime"]}

    restarted = make(source_module, graph_env, monkeypatch, state_file=str(state), severity=["high"], updated_since="2020-01-01")
    assert run(restarted, 1) == []  # the state file wins over updated_since: nothing twice
    emulator.admin.put_incident({"id": created["id"], "status": "inProgress"})
    changed = run(restarted, 2)
    assert [(event["incident"]["id"], event["incident"]["status"]) for event in changed] == [(created["id"], "inProgress")]
    filters = [entry["query"]["$filter"] for entry in emulator.admin.requests(route="list_incidents")]
    assert filters[-1] == "severity eq 'high' and lastUpdateDateTime ge " + json.loads(state.read_text())["since"]


def test_service_source_keeps_only_incidents_with_such_an_alert(source_module, graph_env, emulator, monkeypatch):
    source = make(source_module, graph_env, monkeypatch, service_source=["microsoftDefenderForIdentity"])
    emulator.admin.put_incident({"displayName": "endpoint", "severity": "high",
                                 "alerts": [{"serviceSource": "microsoftDefenderForEndpoint"}]})
    identity = emulator.admin.put_incident({"displayName": "identity", "severity": "high",
                                            "alerts": [{"serviceSource": "microsoftDefenderForIdentity"}]})
    events = run(source, 1)
    assert [event["incident"]["id"] for event in events] == [identity["id"]]
    assert events[0]["incident"]["alerts"][0]["service_source"] == "microsoftDefenderForIdentity"


def test_throttling_backs_off_then_recovers(source_module, graph_env, emulator, monkeypatch):
    source = make(source_module, graph_env, monkeypatch, interval=5, max_interval=15, max_retries=0)
    emulator.admin.add_fault(route="list_incidents", kind="status", status=429, retry_after=0, times=3)
    created = emulator.admin.put_incident({"displayName": "during throttling", "severity": "high"})
    events = run(source, 4)
    assert source.waits == [10, 15, 15]  # doubled up to max_interval while throttled; the 4th poll got through
    assert [event["incident"]["id"] for event in events] == [created["id"]]
    assert len(emulator.admin.requests(route="list_incidents")) == 4


def test_configuration_errors_stop_the_source_before_any_request(source_module, graph_env, emulator, monkeypatch):
    with pytest.raises(GraphUnsupportedCloudError):
        make(source_module, graph_env, monkeypatch, cloud_environment="china")
    with pytest.raises(InputError) as caught:
        make(source_module, graph_env, monkeypatch, severity=["severe"])
    assert caught.value.option == "severity"
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong")
    source = make(source_module, graph_env, monkeypatch)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "wrong")
    source.client = source_module.build_client({})
    from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphAuthError
    with pytest.raises(GraphAuthError):
        run(source, 1)
    assert emulator.admin.requests(route="list_incidents") == []


OWN_COMMENT = "msgraph.security respond_to_incident, incident {id}: containment executed\nalex@contoso.com: CONTAINED"


def write(source_module, incident_id, text, **desired):
    """A write as the incident module makes it (PATCH what differs, then the comment), over Graph."""
    from ansible_collections.msgraph.security.plugins.module_utils import _incidents as incidents
    return incidents.update_incident(source_module.build_client({}), incident_id, desired, comment=text)


def test_the_collections_own_comment_is_not_emitted_again_but_a_persons_is(source_module, graph_env, emulator, monkeypatch, tmp_path):
    source = make(source_module, graph_env, monkeypatch, state_file=str(tmp_path / "state" / "s.json"))
    created = emulator.admin.put_incident({"displayName": "Pass-the-ticket", "severity": "high"})
    assert [event["incident"]["id"] for event in run(source, 1)] == [created["id"]]
    write(source_module, created["id"], OWN_COMMENT.format(id=created["id"]), status="inProgress", assigned_to="soc@contoso.com")
    assert [entry["route"] for entry in emulator.admin.writes()] == ["update_incident", "add_incident_comment"]
    assert run(source, 3) == []  # three polls: the audit comment (and the status set with it) emit nothing
    write(source_module, created["id"], "Checked with the user: not travelling")
    again = run(source, 2)
    assert [event["incident"]["id"] for event in again] == [created["id"]]


def test_a_sentinel_incident_is_found_because_the_source_asks_for_evolvable_members(source_module, graph_env, emulator, monkeypatch):
    emulator.admin.configure(profile="docs")
    source = make(source_module, graph_env, monkeypatch, service_source=["microsoftSentinel"], status=["awaitingAction"])
    sentinel = emulator.admin.put_incident({"displayName": "Sentinel", "severity": "high", "status": "awaitingAction",
                                            "alerts": [{"id": "da_sentinel_eda", "serviceSource": "microsoftSentinel"}]})
    events = run(source, 1)
    assert [event["incident"]["id"] for event in events] == [sentinel["id"]]
    assert events[0]["incident"]["status"] == "awaitingAction"
    assert events[0]["incident"]["alerts"][0]["service_source"] == "microsoftSentinel"
    assert emulator.admin.requests(route="list_incidents")[-1]["headers"].get("Prefer") == "include-unknown-enum-members"


def test_a_token_service_outage_is_waited_out_and_nothing_is_lost(source_module, graph_env, emulator, monkeypatch):
    source = make(source_module, graph_env, monkeypatch, interval=5, max_interval=20, max_retries=1)
    created = emulator.admin.put_incident({"displayName": "during the outage", "severity": "high"})
    emulator.admin.add_fault(route="token", kind="status", status=503, retry_after=0, times=6)  # 3 polls x 2 attempts
    events = run(source, 4)
    assert source.waits == [10, 20, 20]
    assert [event["incident"]["id"] for event in events] == [created["id"]]
