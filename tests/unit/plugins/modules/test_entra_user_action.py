# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level tests of entra_user_action: one user or ``targets``, the API version, refusals before any request.

The decisions behind them (reading, guarding, pacing, reconciling) are tests/unit/plugins/module_utils/test__entra_users.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _module
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.plugins.modules import entra_user_action
from ansible_collections.msgraph.security.tests.unit.fakes import MEGAN, FakeResponse, FakeUsersGraph, user_body
from ansible_collections.msgraph.security.tests.unit.module_runner import CREDENTIALS, run_module, undocumented_keys

USER = "/users/" + MEGAN
CONFIRM = "/identityProtection/riskyUsers/confirmCompromised"


pytestmark = pytest.mark.usefixtures("isolated_module_run")


@pytest.fixture
def graph(fake_graph):
    return fake_graph(FakeUsersGraph(routes={("GET", USER): user_body(), ("POST", CONFIRM): FakeResponse(None, status=204)}))


def run(args, **kwargs):
    return run_module(entra_user_action.main, dict(CREDENTIALS, **args), **kwargs)


def test_one_user_check_mode_previews_the_request_and_sends_nothing(graph):
    result = run({"user_id": MEGAN, "action": "revoke_sign_in_sessions"}, check_mode=True)
    assert result["changed"] is True and result["outcome"] == "check_mode"
    assert result["request"]["method"] == "POST" and result["request"]["url"].endswith(USER + "/revokeSignInSessions")
    assert [call["method"] for call in graph.calls] == ["GET"]
    assert undocumented_keys(entra_user_action, result) == []


def test_one_user_risk_action_sends_its_user_id(graph):
    result = run({"user_id": MEGAN, "action": "confirm_compromised"})
    assert result["changed"] is True and result["outcome"] == "sent"
    assert [(post["path"], post["body"]) for post in graph.posts] == [(CONFIRM, {"userIds": [MEGAN]})]
    assert undocumented_keys(entra_user_action, result) == []


def test_targets_take_the_bulk_path(graph):
    result = run({"targets": [{"user_id": MEGAN}], "action": "confirm_compromised"}, check_mode=True)
    assert result["outcome"] == "check_mode" and result["batch_requests"][0]["body"] == {"userIds": [MEGAN]}
    assert graph.posts == []


def test_targets_are_refused_for_a_per_user_command_before_any_request(graph):
    result = run({"targets": [{"user_id": MEGAN}], "action": "revoke_sign_in_sessions"})
    assert result["failed"] is True and result["option"] == "targets" and "loop the task" in result["msg"]
    assert graph.calls == []


def test_risk_actions_are_refused_in_china_before_any_request(graph):
    result = run({"user_id": MEGAN, "action": "dismiss_risk", "cloud_environment": "china"})
    assert result["failed"] is True and result["error"]["error_code"] == "UnsupportedCloud"
    assert graph.calls == []


@pytest.mark.parametrize("args", [{"user_id": MEGAN, "targets": [{"user_id": MEGAN}]}, {}])
def test_exactly_one_way_to_name_the_users(graph, args):
    result = run(dict(args, action="confirm_compromised"))
    assert result["failed"] is True
    assert graph.calls == []


def test_an_unknown_user_fails_closed_without_a_write(graph):
    # The UPN stands percent-encoded in the path.
    graph.routes[("GET", "/users/nobody%40contoso.com")] = GraphError("no", status=404, code="Request_ResourceNotFound")
    result = run({"user_principal_name": "nobody@contoso.com", "action": "confirm_compromised"})
    assert result["failed"] is True and "no Entra ID user matches" in result["msg"]
    assert graph.posts == []


def test_the_module_talks_to_v1_0(graph, monkeypatch):
    versions = []
    monkeypatch.setattr(_module.GraphModule, "graph_client",
                        lambda self, **kwargs: versions.append(self.connection_settings.api_version) or graph)
    run({"user_id": MEGAN, "action": "confirm_compromised"}, check_mode=True)
    assert versions == ["v1.0"]
