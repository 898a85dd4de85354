# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator fixture of the suites that play against it (tests/integration, tests/eda), in one home.

Outside the graph_emulator package, which runs without pytest (make demo's venv). A conftest.py takes the fixture
by assigning it to a name of its own: pytest finds fixtures by name there.
"""

from __future__ import annotations

import pytest

from graph_emulator import Emulator


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory):
    """One emulator over HTTPS on a free port for the whole session; each suite's ``emulator`` fixture resets it."""
    emu = Emulator(workdir=tmp_path_factory.mktemp("emulator"), port=0).start()
    yield emu
    emu.stop()
