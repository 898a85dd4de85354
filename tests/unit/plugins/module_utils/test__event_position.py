# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the incidents event source's position: the watermark, the collection's own write, the memory
bound and a watermark in the future (no network; the state file's rules are exercised through the source in
tests/unit/extensions/eda/plugins/event_source/test_incidents.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.msgraph.security.plugins.module_utils import _event_position as position
from ansible_collections.msgraph.security.plugins.module_utils import _incidents as inc


# --- the event source's watermark ----------------------------------------------------------------

def update(incident_id, when, **extra):
    return dict({"id": incident_id, "last_update_date_time": when, "alerts": []}, **extra)


def test_watermark_emits_each_update_once_including_ties_and_survives_a_round_trip():
    mark = position.Watermark("2026-05-01T08:00:00Z")
    first = [update("2", "2026-05-01T08:05:00.1234567Z"), update("1", "2026-05-01T08:05:00.1234567Z"), update("3", "2026-05-01T07:00:00Z")]
    chosen = position.incidents_to_emit(first, mark)
    assert [item["id"] for item in chosen] == ["3", "1", "2"]  # oldest update first, ties by id
    for item in chosen:
        mark.mark(item)
    # every handled incident is remembered (bounded by MAX_REMEMBERED): a later own write is recognised as such
    assert mark.since == "2026-05-01T08:05:00.123456Z" and sorted(mark.emitted) == ["1", "2", "3"]
    restored = position.Watermark.from_dict(mark.to_dict(), "2020-01-01T00:00:00Z")
    again = [update("1", "2026-05-01T08:05:00.1234567Z"), update("2", "2026-05-01T08:06:00Z"),
             update("4", "2026-05-01T08:05:00.1234567Z")]  # 4 arrived late with the same time: still new
    assert [item["id"] for item in position.incidents_to_emit(again, restored)] == ["4", "2"]


def test_watermark_service_source_filter_needs_a_matching_alert():
    mark = position.Watermark("2026-05-01T08:00:00Z")
    items = [update("1", "2026-05-01T08:01:00Z", alerts=[{"service_source": "microsoftDefenderForEndpoint"}]),
             update("2", "2026-05-01T08:01:00Z", alerts=[{"service_source": "microsoftDefenderForIdentity"}])]
    assert [item["id"] for item in position.incidents_to_emit(items, mark, ["microsoftDefenderForIdentity"])] == ["2"]
    assert position.Watermark.from_dict(None, "2026-05-01").since == "2026-05-01T00:00:00Z"


# --- loop-proofing: the collection's own write --------------------------------------------------------------

OWN = "msgraph.security respond_to_incident, incident 7: containment executed"


def parsed(when, comments=(), status="active", assigned_to=None, alerts=None, **extra):
    raw = {"id": "7", "lastUpdateDateTime": when, "status": status, "assignedTo": assigned_to, "severity": "high",
           "comments": [{"comment": text} for text in comments],
           "alerts": alerts if alerts is not None else [{"id": "a1", "status": "new", "lastUpdateDateTime": when, "evidence": []}]}
    raw.update(extra)
    return inc.parse_incident(raw)


def test_own_comments_are_recognised_by_their_first_line_only():
    assert position.is_own_comment(OWN + "\nmore") and position.is_own_comment({"comment": "  " + OWN})
    assert not position.is_own_comment("note: " + OWN) and not position.is_own_comment(None) and not position.is_own_comment(5)


def test_decide_tells_our_write_from_anyone_elses():
    mark = position.Watermark("2026-05-01T08:00:00Z")
    first = parsed("2026-05-01T08:01:00Z")
    assert mark.decide(first) == "new"
    mark.mark(first)
    assert mark.decide(first) == "seen"
    ours = parsed("2026-05-01T08:02:00Z", comments=[OWN], status="inProgress", assigned_to="soc@contoso.com",
                  alerts=[{"id": "a1", "status": "inProgress", "lastUpdateDateTime": "2026-05-01T08:02:00Z", "evidence": []}])
    assert mark.decide(ours) == "own_write"
    assert mark.decide(parsed("2026-05-01T08:02:00Z", status="resolved")) == "new"  # no audit comment came with it
    assert mark.decide(parsed("2026-05-01T08:02:00Z", comments=[OWN], severity="medium")) == "new"
    assert mark.decide(parsed("2026-05-01T08:02:00Z", comments=["a person's note"])) == "new"
    assert mark.decide(parsed("2026-05-01T08:02:00Z", alerts=[{"id": "a1", "evidence": []}, {"id": "a2", "evidence": []}])) == "new"
    emit, absorb = position.plan_emission([ours], mark)
    assert (emit, [item["id"] for item in absorb]) == ([], ["7"])


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(position, "MAX_REMEMBERED", 3)
    mark = position.Watermark("2026-05-01T08:00:00Z")
    for minute in range(5):
        mark.mark(update(str(minute), f"2026-05-01T08:0{minute}:00Z"))
    assert sorted(mark.emitted) == ["2", "3", "4"]  # the oldest updates are forgotten first


def test_a_future_watermark_is_refused_and_a_near_one_kept():
    now = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.timezone.utc)
    mark = position.Watermark("2026-05-01T09:04:00Z")
    assert mark.refuse_future(now, "2026-05-01T08:00:00Z") is None  # within clock skew
    mark = position.Watermark("2031-01-01T00:00:00Z")
    assert "in the future" in mark.refuse_future(now, "2026-05-01T08:00:00Z") and mark.since == "2026-05-01T08:00:00Z"


# --- the state file ---------------------------------------------------------------------------------------------

def test_the_state_file_round_trips_and_no_file_starts_at_the_default(tmp_path):
    path = str(tmp_path / "state" / "incidents.json")
    warnings = []
    assert position.load_state(path, "2026-05-01T08:00:00Z", warnings.append).since == "2026-05-01T08:00:00Z"
    assert position.load_state(None, "2026-05-01", warnings.append).since == "2026-05-01T00:00:00Z"
    mark = position.Watermark("2026-05-01T08:00:00Z")
    mark.mark(update("1", "2026-05-01T08:05:00Z"))
    position.save_state(path, mark)
    position.save_state(None, mark)  # no state file: nothing written
    now = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.timezone.utc)
    restored = position.load_state(path, "2020-01-01T00:00:00Z", warnings.append, now=now)
    assert restored.to_dict() == mark.to_dict() and warnings == []
