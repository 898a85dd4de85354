# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the legacy securityActions domain layer against a fake Graph service (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _security_action_requests as sar
from ansible_collections.msgraph.security.plugins.module_utils import _security_actions as sa
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
)
from ansible_collections.msgraph.security.tests.unit.fakes import FakeClock, FakeSecurityActionsGraph, stored_action

COLLECTION = sa.COLLECTION_PATH
MDE = {"vendor": "Microsoft", "provider": "Windows Defender ATP"}


class Warnings(list):
    def __call__(self, message):
        self.append(message)


def block_ip_body(ip="203.0.113.45", client_context=None, **kwargs):
    return sar.build_create_body("BlockIp", {"IP": ip}, dict(MDE), client_context=client_context, **kwargs)


def unknown_outcome():
    return GraphOutcomeUnknownError("POST timed out after the request was sent", code="Timeout",
                                    client_request_id="cri-ambiguous", method="POST", url="https://graph/x")


class TestStatus:
    def test_terminal_statuses_compare_case_insensitively(self):
        assert sa.is_terminal("COMPLETED") and sa.is_terminal("failed")
        assert not sa.is_terminal("notStarted") and not sa.is_terminal("Running") and not sa.is_terminal(None)


# --------------------------------------------------------------------------------------------- lookup


class TestLookup:
    def test_server_filter_is_used_and_quotes_are_doubled(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "O'Brien"), stored_action("a2", "other")])
        found = sa.find_by_client_context(graph, "O'Brien")
        assert [a["id"] for a in found] == ["a1"]
        assert graph.calls == [{"method": "GET_ALL", "path": COLLECTION, "params": {"$filter": "clientContext eq 'O''Brien'"},
                                "max_items": None, "permission": "SecurityActions.Read.All"}]

    def test_results_of_an_ignored_filter_are_checked_client_side(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx-A"), stored_action("a2", "ctx-a"),
                                          stored_action("a3", "ctx-A-longer")], ignore_filter=True)
        assert [a["id"] for a in sa.find_by_client_context(graph, "ctx-A")] == ["a1"]

    @pytest.mark.parametrize("status", [400, 501])
    def test_a_refused_filter_falls_back_to_scanning_every_page(self, status):
        graph = FakeSecurityActionsGraph([stored_action("a1", "other"), stored_action("a2", "ctx")],
                                         filter_error=GraphError("Invalid filter clause", status=status, code="BadRequest"))
        assert [a["id"] for a in sa.find_by_client_context(graph, "ctx")] == ["a2"]
        listed = graph.calls_of("GET_ALL")
        assert [call["params"] for call in listed] == [{"$filter": "clientContext eq 'ctx'"}, None]

    def test_other_errors_are_not_mistaken_for_an_unsupported_filter(self):
        graph = FakeSecurityActionsGraph(filter_error=GraphError("Missing role", status=403, code="Forbidden"))
        with pytest.raises(GraphError) as caught:
            sa.find_by_client_context(graph, "ctx")
        assert caught.value.status == 403
        assert len(graph.calls) == 1

    def test_matches_are_sorted_oldest_first(self):
        graph = FakeSecurityActionsGraph([stored_action("new", "ctx", created="2026-05-02T00:00:00Z"),
                                          stored_action("old", "ctx", created="2026-05-01T00:00:00Z")])
        assert [a["id"] for a in sa.find_by_client_context(graph, "ctx")] == ["old", "new"]


# --------------------------------------------------------------------------------------------- present


