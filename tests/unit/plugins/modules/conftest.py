# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the module-level unit tests (running a module is tests/unit/module_runner.py, the fakes are
tests/unit/fakes.py).

* ``fake_graph`` fixture: makes ``GraphModule.graph_client()`` return a FakeGraphClient, so module
  tests run without a network, token or emulator.
* ``isolated_module_run`` fixture: no connection settings from the shell, no warnings left by earlier module runs
  (``pytestmark = pytest.mark.usefixtures("isolated_module_run")``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.tests.unit.module_runner import isolate_module_run


@pytest.fixture
def fake_graph(monkeypatch):
    """Returns a function ``install(client)`` that makes GraphModule use ``client``."""
    from ansible_collections.msgraph.security.plugins.module_utils import _module

    def install(client):
        monkeypatch.setattr(_module.GraphModule, "graph_client", lambda self, **kwargs: client)
        return client

    return install


@pytest.fixture
def isolated_module_run(monkeypatch):
    """:func:`module_runner.isolate_module_run` around one test."""
    isolate_module_run(monkeypatch)
