# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""security_action against the emulator: real ansible-playbook runs, MSAL tokens over HTTPS.

The emulator ends BlockIp Failed for private and reserved addresses (10.0.0.0/8 and friends, see
graph_emulator/config.py DEFAULT_FAILING_RANGES). Microsoft documents no status for a canceled action, so the
cancel tests compare what the module reports with the emulator's own state, whatever status that is.
Addresses below are from the documentation ranges (RFC 5737), which it blocks successfully.
"""

from __future__ import annotations

import base64
import functools
import json
import time

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import SHAPES_SMOKE_FIRST, play_tasks, task

CREATE_ROUTE = "create_security_action"
CANCEL_ROUTE = "cancel_security_action"
DEPRECATION = "The legacy Microsoft Graph securityActions API is deprecated"
MDE = {"vendor": "Microsoft", "provider": "Windows Defender ATP"}
SHAPES = ["schema", "example"]


def action_task(title, **options):
    return task(title, "security_action", options)


def block_ip(title, ip, **options):
    return action_task(title, name="BlockIp", parameters={"IP": ip}, vendor_information=MDE, **options)


def info_task(title, **options):
    return task(title, "security_action_info", options)


def posts(emulator, route):
    return emulator.admin.requests(route=route, method="POST")


def wait_until(condition, timeout=15):
    """The emulator logs a held (fault-delayed) request only once it answers: wait for it."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out waiting for the emulator"
        time.sleep(0.1)


def stored_actions(emulator):
    return emulator.admin.state()["security_actions"]


def warned_deprecation(task_result):
    messages = [w if isinstance(w, str) else w.get("event", w).get("msg", "") for w in task_result.get("warnings", [])]
    return any(DEPRECATION in message for message in messages)


# Every play as the legacy securityActions client unless a test names another.
play = functools.partial(play_tasks, client="legacy_actions")


@pytest.mark.parametrize("shape", SHAPES_SMOKE_FIRST)
def test_create_then_rerun_unchanged_then_wait_until_completed(ansible, emulator, shape):
    emulator.admin.configure(shape=shape)
    result = play(ansible,
                  block_ip("create", "203.0.113.10", action_reason="INC-1"),
                  block_ip("again", "203.0.113.10", action_reason="INC-1"),
                  block_ip("wait", "203.0.113.10", wait=True, wait_timeout=30, poll_interval=1))
    assert result.rc == 0, result.output
    created, again, waited = result.task("create"), result.task("again"), result.task("wait")
    assert created["changed"] is True
    assert created["security_action"]["status"] in ("NotStarted", "Running")
    assert created["security_action"]["client_context"].startswith("msgraph.security:v1:")
    assert again["changed"] is False and "already exists" in again["reason"]
    assert waited["changed"] is False
    assert waited["security_action"]["status"] == "Completed"
    assert waited["security_action"]["completed_date_time"]
    assert [state["status"] for state in waited["security_action"]["states"]] == ["NotStarted", "Running", "Completed"]
    assert len(posts(emulator, CREATE_ROUTE)) == 1
    assert len(stored_actions(emulator)) == 1
    assert all(warned_deprecation(task) for task in (created, again, waited))


@pytest.mark.parametrize("shape", SHAPES)
def test_failed_action_fails_the_task_with_error_info(ansible, emulator, shape):
    emulator.admin.configure(shape=shape)
    result = play(ansible, block_ip("block private", "10.20.30.40", wait=True, wait_timeout=30, poll_interval=1))
    assert result.rc != 0
    assert result.status("block private") == "failed"
    failed = result.task("block private")
    assert failed["error"]["error_code"] == "securityActionFailed"
    info = failed["security_action"]["error_info"]
    assert info["code"] == 400 and info["subcode"] == 1 and "10.20.30.40" in info["message"]
    assert "10.20.30.40" in failed["msg"] and "different client_context" in failed["msg"]
    assert failed["security_action"]["status"] == "Failed"


