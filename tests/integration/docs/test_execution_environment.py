# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment story, checked with ansible-builder (no container engine needed).

* meta/execution-environment.yml declares the collection's Python dependencies, and ansible-builder's own
  introspection (the step that runs inside an EE build) finds exactly them.
* docs/awx/execution-environment.yml, the EE definition the AWX guide gives users, produces a build context.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
BUILDER = Path(sys.executable).parent / "ansible-builder"

pytestmark = pytest.mark.skipif(not BUILDER.exists(), reason="ansible-builder is not installed next to this Python")


def collections_path():
    for entry in sys.path:
        if entry and (Path(entry) / "ansible_collections" / "msgraph" / "security").exists():
            return entry
    raise RuntimeError("put the directory holding ansible_collections/ on PYTHONPATH")


def requirement_lines(path):
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def test_collection_metadata_gives_ansible_builder_exactly_the_python_dependencies():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert meta["version"] == 1
    python_file = ROOT / meta["dependencies"]["python"]
    assert python_file.is_file()
    assert set(meta["dependencies"]) <= {"python", "system"}
    # ansible-builder reads the files from the built collection, so they must not be excluded from it.
    build_ignore = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8")).get("build_ignore", [])
    for relative in ("meta/execution-environment.yml", meta["dependencies"]["python"]):
        assert not any(fnmatch.fnmatch(relative, pattern) for pattern in build_ignore), relative

    lines = python_file.read_text(encoding="utf-8").splitlines()
    requirements = requirement_lines(python_file)
    assert {re.split(r"[<>=!~ ]", item)[0].lower() for item in requirements} == {"requests", "msal", "cryptography"}
    for item in requirements:
        # Certification: lower bounds only, so an execution environment can resolve them, and a comment saying why.
        assert ">=" in item and not re.search(r"==|<=|~=|<(?!=)", item), item
        assert lines[lines.index(item) - 1].startswith("#"), f"no comment says why {item} is needed"
    # The controller-side requirements.txt asks for the same.
    assert sorted(requirement_lines(ROOT / "requirements.txt")) == sorted(requirements)

    completed = subprocess.run([str(BUILDER), "introspect", "--sanitize", collections_path()],
                               capture_output=True, text=True, check=True, timeout=120)
    found = yaml.safe_load(completed.stdout.split("---", 1)[1])
    assert found["python"] == [f"{item}  # from collection msgraph.security" for item in requirements]
    assert not found["system"]


# The AWX execution environment and the EDA controller's decision environment build the same way.
@pytest.mark.parametrize("definition", [ROOT / "docs" / "awx" / "execution-environment.yml", ROOT / "docs" / "eda" / "decision-environment.yml"],
                         ids=["execution-environment", "decision-environment"])
def test_execution_environment_definition_creates_a_build_context(tmp_path, definition):
    context = tmp_path / "context"

    completed = subprocess.run([str(BUILDER), "create", "-f", str(definition), "-c", str(context), "--output-filename", "Containerfile"],
                               capture_output=True, text=True, timeout=120, check=False)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    base_image = yaml.safe_load(definition.read_text(encoding="utf-8"))["images"]["base_image"]["name"]
    assert f'ARG EE_BASE_IMAGE="{base_image}"' in containerfile
    # The build installs the collection, then introspects it for the dependencies checked above.
    assert "ansible-galaxy collection install" in containerfile and "introspect" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    assert [item["name"] for item in galaxy["collections"]] == ["msgraph.security"]
