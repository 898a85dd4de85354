# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/architecture.md names code instead of copying it: every `_file.name` it cites must exist in that file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
PAGE = ROOT / "docs" / "architecture.md"


def defined_names(path):
    """Top-level functions, classes and assignments, and each class's methods as Class.method."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
            if isinstance(node, ast.ClassDef):
                names.update(f"{node.name}.{item.name}" for item in node.body if isinstance(item, ast.FunctionDef))
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):  # NAME: type = value
            names.add(node.target.id)
    return names


def citations():
    """(file stem, name) for every `_file.name` on the page (`_file.py`, a file name, is not a citation)."""
    text = PAGE.read_text(encoding="utf-8")
    return sorted(set(pair for pair in re.findall(r"`(_[a-z_]+)\.([A-Za-z_][A-Za-z0-9_.]*)`", text) if pair[1] != "py"))


def test_the_page_cites_code():
    assert len(citations()) >= 30


def test_every_cited_name_exists_in_its_file():
    missing = []
    for stem, name in citations():
        path = MODULE_UTILS / f"{stem}.py"
        if not path.exists() or name not in defined_names(path):
            missing.append(f"{stem}.{name}")
    assert not missing, f"docs/architecture.md cites names the code does not have: {missing}"


def test_every_module_utils_file_is_on_the_page():
    text = PAGE.read_text(encoding="utf-8")
    assert [path.name for path in sorted(MODULE_UTILS.glob("_*.py")) if f"`{path.name}`" not in text] == []
