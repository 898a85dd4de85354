# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters are thin: each maps to the planner, and bad input becomes an AnsibleFilterError saying nothing was sent."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.msgraph.security.plugins.filter.containment import FilterModule


def test_every_filter_has_its_documentation_file():
    from pathlib import Path
    here = Path(__file__).resolve().parents[4] / "plugins" / "filter"
    assert {name + ".yml" for name in FilterModule().filters()} <= {path.name for path in here.glob("*.yml")}


def test_bad_planner_options_fail_templating_saying_nothing_was_sent():
    plan = FilterModule().filters()["containment_plan"]
    with pytest.raises(AnsibleFilterError) as caught:
        plan([], actions="disable, explode")
    assert str(caught.value).startswith("Nothing was sent. actions: 'explode' is not a known")


def test_an_empty_identity_list_checks_the_options_and_plans_nothing():
    plan = FilterModule().filters()["containment_plan"]
    assert plan([], actions=["disable"]) == {"targets": [], "entra_targets": [], "identities": []}
