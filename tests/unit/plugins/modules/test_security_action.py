# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level tests of security_action: option wiring, results, warnings, refusals before any request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _security_action_requests as sar
from ansible_collections.msgraph.security.plugins.modules import security_action
from ansible_collections.msgraph.security.tests.unit.fakes import FakeSecurityActionsGraph, jwt, stored_action
from ansible_collections.msgraph.security.tests.unit.module_runner import CREDENTIALS, assert_deprecation_warned, run_module, undocumented_keys

BLOCK = dict(CREDENTIALS, name="BlockIp", parameters={"IP": "203.0.113.45"},
             vendor_information={"vendor": "Microsoft", "provider": "Windows Defender ATP"})


pytestmark = pytest.mark.usefixtures("isolated_module_run")


@pytest.fixture
def graph(fake_graph):
    return fake_graph(FakeSecurityActionsGraph())


def run(args, **kwargs):
    return run_module(security_action.main, args, **kwargs)


def test_create_returns_only_documented_keys_and_warns(graph):
    result = run(BLOCK)
    assert result["changed"] is True
    assert result["security_action"]["id"] == "new-1"
    assert result["security_action"]["parameters"] == [{"name": "IP", "value": "203.0.113.45"}]
    assert undocumented_keys(security_action, result) == []
    assert "diff" not in result
    assert_deprecation_warned(result)
    assert [call["body"]["vendorInformation"] for call in graph.posts] == [{"vendor": "Microsoft",
                                                                           "provider": "Windows Defender ATP"}]


def test_rerun_is_unchanged_with_the_reason(graph):
    run(BLOCK)
    result = run(BLOCK)
    assert result["changed"] is False
    assert "already exists" in result["reason"]
    assert undocumented_keys(security_action, result) == []
    assert len(graph.posts) == 1


def test_list_and_dict_parameters_derive_the_same_client_context(graph):
    first = run(BLOCK)
    second = run(dict(BLOCK, parameters=[{"name": "IP", "value": "203.0.113.45"}]))
    assert second["changed"] is False
    assert first["security_action"]["client_context"] == second["security_action"]["client_context"]


def test_check_mode_posts_nothing_and_returns_the_request(graph):
    result = run(BLOCK, check_mode=True, diff=True)
    assert graph.posts == []
    assert result["changed"] is True
    assert result["request"]["method"] == "POST"
    assert result["request"]["url"] == "https://graph.fake.test/beta/security/securityActions"
    assert result["request"]["body"]["clientContext"].startswith("msgraph.security:v1:")
    assert result["diff"]["before"] == {} and result["diff"]["after"]["status"] == "NotStarted"
    assert undocumented_keys(security_action, result) == []


def test_diff_mode_returns_before_and_after(graph):
    result = run(BLOCK, diff=True)
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["id"] == "new-1"


@pytest.mark.parametrize("cloud", ["usgov", "usgov_dod", "china", "AzureUSGovernment"])
def test_non_global_clouds_fail_before_any_request(graph, cloud):
    result = run(dict(BLOCK, cloud_environment=cloud))
    assert result["failed"] is True
    assert "not offered" in result["msg"] and "global" in result["msg"]
    assert graph.calls == []
    assert_deprecation_warned(result)


def test_v1_0_is_refused_before_any_request(graph):
    result = run(dict(BLOCK, api_version="v1.0"))
    assert result["failed"] is True and result["option"] == "api_version"
    assert "beta only" in result["msg"]
    assert graph.calls == []


def test_delegated_access_token_is_refused_before_any_request(graph):
    args = dict(BLOCK, access_token=jwt({"scp": "SecurityActions.ReadWrite.All"}))
    del args["client_secret"]
    result = run(args)
    assert result["failed"] is True
    assert result["option"] == "access_token"
    assert "delegated" in result["msg"]
    assert graph.calls == []
    assert_deprecation_warned(result)


def test_app_only_access_token_is_accepted(graph):
    args = dict(BLOCK, access_token=jwt({"roles": ["SecurityActions.ReadWrite.All"]}))
    del args["client_secret"]
    assert run(args)["changed"] is True


@pytest.mark.parametrize("args, option", [
    (dict(BLOCK, client_context="x" * 257), "client_context"),
    (dict(BLOCK, id="a1"), "id"),
    (dict(BLOCK, parameters={"IP": "203.0.113.45", "appId": "x"}), "parameters"),
    (dict(BLOCK, parameters="203.0.113.45"), "parameters"),
    (dict(BLOCK, poll_interval=0), "poll_interval"),
    (dict(BLOCK, wait_timeout=-1), "wait_timeout"),
])
def test_bad_input_fails_naming_the_option_before_any_request(graph, args, option):
    result = run(args)
    assert result["failed"] is True
    assert result["option"] == option
    assert graph.calls == []


def test_present_requires_name_parameters_and_vendor(graph):
    args = dict(BLOCK)
    del args["vendor_information"]
    result = run(args)
    assert result["failed"] is True and "vendor_information" in result["msg"]
    assert graph.calls == []


def test_vendor_requires_provider(graph):
    result = run(dict(BLOCK, vendor_information={"vendor": "Microsoft"}))
    assert result["failed"] is True and "provider" in result["msg"]


def test_failed_action_fails_the_task_with_error_info(fake_graph):
    graph = fake_graph(FakeSecurityActionsGraph())
    graph.progress["new-1"] = ["Failed"]
    result = run(dict(BLOCK, wait=True, poll_interval=1))
    assert result["failed"] is True
    assert result["error"]["error_code"] == "securityActionFailed"
    assert result["security_action"]["error_info"] == {"code": 400, "message": "Cannot block IP address", "subcode": 1}
    assert undocumented_keys(security_action, result) == []


def test_cancel_by_id(fake_graph):
    graph = fake_graph(FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Running")]))
    result = run(dict(CREDENTIALS, state="canceled", id="a1"))
    assert result["changed"] is True
    assert [call["path"] for call in graph.posts] == ["/security/securityActions/a1/cancelSecurityAction"]
    assert undocumented_keys(security_action, result) == []


def test_cancel_of_a_completed_action_is_unchanged(fake_graph):
    graph = fake_graph(FakeSecurityActionsGraph([stored_action("a1", "ctx", status="Completed")]))
    result = run(dict(CREDENTIALS, state="canceled", client_context="ctx"))
    assert result["changed"] is False and "already Completed" in result["reason"]
    assert graph.posts == []


def test_cancel_by_derived_client_context(fake_graph):
    body = sar.build_create_body("BlockIp", {"IP": "203.0.113.45"}, {"vendor": "Microsoft", "provider": "Windows Defender ATP"})
    graph = fake_graph(FakeSecurityActionsGraph([stored_action("a1", body["clientContext"], status="Running")]))
    result = run(dict(BLOCK, state="canceled"))
    assert result["changed"] is True and graph.posts[0]["path"].endswith("/a1/cancelSecurityAction")


def test_cancel_needs_a_target(graph):
    result = run(dict(CREDENTIALS, state="canceled"))
    assert result["failed"] is True
    assert graph.calls == []


def test_id_and_client_context_are_mutually_exclusive(graph):
    result = run(dict(CREDENTIALS, state="canceled", id="a1", client_context="ctx"))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
