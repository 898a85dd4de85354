# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reliability suite's recorder: every case a test proves is written to JSON for docs/reliability.md.

A test takes the ``reliability`` fixture and proves each case inside ``with reliability.case(...) as case:``.
A failed assertion inside the block marks that case failed and lets the test go on to the next case; the
test itself fails at the end (``reliability.verify()``, or at teardown when a test forgot to call it), so
no case failure is ever silent. ``case`` is a dict: tests fill ``observed``, ``writes``, ``expected_writes``,
``duplicates`` and ``leaks`` as they measure them.

Each pytest process (each xdist worker) writes ``build/reliability/<run id>-<worker>.json`` at the end of
the session (``MSGRAPH_RELIABILITY_DIR`` overrides the directory); ``tests/utils/reliability_report.py``
merges the newest run's files and renders docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RECORD_DIR_ENV = "MSGRAPH_RELIABILITY_DIR"
CATEGORIES = ("fault", "input", "secrets", "tls", "eda", "transport", "adversarial")

_CASES = []
_OUTCOMES = {}
_STARTED = time.time()


def record_dir():
    return Path(os.environ.get(RECORD_DIR_ENV) or ROOT / "build" / "reliability")


class Recorder:
    """Cases of one test; see the module docstring."""

    def __init__(self, nodeid):
        self.nodeid = nodeid
        self.cases = []
        self.failures = []
        self.verified = False

    @contextlib.contextmanager
    def case(self, category, name, module, expected, path="-", expected_writes=None):
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        entry = {
            "category": category, "case": name, "module": module, "path": path, "expected": expected,
            "observed": None, "writes": None, "expected_writes": expected_writes, "duplicates": 0, "leaks": 0,
            "result": "fail", "detail": None, "test": self.nodeid,
        }
        self.cases.append(entry)
        _CASES.append(entry)
        try:
            yield entry
        except AssertionError as error:
            entry["detail"] = " ".join(str(error).split())[:600] or "assertion failed"
            self.failures.append(f"[{module}] {name}: {entry['detail']}")
        else:
            entry["result"] = "pass"

    def verify(self):
        """Fail the test if any of its cases failed (after every case had its chance)."""
        self.verified = True
        if not self.cases:
            pytest.fail("the test recorded no case")
        if self.failures:
            pytest.fail("%d of %d case(s) failed:\n%s" % (len(self.failures), len(self.cases), "\n".join(self.failures)),
                        pytrace=False)


@pytest.fixture
def reliability(request):
    recorder = Recorder(request.node.nodeid)
    yield recorder
    if not recorder.verified and recorder.failures:
        pytest.fail("unverified case failures:\n" + "\n".join(recorder.failures), pytrace=False)


def pytest_runtest_logreport(report):
    if report.when == "call":
        if _OUTCOMES.get(report.nodeid, "passed") == "passed":
            _OUTCOMES[report.nodeid] = report.outcome
    elif report.outcome != "passed":
        _OUTCOMES[report.nodeid] = "%s (%s)" % (report.outcome, report.when)


def _ansible_version():
    try:
        from ansible.release import __version__
    except ImportError:
        return None
    return __version__


def pytest_sessionfinish(session):
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is None and getattr(session.config.option, "dist", "no") != "no":
        return  # the xdist controller sees every test's report (not only this suite's); the workers record
    if not _CASES and not _OUTCOMES:
        return
    run_id = workerinput["testrunuid"] if workerinput else uuid.uuid4().hex
    worker = workerinput["workerid"] if workerinput else "main"
    folder = record_dir()
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"run": run_id, "worker": worker, "started": _STARTED, "finished": time.time(),
               "python": platform.python_version(), "ansible_core": _ansible_version(),
               "tests": _OUTCOMES, "cases": _CASES}
    path = folder / f"{run_id}-{worker}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