class TestEnsurePresent:
    def test_creates_once_with_the_client_context(self):
        graph = FakeSecurityActionsGraph()
        body = block_ip_body()
        result = sa.ensure_present(graph, body)
        assert result["changed"] is True
        assert [call["body"] for call in graph.posts] == [body]
        assert graph.posts[0]["permission"] == "SecurityActions.ReadWrite.All"
        assert result["security_action"]["id"] == "new-1"
        assert result["security_action"]["client_context"] == body["clientContext"]
        assert result["diff"]["before"] == {} and result["diff"]["after"]["id"] == "new-1"

    def test_existing_client_context_means_no_change_and_no_post(self):
        body = block_ip_body()
        graph = FakeSecurityActionsGraph([stored_action("a1", body["clientContext"], status="Running")])
        result = sa.ensure_present(graph, body)
        assert result["changed"] is False
        assert graph.posts == []
        assert "a1" in result["reason"]
        assert result["security_action"]["status"] == "Running"
        assert result["diff"]["before"] == result["diff"]["after"]

    def test_second_run_against_the_same_service_changes_nothing(self):
        graph = FakeSecurityActionsGraph()
        assert sa.ensure_present(graph, block_ip_body())["changed"] is True
        assert sa.ensure_present(graph, block_ip_body())["changed"] is False
        assert len(graph.posts) == 1 and len(graph.actions) == 1

    def test_explicit_context_naming_a_different_action_is_refused(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "INC-1", ip="198.51.100.1")])
        with pytest.raises(InputError) as caught:
            sa.ensure_present(graph, block_ip_body("203.0.113.45", client_context="INC-1"))
        assert caught.value.option == "client_context"
        assert graph.posts == []

    def test_example_shape_spelling_is_not_a_conflict(self):
        existing = stored_action("a1", "INC-1", status="notStarted", name="blockIp")
        graph = FakeSecurityActionsGraph([existing])
        result = sa.ensure_present(graph, block_ip_body(client_context="INC-1"))
        assert result["changed"] is False and result["security_action"]["status"] == "NotStarted"

    def test_check_mode_posts_nothing_and_shows_the_request(self):
        graph = FakeSecurityActionsGraph()
        body = block_ip_body()
        result = sa.ensure_present(graph, body, check_mode=True, wait=True)
        assert graph.posts == [] and graph.actions == []
        assert result["changed"] is True
        assert result["request"] == {"method": "POST", "url": "https://graph.fake.test/beta/security/securityActions",
                                     "body": body}
        assert result["diff"]["before"] == {}
        assert result["diff"]["after"]["status"] == "NotStarted"
        assert result["diff"]["after"]["parameters"] == [{"name": "IP", "value": "203.0.113.45"}]

    def test_existing_failed_action_without_wait_warns_that_it_is_not_retried(self):
        body = block_ip_body()
        graph = FakeSecurityActionsGraph([stored_action("a1", body["clientContext"], status="Failed",
                                                        error_info={"code": 400, "message": "m", "subcode": 1})])
        warnings = Warnings()
        result = sa.ensure_present(graph, body, warn=warnings)
        assert result["changed"] is False
        assert len(warnings) == 1 and "new client_context" in warnings[0]

    def test_several_actions_with_one_context_use_the_oldest_and_warn(self):
        body = block_ip_body()
        graph = FakeSecurityActionsGraph([stored_action("b", body["clientContext"], created="2026-05-02T00:00:00Z"),
                                          stored_action("a", body["clientContext"], created="2026-05-01T00:00:00Z")])
        warnings = Warnings()
        assert sa.ensure_present(graph, body, warn=warnings)["security_action"]["id"] == "a"
        assert "2 security actions share client context" in warnings[0]


class TestExactlyOnce:
    def test_ambiguous_create_that_landed_is_reconciled_without_a_second_post(self):
        graph = FakeSecurityActionsGraph()
        graph.post_faults = [(unknown_outcome(), True)]
        warnings = Warnings()
        result = sa.ensure_present(graph, block_ip_body(), warn=warnings)
        assert result["changed"] is True
        assert result["security_action"]["id"] == "new-1"
        assert len(graph.posts) == 1 and len(graph.actions) == 1
        assert any("took effect" in message and "not sent again" in message for message in warnings)

    def test_ambiguous_create_that_did_not_land_fails_and_is_never_resent(self):
        graph = FakeSecurityActionsGraph()
        graph.post_faults = [(unknown_outcome(), False)]
        body = block_ip_body()
        with pytest.raises(GraphOutcomeUnknownError) as caught:
            sa.ensure_present(graph, body)
        assert len(graph.posts) == 1 and graph.actions == []
        assert caught.value.client_request_id == "cri-ambiguous"
        assert body["clientContext"] in str(caught.value)
        assert "Re-run the task" in caught.value.hint
        # the lookup after the POST is what proved the action absent
        assert graph.calls[-1]["method"] == "GET_ALL"

    def test_rerun_after_a_failed_ambiguous_create_finds_a_late_action(self):
        graph = FakeSecurityActionsGraph()
        graph.post_faults = [(unknown_outcome(), False)]
        body = block_ip_body()
        with pytest.raises(GraphOutcomeUnknownError):
            sa.ensure_present(graph, body)
        graph.actions.append(stored_action("late", body["clientContext"]))  # the request landed after all
        result = sa.ensure_present(graph, body)
        assert result["changed"] is False and result["security_action"]["id"] == "late"
        assert len(graph.posts) == 1

    def test_a_plain_error_is_raised_without_a_lookup(self):
        graph = FakeSecurityActionsGraph()
        graph.post_faults = [(GraphError("Cannot find a provider for this request", status=400, code=""), False)]
        with pytest.raises(GraphError, match="Cannot find a provider"):
            sa.ensure_present(graph, block_ip_body())
        assert [call["method"] for call in graph.calls] == ["GET_ALL", "POST"]

    def test_a_201_without_the_entity_is_read_back(self):
        graph = FakeSecurityActionsGraph()
        graph.create_body = {}
        result = sa.ensure_present(graph, block_ip_body())
        assert result["security_action"]["id"] == "new-1"
        assert [call["method"] for call in graph.calls] == ["GET_ALL", "POST", "GET_ALL"]


