# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module reference is generated from the modules' own documentation with antsibull-docs, linted, and built
to HTML with Sphinx, so it can never drift from the code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
ANTSIBULL_DOCS = BIN / "antsibull-docs"
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if not path.name.startswith("_"))
# References into ansible-core's own documentation, which an offline build cannot resolve.
CORE_DOCS_LABELS = {"ansible_configuration_settings", "common_return_values"}

pytestmark = pytest.mark.skipif(not ANTSIBULL_DOCS.exists(), reason="antsibull-docs is not installed next to this Python")


def collections_path():
    for entry in sys.path:
        if entry and (Path(entry) / "ansible_collections" / "msgraph" / "security").exists():
            return Path(entry)
    raise RuntimeError("put the directory holding ansible_collections/ on PYTHONPATH")


def environment():
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path()), PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""))
    return env


def run(command, cwd=None):
    completed = subprocess.run([str(part) for part in command], env=environment(), cwd=cwd, capture_output=True, text=True,
                               timeout=600, check=False)
    return completed.returncode, completed.stdout + completed.stderr


# antsibull-docs lints a copy in a directory from tempfile.mkdtemp ("antsibull-docs-" and 8 random characters) and
# can put that path in each page's github_url. When the last random character is "_" (1 run in 37), docutils reads
# "...-xxxxxxx_/" as a link to an unknown target and every page fails on line 4. That names the linter's temporary
# directory, not anything of this collection, so such a run is repeated once; any other message fails.
TEMPORARY_NAME_ARTIFACT = re.compile(r'\.rst:4:0: \(ERROR/3\) Unknown target name: "antsibull-docs-[a-z0-9_]{7}"\.$')


def only_temporary_name_artifacts(output):
    lines = [line for line in output.splitlines() if line.strip()]
    return bool(lines) and all(TEMPORARY_NAME_ARTIFACT.search(line) for line in lines)


def test_only_the_linters_temporary_directory_name_is_forgiven():
    artifact = ('/c/plugins/filter/split_list.rst:4:0: (ERROR/3) Unknown target name: "antsibull-docs-b3oee9z".')
    assert only_temporary_name_artifacts(artifact)
    assert not only_temporary_name_artifacts(artifact + "\n/c/plugins/module/incident.rst:120:0: (ERROR/3) Unknown target name: \"x\".")
    assert not only_temporary_name_artifacts('/c/plugins/module/incident.rst:4:0: (ERROR/3) Unknown target name: "incident".')
    assert not only_temporary_name_artifacts("")


def test_collection_docs_pass_the_antsibull_docs_linter():
    """Plugin documentation schema and markup (O(), RV(), M() references), docs/docsite/*.yml and the extra docs."""
    collection = collections_path() / "ansible_collections" / "msgraph" / "security"
    rc, output = run([ANTSIBULL_DOCS, "lint-collection-docs", "--plugin-docs", collection], cwd=collection)
    if only_temporary_name_artifacts(output):
        rc, output = run([ANTSIBULL_DOCS, "lint-collection-docs", "--plugin-docs", collection], cwd=collection)
    assert rc == 0 and not output.strip(), output


def test_module_reference_is_generated_from_the_modules_and_builds(tmp_path):
    rst = tmp_path / "rst"
    rst.mkdir(mode=0o755)
    rc, output = run([ANTSIBULL_DOCS, "collection", "--use-current", "--squash-hierarchy", "--dest-dir", rst, "msgraph.security"])
    assert rc == 0, output

    assert {path.name for path in rst.glob("*_module.rst")} == {f"{module}_module.rst" for module in MODULES}
    assert (rst / "docsite" / "guides.rst").is_file()  # docs/docsite/extra-docs.yml
    rc, output = run([BIN / "ansible-doc", "--json", "-t", "module"] + [f"msgraph.security.{module}" for module in MODULES])
    assert rc == 0, output
    for name, entry in json.loads(output).items():
        module = name.split(".")[-1]
        page = (rst / f"{module}_module.rst").read_text(encoding="utf-8")
        prefix = f"ansible_collections.{name}_module__"
        documented = set(re.findall(re.escape(prefix) + r"parameter-([\w/]+):", page))
        assert set(entry["doc"]["options"]) <= documented, f"{module}: options missing from the reference"
        returned = set(re.findall(re.escape(prefix) + r"return-([\w/]+):", page))
        assert set(entry["return"] or {}) <= returned, f"{module}: return values missing from the reference"
        assert " ".join(entry["doc"]["short_description"].split()) in " ".join(page.split())

    sphinx = pytest.importorskip("sphinx")
    pytest.importorskip("sphinx_antsibull_ext")
    assert sphinx
    (rst / "conf.py").write_text('project = "msgraph.security"\nextensions = ["sphinx_antsibull_ext"]\n'
                                 'html_theme = "alabaster"\nroot_doc = "index"\n', encoding="utf-8")
    html = tmp_path / "html"
    warnings_file = tmp_path / "warnings.txt"
    completed = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-w", str(warnings_file), str(rst), str(html)],
                               env=environment(), capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    warnings = [line for line in warnings_file.read_text(encoding="utf-8").splitlines() if "WARNING" in line]
    unexpected = [line for line in warnings
                  if not any(f"undefined label: '{label}'" in line for label in CORE_DOCS_LABELS)]
    assert not unexpected, "\n".join(unexpected)
    for module in MODULES:
        assert (html / f"{module}_module.html").is_file()
