# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an operator types into a runbook: switches that are booleans, identities that are not display names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._runbook_inputs import boolean_input, identity_inputs


@pytest.mark.parametrize("value, expected", [(True, True), (False, False), ("true", True), ("True", True), ("yes", True),
                                             ("1", True), (1, True), ("false", False), ("no", False), ("", False),
                                             (None, False), (0, False), (" on ", True)])
def test_boolean_spellings(value, expected):
    assert boolean_input(value, "execute_containment") is expected


@pytest.mark.parametrize("value", ["ture", "flase", "2", "execute", "truee"])
def test_anything_else_is_refused_naming_the_option(value):
    with pytest.raises(InputError) as error:
        boolean_input(value, "execute_containment")
    assert error.value.option == "execute_containment" and repr(value) in str(error.value)


def test_upns_sids_and_ids_pass():
    items = "alexw@contoso.com, S-1-5-21-1-2-3-1103\n0104216-0539-4838-88b1-55baafdc296b 00uNEDjlmt6VQiv79z2C"
    assert identity_inputs(items) == ["alexw@contoso.com", "S-1-5-21-1-2-3-1103", "0104216-0539-4838-88b1-55baafdc296b",
                                      "00uNEDjlmt6VQiv79z2C"]


@pytest.mark.parametrize("value, words", [("Alex Wilber", "'Alex', 'Wilber' are not user principal names"),
                                          (["alexw@contoso.com", "Megan"], "'Megan' is not a user principal name")])
def test_display_names_are_refused(value, words):
    with pytest.raises(InputError) as error:
        identity_inputs(value, "identities")
    assert error.value.option == "identities" and words in str(error.value)
    assert "Display names are not accepted" in str(error.value)
