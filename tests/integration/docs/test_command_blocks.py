# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every shell command block of README.md and docs/*.md runs as written, from a fresh clone, or says why not.

A page's shell blocks (```bash, ```sh, ```shell, ```console) run in order, in one bash session (``set -euo
pipefail``: an unset variable such as a CI runner's ``$RUNNER_TEMP`` fails too), in a copy of the checkout's files
(what a fresh clone holds: no .venv, no build/), with the test's Python environment first on PATH, an empty HOME and
none of the developer's AZURE_/MSGRAPH_/ANSIBLE_ variables. Only a block right after the marker

    <!-- illustrative: why it cannot run here -->

is not run: it needs a tenant, a registry, PyPI or a container engine. Whatever is not marked runs, so a block
that cannot run as written fails this test until it is fixed or marked.

Sample outputs (a ```text block after ``<!-- sample-output: NAME -->``) are a real run's summary, played against
the emulator fixture: ``make docs-samples`` rewrites them, and this test fails when one no longer matches.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
SHELLS = ("bash", "sh", "shell", "console")
ILLUSTRATIVE = re.compile(r"^<!-- illustrative: (?P<reason>.*\S.*) -->$")
SAMPLE = re.compile(r"^<!-- sample-output: (?P<name>[a-z0-9-]+) -->$")
# The pages whose commands assume the collection is installed (getting-started.md installs it itself).
COLLECTION_INSTALLED = {"README.md", "emulator.md", "runbooks.md", "awx.md", "eda.md", "authentication.md"}  # both READMEs
SCRUBBED = ("AZURE_", "MSGRAPH_", "ANSIBLE_", "IDENTITY_", "MSI_", "IMDS_", "PYTHONPATH")


def fenced_blocks(page: Path):
    """(line number, info string, code, marker line before the fence) of every fenced block of a page."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, index = [], 0
    while index < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[index])
        if not fence:
            index += 1
            continue
        end = next(number for number in range(index + 1, len(lines)) if lines[number].startswith("```"))
        marker = lines[index - 1] if index else ""
        blocks.append((index + 1, fence.group(1), "\n".join(lines[index + 1:end]), marker))
        index = end + 1
    return blocks


def shell_blocks(page: Path):
    return [block for block in fenced_blocks(page) if block[1] in SHELLS]


def runnable_blocks(page: Path):
    return [block for block in shell_blocks(page) if not ILLUSTRATIVE.match(block[3])]


def session_script(page: Path, blocks) -> str:
    """The page's runnable blocks as one bash session, each announced so a failure names its block."""
    parts = ["set -euo pipefail"]
    for line, _info, code, _marker in blocks:
        parts.append(f"echo '>>> {page.name}:{line}' >&2")
        parts.append(code)
    return "\n".join(parts) + "\n"


def fresh_clone(destination: Path) -> Path:
    """The checkout's files as a clone of its current state has them: tracked and new, never ignored ones."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=False)
    if listed.returncode != 0:  # not a git checkout (an unpacked tarball): everything but the build products
        shutil.copytree(ROOT, destination, symlinks=True, ignore=shutil.ignore_patterns(".venv", "build", ".git", "output"))
        return destination
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def session_environment(tmp_path: Path, clone: Path, page: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(SCRUBBED)}
    home = tmp_path / "home"
    home.mkdir()
    # An unmarked `pip install` must fail, not change the test's own environment.
    refuse = tmp_path / "refuse"
    refuse.mkdir()
    for name in ("pip", "pip3"):
        (refuse / name).write_text("#!/bin/sh\necho 'the docs test installs nothing: mark the block illustrative' >&2\nexit 1\n",
                                   encoding="utf-8")
        (refuse / name).chmod(0o755)
    env.update(
        HOME=str(home),
        # The environment a reader has after `pip install ansible-core -r requirements.txt -r tests/emulator/...`.
        PATH=os.pathsep.join([str(refuse), str(Path(sys.executable).parent), env.get("PATH", "")]),
        PIP_DRY_RUN="1",  # and `python -m pip install` installs nothing either
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
    )
    if page.name in COLLECTION_INSTALLED:
        installed = tmp_path / "collections" / "ansible_collections" / "msgraph"
        installed.mkdir(parents=True)
        (installed / "security").symlink_to(clone, target_is_directory=True)
        env["ANSIBLE_COLLECTIONS_PATH"] = str(tmp_path / "collections")
    return env


def run_session(page: Path, tmp_path: Path, script: str | None = None, timeout: int = 400):
    clone = fresh_clone(tmp_path / "clone")
    env = session_environment(tmp_path, clone, page)
    script = script if script is not None else session_script(page, runnable_blocks(page))
    log = tmp_path / "session.log"
    # A file, not a pipe: the emulator a page starts in the background (`... serve &`) would hold a pipe open.
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(["bash", "-c", script], cwd=clone, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            process.wait(timeout=timeout)
        finally:
            try:  # ... and it ends with its session
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    return process.returncode, log.read_text(encoding="utf-8")


# --- the marks -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_shell_block_is_tagged_and_every_mark_gives_a_reason(page):
    for line, info, code, marker in fenced_blocks(page):
        if info in SHELLS:
            continue
        # An untagged block with a command in it would escape the run: tag it bash (and mark it if it cannot run).
        commands = [text for text in code.splitlines() if re.match(r"^\$ |^(ansible|ansible-playbook|make|pip|python3?) ", text)]
        assert not (info == "" and commands), f"{page.name}:{line}: untagged block with commands {commands}; tag it ```bash"
        assert not marker.startswith("<!-- illustrative"), f"{page.name}:{line}: the illustrative mark is for shell blocks"
    text = page.read_text(encoding="utf-8")
    marks = re.findall(r"^<!-- illustrative.*$", text, flags=re.M)
    marked = [block for block in shell_blocks(page) if block[3].startswith("<!-- illustrative")]
    assert len(marks) == len(marked), f"{page.name}: an illustrative mark not right before a shell block's fence"
    for line, _info, _code, marker in marked:
        assert ILLUSTRATIVE.match(marker), f"{page.name}:{line}: write the mark as <!-- illustrative: reason -->"


def test_no_ci_variable_in_a_local_instruction():
    """A CI runner's variable is empty on a reader's machine: only a CI job's own YAML may use one."""
    for page in PAGES:
        for line, _info, code, _marker in shell_blocks(page):
            assert not re.search(r"\$\{?(RUNNER_|GITHUB_|CI_|BUILD_)", code), f"{page.name}:{line} uses a CI variable"


# --- the runs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [page for page in PAGES if runnable_blocks(page)], ids=lambda page: page.name)
def test_the_pages_commands_run_as_written(page, tmp_path):
    returncode, output = run_session(page, tmp_path)
    failed = re.findall(r"^>>> (\S+)$", output, flags=re.M)
    assert returncode == 0, f"block {failed[-1] if failed else '?'} failed (exit {returncode}):\n{output[-6000:]}"


def test_a_broken_block_fails_the_run(tmp_path):
    """The test of the test: one block of a real page broken on purpose (a misspelt command) fails its session."""
    page = ROOT / "docs" / "authentication.md"
    blocks = runnable_blocks(page)
    assert blocks, "authentication.md has no runnable block left to break"
    line, info, code, marker = blocks[0]
    broken = [(line, info, code.replace("openssl req", "openssl reqq", 1), marker)] + blocks[1:]
    assert broken[0][2] != code
    returncode, output = run_session(page, tmp_path, script=session_script(page, broken), timeout=120)
    assert returncode != 0 and f">>> authentication.md:{line}" in output


def test_an_unset_variable_fails_the_run(tmp_path):
    """What docs/emulator.md did with $RUNNER_TEMP: unset on a reader's machine, so the session stops."""
    returncode, output = run_session(ROOT / "docs" / "emulator.md", tmp_path, timeout=60,
                                     script=session_script(ROOT / "docs" / "emulator.md",
                                                           [(1, "bash", 'INFO="$RUNNER_TEMP/emulator.json"', "")]))
    assert returncode != 0 and "RUNNER_TEMP: unbound variable" in output


# --- sample outputs --------------------------------------------------------------------------------------

# name -> how the sample's run is played against the emulator fixture: runbook, extra vars, client, check mode.
SAMPLES = {
    "contain-dry-run": ("contain_compromised_identity", {"identities": "alexw@contoso.com"}, "responder"),
    "contain-executed": ("contain_compromised_identity",
                         {"identities": "alexw@contoso.com breakglass@contoso.com", "execute_containment": True,
                          "incident_id": "INC-4711"}, "responder"),
}
SUMMARY_TASK = "Show the summary (find the correlation ids in the Microsoft Defender Action center)"


def normalised(lines):
    """A run's summary with what differs between runs (ids the emulator issues, times, its port) replaced."""
    text = "\n".join(lines)
    text = re.sub(r"\b(correlation_id|request_id|client_request_id)=[0-9a-f-]{36}", r"\1=...", text)
    text = re.sub(r"sessions valid from \S+Z", "sessions valid from <time>", text)
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)