def test_cancel_before_completion_reports_graphs_answer_and_the_state_as_it_is(ansible, emulator):
    emulator.admin.configure(security_action_timing={"running_after_s": 0.1, "terminal_after_s": 60})
    result = play(ansible,
                  block_ip("create", "203.0.113.20", client_context="INC-2-block"),
                  action_task("cancel", state="canceled", client_context="INC-2-block"),
                  info_task("read", client_context="INC-2-block"))
    assert result.rc == 0, result.output
    cancel = result.task("cancel")
    assert cancel["changed"] is True
    [sent] = posts(emulator, CANCEL_ROUTE)
    assert sent["status"] == 200 and cancel["outcome"] == "sent"
    assert cancel["request_ids"] == {"request_id": sent["request_id"], "client_request_id": sent["client_request_id"]}
    [stored] = stored_actions(emulator)
    # The status read after the cancel, as the emulator holds it: no canceled state is invented or assumed.
    assert cancel["security_action"]["status"].lower() == stored["status"].lower()
    assert cancel["security_action"]["status"] in ("NotStarted", "Running", "Completed", "Failed")
    assert [a["status"] for a in result.task("read")["security_actions"]] == [cancel["security_action"]["status"]]


def test_cancel_after_completion_is_unchanged(ansible, emulator):
    result = play(ansible,
                  dict(block_ip("create", "203.0.113.30", wait=True, poll_interval=1, wait_timeout=30), register="created"),
                  action_task("cancel", state="canceled", id="{{ created.security_action.id }}"))
    assert result.rc == 0, result.output
    cancel = result.task("cancel")
    assert cancel["changed"] is False
    assert "already Completed" in cancel["reason"]
    assert cancel["security_action"]["status"] == "Completed"
    assert posts(emulator, CANCEL_ROUTE) == []


@pytest.mark.smoke
def test_ambiguous_create_is_reconciled_exactly_once(ansible, emulator):
    # The emulator creates the action, then holds the answer past the module's 1 s timeout.
    emulator.admin.add_fault(route=CREATE_ROUTE, kind="timeout", delay_s=2.5, after_processing=True, times=1)
    result = play(ansible, block_ip("create", "203.0.113.40", timeout=1))
    assert result.rc == 0, result.output
    created = result.task("create")
    assert created["changed"] is True
    # The task's own warnings, not the terminal output: Ansible wraps a long warning at the terminal width.
    warnings = " ".join(created.get("warnings", []))
    assert created["outcome"] == "reconciled" and "its outcome was unknown" in warnings and "took effect" in warnings
    wait_until(lambda: posts(emulator, CREATE_ROUTE))
    assert len(posts(emulator, CREATE_ROUTE)) == 1  # never sent again
    assert [a["id"] for a in stored_actions(emulator)] == [created["security_action"]["id"]]


def test_ambiguous_create_not_yet_visible_fails_and_a_rerun_creates_nothing_more(ansible, emulator):
    # The emulator sleeps first and creates the action only after the module gave up (1 s timeout):
    # the lookup finds nothing, so the task fails instead of risking a second action.
    # 5 s leaves the module (1 s timeout) ample time to look up before the action appears, even on a busy host.
    emulator.admin.add_fault(route=CREATE_ROUTE, kind="timeout", delay_s=5, after_processing=False, times=1)
    first = play(ansible, block_ip("create", "203.0.113.50", timeout=1))
    assert first.rc != 0
    failed = first.task("create")
    assert failed["error"]["client_request_id"] and "Re-run the task" in failed["msg"]
    wait_until(lambda: posts(emulator, CREATE_ROUTE))  # the held request lands
    assert len(stored_actions(emulator)) == 1
    assert posts(emulator, CREATE_ROUTE)[0]["client_request_id"] == failed["error"]["client_request_id"]
    second = play(ansible, block_ip("create", "203.0.113.50"))
    assert second.rc == 0, second.output
    assert second.task("create")["changed"] is False
    assert len(posts(emulator, CREATE_ROUTE)) == 1
    assert len(stored_actions(emulator)) == 1


def test_refused_filter_falls_back_to_scanning_every_page(ansible, emulator):
    emulator.admin.configure(page_size=1)
    addresses = ["203.0.113.61", "203.0.113.62", "203.0.113.63"]
    setup = play(ansible, dict(block_ip("create", "{{ item }}"), loop=addresses))
    assert setup.rc == 0, setup.output
    emulator.admin.clear_requests()
    emulator.admin.add_fault(route="list_security_actions", kind="status", status=400, code="BadRequest",
                             message="Invalid filter clause", times=1)
    result = play(ansible, block_ip("again", addresses[-1]))
    assert result.rc == 0, result.output
    assert result.task("again")["changed"] is False
    lists = emulator.admin.requests(route="list_security_actions")
    assert "$filter" in lists[0]["query"] and lists[0]["status"] == 400
    assert all("$filter" not in entry["query"] for entry in lists[1:])
    assert len(lists) == 1 + len(addresses)  # the refused filter, then one page per action
    assert posts(emulator, CREATE_ROUTE) == []


