# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke test of the benchmark harness: ``run.py --smoke`` end to end (N=3, no latency), and the report it
writes has a row for every scenario with the numbers that must hold even at that size."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def table_after(report, heading):
    """The rows (lists of cells) of the first Markdown table after ``heading``, header row excluded."""
    section = report.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows and not line.startswith("|"):
            break
    return rows[1:]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    completed = subprocess.run([sys.executable, str(HERE / "run.py"), "--smoke", "--out", str(out)], capture_output=True,
                               text=True, env=dict(os.environ), timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert "## Targets" in completed.stdout  # the table is printed too
    return {"text": (out / "performance.md").read_text(encoding="utf-8"), "png": out / "performance.png"}


def test_one_action_rows(report):
    rows = table_after(report["text"], "## 1. One action")
    first_words = [row[0].split(" ")[0] for row in rows]
    assert first_words == ["msgraph.security.identity_account_action", "ansible.builtin.uri:", "baseline:"]
    assert all(float(row[1]) > 0 for row in rows)


def test_every_variant_ran_at_n_3_and_lost_nothing(report):
    rows = table_after(report["text"], "## 2. Many accounts")
    assert [(row[0], row[1]) for row in rows] == [("3", "bulk"), ("3", "module loop"), ("3", "uri loop")]
    assert all(float(row[2]) > 0 and row[7] == "0" for row in rows)


def test_token_requests_one_with_the_cache_one_per_task_without(report):
    # Discovery: one GET per task in memory; with token_cache_dir the discovery answers are cached too (one per run).
    rows = table_after(report["text"], "## 3. Token requests per playbook")
    expected = [("K=3, default (in memory)", "3", "3"), ("K=3, token_cache_dir set", "1", "1")]
    assert [(row[0], row[1], row[2]) for row in rows] == expected


def test_the_storm_lost_nothing(report):
    [row] = table_after(report["text"], "## 4. 429 storm")
    assert row[4] == "0" and row[5] == "3 of 3"
    assert int(row[0]) > 0  # some calls were throttled, and retried


def test_footprint_and_start_up_rows(report):
    runs = table_after(report["text"], "## 5. Module footprint")
    assert [row[0].split(" ")[0] for row in runs[:2]] == ["one", "bulk,"]
    assert all(float(row[1]) > 10 for row in runs[:2])  # MiB: a real measurement, not a default
    assert "with cryptography imported eagerly" in report["text"]


def test_refused_filters_make_exactly_one_scan(report):
    [row] = table_after(report["text"], "## 6. Lookups when the service refuses every filter")
    assert row[0] == "3" and int(row[1]) >= 2  # the derived-type query and the plain $filter, each refused
    assert row[2] == "1" and row[6] == "0"  # one scan for every target, nothing lost


def test_targets_table_reports_a_verdict_for_every_target_and_the_plot(report):
    # A report, not a gate: a missed performance target is written down (docs/performance.md), not failed here. The
    # counted targets (one token with the cache, one scan with filters refused) are exact and must be met.
    rows = table_after(report["text"], "## Targets")
    assert len(rows) == 8 and all(row[2] in ("**met**", "**missed**", "n/a") for row in rows)
    assert rows[4][1:] == ["1", "**met**"]  # one token request per run with the cache
    assert rows[5][0].startswith("one discovery request per run")  # measured, met once discovery is cached too
    assert rows[6][1:] == ["1", "**met**"]  # one tenant scan with every filter refused
    assert rows[7][1:] == ["1", "**met**"]  # confirm_compromised for 3 users in one request
    assert report["png"].exists() and report["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_latency_rows_at_each_latency_with_their_expectation(report):
    rows = table_after(report["text"], "## 7. Latency")
    assert [(row[0], row[1].split(" ")[0]) for row in rows] == [("0", "one"), ("0", "bulk,"), ("1", "one"), ("1", "bulk,")]
    assert all(float(row[2]) > 0 and float(row[5]) > 0 and row[6].endswith("x") for row in rows)
    assert "Where the bulk task's time above the expectation goes" in report["text"]


def test_risky_users_in_one_request_without_429(report):
    [row] = table_after(report["text"], "## 8. riskyUsers in bulk")
    assert row[:4] == ["3", "1", "1", "0"] and row[5] == "0"


def test_sections_select_scenarios_and_a_partial_run_keeps_the_full_report():
    sys.path.insert(0, str(HERE))
    import run  # noqa: E402  (tests/bench/run.py)

    settings = run.parse_settings(["--smoke", "--sections", "risky,latency"])
    assert settings.sections == ("risky", "latency") and settings.out_dir.parts[-2:] == ("build", "bench")
    assert run.parse_settings(["--smoke"]).out_dir.name == "docs"
    with pytest.raises(SystemExit):
        run.parse_settings(["--sections", "nonsense"])