def sample_blocks():
    """(page, line of the block, name, text) of every sample output."""
    found = []
    for page in PAGES:
        for line, info, code, marker in fenced_blocks(page):
            match = SAMPLE.match(marker)
            if match:
                assert info == "text", f"{page.name}:{line}: a sample output is a ```text block"
                found.append((page, line, match.group("name"), code))
    return found


def test_every_sample_output_has_a_run():
    names = [name for _page, _line, name, _code in sample_blocks()]
    assert sorted(names) == sorted(SAMPLES), "a sample-output mark without a run in SAMPLES, or the reverse"


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_output_is_a_real_runs(name, ansible, emulator):
    runbook, extra_vars, client = SAMPLES[name]
    play = ansible.play(ROOT / "playbooks" / f"{runbook}.yml", extra_vars=extra_vars, client=client)
    assert play.rc == 0, play.output
    produced = normalised(play.task(SUMMARY_TASK)["msg"])
    [(page, line, _name, documented)] = [item for item in sample_blocks() if item[2] == name]
    if os.environ.get("UPDATE_DOCS_SAMPLES"):
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace(f"<!-- sample-output: {name} -->\n```text\n{documented}\n```",
                                     f"<!-- sample-output: {name} -->\n```text\n{produced}\n```", 1), encoding="utf-8")
        return
    assert documented == produced, f"{page.name}:{line} is out of date: run make docs-samples\n{produced}"


def test_normalising_keeps_what_a_reader_needs():
    line = ("  activeDirectory 0ecde65c disable: sent correlation_id=fb9f1de9-0000-4000-8000-000000000001 "
            "request_id=b760b465-0000-4000-8000-000000000002 on 127.0.0.1:35875")
    assert normalised([line]) == "  activeDirectory 0ecde65c disable: sent correlation_id=... request_id=... on 127.0.0.1:<port>"
    assert json.dumps(normalised(["a", "b"])) == '"a\\nb"'
