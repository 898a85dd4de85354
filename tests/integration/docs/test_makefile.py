# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make help` names every target of the Makefile, and tests/README.md names every stage of `make test`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def targets():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"^([a-z][a-z-]*):", text, flags=re.M)) - {"help"})


def test_make_help_lists_every_target():
    shown = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "help"], capture_output=True, text=True,
                           check=True).stdout
    missing = [target for target in targets() if not re.search(r"\b%s\b" % re.escape(target), shown)]
    assert targets() and not missing, f"make help does not mention {missing}"


def middle_cores():
    return re.search(r"^MIDDLE_CORES := (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), flags=re.M).group(1).split()


def make_test_recipe():
    """make test's recipe, with the lanes' names of the middle cores (OLDER_ and NEWER_MIDDLE_CORE) expanded."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = text.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    for number, name in enumerate(("OLDER_MIDDLE_CORE", "NEWER_MIDDLE_CORE"), start=1):
        assert f"{name} := $(word {number},$(MIDDLE_CORES))" in text
        recipe = recipe.replace(f"$({name})", middle_cores()[number - 1])
    return recipe


def make_test_stages():
    """The stages make test runs, with the loop over the middle cores unrolled."""
    recipe = make_test_recipe()
    stages = []
    for stage in re.findall(r"--no-print-directory ([^\s;]+)", recipe):
        stages += [stage.replace("$$core", core) for core in middle_cores()] if "$$core" in stage else [stage]
    return stages


def test_tests_readme_names_every_stage_of_make_test():
    stages = make_test_stages()
    readme = (ROOT / "tests" / "README.md").read_text(encoding="utf-8")
    assert stages and not [stage for stage in stages if f"make {stage}" not in readme]


def test_every_supported_core_has_a_sanity_unit_and_smoke_leg():
    """2.16 (the floor of meta/runtime.yml), every middle core and the newest: each one sanity, units and integration."""
    floor = re.search(r"requires_ansible: '>=(\d+\.\d+)", (ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8")).group(1)
    assert floor == "2.16" and middle_cores() == ["2.19", "2.20"]
    recipe = make_test_recipe()
    stages = []  # the stage names make test records (build/results/<stage>.ok)
    for stage in re.findall(r"\$\(STAGE\) ([^\s;]+)", recipe):
        stages += [stage.replace("$$core", core) for core in middle_cores()] if "$$core" in stage else [stage]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "sanity-floor: $(FLOOR)/.stamp\n\ttests/utils/sanity.sh $(FLOOR) floor" in makefile
    assert "sanity-latest: $(LATEST)/.stamp\n\ttests/utils/sanity.sh $(LATEST) latest" in makefile
    # 2.16's smoke leg is the minimums leg: ansible-core pinned to the floor of requires_ansible, every dependency at
    # its declared floor (one 2.16 smoke run instead of two).
    smoke = {"floor": "minimums-smoke"}
    minimums = (ROOT / "tests" / "utils" / "minimums.sh").read_text(encoding="utf-8")
    assert 'echo "ansible-core==$core"' in minimums and "requires_ansible" in minimums
    for leg in ["floor"] + middle_cores() + ["latest"]:
        for kind in ("sanity", "units", "integration"):
            name = smoke[leg] if kind == "integration" and leg in smoke else f"{kind}-{leg}"
            assert name in stages, f"make test has no {kind} leg for {leg}"
    # Each middle core's venv holds exactly that release line, on the Python find_python.sh picks for it.
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\n$(VENV)/core-%/.stamp:", 1)[1].split("\n\n", 1)[0]
    assert "'ansible-core==$*.*'" in recipe and "find_python.sh core-$*" in recipe
    for core in middle_cores():
        found = subprocess.run([str(ROOT / "tests" / "utils" / "find_python.sh"), f"core-{core}"], capture_output=True, text=True, check=False)
        assert found.returncode == 0 and found.stdout.strip(), found.stderr
    # ... and the READMEs name each core with its reason.
    for page in (ROOT / "README.md", ROOT / "tests" / "README.md"):
        text = page.read_text(encoding="utf-8")
        matrix = text.split("<!-- core-matrix:start -->", 1)[1].split("<!-- core-matrix:end -->", 1)[0]
        for core in ["2.16"] + middle_cores() + ["2.21"]:
            assert re.search(r"^\| %s \|[^|]*\S[^|]*\|" % re.escape(core), matrix, flags=re.M), f"{page.name}: no reason for {core}"


def test_make_emulator_runs_from_the_demo_venv():
    """It needs four packages: a first-time user does not wait for the test toolchain (issue 23)."""
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\nemulator:", 1)[1].split("\n\n", 1)[0]
    assert "$(DEMO)/.stamp" in recipe and "$(DEMO)/bin/python -m graph_emulator serve" in recipe
    assert "$(LATEST)" not in recipe


def demo_recipe():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return text.split("\n$(DEMO)/.stamp:", 1)[1].split("\n\n", 1)[0]


def test_make_demo_installs_only_what_the_demo_runs():
    installs = [line for line in demo_recipe().splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert len(installs) == 1, installs
    requirement_files = re.findall(r"-r (\S+)", installs[0])
    assert requirement_files == ["requirements.txt", "tests/emulator/requirements.txt"]
    assert "tools" not in installs[0] and "tests/requirements.txt" not in installs[0]
    demo = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "$(DEMO)/.stamp" in demo and "$(LATEST)" not in demo


def third_party_imports(paths):
    names = set()
    for path in paths:
        for match in re.finditer(r"^\s*(?:import|from) ([A-Za-z_][A-Za-z0-9_]*)", path.read_text(encoding="utf-8"), flags=re.M):
            names.add(match.group(1))
    local = {"graph_emulator", "ansible_collections", "__future__"}
    return sorted(name for name in names - local if name not in sys.stdlib_module_names)


def test_the_demo_venv_has_every_library_the_emulator_and_demo_import():
    emulator = sorted((ROOT / "tests" / "emulator" / "graph_emulator").glob("*.py"))
    needed = third_party_imports(emulator + [ROOT / "tests" / "utils" / "demo.py"])
    distributions = {"jwt": "pyjwt"}
    listed = set()
    for requirements in (ROOT / "requirements.txt", ROOT / "tests" / "emulator" / "requirements.txt"):
        for line in requirements.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                listed.add(re.split(r"[<>=!~ ]", line.strip(), maxsplit=1)[0].lower())
    assert needed, "no third-party import found: the scan is broken"
    missing = [name for name in needed if distributions.get(name, name).lower() not in listed]
    assert not missing, f"the demo venv would lack {missing}"
