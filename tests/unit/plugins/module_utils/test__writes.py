# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one write protocol: preview, send exactly once, reconcile by reading with a bounded wait, unknown outcome."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._writes import ReconcileWait, Write, send_once
from ansible_collections.msgraph.security.tests.unit.fakes import FakeClock, FakeResponse, FakeUsersGraph

PATH = "/things/t1"
MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"


def timed_out():
    return GraphOutcomeUnknownError("The request timed out after 30 s", code="Timeout", method="POST", url="https://graph.fake.test/beta/things/t1")


def client_answering(answer):
    return FakeUsersGraph(routes={("POST", PATH): answer, ("PATCH", PATH): answer})


def write(**rules):
    return Write("POST", PATH, {"enabled": False}, "Things.ReadWrite.All", what="the change of t1", audit_trail="the audit log",
                 read_what="the thing", **rules)


def test_the_preview_is_the_exact_request_and_a_copy():
    planned = write()
    preview = planned.preview(client_answering(FakeResponse({})))
    assert preview == {"method": "POST", "url": "https://graph.fake.test/beta/things/t1", "body": {"enabled": False}}
    preview["body"]["enabled"] = True
    assert planned.body == {"enabled": False}


def test_a_write_is_sent_once_with_a_fresh_client_request_id_and_its_ids_returned():
    client = client_answering(FakeResponse({}, request_id="req-1"))
    sent = send_once(client, write())
    [post] = client.calls_of("POST")
    assert post["client_request_id"] and post["permission"] == "Things.ReadWrite.All"
    assert sent.outcome == "sent" and sent.request_ids == {"request_id": "req-1", "client_request_id": post["client_request_id"]}


def test_a_patch_goes_out_as_a_patch():
    client = client_answering(FakeResponse({}))
    send_once(client, Write("PATCH", PATH, {"a": 1}))
    assert [call["method"] for call in client.calls] == ["PATCH"]


def test_an_unknown_outcome_that_a_read_proves_is_reconciled_never_resent():
    client = client_answering(timed_out())
    reads = []
    sent = send_once(client, write(read_back=lambda: reads.append(1) or {"enabled": False}, proves=lambda state: state["enabled"] is False))
    assert sent.outcome == "reconciled" and sent.reconciled and sent.state == {"enabled": False} and sent.response is None
    assert len(client.calls_of("POST")) == 1 and len(reads) == 1
    assert sent.request_ids["client_request_id"] == client.calls_of("POST")[0]["client_request_id"]
    assert "its outcome was unknown" in sent.warning and "not sent again" in sent.warning


def test_an_unknown_outcome_without_a_read_back_stays_unknown_with_the_request_and_where_to_look():
    client = client_answering(timed_out())
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        send_once(client, write(unreadable=", and nothing can read it back"))
    error = caught.value
    [post] = client.calls_of("POST")
    assert error.client_request_id == post["client_request_id"] and post["client_request_id"] in error.hint
    assert "the audit log" in error.hint and "nothing can read it back" in error.message
    result = error.to_result()
    assert result["outcome"] == "unknown"
    assert result["request"] == {"method": "POST", "url": "https://graph.fake.test/beta/things/t1", "body": {"enabled": False}}


def test_a_failed_read_leaves_the_outcome_unknown_not_bad_input():
    client = client_answering(timed_out())

    def read_back():
        raise InputError("user_id", "the user moved")  # a failed read after a write is no bad input

    with pytest.raises(GraphOutcomeUnknownError) as caught:
        send_once(client, write(read_back=read_back, proves=lambda state: True))
    assert "reading the thing again failed too" in caught.value.message and len(client.calls_of("POST")) == 1


def test_reads_that_never_show_the_write_wait_no_longer_than_the_bound():
    clock = FakeClock()
    client = client_answering(timed_out())
    reads = []
    wait = ReconcileWait(timeout=15, sleep=clock.sleep, clock=clock.clock)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        send_once(client, write(read_back=lambda: reads.append(1) or "still enabled", proves=lambda state: False,
                                describe=lambda state: state, wait=wait))
    assert clock.sleeps == [2.0, 4.0, 8.0, 1.0] and len(reads) == 5 and len(client.calls_of("POST")) == 1
    assert "5 read(s) of the thing over 15s (reconcile_timeout) do not show it (still enabled)" in caught.value.message


def test_the_wait_stops_as_soon_as_a_read_shows_the_write():
    clock = FakeClock()
    states = iter([False, False, True])
    wait = ReconcileWait(timeout=60, sleep=clock.sleep, clock=clock.clock)
    sent = send_once(client_answering(timed_out()), write(read_back=lambda: next(states), proves=bool, wait=wait))
    assert sent.reconciled and clock.sleeps == [2.0, 4.0]


def test_a_refusal_is_explained_by_the_resource_and_never_reconciled():
    refused = GraphError("Insufficient privileges", status=403, code="Authorization_RequestDenied")
    client = client_answering(refused)

    def explain(error):
        error.hint = "the resource's own advice"
        return error

    reads = []
    with pytest.raises(GraphError) as caught:
        send_once(client, write(explain=explain, read_back=lambda: reads.append(1)))
    assert caught.value.hint == "the resource's own advice" and not isinstance(caught.value, GraphOutcomeUnknownError)
    assert reads == [] and len(client.calls_of("POST")) == 1


@pytest.mark.parametrize("timeout", [-1, 3601, True, "30"])
def test_a_reconcile_wait_outside_its_bounds_is_bad_input_naming_its_option(timeout):
    with pytest.raises(InputError) as caught:
        ReconcileWait(timeout, option="reconcile_timeout")
    assert caught.value.option == "reconcile_timeout"


def _direct_writes(path):
    """Calls of ``.post(`` or ``.patch(`` in a module_utils file: writes that bypass the protocol."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return sorted(node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in ("post", "patch"))


# The client and the token service's transport are the only other files that send.
SENDERS = ("_writes", "_graph_client", "_http", "_credentials", "_retries")


@pytest.mark.parametrize("path", sorted(p for p in MODULE_UTILS.glob("_*.py") if p.stem not in SENDERS), ids=lambda path: path.stem)
def test_every_write_goes_through_the_one_protocol(path):
    # A domain file writes through send_once, so a new resource cannot grow its own copy of send-and-reconcile.
    assert _direct_writes(path) == [], f"{path.name} sends a write itself; plan a Write and use _writes.send_once"
