# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The example rulebook under the real ansible-rulebook (Java 17, its own virtual environment): an incident created
through the emulator's admin API fires the rule, the dry-run respond_to_incident playbook runs and sends nothing,
and a restart with the same state file emits nothing twice."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from eda_helpers import ROOT, collections_path

EDA_VENV = Path(os.environ.get("EDA_VENV", ROOT / ".venv" / "eda"))
RULEBOOK = "msgraph.security.respond_to_incidents"
SEED = json.loads((ROOT / "tests" / "emulator" / "graph_emulator" / "data" / "incidents.json").read_text(encoding="utf-8"))
IDENTITY_ALERTS = [alert for alert in SEED["alerts"] if alert["incidentId"] == "4711"]


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError("timed out waiting for " + what)


class Rulebook:
    """One ansible-rulebook process (started by this test, stopped by its pid)."""

    def __init__(self, workdir: Path, env: dict, variables: str = "vars.yml"):
        self.log = workdir / f"rulebook-{time.time_ns()}.log"
        self.handle = self.log.open("w", encoding="utf-8")
        command = [str(EDA_VENV / "bin" / "ansible-rulebook"), "-r", RULEBOOK, "-i", str(workdir / "inventory"),
                   "-e", str(workdir / variables), "--print-events"]
        self.process = subprocess.Popen(command, env=env, cwd=workdir, stdout=self.handle, stderr=subprocess.STDOUT)

    def output(self):
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.handle.close()


@pytest.fixture
def rulebook_env(tmp_path, graph_env):
    if not (EDA_VENV / "bin" / "ansible-rulebook").exists():
        pytest.fail(f"ansible-rulebook is not installed in {EDA_VENV}: run `make eda-tests`")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("ansible-rulebook needs a Java 17 runtime (apt-get install openjdk-17-jre-headless)")
    (tmp_path / "inventory").write_text("localhost ansible_connection=local\n", encoding="utf-8")
    (tmp_path / "vars.yml").write_text(f"msgraph_incidents_state_file: {tmp_path / 'state.json'}\nmsgraph_incidents_interval: 1\n",
                                       encoding="utf-8")
    (tmp_path / "execute.yml").write_text(f"msgraph_incidents_state_file: {tmp_path / 'state' / 'incidents.json'}\n"
                                          "msgraph_incidents_interval: 2\nmsgraph_execute_containment: true\n", encoding="utf-8")
    (tmp_path / "empty.yml").write_text("{}\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "MSGRAPH_", "ANSIBLE_"))}
    env.update(graph_env)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path()), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), HOME=str(tmp_path),
               PATH=str(EDA_VENV / "bin") + os.pathsep + env.get("PATH", ""))
    return env


def polls(emulator):
    return len(emulator.admin.requests(route="list_incidents"))


def test_an_incident_fires_the_dry_run_playbook_and_a_restart_emits_nothing_twice(emulator, rulebook_env, tmp_path):
    started = time.time()
    first = Rulebook(tmp_path, rulebook_env)
    try:
        wait_for(lambda: polls(emulator) >= 1, 120, "the first poll")
        startup = time.time() - started
        created = emulator.admin.put_incident({"displayName": "Pass-the-ticket from an unmanaged host", "severity": "high",
                                               "alerts": [dict(alert, id=alert["id"] + "_eda") for alert in IDENTITY_ALERTS]})
        wait_for(lambda: "PLAY RECAP" in first.output(), 180, "the playbook run")
        output = first.output()
        assert f"Incident {created['id']} (high, active)" in output, output[-4000:]
        assert "DRY RUN, nothing was sent" in output, output[-4000:]
        assert "failed=0" in output, output[-4000:]
        assert emulator.admin.writes() == []  # a dry run: no PATCH, no comment, no invokeAction
        assert emulator.admin.requests(route="list_identity_accounts")  # the evidence's people were looked up
        state = json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))
        assert list(state["emitted"]) == [created["id"]]
    finally:
        first.stop()

    before = polls(emulator)
    second = Rulebook(tmp_path, rulebook_env)
    try:
        wait_for(lambda: polls(emulator) >= before + 3, 120, "three polls after the restart")
    finally:
        second.stop()
    assert "PLAY [" not in second.output(), second.output()[-4000:]
    print(f"ansible-rulebook start to first poll: {startup:.1f}s; whole test: {time.time() - started:.1f}s")


# One person, named by every identifier (object id, SID, UPN) of one seed identity: Alex Wilber.
ALEX_EVIDENCE = {"@odata.type": "#microsoft.graph.security.userEvidence", "verdict": "suspicious", "roles": ["compromised"],
                 "userAccount": {"accountName": "alexw", "domainName": "CONTOSO", "displayName": "Alex Wilber",
                                 "userSid": "S-1-5-21-1004336348-1177238915-682003330-1105",
                                 "azureAdUserId": "4a427b07-2380-51f4-b5d1-7f9abdd896d3", "userPrincipalName": "alexw@contoso.com"}}


def test_hands_free_execute_mode_contains_once_and_comments_once_over_several_polls(emulator, rulebook_env, tmp_path):
    """The loop of issue 19: with execute_containment true and a short interval, the runbook's own audit comment
    moves lastUpdateDateTime; the source must not emit the incident again (3+ polls after the run)."""
    rulebook = Rulebook(tmp_path, rulebook_env, "execute.yml")
    try:
        wait_for(lambda: polls(emulator) >= 1, 120, "the first poll")
        created = emulator.admin.put_incident({"displayName": "Pass-the-ticket, hands-free", "severity": "high",
                                               "alerts": [{"id": "da_handsfree_1", "serviceSource": "microsoftDefenderForIdentity",
                                                           "severity": "high", "evidence": [ALEX_EVIDENCE]}]})
        wait_for(lambda: "PLAY RECAP" in rulebook.output(), 240, "the playbook run")
        after_run = polls(emulator)
        wait_for(lambda: polls(emulator) >= after_run + 3, 120, "three polls after the run")
        time.sleep(3)  # a second event, had one been queued, starts its playbook within this time
    finally:
        rulebook.stop()
    output = rulebook.output()
    assert output.count("PLAY [") == 1 and output.count("PLAY RECAP") == 1, output[-6000:]  # one event, one run
    writes = emulator.admin.writes()
    actions = [(entry["path"].split("/")[-2], (entry["body"] or {}).get("identityProvider"), (entry["body"] or {}).get("action"))
               for entry in writes if entry["route"] == "invoke_action"]
    assert actions and len(actions) == len(set(actions)), actions  # every (identity, provider, action) exactly once
    comments = [entry for entry in writes if entry["route"] == "add_incident_comment"]
    assert len(comments) == 1, [entry["body"] for entry in comments]
    assert str((comments[0]["body"] or {}).get("comment", "")).startswith("msgraph.security respond_to_incident")
    state = json.loads((tmp_path / "state" / "incidents.json").read_text(encoding="utf-8"))
    assert state["emitted"][created["id"]]["own_comments"] == 1  # the comment was seen and absorbed, not emitted


def test_the_example_rulebook_runs_with_no_variables_at_all(emulator, rulebook_env, tmp_path):
    rulebook = Rulebook(tmp_path, rulebook_env, "empty.yml")
    try:
        wait_for(lambda: polls(emulator) >= 1 or rulebook.process.poll() is not None, 120, "the first poll")
    finally:
        rulebook.stop()
    assert polls(emulator) >= 1, rulebook.output()[-4000:]
    assert "undefined" not in rulebook.output(), rulebook.output()[-4000:]
