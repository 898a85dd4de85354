# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/architecture.md sends readers to the code for signatures: every public function and method of module_utils
is annotated, parameters and return value, and every public function of plugins/ says what it does in a docstring.
`make types` (mypy) checks that the annotations hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
MODULE_UTILS = PLUGINS / "module_utils"
# Module utilities, modules and filters (doc_fragments hold no function).
DOCUMENTED = sorted(MODULE_UTILS.glob("_*.py")) + sorted((PLUGINS / "modules").glob("*.py")) + sorted((PLUGINS / "filter").glob("*.py"))


def is_overload(function):
    """An @overload signature: its implementation carries the docstring."""
    return any(isinstance(decorator, ast.Name) and decorator.id == "overload" for decorator in function.decorator_list)


def public_functions(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and (not item.name.startswith("_") or item.name == "__init__"):
                    yield f"{node.name}.{item.name}", item


def unannotated(function):
    arguments = function.args
    every = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
    every += [arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
    missing = [arg.arg for arg in every if arg.annotation is None and arg.arg not in ("self", "cls")]
    if function.returns is None:
        missing.append("return")
    return missing


@pytest.mark.parametrize("path", sorted(MODULE_UTILS.glob("_*.py")), ids=lambda path: path.stem)
def test_public_functions_are_annotated(path):
    functions = list(public_functions(path))
    assert functions, f"{path.name} has no public function: the scan is broken"
    gaps = {name: missing for name, function in functions if (missing := unannotated(function))}
    assert gaps == {}, f"{path.name}: add type hints to {gaps}"


@pytest.mark.parametrize("path", DOCUMENTED, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_public_functions_have_a_docstring(path):
    """``__init__`` is left out: the class's docstring says what it holds."""
    functions = [(name, function) for name, function in public_functions(path) if not name.endswith(".__init__")]
    assert functions, f"{path.name} has no public function: the scan is broken"
    undocumented = sorted(name for name, function in functions if not is_overload(function) and ast.get_docstring(function) is None)
    assert undocumented == [], f"{path.name}: add a docstring to {undocumented}"
