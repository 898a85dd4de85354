# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/block_indicator.yml against the Graph emulator's legacy securityActions, in both response shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "block_indicator.yml"
SUMMARY = "Show the summary"
ARTIFACT = "Keep the summary as an AWX/AAP artifact"
PUBLIC, PRIVATE = "203.0.113.45", "10.20.30.40"  # the emulator fails BlockIp on private ranges


def test_refuses_input_that_is_not_an_address(ansible, emulator):
    play = ansible.play(PLAYBOOK, extra_vars={"indicators": f"{PUBLIC}, evil.example.com", "execute_block": True},
                        client="legacy_actions")

    assert play.rc != 0
    assert "Not IP addresses: evil.example.com" in play.task("Check the input before anything is sent")["msg"]
    assert emulator.admin.requests(route="list_security_actions") == []
    assert emulator.admin.writes() == []


@pytest.mark.parametrize("shape", [pytest.param("schema", marks=pytest.mark.smoke), "example"])
def test_dry_run_then_block(emulator, ansible, shape):
    emulator.admin.configure(shape=shape, security_action_timing={"running_after_s": 0, "terminal_after_s": 0.2})
    extra_vars = {"indicators": [PUBLIC, PRIVATE], "incident_id": "INC-4711", "poll_interval": 1}

    dry = ansible.play(PLAYBOOK, extra_vars=extra_vars, client="legacy_actions")

    assert dry.rc == 0, dry.output
    assert emulator.admin.writes() == []
    assert "deprecated" in dry.output.lower()  # the module's own warning reaches the operator
    lines = dry.task(SUMMARY)["msg"]
    assert lines[0].startswith("DRY RUN") and lines[1].startswith("DEPRECATED API")
    assert "Re-run with execute_block=true to block." in lines[0]
    assert dry.recap["changed"] == 0  # a dry run changes nothing, and the PLAY RECAP says so
    assert [line.split(":")[0] for line in lines[2:]] == [PUBLIC, PRIVATE]
    assert all("WOULD BE CREATED (DRY RUN)" in line for line in lines[2:])

    done = ansible.play(PLAYBOOK, extra_vars=dict(extra_vars, execute_block="true"), client="legacy_actions")

    # The private address is refused by Defender for Endpoint; the public one is still blocked, and the run fails.
    assert done.rc != 0
    writes = emulator.admin.writes()
    assert [entry["route"] for entry in writes] == ["create_security_action"] * 2
    assert [entry["body"]["parameters"] for entry in writes] == [[{"name": "IP", "value": PUBLIC}], [{"name": "IP", "value": PRIVATE}]]
    for entry in writes:
        assert entry["body"]["name"] == "BlockIp"
        assert entry["body"]["vendorInformation"] == {"vendor": "Microsoft", "provider": "Windows Defender ATP"}
        assert entry["body"]["actionReason"].startswith("INC-4711: ")
    report = {item["address"]: item for item in done.task(ARTIFACT)["ansible_stats"]["data"]["msgraph_block_indicator"]["indicators"]}
    stored = {action["id"]: action for action in emulator.admin.state()["security_actions"]}
    assert report[PUBLIC]["outcome"] == "created" and report[PUBLIC]["status"] == "Completed"
    assert stored[report[PUBLIC]["id"]]["status"] == "Completed"
    assert report[PRIVATE]["outcome"] == "failed" and "securityActionFailed" in report[PRIVATE]["error"]
    assert stored[report[PRIVATE]["id"]]["status"] == "Failed"
    # One failure, its detail shown once (in the summary); the closing message names the address, not the error again.
    closing = done.task("Fail the run when an address could not be blocked (details in the summary above)")["msg"]
    assert closing == f"1 address was not blocked ({PRIVATE}); the summary above says why."
    assert sum(report[PRIVATE]["error"] in line for line in done.task(SUMMARY)["msg"]) == 1


def test_check_flag_hint_and_a_switch_typo(ansible, emulator):
    checked = ansible.play(PLAYBOOK, extra_vars={"indicators": PUBLIC, "execute_block": True}, check=True, client="legacy_actions")

    assert checked.rc == 0, checked.output
    assert checked.task(SUMMARY)["msg"][0] == "DRY RUN - check mode, nothing was sent. Re-run without --check to block."
    assert checked.recap["changed"] == 0

    typo = ansible.play(PLAYBOOK, extra_vars={"indicators": PUBLIC, "execute_block": "ture"}, client="legacy_actions")

    assert typo.rc != 0
    assert "execute_block: must be true or false, got 'ture'" in typo.task("Read the operator's input")["msg"]
    assert emulator.admin.writes() == []