class TestWait:
    def run(self, graph, progress):
        clock = FakeClock()
        graph.progress["new-1"] = list(progress)
        result = sa.ensure_present(graph, block_ip_body(), wait=True, wait_timeout=30, poll_interval=5,
                                   sleep=clock.sleep, clock=clock.clock)
        return result, clock

    def test_polls_until_completed(self):
        graph = FakeSecurityActionsGraph()
        result, clock = self.run(graph, ["notStarted", "Running", "completed"])
        assert result["security_action"]["status"] == "Completed"
        assert clock.sleeps == [5, 5, 5]
        assert len(graph.calls_of("GET")) == 3

    def test_failed_raises_with_error_info(self):
        graph = FakeSecurityActionsGraph()
        with pytest.raises(sa.SecurityActionFailedError) as caught:
            self.run(graph, ["Running", "Failed"])
        error = caught.value
        assert error.action["status"] == "Failed"
        assert error.action["error_info"] == {"code": 400, "message": "Cannot block IP address", "subcode": 1}
        assert "code 400" in str(error) and "subcode 1" in str(error)
        assert error.code == "securityActionFailed"

    def test_timeout_raises_after_sleeping_exactly_wait_timeout(self):
        graph = FakeSecurityActionsGraph()
        clock = FakeClock()
        graph.progress["new-1"] = ["Running"] * 20
        with pytest.raises(sa.SecurityActionTimeoutError) as caught:
            sa.ensure_present(graph, block_ip_body(), wait=True, wait_timeout=12, poll_interval=5,
                              sleep=clock.sleep, clock=clock.clock)
        assert clock.sleeps == [5, 5, 2]
        assert (caught.value.action["id"], caught.value.action["status"]) == ("new-1", "Running")
        assert "wait_timeout=12" in str(caught.value)

    def test_an_existing_completed_action_needs_no_polling(self):
        body = block_ip_body()
        graph = FakeSecurityActionsGraph([stored_action("a1", body["clientContext"], status="Completed")])
        clock = FakeClock()
        result = sa.ensure_present(graph, body, wait=True, sleep=clock.sleep, clock=clock.clock)
        assert result["changed"] is False and clock.sleeps == [] and graph.calls_of("GET") == []

    def test_an_existing_running_action_is_waited_for(self):
        body = block_ip_body()
        graph = FakeSecurityActionsGraph([stored_action("a1", body["clientContext"], status="Running")])
        graph.progress["a1"] = ["Completed"]
        clock = FakeClock()
        result = sa.ensure_present(graph, body, wait=True, sleep=clock.sleep, clock=clock.clock)
        assert result["changed"] is False and result["security_action"]["status"] == "Completed"
        assert graph.posts == []


# --------------------------------------------------------------------------------------------- cancel


