# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""incident_info against the emulator: real ansible-playbook runs, MSAL tokens over HTTPS."""

from __future__ import annotations

import pytest
from incident_helpers import DOC_INCIDENT, IDENTITY_INCIDENT, play

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import SHAPES_SMOKE_FIRST, task, writes


@pytest.mark.parametrize("shape", SHAPES_SMOKE_FIRST)
def test_incident_info_get_list_filters_pages_and_alerts(ansible, emulator, shape):
    emulator.admin.configure(shape=shape, page_size=1)
    result = play(ansible,
                  task("one", "incident_info", dict(incident_id=DOC_INCIDENT)),
                  task("all", "incident_info"),
                  task("high since", "incident_info", dict(severity=["high"], updated_since="2026-05-01T10:29:00+02:00")),
                  task("nothing newer", "incident_info", dict(updated_since="2026-05-01T08:30:01Z")),
                  task("expanded", "incident_info", dict(incident_id=IDENTITY_INCIDENT, include_alerts=True)),
                  task("missing", "incident_info", dict(incident_id="999999")))
    assert result.rc == 0, result.output
    one = result.task("one")["incidents"][0]
    # The example shape's PascalCase values and createdBy/createdTime comments come back in schema form.
    assert (one["status"], one["severity"], one["classification"], one["determination"]) == \
        ("active", "medium", "truePositive", "multiStagedAttack")
    assert one["comments"] == [{"comment": "Demo incident", "created_by_display_name": "DavidS@contoso.onmicrosoft.com",
                                "created_date_time": "2021-09-30T12:07:37.2756993Z"}]
    assert one["custom_tags"] == ["Demo"]
    assert [item["id"] for item in result.task("all")["incidents"]] == [IDENTITY_INCIDENT, DOC_INCIDENT]
    assert [item["id"] for item in result.task("high since")["incidents"]] == [IDENTITY_INCIDENT]
    assert result.task("nothing newer")["incidents"] == []
    alerts = result.task("expanded")["incidents"][0]["alerts"]
    assert sorted(alert["id"] for alert in alerts) == ["da4711_ptt_0001", "da4711_ptt_0002"]
    assert result.task("missing")["incidents"] == []
    queries = [entry["query"] for entry in emulator.admin.requests(route="list_incidents")]
    assert {"$filter": "severity eq 'high' and lastUpdateDateTime ge 2026-05-01T08:29:00Z"} in queries
    assert any("$skiptoken" in query for query in queries)  # "all" followed the second page
    assert writes(emulator) == []


def test_china_is_refused_before_any_request(ansible, emulator):
    result = play(ansible, task("china", "incident_info", dict(cloud_environment="china"), ignore_errors=True))
    assert result.task("china")["error"]["error_code"] == "UnsupportedCloud"
    assert emulator.admin.requests() == []
