# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a user installs: ``ansible-galaxy collection build``, the tarball's content, an install from it, and the
release notes antsibull-changelog generates from the fragments (in a temporary copy: the repository is untouched)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if not path.name.startswith("_"))
RUNBOOKS = ("contain_compromised_identity", "restore_identity", "block_indicator", "respond_to_incident")
# Never in a release: virtual environments, build output, caches, VCS data, tool state.
FORBIDDEN_PARTS = {".venv", "build", ".git", ".ansible", ".pytest_cache", "__pycache__", ".cache", "output"}


def hermetic_env(tmp_path, collections):
    """Only the given collections path: no PYTHONPATH, no scanning of sys.path, no developer settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANSIBLE_", "AZURE_", "MSGRAPH_"))}
    env.pop("PYTHONPATH", None)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_REMOTE_TMP=str(tmp_path / "tmp"), HOME=str(tmp_path),
               PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_NOCOLOR="1")
    return env


def run(command, env=None, cwd=None, timeout=300):
    completed = subprocess.run([str(part) for part in command], env=env, cwd=cwd, capture_output=True, text=True,
                               timeout=timeout, check=False)
    assert completed.returncode == 0, f"{command}:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def section(notes, title):
    """The names listed under an RST section title of the release notes."""
    lines = notes.split(f"\n{title}\n{'-' * len(title)}\n", 1)[1].lstrip("\n").split("\n\n", 1)[0].splitlines()
    return sorted(line[2:].split(" - ")[0] for line in lines)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    output = tmp_path_factory.mktemp("dist")
    run([BIN / "ansible-galaxy", "collection", "build", "--output-path", output, ROOT], env=hermetic_env(output, output))
    path = output / f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"
    assert path.is_file()
    return path


def test_tarball_holds_the_collection_and_nothing_else(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
    expected = ["meta/runtime.yml", "meta/execution-environment.yml", "meta/ee-requirements.txt", "README.md",
                "docs/awx/credential_type_graph.yml", "plugins/doc_fragments/connection.py"]
    expected += [f"plugins/modules/{module}.py" for module in MODULES]
    expected += [f"playbooks/{runbook}.yml" for runbook in RUNBOOKS]
    expected += [f"docs/{guide.name}" for guide in (ROOT / "docs").glob("*.md")]
    missing = [name for name in expected if name not in names]
    assert not missing, missing
    unwanted = sorted(name for name in names if FORBIDDEN_PARTS & set(name.split("/")) or name.endswith((".pyc", ".tar.gz")))
    assert not unwanted, f"add these to build_ignore in galaxy.yml: {unwanted[:10]}"
    assert tarball.stat().st_size < 2 * 1024 * 1024


def test_installed_tarball_documents_every_module_and_plays_every_runbook(tarball, tmp_path):
    collections = tmp_path / "collections"
    env = hermetic_env(tmp_path, collections)
    run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", collections, tarball], env=env)
    listed = json.loads(run([BIN / "ansible-galaxy", "collection", "list", "msgraph.security", "--format", "json"], env=env))
    assert list(listed) == [str(collections / "ansible_collections")]
    installed = collections / "ansible_collections" / "msgraph" / "security"
    assert (installed / "MANIFEST.json").is_file()

    # galaxy-importer's check: ansible-doc works for every plugin.
    docs = json.loads(run([BIN / "ansible-doc", "--json", "-t", "module"] + [f"msgraph.security.{m}" for m in MODULES], env=env))
    assert sorted(docs) == [f"msgraph.security.{m}" for m in MODULES]
    for name, doc in docs.items():
        assert doc["doc"]["options"]["tenant_id"]["type"] == "str", name  # the connection fragment resolved
        assert str(installed) in doc["doc"]["filename"], name

    # Runbooks run by name from the installed collection (syntax only: the emulator tests play them).
    output = run([BIN / "ansible-playbook", "--syntax-check"] + [f"msgraph.security.{runbook}" for runbook in RUNBOOKS], env=env)
    assert "ERROR" not in output


def test_release_notes_list_every_module_and_runbook(tmp_path):
    """CHANGELOG.rst (rendered from changelogs/changelog.yaml: tests/integration/docs/test_changelog.py) lists what
    the release brings, and both files pass antsibull-changelog's own checks."""
    env = hermetic_env(tmp_path, tmp_path)
    changelog = BIN / "antsibull-changelog"
    run([changelog, "lint"], env=env, cwd=ROOT)
    run([changelog, "lint-changelog-yaml", "changelogs/changelog.yaml"], env=env, cwd=ROOT)

    notes = (ROOT / "CHANGELOG.rst").read_text(encoding="utf-8")
    assert f"v{GALAXY['version']}\n" in notes
    assert section(notes, "New Modules") == [f"msgraph.security.{m}" for m in MODULES]
    assert section(notes, "New Playbooks") == sorted(f"msgraph.security.{r}" for r in RUNBOOKS)
