# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layering of docs/architecture.md, enforced: each module_utils file imports only layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"

# File -> layer (docs/architecture.md). Shared files (layer 5) are importable from everywhere.
LAYERS = {
    "_module": 1,
    "_identity_accounts": 2, "_bulk": 2, "_containment": 2, "_security_actions": 2, "_incidents": 2,
    "_graph_client": 3,
    "_credentials": 4, "_token_cache": 4, "_clouds": 4, "_http": 4,
    "_errors": 5, "_options": 5,
}

# Imports within one layer, each building on the other: bulk is many identity actions, containment plans
# identity actions by the identity rules, and the credentials use the clouds, the HTTP transport and the token
# cache of their own layer.
SIDEWAYS = {
    ("_bulk", "_identity_accounts"), ("_containment", "_identity_accounts"),
    # incidents and their evidence reuse the identity layer's enum and OData helpers and SID checks.
    ("_incidents", "_identity_accounts"),
    ("_credentials", "_clouds"), ("_credentials", "_http"), ("_credentials", "_token_cache"),
}


def collection_imports(path):
    """Names of the collection's module_utils files that `path` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and ".plugins.module_utils." in node.module:
            names.add(node.module.rsplit(".", 1)[1])
    return names


def ansible_imports(path):
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ansible":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "ansible")
    return found


def test_every_module_utils_file_has_a_layer():
    assert {p.stem for p in MODULE_UTILS.glob("_*.py")} == set(LAYERS)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_imports_only_go_down(name):
    path = MODULE_UTILS / f"{name}.py"
    upward = {other for other in collection_imports(path)
              if LAYERS[other] <= LAYERS[name] and other != name and (name, other) not in SIDEWAYS}
    assert upward == set(), f"{name} (layer {LAYERS[name]}) imports {sorted(upward)} from its own layer or above"


@pytest.mark.parametrize("name", sorted(n for n, layer in LAYERS.items() if layer > 1))
def test_only_the_module_layer_imports_ansible(name):
    assert ansible_imports(MODULE_UTILS / f"{name}.py") == set()
