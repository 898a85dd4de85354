# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level tests of incident_info: which read each option makes, results, refusals before any request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.plugins.modules import incident_info
from ansible_collections.msgraph.security.tests.unit.fakes import FakeGraphClient
from ansible_collections.msgraph.security.tests.unit.module_runner import CREDENTIALS, run_module, undocumented_keys

INCIDENTS = "/security/incidents"
INCIDENT = {"id": "4711", "displayName": "Multi-stage incident", "status": "active", "severity": "high",
            "lastUpdateDateTime": "2026-05-01T10:00:00Z", "customTags": ["Demo"], "comments": []}


pytestmark = pytest.mark.usefixtures("isolated_module_run")


@pytest.fixture
def graph(fake_graph):
    return fake_graph(FakeGraphClient(routes={("GET", INCIDENTS + "/4711"): INCIDENT},
                                      collections={INCIDENTS: [INCIDENT]}))


def run(args, **kwargs):
    return run_module(incident_info.main, dict(CREDENTIALS, **args), **kwargs)


def test_incident_id_reads_that_incident_only(graph):
    result = run({"incident_id": "4711"})
    assert result["changed"] is False and [item["id"] for item in result["incidents"]] == ["4711"]
    assert result["incidents"][0]["custom_tags"] == ["Demo"]
    assert [(call["method"], call["path"]) for call in graph.calls] == [("GET", INCIDENTS + "/4711")]
    assert graph.calls[0]["params"] is None
    assert undocumented_keys(incident_info, result) == []


def test_include_alerts_expands_them(graph):
    run({"incident_id": "4711", "include_alerts": True})
    assert graph.calls[0]["params"] == {"$expand": "alerts"}


def test_a_missing_incident_is_an_empty_list(graph):
    graph.routes[("GET", INCIDENTS + "/999")] = GraphError("not found", status=404, code="NotFound")
    result = run({"incident_id": "999"})
    assert "failed" not in result and result["incidents"] == []


def test_without_an_id_it_lists_with_the_filter_and_top(graph):
    result = run({"severity": ["high"], "top": 5})
    assert [item["id"] for item in result["incidents"]] == ["4711"]
    [call] = graph.calls
    assert call["method"] == "GET_ALL" and call["path"] == INCIDENTS
    assert call["params"]["$filter"] == "severity eq 'high'" and call["params"]["$top"] == 5


def test_check_mode_reads_as_usual(graph):
    result = run({"incident_id": "4711"}, check_mode=True)
    assert result["changed"] is False and len(result["incidents"]) == 1


@pytest.mark.parametrize("args, option", [
    ({"top": 0}, "top"),
    ({"filter": "   "}, "filter"),
    ({"updated_since": "yesterday"}, "updated_since"),
    ({"incident_id": "4711/comments"}, "incident_id"),
])
def test_bad_input_is_refused_before_any_request(graph, args, option):
    result = run(args)
    assert result["failed"] is True and result["option"] == option
    assert graph.calls == []


def test_an_id_with_list_options_is_refused_before_any_request(graph):
    result = run({"incident_id": "4711", "severity": ["high"]})
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    assert graph.calls == []
