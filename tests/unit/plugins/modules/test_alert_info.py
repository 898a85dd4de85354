# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module-level tests of alert_info: which read each option makes, results, refusals before any request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.plugins.modules import alert_info
from ansible_collections.msgraph.security.tests.unit.fakes import FakeGraphClient
from ansible_collections.msgraph.security.tests.unit.module_runner import CREDENTIALS, run_module, undocumented_keys

ALERTS = "/security/alerts_v2"
INCIDENTS = "/security/incidents"
ALERT = {"id": "da4711_ptt_0001", "incidentId": "4711", "title": "Suspected pass-the-ticket", "status": "new", "severity": "high",
         "serviceSource": "microsoftDefenderForIdentity", "evidence": [], "comments": []}


pytestmark = pytest.mark.usefixtures("isolated_module_run")


@pytest.fixture
def graph(fake_graph):
    return fake_graph(FakeGraphClient(routes={("GET", ALERTS + "/da4711_ptt_0001"): ALERT,
                                              ("GET", INCIDENTS + "/4711"): {"id": "4711", "status": "active", "alerts": [ALERT]}},
                                      collections={ALERTS: [ALERT]}))


def run(args, **kwargs):
    return run_module(alert_info.main, dict(CREDENTIALS, **args), **kwargs)


def test_alert_id_reads_that_alert_only(graph):
    result = run({"alert_id": "da4711_ptt_0001"})
    assert result["changed"] is False and [alert["id"] for alert in result["alerts"]] == ["da4711_ptt_0001"]
    assert [(call["method"], call["path"]) for call in graph.calls] == [("GET", ALERTS + "/da4711_ptt_0001")]
    assert undocumented_keys(alert_info, result) == []


def test_incident_id_reads_the_incident_with_its_alerts_expanded(graph):
    result = run({"incident_id": "4711"})
    assert [alert["id"] for alert in result["alerts"]] == ["da4711_ptt_0001"]
    assert [(call["method"], call["path"], call["params"]) for call in graph.calls] == [
        ("GET", INCIDENTS + "/4711", {"$expand": "alerts"})]


@pytest.mark.parametrize("args, path", [({"alert_id": "nope"}, ALERTS + "/nope"), ({"incident_id": "999"}, INCIDENTS + "/999")])
def test_a_missing_alert_or_incident_is_an_empty_list(graph, args, path):
    graph.routes[("GET", path)] = GraphError("not found", status=404, code="NotFound")
    result = run(args)
    assert "failed" not in result and result["alerts"] == []


def test_without_an_id_it_lists_with_the_filter_and_top(graph):
    result = run({"service_source": ["microsoftDefenderForIdentity"], "severity": ["high"], "top": 3})
    assert [alert["id"] for alert in result["alerts"]] == ["da4711_ptt_0001"]
    [call] = graph.calls
    assert call["method"] == "GET_ALL" and call["path"] == ALERTS
    assert call["params"]["$filter"] == "severity eq 'high' and serviceSource eq 'microsoftDefenderForIdentity'"
    assert call["params"]["$top"] == 3


@pytest.mark.parametrize("args, option", [
    ({"top": 0}, "top"),
    ({"filter": ""}, "filter"),
    ({"alert_id": "da4711%2Fx"}, "alert_id"),
    ({"incident_id": ".."}, "incident_id"),
])
def test_bad_input_is_refused_before_any_request(graph, args, option):
    result = run(args)
    assert result["failed"] is True and result["option"] == option
    assert graph.calls == []


@pytest.mark.parametrize("args", [{"alert_id": "a", "incident_id": "4711"}, {"alert_id": "a", "top": 2}, {"incident_id": "4711", "status": ["new"]}])
def test_one_way_to_choose_the_alerts_at_a_time(graph, args):
    result = run(args)
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    assert graph.calls == []
