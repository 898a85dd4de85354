# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The guides in docs/ cannot drift from the code: tables generated from the code, error codes cross-checked both
ways, runbook variables and permissions checked against their sources, and every relative link resolved."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ansible_collections.msgraph.security.plugins.module_utils import _token_service_errors
from ansible_collections.msgraph.security.plugins.module_utils._options import CONNECTION_OPTIONS

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
GUIDES = sorted(DOCS.glob("*.md"))
RUNBOOKS = ("contain_compromised_identity", "restore_identity", "block_indicator", "respond_to_incident")


def read(path):
    return path.read_text(encoding="utf-8")


def connection_options_table():
    lines = ["| Option | Environment variables (first non-empty one wins) | Default | Secret |", "|---|---|---|---|"]
    for name, spec in CONNECTION_OPTIONS.items():
        env = ", ".join(f"`{variable}`" for variable in spec.get("env") or []) or "-"
        default = spec.get("default")
        shown = "-" if "default" not in spec else "`%s`" % (str(default).lower() if isinstance(default, bool) else default)
        lines.append(f"| `{name}` | {env} | {shown} | {'yes' if spec['no_log'] else ''} |")
    return "\n".join(lines)


def test_authentication_table_is_the_option_table():
    text = read(DOCS / "authentication.md")
    block = text.split("<!-- connection-options:start", 1)[1].split("-->", 1)[1].split("<!-- connection-options:end -->", 1)[0]
    expected = connection_options_table()
    assert block.strip() == expected, "regenerate the table in docs/authentication.md:\n" + expected


def codes_raised_by_the_collection():
    """Every error code the collection sets itself, read from the source."""
    codes = set()
    for path in (ROOT / "plugins" / "module_utils").glob("*.py"):
        for line in read(path).splitlines():
            match = re.search(r"\bcode\s*=\s*(.+)", line)
            if not match or re.search(r"\b(error_code|status_code)\s*=", line):
                continue
            expression = re.split(r",\s*\w+=", match.group(1))[0]
            codes.update(re.findall(r'(?<!get\()"([A-Za-z][A-Za-z0-9]+)"', expression))
    bulk = read(ROOT / "plugins" / "module_utils" / "_identity_bulk.py")
    function = re.split(r"\n(?:def|class) ", bulk.split("def _error_code(", 1)[1], maxsplit=1)[0]
    codes.update(re.findall(r'return[^\n]*?"([A-Z][A-Za-z0-9]+)"', function))
    codes.update(re.findall(r'else "([A-Z][A-Za-z0-9]+)"', function))
    return codes


def test_troubleshooting_documents_every_error_code_and_invents_none():
    text = read(DOCS / "troubleshooting.md")
    documented = set(re.findall(r"`([A-Za-z0-9_]+)`", text))
    own = codes_raised_by_the_collection()
    assert {"UnsupportedCloud", "RetryBudgetExhausted", "IdentityAmbiguous", "TokenRequestFailed"} <= own  # the scan works
    aadsts = {"AADSTS" + number for number in _token_service_errors.AADSTS_HINTS}
    oauth = set(_token_service_errors.ERROR_HINTS)
    missing = sorted((own | aadsts | oauth) - documented)
    assert not missing, f"document these error codes in docs/troubleshooting.md: {missing}"
    invented = sorted(set(re.findall(r"AADSTS\d+", text)) - aadsts)
    assert not invented, f"docs/troubleshooting.md names AADSTS codes the code does not map: {invented}"


def test_every_runbook_variable_is_documented():
    text = read(DOCS / "runbooks.md")
    for runbook in RUNBOOKS:
        play_vars = yaml.safe_load(read(ROOT / "playbooks" / f"{runbook}.yml"))[0]["vars"]
        undocumented = sorted(name for name in play_vars if name != "ansible_python_interpreter" and f"`{name}`" not in text)
        assert not undocumented, f"{runbook}: document {undocumented} in docs/runbooks.md"
        defaults = yaml.safe_load(read(ROOT / "playbooks" / f"{runbook}.yml"))[0]["module_defaults"]["group/msgraph.security.graph"]
        for option, template in defaults.items():
            variable = re.search(r"\{\{\s*(\w+)", template).group(1)
            assert f"`{variable}`" in text, f"{runbook}: document the authentication variable {variable}"


def test_permission_table_matches_the_modules_own_documentation():
    """Each permission the getting-started table names for a module is the one the module documents."""
    text = read(DOCS / "getting-started.md")
    permission = r"(?:Security|User\.|IdentityRiskyUser)[A-Za-z.]+"
    rows = [line for line in text.splitlines() if line.startswith("| `") and re.search(permission, line)]
    checked = set()
    for row in rows:
        names = re.findall(r"`([a-z_]+)`", row.split("|")[1])
        permissions = set(re.findall(r"`(%s)`" % permission, row))
        for module in names:
            path = ROOT / "plugins" / "modules" / f"{module}.py"
            if not path.exists():
                continue
            documentation = read(path).split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0]
            for permission in permissions:
                assert permission in documentation, f"{module}: docs say {permission}, the module does not"
            checked.add(module)
    modules = {path.stem for path in (ROOT / "plugins" / "modules").glob("*.py")}
    assert checked == modules, f"getting-started.md has no permission row for {sorted(modules - checked)}"