class TestCancel:
    @pytest.mark.parametrize("status_after", [None, "Completed", "Failed"])
    def test_cancel_reports_the_accepted_request_and_the_state_read_afterwards_as_it_is(self, status_after):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")])
        graph.cancel_to = status_after
        result = sa.ensure_canceled(graph, action_id="a1")
        assert result["changed"] is True
        assert [call["path"] for call in graph.posts] == [COLLECTION + "/a1/cancelSecurityAction"]
        assert graph.posts[0]["body"] is None
        assert result["outcome"] == "sent" and result["request_ids"]["request_id"] == "req-cancel"
        assert graph.posts[0]["client_request_id"] and result["request_ids"]["client_request_id"] == graph.posts[0]["client_request_id"]
        assert result["security_action"]["status"] == (status_after or "Running")  # no canceled state is invented
        assert result["diff"]["before"]["status"] == "Running"

    def test_cancel_by_client_context(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "other"), stored_action("a2", "ctx", status="notStarted")])
        result = sa.ensure_canceled(graph, client_context="ctx")
        assert result["changed"] is True
        assert graph.posts[0]["path"] == COLLECTION + "/a2/cancelSecurityAction"

    def test_id_with_characters_is_encoded_in_the_path(self):
        graph = FakeSecurityActionsGraph([stored_action("a/1", "ctx", status="Running")])
        with pytest.raises(GraphError):  # the fake only knows unencoded ids: proves the id was encoded
            sa.ensure_canceled(graph, action_id="a/1")
        assert graph.calls[0]["path"] == COLLECTION + "/a%2F1"

    @pytest.mark.parametrize("status, error_info, expected", [
        ("Completed", None, "already Completed"),
        ("completed", None, "already Completed"),
        ("Failed", {"code": 400, "message": "m", "subcode": 1}, "already Failed"),
        ("Canceled", None, "already Canceled"),  # not a documented status: final, reported as it is
    ])
    def test_terminal_actions_are_left_alone_with_the_reason(self, status, error_info, expected):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status=status, error_info=error_info)])
        result = sa.ensure_canceled(graph, action_id="a1")
        assert result["changed"] is False
        assert expected in result["reason"]
        assert graph.posts == []

    def test_unknown_client_context_is_no_change(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "other", status="Running")])
        result = sa.ensure_canceled(graph, client_context="ctx")
        assert result["changed"] is False and "nothing to cancel" in result["reason"]
        assert result["security_action"] == {} and graph.posts == []

    def test_unknown_id_fails(self):
        graph = FakeSecurityActionsGraph()
        with pytest.raises(GraphError) as caught:
            sa.ensure_canceled(graph, action_id="missing")
        assert caught.value.status == 404

    def test_neither_id_nor_client_context_is_an_input_error(self):
        with pytest.raises(InputError):
            sa.ensure_canceled(FakeSecurityActionsGraph())

    def test_check_mode_posts_nothing_and_shows_the_request(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")])
        result = sa.ensure_canceled(graph, action_id="a1", check_mode=True)
        assert graph.posts == [] and graph.actions[0]["status"] == "Running"
        assert result["changed"] is True
        assert result["request"] == {"method": "POST", "body": None,
                                     "url": "https://graph.fake.test/beta/security/securityActions/a1/cancelSecurityAction"}
        # Microsoft documents no status for a canceled action: the diff predicts none.
        assert (result["diff"]["before"]["status"], result["diff"]["after"]["status"]) == ("Running", "Running")

    def test_action_finishing_before_the_cancel_is_no_change(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")])
        graph.cancel_then = {"status": "Completed"}
        graph.cancel_error = GraphError("cannot be canceled because it is already Completed", status=400, code="BadRequest")
        result = sa.ensure_canceled(graph, action_id="a1")
        assert result["changed"] is False and "became Completed" in result["reason"]

    def test_a_permission_error_on_cancel_is_not_masked(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")])
        graph.cancel_then = {"status": "Completed"}
        graph.cancel_error = GraphError("Missing role", status=403, code="Forbidden")
        with pytest.raises(GraphError) as caught:
            sa.ensure_canceled(graph, action_id="a1")
        assert caught.value.status == 403

    def test_ambiguous_cancel_is_reported_unknown_with_the_state_read_afterwards(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")])
        graph.cancel_then = {"status": "Failed"}
        graph.cancel_error = unknown_outcome()
        with pytest.raises(GraphOutcomeUnknownError) as caught:
            sa.ensure_canceled(graph, action_id="a1")
        assert len(graph.posts) == 1
        assert "outcome is unknown" in caught.value.message and "(the action now reads Failed)" in caught.value.message

    def test_ambiguous_cancel_of_a_still_running_action_fails(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")])
        graph.cancel_error = unknown_outcome()
        graph.cancel_then = {}
        with pytest.raises(GraphOutcomeUnknownError):
            sa.ensure_canceled(graph, action_id="a1")
        assert len(graph.posts) == 1


# --------------------------------------------------------------------------------------------- info


class TestReadActions:
    def test_by_id(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx")])
        assert [a["id"] for a in sa.read_actions(graph, action_id="a1")] == ["a1"]

    def test_missing_id_is_an_empty_list(self):
        assert sa.read_actions(FakeSecurityActionsGraph(), action_id="nope") == []

    def test_by_client_context(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx"), stored_action("a2", "other")])
        assert [a["id"] for a in sa.read_actions(graph, client_context="ctx")] == ["a1"]

    def test_filter_and_top_are_passed_through(self):
        graph = FakeSecurityActionsGraph([stored_action("a%d" % n, "c%d" % n) for n in range(5)])
        found = sa.read_actions(graph, odata_filter="status eq 'Completed'", top=2)
        assert len(found) == 2
        assert graph.calls == [{"method": "GET_ALL", "path": COLLECTION, "max_items": 2,
                                "params": {"$filter": "status eq 'Completed'", "$top": 2},
                                "permission": "SecurityActions.Read.All"}]

    def test_everything_without_options(self):
        graph = FakeSecurityActionsGraph([stored_action("a%d" % n, "c%d" % n) for n in range(3)])
        assert len(sa.read_actions(graph)) == 3
        assert graph.calls[0]["params"] is None and graph.calls[0]["max_items"] is None


class TestReconcilingReadFails:
    """An unknown write outcome stays unknown when the read meant to settle it fails as well."""

    def test_a_create_whose_lookup_fails_stays_unknown_and_is_not_resent(self):
        graph = FakeSecurityActionsGraph()
        graph.post_faults = [(unknown_outcome(), True)]
        lookups = iter([[], GraphError("Service unavailable", status=503, code="ServiceUnavailable", request_id="req-read")])
        real_get_all = graph.get_all

        def get_all(path, params=None, max_items=None, permission=None):
            answer = next(lookups)
            if isinstance(answer, Exception):
                graph._record("GET_ALL", path, params=params)
                raise answer
            return real_get_all(path, params=params, max_items=max_items, permission=permission)
        graph.get_all = get_all
        with pytest.raises(GraphOutcomeUnknownError) as caught:
            sa.ensure_present(graph, block_ip_body())
        error = caught.value
        assert error.to_result()["outcome"] == "unknown" and error.client_request_id == "cri-ambiguous"
        assert "failed too" in error.message and "Service unavailable" in error.message
        assert "Re-run the task" in error.hint
        assert len(graph.posts) == 1

    def test_a_cancel_whose_read_back_fails_stays_unknown(self):
        graph = FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")])
        graph.cancel_error = unknown_outcome()
        reads = iter([None, GraphError("Service unavailable", status=503, code="ServiceUnavailable")])
        real_get = graph.get

        def get(path, params=None, permission=None, client_request_id=None):
            answer = next(reads)
            if isinstance(answer, Exception):
                raise answer
            return real_get(path, params=params, permission=permission)
        graph.get = get
        with pytest.raises(GraphOutcomeUnknownError) as caught:
            sa.ensure_canceled(graph, action_id="a1")
        error = caught.value
        assert error.to_result()["outcome"] == "unknown" and "reading the action again failed too" in error.message
        assert len(graph.posts) == 1


class TestServerReturnedIds:
    @pytest.mark.parametrize("bad_id", ["..", "a/../b", "%2e%2e", "x?y", "a b"])
    def test_a_returned_id_that_would_change_the_path_is_refused_before_the_cancel(self, bad_id):
        graph = FakeSecurityActionsGraph([stored_action(bad_id, "ctx", status="Running")])
        with pytest.raises(GraphError) as caught:
            sa.ensure_canceled(graph, client_context="ctx")
        assert caught.value.code == "UnsafeServerId" and not isinstance(caught.value, GraphOutcomeUnknownError)
        assert graph.posts == []

    def test_a_returned_id_is_checked_before_waiting_reads_it(self):
        graph = FakeSecurityActionsGraph()
        graph.create_body = stored_action("..", "ignored", status="Running")
        with pytest.raises(GraphError) as caught:
            sa.ensure_present(graph, block_ip_body(), wait=True, sleep=lambda s: None)
        assert caught.value.code == "UnsafeServerId"
        assert [call["method"] for call in graph.calls] == ["GET_ALL", "POST"]
