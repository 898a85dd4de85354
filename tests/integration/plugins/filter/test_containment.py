# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The planner filters as a playbook meets them (in a real ansible-playbook: importing the controller's filter code
into the unit-test process would change how module warnings are collected there)."""

from __future__ import annotations

import ast
from pathlib import Path

FILTER_DIR = Path(__file__).resolve().parents[4] / "plugins" / "filter"


def filter_names():
    """The names FilterModule.filters() returns, read from the source."""
    tree = ast.parse((FILTER_DIR / "containment.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "filters":
            returned = next(n for n in ast.walk(node) if isinstance(n, ast.Dict))
            return {key.value for key in returned.keys}
    raise AssertionError("no filters() in containment.py")


def test_every_filter_has_its_documentation_file():
    names = filter_names()
    assert names == {"split_list", "resolved_identities", "containment_plan", "containment_report", "containment_summary",
                     "containment_audit", "incident_actions_done"}
    assert {name + ".yml" for name in names} <= {path.name for path in FILTER_DIR.glob("*.yml")}


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: plan
      ansible.builtin.debug:
        msg: "{{{{ {identities} | msgraph.security.containment_plan(actions={actions}) }}}}"
"""


def test_bad_planner_options_fail_the_task_saying_nothing_was_sent(ansible):
    play = ansible.play(PLAY.format(identities="[]", actions="'disable, explode'"))
    assert play.rc != 0
    assert "Nothing was sent. actions: 'explode' is not a known identity account action" in play.output


def test_an_empty_identity_list_checks_the_options_and_plans_nothing(ansible):
    play = ansible.play(PLAY.format(identities="[]", actions="['Disable', 'force_password_reset']"))
    assert play.rc == 0, play.output
    assert play.task("plan")["msg"] == {"targets": [], "entra_targets": [], "identities": [], "warnings": []}
