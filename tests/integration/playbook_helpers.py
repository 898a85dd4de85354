# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Playbooks for the integration tests, and what the emulator saw of them: one home for every suite.

* ``playbook(*tasks)``: a localhost play as YAML text; ``task(name, module, args, **keywords)``: one task of it.
* ``play_tasks(ansible, *tasks, **kwargs)``: plays them with the ``ansible`` fixture (conftest.py).
* ``writes(emulator)``, ``write_targets(emulator)``: the writes the emulator received.
* ``failed(played, name)``, ``short(result)``: a task that must have failed, and its message in one line.
"""

from __future__ import annotations

import pytest
import yaml

COLLECTION = "msgraph.security"
# Both response shapes; the floor ansible-core plays only the smoke subset: the schema shape there.
SHAPES_SMOKE_FIRST = [pytest.param("schema", marks=pytest.mark.smoke), "example"]
# Both emulator profiles: schema (the metadata) and docs (Microsoft's example shapes; tests/emulator/README.md).
# A test module plays both with ``pytestmark = BOTH_PROFILES``.
PROFILES = [pytest.param("schema", id="schema-profile"), pytest.param("docs", id="docs-profile")]
BOTH_PROFILES = pytest.mark.parametrize("emulator_profile", PROFILES, indirect=True)


def playbook(*tasks, play_vars=None) -> str:
    """A localhost play (local connection, no facts) running ``tasks`` (dicts), as YAML text."""
    play = {"hosts": "localhost", "connection": "local", "gather_facts": False}
    if play_vars:
        play["vars"] = play_vars
    play["tasks"] = list(tasks)
    return yaml.safe_dump([play], sort_keys=False, width=1000)


def task(name: str, module: str, args: dict | None = None, **keywords) -> dict:
    """A task calling ``module`` (``msgraph.security.`` is put before a short name) with ``args``.

    Arguments that are None are left out rather than null: Ansible counts a null option as given (mutually_exclusive).
    ``keywords`` are task keywords (``ignore_errors``, ``check_mode``, ``register``, ``loop`` ...); None ones are left out.
    """
    name_of_module = module if "." in module else f"{COLLECTION}.{module}"
    entry = {"name": name, name_of_module: {key: value for key, value in (args or {}).items() if value is not None}}
    entry.update((key, value) for key, value in keywords.items() if value is not None)
    return entry


def play_tasks(ansible, *tasks, **kwargs):
    """``ansible.play`` of a playbook running ``tasks``; ``kwargs`` as ``AnsibleRunner.play`` takes them (client ...)."""
    return ansible.play(playbook(*tasks), **kwargs)


def writes(emulator, path_contains: str | None = None) -> list:
    """The emulator's log entries of the writes it received (only those whose path contains ``path_contains``)."""
    return [entry for entry in emulator.admin.writes() if not path_contains or path_contains in entry["path"]]


def write_targets(emulator) -> list:
    """``(method, path)`` of every write the emulator received, in order."""
    return [(entry["method"], entry["path"]) for entry in emulator.admin.writes()]


def failed(played, name: str) -> dict:
    """The result of a task that must have failed."""
    status = played.status(name)
    result = played.task(name)
    assert status == "failed", f"task {name!r} was expected to fail but is {status}: {short(result)}"
    return result


def short(result, limit: int = 400) -> str:
    """A result's message (or any text) on one line, cut at ``limit`` characters."""
    text = result.get("msg") if isinstance(result, dict) else result
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."