def github_anchor(heading):
    """The anchor GitHub gives a Markdown heading."""
    anchor = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return anchor.replace(" ", "-")


@pytest.mark.parametrize("page", [ROOT / "README.md", ROOT / "playbooks" / "README.md"] + GUIDES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    text = read(page)
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links in code blocks are examples
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path_part, _hash, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page
        assert resolved.exists(), f"{page.name}: broken link {target}"
        if anchor and resolved.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", read(resolved), flags=re.S), flags=re.M)
            assert anchor in {github_anchor(heading) for heading in headings}, f"{page.name}: no heading for #{anchor} in {path_part}"


def test_docs_index_lists_every_guide():
    index = read(DOCS / "README.md")
    for guide in GUIDES:
        if guide.name != "README.md":
            assert f"]({guide.name})" in index, f"docs/README.md does not link {guide.name}"


def test_runbooks_page_counts_its_runbooks():
    text = read(DOCS / "runbooks.md")
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    listed = re.findall(r"^\| `msgraph\.security\.(\w+)` \|", text, flags=re.M)
    shipped = sorted(path.stem for path in (ROOT / "playbooks").glob("*.yml") if path.stem != "demo_identity_response")
    assert sorted(listed) == shipped
    assert f"The collection ships {words[len(shipped)]} playbooks" in text


def test_execution_environment_asks_for_the_python_the_readme_claims():
    claimed = re.search(r"Python (3\.\d+) or newer on the host that runs the modules", read(ROOT / "README.md")).group(1)
    environment = read(DOCS / "awx" / "execution-environment.yml")
    assert re.findall(r"Python >= (3\.\d+)", environment) == [claimed]


def test_each_runbook_names_the_emulator_client_that_holds_its_permissions():
    """docs/emulator.md's table: the client of each runbook exists in the emulator's seed, and holds every
    permission each module the runbook uses documents as needed (the least-privilege table of getting-started.md)."""
    text = read(DOCS / "emulator.md")
    table = text.split("<!-- runbook-clients:start -->", 1)[1].split("<!-- runbook-clients:end -->", 1)[0]
    clients = dict(re.findall(r"^\| `(\w+)` \| `(\w+)` \|", table, flags=re.M))
    assert sorted(clients) == sorted(RUNBOOKS)
    seed = json.loads(read(ROOT / "tests" / "emulator" / "graph_emulator" / "data" / "tenant.json"))
    roles = {app["name"]: set(app.get("roles") or []) for app in seed["applications"]}
    permissions = module_permissions()
    for runbook, client in clients.items():
        playbook = yaml.safe_load(read(ROOT / "playbooks" / f"{runbook}.yml"))[0]
        used = {task_module(task) for task in imported_tasks(playbook["tasks"])} & set(permissions)
        assert used, runbook
        for module in sorted(used):
            if runbook == "respond_to_incident" and module.startswith("entra_"):
                continue  # its plan uses no native Entra ID action (entra_fallback is not offered there)
            held = roles[client] | {role.replace(".ReadWrite.", ".Read.") for role in roles[client]}  # ReadWrite grants Read
            assert permissions[module] <= held, f"{runbook}: {client} lacks {permissions[module] - held} for {module}"


def imported_tasks(tasks):
    """The tasks of a play with those of its task files (playbooks/tasks/, by import_tasks) in their place."""
    for task in tasks:
        imported = task.get("ansible.builtin.import_tasks")
        if imported:
            yield from imported_tasks(yaml.safe_load(read(ROOT / "playbooks" / imported)))
        else:
            yield task


def task_module(task):
    return next((key.split(".")[-1] for key in task if key.startswith("msgraph.security.")), None)


def module_permissions():
    """Module -> the least-privilege permissions getting-started.md names for it (held to the modules' docs above)."""
    text = read(DOCS / "getting-started.md")
    permission = r"(?:Security|User\.|IdentityRiskyUser)[A-Za-z.]+"
    result = {}
    for row in (line for line in text.splitlines() if line.startswith("| `") and re.search(permission, line)):
        cells = row.split("|")
        for module in re.findall(r"`([a-z_]+)`", cells[1]):
            needed = re.sub(r"\((?:or |and [^)]* with )[^)]*\)", "", cells[2])  # alternatives and option-dependent ones
            result.setdefault(module, set()).update(re.findall(r"`(%s)`" % permission, needed))
    return result
