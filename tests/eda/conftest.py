# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Event-Driven Ansible stage: the msgraph.security.incidents event source against the emulator over HTTPS, and
the example rulebook under the real ansible-rulebook (installed in its own virtual environment, .venv/eda)."""

from __future__ import annotations

import importlib.util

import pytest

import emulator_fixtures
from eda_helpers import collections_path
from graph_emulator.environment import module_environment

CLIENT = "incident_responder"


@pytest.fixture(scope="session")
def source_module():
    """The event source plugin, loaded from the collection tree as ansible-rulebook loads it (by file path)."""
    path = collections_path() / "ansible_collections" / "msgraph" / "security" / "extensions" / "eda" / "plugins" / "event_source" / "incidents.py"
    spec = importlib.util.spec_from_file_location("msgraph_incidents_source", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The session's emulator (tests/emulator/emulator_fixtures.py, shared with tests/integration).
emulator_server = emulator_fixtures.emulator_server


@pytest.fixture
def emulator(emulator_server):
    emulator_server.admin.reset()
    return emulator_server


@pytest.fixture
def graph_env(emulator):
    return module_environment(emulator.info, client=CLIENT)
