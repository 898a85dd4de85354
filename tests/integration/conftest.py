# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration harness: a Graph/Entra emulator over HTTPS and real ``ansible-playbook`` runs against it.

Fixtures:
    emulator  the in-process emulator (``.info``, ``.admin``), reset before each test and set to the
              profile of ``emulator_profile``.
    emulator_profile  "schema" (what the metadata describes), unless a module parametrizes it indirectly:
              ``pytestmark = BOTH_PROFILES`` (playbook_helpers.py) adds
              "docs" (what Microsoft's published examples show; tests/emulator/README.md, "Profiles").
    ansible   ``ansible.play(playbook_yaml, ...) -> PlayResult``; connection settings reach the
              modules through the same environment variables AWX injects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import emulator_fixtures
from graph_emulator.environment import module_environment

HERE = Path(__file__).resolve().parent
# Variables a developer's shell may carry that would leak into the hermetic runs.
_SCRUBBED_PREFIXES = ("AZURE_", "MSGRAPH_", "ANSIBLE_", "IDENTITY_", "MSI_", "IMDS_")


def pytest_configure(config):
    config.addinivalue_line("markers", "smoke: the subset played on the floor ansible-core too")
    config.addinivalue_line("markers", "request_free: refused from the input alone; played once, under SMOKE_VARIANT, and "
                                       "the emulator fixture fails it if any Graph request arrives")
    config.addinivalue_line("markers", "pairwise: shape and emulator profile played pairwise (PAIRWISE_VARIANTS), not crossed")


# The smoke legs (``-m smoke``: the cores other than 2.21, and the minimums) play each smoke test once, under the
# schema profile and shape. The docs profile and the example shape exercise how the collection reads Microsoft's
# answers, which no ansible-core changes; the whole suite on 2.21 plays every variant.
SMOKE_VARIANT = {"emulator_profile": "schema", "shape": "schema"}


# The heaviest runbook tests play each shape and each profile once, not every pair of them: the shape is how Graph's
# answers are written, the profile how the service behaves (filters refused, propagation delay, contradictory
# pictures), and the module tests cross the two. Each pair below is (shape, emulator_profile).
PAIRWISE_VARIANTS = (("schema", "schema"), ("example", "docs"))


def _is_played(item, smoke_leg):
    params = getattr(getattr(item, "callspec", None), "params", {})
    off_smoke_variant = any(name in params and params[name] != value for name, value in SMOKE_VARIANT.items())
    if off_smoke_variant and (smoke_leg or item.get_closest_marker("request_free")):
        return False
    if item.get_closest_marker("pairwise") and "shape" in params and "emulator_profile" in params:
        return (params["shape"], params["emulator_profile"]) in PAIRWISE_VARIANTS
    return True


def pytest_collection_modifyitems(config, items):
    smoke_leg = config.getoption("markexpr") == "smoke"
    kept, dropped = [], []
    for item in items:
        (kept if _is_played(item, smoke_leg) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def collections_path() -> str:
    """The directory holding ansible_collections/msgraph/security, as found on sys.path."""
    for entry in sys.path:
        if entry and (Path(entry) / "ansible_collections" / "msgraph" / "security").exists():
            return entry
    raise RuntimeError("msgraph.security is not importable: put the directory holding ansible_collections/ on PYTHONPATH")


@dataclass
class PlayResult:
    rc: int
    stdout: str
    stderr: str
    tasks: list = field(default_factory=list)

    def task(self, name):
        """The result of the last task run with this name."""
        for entry in reversed(self.tasks):
            if entry["name"] == name:
                return entry["result"]
        raise KeyError(f"no task named {name!r} ran; ran: {[t['name'] for t in self.tasks]}")

    def status(self, name):
        for entry in reversed(self.tasks):
            if entry["name"] == name:
                return entry["status"]
        raise KeyError(name)

    @property
    def output(self):
        return self.stdout + self.stderr

    @property
    def recap(self):
        """The PLAY RECAP counts of localhost: {"ok": 12, "changed": 0, ...}."""
        line = next(line for line in self.stdout.splitlines() if line.startswith("localhost") and "changed=" in line)
        return {key: int(value) for key, value in (item.split("=") for item in line.split(":", 1)[1].split())}


class AnsibleRunner:
    """Plays playbooks with the ansible-playbook next to the running interpreter."""

    def __init__(self, workdir: Path, info: dict):
        self.workdir = workdir
        self.info = info
        self.runs = 0

    def base_environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
        tmp = self.workdir / "tmp"
        env.update(
            ANSIBLE_COLLECTIONS_PATH=collections_path(),
            ANSIBLE_REMOTE_TMP=str(tmp / "remote"),
            ANSIBLE_LOCAL_TEMP=str(tmp / "local"),
            ANSIBLE_CALLBACK_PLUGINS=str(HERE / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="msgraph_results",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_RETRY_FILES_ENABLED="false",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            HOME=str(self.workdir / "home"),
        )
        return env

    def play(self, playbook, extra_vars=None, env=None, check=False, diff=False, verbosity=0,
             client="responder", auth="secret", args=(), timeout=1200):
        # timeout only catches a hang: the longest play (about 50 tasks at -vvvv) takes 100 s on a quiet 2-core
        # machine and over 300 s on a shared one.
        self.runs += 1
        run_dir = self.workdir / f"run{self.runs}"
        run_dir.mkdir(parents=True)
        (self.workdir / "home").mkdir(exist_ok=True)
        playbook_path = Path(playbook) if isinstance(playbook, Path) else run_dir / "playbook.yml"
        if not isinstance(playbook, Path):
            playbook_path.write_text(playbook, encoding="utf-8")
        results_path = run_dir / "results.jsonl"
        environment = self.base_environment()
        environment.update(module_environment(self.info, client=client, auth=auth))
        environment["MSGRAPH_TEST_RESULTS"] = str(results_path)
        environment.update(env or {})
        command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook_path)]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        command += list(args)
        completed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=timeout, check=False,
                                   cwd=run_dir)
        tasks = []
        if results_path.exists():
            tasks = [json.loads(line) for line in results_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return PlayResult(completed.returncode, completed.stdout, completed.stderr, tasks)


# The session's emulator (tests/emulator/emulator_fixtures.py, shared with tests/eda).
emulator_server = emulator_fixtures.emulator_server


@pytest.fixture
def emulator_profile(request):
    return getattr(request, "param", "schema")


@pytest.fixture
def emulator(request, emulator_server, emulator_profile):
    emulator_server.admin.reset()
    if emulator_profile != "schema":
        emulator_server.admin.configure(profile=emulator_profile)
    yield emulator_server
    if request.node.get_closest_marker("request_free"):
        # The mark plays the test in one variant only; a request it sends would make the variants matter.
        sent = [(entry["method"], entry["path"]) for entry in emulator_server.admin.requests() if entry["family"] == "graph"]
        assert sent == [], f"a request_free test sent Graph requests: {sent}"


@pytest.fixture
def ansible(tmp_path, emulator):
    return AnsibleRunner(tmp_path, emulator.info)
