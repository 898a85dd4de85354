# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layering of docs/architecture.md, enforced: each module_utils file imports only layers below it, and the
modules import only the module base, the domain helpers and the shared files."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

MODULE_UTILS = Path(__file__).resolve().parents[4] / "plugins" / "module_utils"
MODULES = MODULE_UTILS.parent / "modules"

# File -> layer (docs/architecture.md). Shared files (layer 5) are importable from everywhere.
LAYERS = {
    "_module": 1,
    "_identity_vocabulary": 2, "_identity_lookup": 2, "_protected_accounts": 2, "_identity_actions": 2, "_identity_bulk": 2,
    "_containment": 2, "_audit_comment": 2, "_security_action_requests": 2, "_security_actions": 2, "_entra_users": 2, "_incidents": 2, "_runbook_inputs": 2,
    "_evidence": 2, "_event_position": 2, "_filtered_lists": 2,
    "_graph_client": 3, "_graph_answers": 3, "_writes": 3,
    "_credentials": 4, "_connection": 4, "_certificates": 4, "_token_service_errors": 4, "_token_cache": 4,
    "_clouds": 4, "_graph_apis": 4, "_http": 4, "_retries": 4,
    "_errors": 5, "_options": 5,
    "_timestamps": 5,
}

# Imports within one layer, each building on the other: the token providers (_credentials) use the connection
# settings, certificates, sign-in errors, HTTP transport and token cache of their own layer; the settings use the
# clouds and the transport's CA check; sign-in errors use the transport's TLS errors.
SIDEWAYS = {
    # The identity files stack: the vocabulary (enums, the provider x action matrix, identifiers) is their base;
    # lookup reads and finds identities with it; protection compares identifiers as it does; actions find their
    # target, refuse a protected one and send; bulk is many actions with one lookup per kind.
    ("_identity_lookup", "_identity_vocabulary"), ("_protected_accounts", "_identity_vocabulary"),
    ("_identity_actions", "_identity_vocabulary"), ("_identity_actions", "_identity_lookup"),
    ("_identity_actions", "_protected_accounts"),
    ("_identity_bulk", "_identity_vocabulary"), ("_identity_bulk", "_identity_lookup"), ("_identity_bulk", "_protected_accounts"),
    ("_identity_bulk", "_identity_actions"),
    # the audit comment is written from the planner's report.
    ("_audit_comment", "_containment"),
    # securityActions send and read the requests and the snake_case form their input file defines.
    ("_security_actions", "_security_action_requests"),
    # the planner applies the module's matrix and protection to identities identity_account_info returned.
    ("_containment", "_identity_vocabulary"), ("_containment", "_identity_lookup"), ("_containment", "_protected_accounts"),
    # Entra ID users take the same identifiers and protection, and fail a lookup as identity lookups do.
    ("_entra_users", "_identity_vocabulary"), ("_entra_users", "_identity_lookup"), ("_entra_users", "_protected_accounts"),
    # incidents reuse the vocabulary's enum helpers, and read their lists through the multi-value filter; evidence
    # is read as the alerts' parser flattens it, its identifiers checked and compared by the vocabulary's rules.
    ("_incidents", "_identity_vocabulary"), ("_incidents", "_filtered_lists"),
    ("_evidence", "_incidents"), ("_evidence", "_identity_vocabulary"),
    # a time that is not ISO 8601 is an input error.
    ("_timestamps", "_errors"),
    # the runbooks' input checks split lists as the planner does.
    ("_runbook_inputs", "_containment"),
    ("_credentials", "_clouds"), ("_credentials", "_http"), ("_credentials", "_token_cache"),
    ("_credentials", "_connection"), ("_credentials", "_certificates"), ("_credentials", "_token_service_errors"),
    ("_connection", "_clouds"), ("_connection", "_http"), ("_token_service_errors", "_http"),
    # a cloud's check reads which clouds offer an API from the per-API facts; the retry engine retries the
    # transport's transient failures, and the token providers retry with it.
    ("_clouds", "_graph_apis"), ("_retries", "_http"), ("_credentials", "_retries"),
    # the Graph client reads Graph's answers (bodies, error answers) with the reader of its own layer.
    ("_graph_client", "_graph_answers"),
    # the write protocol sends through the Graph client and keeps the answer it read.
    ("_writes", "_graph_client"), ("_writes", "_graph_answers"),
}


def collection_imports(path):
    """Names of the collection's module_utils files that `path` imports (``from ..module_utils import _x`` too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and ".plugins.module_utils." in node.module:
            names.add(node.module.rsplit(".", 1)[1])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".plugins.module_utils"):
            names.update(alias.name for alias in node.names)
    return names


def private_names_imported(path):
    """``(file, name)`` for each private name ``path`` imports from another module_utils file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and ".plugins.module_utils." in node.module:
            found.update((node.module.rsplit(".", 1)[1], alias.name) for alias in node.names if alias.name.startswith("_"))
    return found


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


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_no_private_name_crosses_files(name):
    # What another file needs is public, with a docstring: a private name may change without warning.
    assert private_names_imported(MODULE_UTILS / f"{name}.py") == set()


@pytest.mark.parametrize("name", sorted(n for n, layer in LAYERS.items() if layer > 1))
def test_only_the_module_layer_imports_ansible(name):
    assert ansible_imports(MODULE_UTILS / f"{name}.py") == set()


# A module is argument spec, documentation and glue: it reaches the Graph client, credentials and transport only
# through the module base (layer 1), e.g. GraphModule.graph_client() and GraphModule.auth_method().
MODULE_MAY_IMPORT_LAYERS = (1, 2, 5)


@pytest.mark.parametrize("path", sorted(MODULES.glob("*.py")), ids=lambda path: path.stem)
def test_modules_import_only_the_module_base_domain_helpers_and_shared_files(path):
    below = {other for other in collection_imports(path) if LAYERS.get(other) not in MODULE_MAY_IMPORT_LAYERS}
    assert below == set(), f"{path.name} imports {sorted(below)}; use what GraphModule offers instead"


ARCHITECTURE = MODULE_UTILS.parents[1] / "docs" / "architecture.md"


def documented_layers():
    """File -> layer, from the layer table of docs/architecture.md."""
    documented = {}
    for row in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].isdigit():
            for name in re.findall(r"`(_[a-z_]+)\.py`", cells[2]):
                documented[name] = int(cells[0])
    return documented


def test_the_architecture_page_shows_these_layers():
    assert documented_layers() == LAYERS


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_a_file_that_names_its_layer_names_this_one(name):
    said = re.findall(r"\bLayer (\d)\b", (MODULE_UTILS / f"{name}.py").read_text(encoding="utf-8"))
    assert said and {int(layer) for layer in said} == {LAYERS[name]}
