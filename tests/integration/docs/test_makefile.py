# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make help` names every target of the Makefile, and tests/README.md names every stage of `make test`."""

from __future__ import annotations

import re
import subprocess
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


def test_tests_readme_names_every_stage_of_make_test():
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ntest:", 1)[1].split("\n\n", 1)[0]
    stages = re.findall(r"--no-print-directory (\S+)", recipe)
    readme = (ROOT / "tests" / "README.md").read_text(encoding="utf-8")
    assert stages and not [stage for stage in stages if f"make {stage}" not in readme]
