"""Shared fixtures: one in-process emulator per test session, reset before every test (the constants and the
HTTP helpers they use are emulator_helpers.py)."""

import os
import sys
import types
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from emulator_helpers import FAST_TIMING, Api, CaSession  # noqa: E402  pylint: disable=wrong-import-position
from graph_emulator import Emulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def emulator_session(tmp_path_factory):
    emu = Emulator(workdir=str(tmp_path_factory.mktemp("emulator")), security_action_timing=FAST_TIMING).start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(emulator_session):
    emulator_session.reset()
    return emulator_session


@pytest.fixture
def info(emulator):
    return emulator.info


@pytest.fixture
def admin(emulator):
    return emulator.admin


@pytest.fixture
def http(info):
    session = CaSession(info["ca_path"])
    yield session
    session.close()


@pytest.fixture
def api(info, http):
    return Api(info, http)


@pytest.fixture
def mint(emulator, info):
    """Sign a token directly with the emulator's key: any roles, lifetime (negative = expired) or audience."""
    def _mint(roles=None, lifetime=60, audience="https://graph.microsoft.com", client="responder"):
        entry = info["clients"][client]
        app = types.SimpleNamespace(display_name=client, client_id=entry["client_id"], object_id=str(uuid.uuid4()),
                                    roles=entry["roles"] if roles is None else roles)
        return emulator.signer.issue(app, entry["tenant_id"], audience, lifetime)[0]
    return _mint