@pytest.mark.smoke
def test_check_mode_sends_no_post(ansible, emulator):
    emulator.admin.configure(security_action_timing={"running_after_s": 0.1, "terminal_after_s": 60})
    setup = play(ansible, block_ip("running", "203.0.113.70", client_context="INC-7"))
    assert setup.rc == 0, setup.output
    emulator.admin.clear_requests()
    result = play(ansible, block_ip("create", "203.0.113.71"),
                  action_task("cancel", state="canceled", client_context="INC-7"), check=True, diff=True)
    assert result.rc == 0, result.output
    create, cancel = result.task("create"), result.task("cancel")
    assert create["changed"] is True and cancel["changed"] is True
    assert create["request"]["method"] == "POST"
    assert create["request"]["url"] == emulator.info["graph_endpoint"] + "/beta/security/securityActions"
    assert create["request"]["body"]["parameters"] == [{"name": "IP", "value": "203.0.113.71"}]
    assert cancel["request"]["url"].endswith("/cancelSecurityAction")
    assert create["diff"]["before"] == {} and cancel["diff"]["after"] == cancel["diff"]["before"]
    assert emulator.admin.writes() == []
    assert len(stored_actions(emulator)) == 1


@pytest.mark.parametrize("cloud", ["usgov", "usgov_dod", "china"])
def test_non_global_cloud_is_refused_before_any_request(ansible, emulator, cloud):
    result = play(ansible, block_ip("create", "203.0.113.80", cloud_environment=cloud))
    assert result.rc != 0
    failed = result.task("create")
    assert "not offered in the %s cloud" % cloud in failed["msg"]
    assert emulator.admin.requests() == []  # not even a token request
    assert warned_deprecation(failed)


def test_client_without_the_role_gets_403_naming_the_permission(ansible, emulator):
    result = play(ansible, block_ip("create", "203.0.113.90"), client="responder")
    assert result.rc != 0
    failed = result.task("create")
    assert failed["error"]["status"] == 403
    assert failed["error"]["required_permission"] == "SecurityActions.ReadWrite.All"
    assert "SecurityActions.ReadWrite.All" in failed["msg"]
    assert emulator.admin.writes() == []


def test_read_only_client_can_look_but_not_create(ansible, emulator):
    result = play(ansible, block_ip("create", "203.0.113.91"), client="legacy_reader")
    assert result.rc != 0
    failed = result.task("create")
    assert (failed["error"]["status"], failed["error"]["method"]) == (403, "POST")
    assert failed["error"]["required_permission"] == "SecurityActions.ReadWrite.All"
    assert stored_actions(emulator) == []


def test_unsupported_action_reports_the_service_message(ansible, emulator):
    result = play(ansible, action_task("block url", name="BlockUrl", parameters={"Url": "http://malware.example"},
                                       vendor_information=MDE))
    assert result.rc != 0
    failed = result.task("block url")
    assert failed["error"]["status"] == 400 and "Cannot find a provider for this request" in failed["msg"]


def _unsigned_jwt(payload):
    def segment(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return "%s.%s.c2lnbmF0dXJl" % (segment({"alg": "RS256", "typ": "JWT"}), segment(payload))


def test_delegated_access_token_is_refused_before_any_request(ansible, emulator):
    token = _unsigned_jwt({"aud": "https://graph.microsoft.com", "scp": "SecurityActions.ReadWrite.All",
                           "upn": "analyst@contoso.com"})
    result = play(ansible, block_ip("create", "203.0.113.95"), auth=None, env={"MSGRAPH_ACCESS_TOKEN": token})
    assert result.rc != 0
    failed = result.task("create")
    assert failed["option"] == "access_token" and "delegated" in failed["msg"]
    assert token not in result.output
    assert emulator.admin.requests() == []


def test_wait_timeout_fails_with_the_action_and_a_rerun_does_not_create_another(ansible, emulator):
    emulator.admin.configure(security_action_timing={"running_after_s": 0.1, "terminal_after_s": 60})
    result = play(ansible, block_ip("create", "203.0.113.96", wait=True, wait_timeout=2, poll_interval=1))
    assert result.rc != 0
    failed = result.task("create")
    assert failed["error"]["error_code"] == "waitTimeout"
    assert failed["security_action"]["status"] == "Running"
    second = play(ansible, block_ip("again", "203.0.113.96"))
    assert second.rc == 0 and second.task("again")["changed"] is False
    assert len(posts(emulator, CREATE_ROUTE)) == 1
