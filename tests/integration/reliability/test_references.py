# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cases docs/reliability.md credits to other tests (references.yml) must point at tests that exist."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CATEGORIES = ("fault", "input", "secrets", "tls", "transport")


def test_every_reference_names_an_existing_test_function():
    references = yaml.safe_load((HERE / "references.yml").read_text(encoding="utf-8"))
    assert len(references) >= 20
    missing = []
    for reference in references:
        assert set(reference) == {"category", "case", "module", "path", "expected", "test"}, reference
        assert reference["category"] in CATEGORIES, reference
        path, function = reference["test"].split("::")
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        if function not in names:
            missing.append(reference["test"])
    assert not missing, f"references to tests that do not exist: {missing}"
