# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of incident and alert lists by $filter: the filter sent, the fallback when the service refuses `or`,
and parsing a list that may hold a malformed item (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _filtered_lists as lists
from ansible_collections.msgraph.security.plugins.module_utils import _incidents as inc
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.tests.unit.fakes import FakeGraphClient


def test_filter_joins_values_with_or_and_properties_with_and():
    assert lists.build_filter(["high", "medium"], ["active"], "2026-05-01T00:00:00Z", odata_filter="assignedTo eq null") == \
        "(severity eq 'high' or severity eq 'medium') and status eq 'active' and lastUpdateDateTime ge 2026-05-01T00:00:00Z " \
        "and (assignedTo eq null)"
    assert lists.build_filter() is None


# --- several values of one property --------------------------------------------------------------

def _refusing_or(items):
    def answer(params):
        if " or " in (params.get("$filter") or ""):
            raise GraphError("Invalid filter clause", status=400, code="BadRequest", request_id="req-or")
        found = items
        for prop in ("severity", "status", "serviceSource"):
            for value in ("high", "medium", "low", "active", "resolved", "microsoftDefenderForIdentity"):
                if f"{prop} eq '{value}'" in params["$filter"]:
                    found = [item for item in found if item.get(prop) == value]
        return found
    return answer


INCIDENTS = [
    {"id": "1", "severity": "high", "status": "active", "lastUpdateDateTime": "2026-05-01T08:00:00Z"},
    {"id": "2", "severity": "medium", "status": "resolved", "lastUpdateDateTime": "2026-05-01T09:00:00Z"},
    {"id": "3", "severity": "low", "status": "active", "lastUpdateDateTime": "2026-05-01T10:00:00Z"},
    {"id": "4", "severity": "medium", "status": "active", "lastUpdateDateTime": "2026-05-01T11:00:00Z"},
]


def test_a_service_that_takes_or_gets_one_combined_query():
    client = FakeGraphClient(collections={"/security/incidents": lambda params: [i for i in INCIDENTS if i["id"] in ("1", "2", "4")]})
    found = inc.list_incidents(client, severities=["high", "medium"])
    assert [call["params"]["$filter"] for call in client.calls] == ["(severity eq 'high' or severity eq 'medium')"]
    assert [item["id"] for item in found] == ["1", "2", "4"]


def test_a_refused_or_is_answered_by_one_documented_query_per_combination_merged_newest_first():
    client = FakeGraphClient(collections={"/security/incidents": _refusing_or(INCIDENTS)})
    warnings = []
    found = inc.list_incidents(client, severities=["high", "medium"], statuses=["active", "resolved"], warn=warnings.append)
    filters = [call["params"]["$filter"] for call in client.calls]
    assert filters[0] == "(severity eq 'high' or severity eq 'medium') and (status eq 'active' or status eq 'resolved')"
    assert sorted(filters[1:]) == sorted(f"severity eq '{sev}' and status eq '{st}'" for sev in ("high", "medium")
                                         for st in ("active", "resolved"))
    assert [item["id"] for item in found] == ["4", "2", "1"]
    assert len(warnings) == 1 and "4 queries" in warnings[0] and "req-or" in warnings[0]


def test_the_merge_removes_duplicates_by_id_and_applies_top_after_merging():
    def duplicated(params):
        return [INCIDENTS[3], INCIDENTS[0]] if " or " not in params["$filter"] else _refusing_or([])(params)
    client = FakeGraphClient(collections={"/security/alerts_v2": duplicated})
    found = inc.list_alerts(client, severities=["high", "medium"], top=1)
    assert len(client.calls) == 3 and [call["params"]["$top"] for call in client.calls] == [1, 1, 1]
    assert [item["id"] for item in found] == ["4"]
    assert [item["id"] for item in inc.list_alerts(client, severities=["high", "medium"])] == ["4", "1"]  # each once


@pytest.mark.parametrize("severities", [["high"], None])
def test_a_400_without_several_values_is_the_services_answer(severities):
    client = FakeGraphClient(collections={"/security/incidents": GraphError("bad", status=400, code="BadRequest")})
    with pytest.raises(GraphError):
        inc.list_incidents(client, severities=severities, odata_filter="bogus eq 1")
    assert len(client.calls) == 1


def test_parse_each_skips_a_malformed_item_only_when_asked():
    messages = []
    items = [{"id": "8", "comments": 5}, {"id": "9"}]
    assert [item["id"] for item in lists.parse_each(items, inc.parse_incident, messages.append)] == ["9"]
    assert "'8'" in messages[0]
    with pytest.raises(TypeError):
        lists.parse_each(items, inc.parse_incident)
