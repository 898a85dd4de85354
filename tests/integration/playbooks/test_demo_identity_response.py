# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/demo_identity_response.yml, the playbook `make demo` plays, against the Graph emulator."""

from __future__ import annotations

from pathlib import Path

import pytest

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "demo_identity_response.yml"


@pytest.mark.smoke
def test_demo_walks_from_preview_to_an_idempotent_rerun(ansible, emulator):
    played = ansible.play(PLAYBOOK)
    assert played.rc == 0, played.output

    preview = played.task("Preview the action in check mode (nothing is sent)")
    executed = played.task("Run the action")
    repeated = played.task("Run it again, which changes nothing")
    [write] = emulator.admin.writes()

    # The preview names exactly the request the real run then sent, and only the real run sent it.
    assert preview["request"]["url"].endswith(write["path"])
    assert preview["request"]["body"] == write["body"]
    assert executed["changed"] is True and repeated["changed"] is False
    assert executed["invoke_action_result"]["correlation_id"]
    assert executed["invoke_action_result"]["request_id"] == write["request_id"]
    # One action was sent once: the PLAY RECAP says one change, not the preview's as well.
    assert preview["changed"] is False and played.recap["changed"] == 1
