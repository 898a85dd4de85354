# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make demo``: start the Graph emulator, play the demo runbook against it, print the results.

The emulator runs as its own process exactly as a user would start it for a rehearsal
(``python -m graph_emulator serve``); the playbook reaches it through the environment variables the
modules read, over HTTPS, with real MSAL token requests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from graph_emulator.environment import module_environment

ROOT = Path(__file__).resolve().parents[2]
WORKDIR = ROOT / "build" / "demo"
PLAYBOOK = ROOT / "playbooks" / "demo_identity_response.yml"


def start_emulator():
    info_file = WORKDIR / "info.json"
    WORKDIR.mkdir(parents=True, exist_ok=True)
    if info_file.exists():
        info_file.unlink()
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "graph_emulator", "serve", "--workdir", str(WORKDIR), "--info-file", str(info_file)],
        env=os.environ.copy())
    deadline = time.monotonic() + 30
    while not info_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the emulator did not start; see its output above")
        time.sleep(0.1)
    time.sleep(0.1)  # the file is written in one go, but give the writer a moment to close it
    return process, json.loads(info_file.read_text(encoding="utf-8"))


def play(info):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MSGRAPH_", "ANSIBLE_"))}
    env.update(module_environment(info, client="responder"))
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"),
        ANSIBLE_REMOTE_TMP=str(WORKDIR / "tmp" / "remote"),
        ANSIBLE_LOCAL_TEMP=str(WORKDIR / "tmp" / "local"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOK)]
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def main() -> int:
    process, info = start_emulator()
    print(f"Graph emulator listening on {info['base_url']} (CA {info['ca_path']})", flush=True)
    try:
        return play(info)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
