# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test requirements and the import-time requests check agree with the floors the collection declares."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from pathlib import Path

from ansible_collections.msgraph.security.plugins.module_utils import _http

ROOT = Path(__file__).resolve().parents[2]


def floors(path):
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        requirement = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9.]*)", line)
        if requirement:
            found[requirement.group(1).lower()] = requirement.group(2)
    return found


def test_test_requirements_declare_the_collections_floors():
    declared = floors(ROOT / "requirements.txt")
    tested = floors(ROOT / "tests" / "unit" / "requirements.txt")
    assert declared, "requirements.txt declares no floors"
    assert {name: tested.get(name) for name in declared} == declared


def test_the_import_check_refuses_exactly_below_the_declared_requests_floor():
    floor = floors(ROOT / "requirements.txt")["requests"]
    assert _http.REQUESTS_REQUIREMENT == f"requests>={floor}"
    assert _http.REQUESTS_FLOOR == _http.version_tuple(floor)
