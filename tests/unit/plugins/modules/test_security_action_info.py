# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level tests of security_action_info: option wiring, results, warnings, refusals before any request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.modules import security_action_info
from ansible_collections.msgraph.security.tests.unit.fakes import FakeSecurityActionsGraph, jwt, stored_action
from ansible_collections.msgraph.security.tests.unit.module_runner import CREDENTIALS, assert_deprecation_warned, run_module, undocumented_keys


pytestmark = pytest.mark.usefixtures("isolated_module_run")


@pytest.fixture
def graph(fake_graph):
    return fake_graph(FakeSecurityActionsGraph([stored_action("a1", "ctx-1", status="notStarted"),
                                                stored_action("a2", "ctx-2", status="Completed")]))


def run(args, **kwargs):
    return run_module(security_action_info.main, dict(CREDENTIALS, **args), **kwargs)


def test_list_returns_documented_snake_case_keys_and_warns(graph):
    result = run({})
    assert result["changed"] is False
    assert [a["id"] for a in result["security_actions"]] == ["a1", "a2"]
    assert result["security_actions"][0]["status"] == "NotStarted"
    assert undocumented_keys(security_action_info, result) == []
    assert_deprecation_warned(result)


def test_get_by_id(graph):
    assert [a["id"] for a in run({"id": "a2"})["security_actions"]] == ["a2"]


def test_missing_id_is_an_empty_list(graph):
    result = run({"id": "missing"})
    assert result["security_actions"] == [] and "failed" not in result


def test_client_context_uses_the_filter(graph):
    result = run({"client_context": "ctx-2"})
    assert [a["id"] for a in result["security_actions"]] == ["a2"]
    assert graph.calls[0]["params"] == {"$filter": "clientContext eq 'ctx-2'"}


def test_filter_and_top_are_passed_through(graph):
    run({"filter": "status eq 'Completed'", "top": 1})
    assert graph.calls[0]["params"] == {"$filter": "status eq 'Completed'", "$top": 1}
    assert graph.calls[0]["max_items"] == 1


def test_check_mode_reads_as_usual(graph):
    assert len(run({}, check_mode=True)["security_actions"]) == 2


@pytest.mark.parametrize("args, fragment", [
    ({"id": "a1", "filter": "status eq 'Failed'"}, "mutually exclusive"),
    ({"id": "a1", "client_context": "ctx-1"}, "mutually exclusive"),
    ({"id": "a1", "top": 3}, "mutually exclusive"),
    ({"top": 0}, "top"),
    ({"client_context": "x" * 257}, "client_context"),
    ({"cloud_environment": "china"}, "not offered"),
    ({"api_version": "v1.0"}, "beta only"),
])
def test_refusals_happen_before_any_request(graph, args, fragment):
    result = run(args)
    assert result["failed"] is True and fragment in result["msg"]
    assert graph.calls == []
    assert_deprecation_warned(result)


def test_delegated_access_token_is_refused(graph):
    args = dict(CREDENTIALS, access_token=jwt({"scp": "SecurityActions.Read.All"}))
    del args["client_secret"]
    result = run_module(security_action_info.main, args)
    assert result["failed"] is True and result["option"] == "access_token"
    assert graph.calls == []
