# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""security_action_info against the emulator: real ansible-playbook runs, MSAL tokens over HTTPS."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml
from test_security_action import block_ip, info_task, play, warned_deprecation

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import SHAPES_SMOKE_FIRST, playbook

# The emulator blocks documentation addresses and fails private ones (10.0.0.0/8).
ADDRESSES = ["203.0.113.101", "203.0.113.102", "10.0.0.103"]
LIST_ROUTE = "list_security_actions"


def create_all_and_wait():
    """One BlockIp per address, then poll (with the info module) until none is pending."""
    return [
        dict(block_ip("create", "{{ item }}", client_context="ctx-{{ item }}"), loop=ADDRESSES),
        dict(info_task("wait", filter="status eq 'NotStarted' or status eq 'Running'"), register="pending",
             until="pending.security_actions | length == 0", retries=20, delay=1),
    ]


@pytest.mark.parametrize("shape", SHAPES_SMOKE_FIRST)
def test_list_every_page_top_filter_client_context_and_id(ansible, emulator, shape):
    emulator.admin.configure(shape=shape, page_size=2)
    result = play(ansible, *create_all_and_wait(),
                  info_task("all"),
                  info_task("top", top=3),
                  info_task("failed", filter="status eq 'Failed'"),
                  dict(info_task("by context", client_context="ctx-203.0.113.102"), register="by_context"),
                  info_task("by id", id="{{ by_context.security_actions[0].id }}"),
                  info_task("missing", id="00000000-0000-0000-0000-000000000000"))
    assert result.rc == 0, result.output
    everything = result.task("all")["security_actions"]
    assert sorted(a["parameters"][0]["value"] for a in everything) == sorted(ADDRESSES)
    assert {a["status"] for a in everything} == {"Completed", "Failed"}
    assert len(result.task("top")["security_actions"]) == 3
    failed = result.task("failed")["security_actions"]
    assert [a["parameters"][0]["value"] for a in failed] == ["10.0.0.103"]
    assert failed[0]["error_info"]["code"] == 400
    by_context = result.task("by context")["security_actions"]
    assert [a["client_context"] for a in by_context] == ["ctx-203.0.113.102"]
    assert result.task("by id")["security_actions"] == by_context
    assert result.task("missing")["security_actions"] == []
    assert all(warned_deprecation(result.task(name)) for name in ("all", "top", "missing"))
    assert result.task("all")["changed"] is False
    unfiltered = [entry["query"] for entry in emulator.admin.requests(route=LIST_ROUTE)
                  if "$filter" not in entry["query"] and "$top" not in entry["query"]]
    assert len(unfiltered) == 2 and "$skiptoken" in unfiltered[1]  # "all": two pages of two


def test_read_only_client_in_check_mode_reads_and_writes_nothing(ansible, emulator):
    setup = play(ansible, block_ip("create", "203.0.113.110"))
    assert setup.rc == 0, setup.output
    result = play(ansible, info_task("all"), check=True, client="legacy_reader")
    assert result.rc == 0, result.output
    assert [a["parameters"] for a in result.task("all")["security_actions"]] == [[{"name": "IP", "value": "203.0.113.110"}]]
    assert len(emulator.admin.writes()) == 1  # the setup's create only


def test_client_without_the_role_gets_403_naming_the_read_permission(ansible, emulator):
    result = play(ansible, info_task("all"), client="responder")
    assert result.rc != 0
    failed = result.task("all")
    assert failed["error"]["status"] == 403
    assert failed["error"]["required_permission"] == "SecurityActions.Read.All"


def test_non_global_cloud_is_refused_before_any_request(ansible, emulator):
    result = play(ansible, info_task("all", cloud_environment="AzureChinaCloud"))
    assert result.rc != 0
    assert "not offered in the china cloud" in result.task("all")["msg"]
    assert emulator.admin.requests() == []


def test_unsupported_filter_is_reported(ansible, emulator):
    result = play(ansible, info_task("bad", filter="startswith(name, 'Block')"))
    assert result.rc != 0
    failed = result.task("bad")
    assert failed["error"]["status"] == 400 and "Invalid filter clause" in failed["msg"]
    assert "$filter=startswith" in failed["error"]["url"]


def _examples(module_file):
    """The EXAMPLES block of a module file, as a list of tasks."""
    tree = ast.parse(module_file.read_text(encoding="utf-8"))
    text = next(node.value.value for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES")
    return yaml.safe_load(text)


def test_documented_examples_run_as_pasted(ansible, emulator):
    modules = Path(__file__).resolve().parents[4] / "plugins" / "modules"  # the collection root is the repo root
    tasks = _examples(modules / "security_action.py") + _examples(modules / "security_action_info.py")
    app = emulator.info["clients"]["legacy_actions"]
    credentials = {"azure_tenant_id": emulator.info["tenant_id"], "azure_client_id": app["client_id"],
                   "azure_client_secret": app["client_secret"]}
    result = ansible.play(playbook(*tasks), extra_vars=credentials, client="legacy_actions")
    assert result.rc == 0, result.output
    assert result.task("Block an attacker's IP address on Microsoft Defender for Endpoint (legacy API) and wait for it"
                       )["security_action"]["status"] == "Completed"
    assert result.task("Preview the request without sending it")["request"]["method"] == "POST"
    assert len(emulator.admin.state()["security_actions"]) == 3  # two blocks and the module_defaults one
