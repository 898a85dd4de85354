"""The command line: start, wait for the info file, serve, stop on SIGTERM with exit code 0."""

import json
import os
import signal
import subprocess
import sys
import time

import requests

EMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_cli_serves_until_sigterm(tmp_path):
    info_file = tmp_path / "info.json"
    info_file.write_text("stale")
    env = dict(os.environ, PYTHONPATH=EMULATOR_DIR)
    process = subprocess.Popen([sys.executable, "-m", "graph_emulator", "serve", "--info-file", str(info_file), "--workdir",
                                str(tmp_path / "work"), "--shape", "example", "--extra-identities", "3", "--profile", "docs"],
                               env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20
        info = None
        while time.time() < deadline and info is None:
            try:
                info = json.loads(info_file.read_text())
            except (OSError, ValueError):
                time.sleep(0.05)
        assert info is not None, "info file never appeared"
        assert info["pid"] == process.pid and info["ca_path"] == str(tmp_path / "work" / "ca.pem")
        response = requests.get(f"{info['admin_url']}/config", headers={"X-Emulator-Key": info["admin_key"]}, verify=info["ca_path"], timeout=5)
        assert response.json()["shape"] == "example" and response.json()["extra_identities"] == 3
        assert response.json()["profile"] == "docs" and response.json()["filter_support"]["plain"] == "refuse"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert "listening on https://127.0.0.1:" in process.stderr.read()
        assert os.path.exists(info["ca_path"])  # nothing the user may need is removed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_env_subcommand_prints_exports(tmp_path, info):
    info_file = tmp_path / "info.json"
    info_file.write_text(json.dumps(info))
    env = dict(os.environ, PYTHONPATH=EMULATOR_DIR)
    output = subprocess.run([sys.executable, "-m", "graph_emulator", "env", "--info-file", str(info_file), "--client", "reader",
                             "--auth", "certificate"], env=env, capture_output=True, text=True, check=True).stdout
    assert f"export AZURE_CLIENT_ID='{info['clients']['reader']['client_id']}'" in output
    assert f"export AZURE_CLIENT_CERTIFICATE_PATH='{info['clients']['reader']['certificate_path']}'" in output
    assert f"export MSGRAPH_CA_PATH='{info['ca_path']}'" in output
