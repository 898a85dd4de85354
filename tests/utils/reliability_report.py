# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render docs/reliability.md from the reliability suite's records (tests/integration/reliability/conftest.py).

    python tests/utils/reliability_report.py [--records build/reliability] [--junit build/reliability-junit.xml]
                                             [--output docs/reliability.md]
    python tests/utils/reliability_report.py --reference-tests    # the tests references.yml credits, for pytest

The records directory holds one JSON file per pytest process; the newest run's files are merged (older runs'
files are removed). The merged record is also written to build/reliability.json. With --junit, the outcome of
every test that references.yml credits with a case is read from that JUnit file. Exit status 1 when a case or a
test failed, 2 when there is no record.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SUITE = "tests/integration/reliability"
REFERENCES = ROOT / SUITE / "references.yml"
CATEGORIES = [
    ("fault", "Faults survived", "Fault or failure injected"),
    ("input", "Bad input refused", "Input"),
    ("secrets", "Secrets kept", "Run"),
    ("tls", "TLS trust", "Endpoint"),
    ("eda", "Event source faults survived (no incident lost)", "Fault"),
    ("transport", "Transport guards and service variants", "Trap"),
    ("adversarial", "Adversarial evidence", "Evidence"),
]


def load_run(folder):
    """The newest run's records merged into one dict; files of older runs are deleted."""
    runs = {}
    for path in sorted(Path(folder).glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        runs.setdefault(record["run"], []).append((path, record))
    if not runs:
        return None
    newest = max(runs, key=lambda run: max(record["finished"] for _path, record in runs[run]))
    for run, files in runs.items():
        if run != newest:
            for path, _record in files:
                path.unlink()
    records = [record for _path, record in sorted(runs[newest], key=lambda item: item[1]["worker"])]
    merged = {"run": newest, "started": min(r["started"] for r in records), "finished": max(r["finished"] for r in records),
              "python": records[0].get("python"), "ansible_core": records[0].get("ansible_core"),
              "workers": len(records), "tests": {}, "cases": []}
    for record in records:
        merged["tests"].update(record["tests"])
        merged["cases"].extend(record["cases"])
    merged["cases"].sort(key=case_order)  # stable: each test's cases keep the order it proved them
    return merged


MODULE_ORDER = ("identity_account_info", "identity_account_action", "security_action", "security_action_info", "entra_user",
                "entra_user_action")


def case_order(case):
    """Module, then reads before writes before the token service, then the test that proved it."""
    module = MODULE_ORDER.index(case["module"]) if case["module"] in MODULE_ORDER else len(MODULE_ORDER)
    path = str(case.get("path") or "")
    kind = 0 if path.startswith("GET") else 1 if path.startswith("POST") else 2 if path == "token" else 3
    return module, kind, case["test"]


def junit_outcomes(path):
    """``{"<file>::<function>": "passed" | "failed" | "skipped"}`` over every parametrization."""
    outcomes = {}
    if not path or not Path(path).exists():
        return outcomes
    for case in ET.parse(path).iter("testcase"):
        module = case.get("classname", "").replace(".", "/") + ".py"
        function = case.get("name", "").split("[", 1)[0]
        key = f"{module}::{function}"
        if case.find("failure") is not None or case.find("error") is not None:
            state = "failed"
        elif case.find("skipped") is not None:
            state = "skipped"
        else:
            state = "passed"
        previous = outcomes.get(key)
        outcomes[key] = "failed" if "failed" in (state, previous) else (previous or state)
    return outcomes


def cell(text, limit=None):
    text = " ".join(str("" if text is None else text).split()).replace("|", "\\|")
    if limit and len(text) > limit:
        text = text[:limit - 3] + "..."
    return text


def totals(record):
    cases = record["cases"]
    by_category = {}
    for category, _title, _column in CATEGORIES:
        mine = [case for case in cases if case["category"] == category]
        by_category[category] = (sum(case["result"] == "pass" for case in mine), len(mine))
    return {
        "by_category": by_category,
        "leaks": sum(case.get("leaks") or 0 for case in cases),
        "duplicates": sum(case.get("duplicates") or 0 for case in cases),
        "writes": sum(case.get("writes") or 0 for case in cases),
        "failed_cases": [case for case in cases if case["result"] != "pass"],
        "failed_tests": sorted(test for test, outcome in record["tests"].items() if outcome != "passed"),
    }


def reference_counts(references):
    """``fault 12, input 30, secrets 6, tls 2``: the cases credited to other tests, per category."""
    counts = {category: 0 for category, _title, _column in CATEGORIES}
    for reference in references:
        counts[reference["category"]] = counts.get(reference["category"], 0) + 1
    return ", ".join(f"{category} {count}" for category, count in counts.items())


def render(record, references, outcomes):
    summary = totals(record)
    when = datetime.datetime.fromtimestamp(record["finished"], datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    minutes = (record["finished"] - record["started"]) / 60.0
    faults, inputs = summary["by_category"]["fault"], summary["by_category"]["input"]
    secrets, tls = summary["by_category"]["secrets"], summary["by_category"]["tls"]
    transport = summary["by_category"]["transport"]
    lines = [
        "# Reliability and security report",
        "",
        "<!-- Generated by tests/utils/reliability_report.py from a run of tests/integration/reliability "
        "(`make reliability-report`). Do not edit by hand. -->",
        "",
        "What `msgraph.security` promises when networks, Microsoft Graph and operators misbehave, and the test run that "
        "proves it. Every row below is one case of the suite in `tests/integration/reliability`: real "
        "`ansible-playbook` runs against the Graph/Entra emulator over HTTPS, with its fault injection, and the "
        "emulator's request log and state as the witness. A case passes only if every assertion about it held.",
        "",
        f"Run: {when}, {minutes:.1f} min on {record['workers']} worker(s), Python {record['python']}, "
        f"ansible-core {record['ansible_core']}.",
        "",
        "## Totals",
        "",
        "| Promise | Result |",
        "|---|---|",
        f"| Faults survived (handled as promised: retried, reconciled, or a clear failure) | {faults[0]} of {faults[1]} |",
        f"| Bad inputs refused (clear error naming the option, nothing sent) | {inputs[0]} of {inputs[1]} |",
        f"| Secret checks passed (every module x every auth method, -vvvv, default and JSON output) | {secrets[0]} of {secrets[1]} |",
        f"| Secrets leaked | {summary['leaks']} |",
        f"| TLS checks passed | {tls[0]} of {tls[1]} |",
        f"| Event-source faults survived, no incident lost (outages, retry budget, malformed item, state file, crash) | "
        f"{summary['by_category']['eda'][0]} of {summary['by_category']['eda'][1]} |",
        f"| Transport guards held (.netrc, requests floor, answers after sending, returned ids, refused filters) | {transport[0]} of "
        f"{transport[1]} |",
        f"| Adversarial evidence held (no write to an identity the case does not name, no silent success) | "
        f"{summary['by_category']['adversarial'][0]} of {summary['by_category']['adversarial'][1]} |",
        f"| Write requests observed in the emulator's log | {summary['writes']} |",
        f"| Duplicate writes (a write that took effect twice) | {summary['duplicates']} |",
        f"| Cases proven by other integration tests (below) | {len(references)} ({reference_counts(references)}) |",
        "",
    ]
    if summary["failed_cases"] or summary["failed_tests"]:
        lines += ["## Failures", ""]
        for case in summary["failed_cases"]:
            lines.append(f"- **{cell(case['module'])}: {cell(case['case'])}**: {cell(case['detail'], 400)} (`{case['test']}`)")
        for test in summary["failed_tests"]:
            lines.append(f"- test `{test}`: {record['tests'][test]}")
        lines.append("")
    for category, title, column in CATEGORIES:
        mine = [case for case in record["cases"] if case["category"] == category]
        if not mine:
            continue
        passed, total = summary["by_category"][category]
        lines += [f"## {title}: {passed} of {total}", ""]
        if category == "fault":
            lines += ["Writes: write requests the emulator logged for the case (a 429 or 401 answer counts: the retry is a "
                      "second request, applied once). Dup.: times the write took effect more than once.", ""]
            lines += [f"| # | {column} | Module | Path | Expected | Observed | Writes | Dup. | Result |",
                      "|---|---|---|---|---|---|---|---|---|"]
        elif category == "adversarial":
            lines += ["Each case is `playbooks/respond_to_incident.yml` in execute mode on an incident whose evidence the case "
                      "shaped. Writes: every write request except the incident's comment and update. Every case also holds "
                      "that no identity the case does not name as compromised was written to (invokeAction, Entra ID users and "
                      "riskyUsers in the emulator's log), that a run leaving someone uncontained fails and says INCOMPLETE, and "
                      "that the comment has no control character and no forged line.", ""]
            lines += [f"| # | {column} | Runbook | Expected | Observed | Writes | Result |",
                      "|---|---|---|---|---|---|---|"]
        elif category == "secrets":
            lines += [f"| # | {column} | Module | Auth method | Expected | Observed | Leaks | Result |",
                      "|---|---|---|---|---|---|---|---|"]
        else:
            lines += [f"| # | {column} | Module | Expected | Observed | Writes | Result |",
                      "|---|---|---|---|---|---|---|"]
        for number, case in enumerate(mine, 1):
            result = "pass" if case["result"] == "pass" else "**FAIL**: " + cell(case["detail"], 200)
            writes = "-" if case.get("writes") is None else str(case["writes"])
            if category == "fault":
                row = [str(number), cell(case["case"]), cell(case["module"]), cell(case["path"]), cell(case["expected"]),
                       cell(case["observed"], 120), writes, str(case.get("duplicates") or 0), result]
            elif category == "secrets":
                row = [str(number), cell(case["case"]), cell(case["module"]), cell(case["path"]), cell(case["expected"]),
                       cell(case["observed"], 120), str(case.get("leaks") or 0), result]
            else:
                row = [str(number), cell(case["case"]), cell(case["module"]), cell(case["expected"]),
                       cell(case["observed"], 120), writes, result]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines += ["## Proven by other integration tests", "",
              "These cases are proven by the module and connection-layer integration tests; the suite does not repeat "
              "them. The outcome is the one in this report's run when `make reliability-report` ran those tests too.", "",
              "| Category | Case | Module | Expected | Test | Outcome |", "|---|---|---|---|---|---|"]
    for reference in references:
        outcome = outcomes.get(reference["test"], "not run in this report")
        row = [cell(reference["category"]), cell(reference["case"]), cell(reference["module"]), cell(reference["expected"]),
               f"`{reference['test']}`", outcome]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "## Notes", "",
              "- `ansible.builtin.junit` names its test cases after the task's raw arguments. Credentials given as task "
              "parameters (rather than through the environment, as AWX credentials do) therefore appear in its files "
              "unless `JUNIT_HIDE_TASK_ARGUMENTS=true`; the modules' own output masks them either way. The secrets "
              "cases run the JUnit callback with that setting.",
              "- The same holds for any callback that prints task arguments (`DISPLAY_ARGS_TO_STDOUT`): prefer "
              "environment variables, Ansible Vault and `no_log: true` on tasks that pass credentials as parameters.",
              "- Token-service retries (HTTP 429/5xx, connection errors) cover the secret, certificate and federated "
              "methods; MSAL's managed identity client keeps its own HTTP handling.",
              ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", default=str(ROOT / "build" / "reliability"))
    parser.add_argument("--junit", default=None)
    parser.add_argument("--output", default=str(ROOT / "docs" / "reliability.md"))
    parser.add_argument("--reference-tests", action="store_true", help="print the referenced tests (file::function)")
    options = parser.parse_args(argv)
    references = yaml.safe_load(REFERENCES.read_text(encoding="utf-8"))
    if options.reference_tests:
        for test in sorted({reference["test"] for reference in references}):
            print(test)
        return 0
    record = load_run(options.records)
    if record is None:
        print(f"no reliability records in {options.records}; run pytest on {SUITE} first", file=sys.stderr)
        return 2
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "reliability.json").write_text(json.dumps(record, indent=1, sort_keys=True), encoding="utf-8")
    Path(options.output).write_text(render(record, references, junit_outcomes(options.junit)), encoding="utf-8")
    summary = totals(record)
    counts = ", ".join(f"{category} {passed}/{total}" for category, (passed, total) in summary["by_category"].items())
    print(f"{options.output}: {counts}; leaks {summary['leaks']}, duplicate writes {summary['duplicates']}")
    return 1 if summary["failed_cases"] or summary["failed_tests"] else 0


if __name__ == "__main__":
    sys.exit(main())
