"""Contract stage fixtures (make contract, venv .venv/contract): the emulator in-process, a Graph token helper,
and the integration harness's AnsibleRunner (tests/integration/conftest.py, loaded under another module name
because both files are called conftest)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import requests

from graph_emulator import Emulator

HERE = Path(__file__).resolve().parent
PAYLOADS = HERE / "payloads"
_spec = importlib.util.spec_from_file_location("integration_harness", HERE.parent / "integration" / "conftest.py")
integration_harness = importlib.util.module_from_spec(_spec)
sys.modules["integration_harness"] = integration_harness  # dataclasses look their module up there
_spec.loader.exec_module(integration_harness)


def manifest():
    return json.loads((PAYLOADS / "manifest.json").read_text(encoding="utf-8"))["payloads"]


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


class Graph:
    """Calls Graph on the emulator with a real client-credentials token of one app registration. ``verify`` goes on
    every call: requests lets REQUESTS_CA_BUNDLE win over a session-level setting (trust_env)."""

    def __init__(self, info, client):
        self.info = info
        self.session = requests.Session()
        entry = info["clients"][client]
        token = self.session.post(f"{info['base_url']}/{entry['tenant_id']}/oauth2/v2.0/token", timeout=10, verify=info["ca_path"], data={
            "grant_type": "client_credentials", "client_id": entry["client_id"], "client_secret": entry["client_secret"],
            "scope": info["scope"]}).json()["access_token"]
        self.session.headers["Authorization"] = "Bearer " + token

    def call(self, method, path, body=None, **params):
        url = path if path.startswith("https://") else self.info["base_url"] + path
        return self.session.request(method, url, json=body, params=params or None, timeout=10, verify=self.info["ca_path"])


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emu = Emulator(workdir=tmp_path_factory.mktemp("emulator"), security_action_timing={"running_after_s": 0, "terminal_after_s": 0})
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def fresh_emulator(emulator):
    emulator.reset()
    return emulator
