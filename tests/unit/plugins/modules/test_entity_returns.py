# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An entity that two modules return is documented with the same fields and types in both.

A module's RETURN must be a literal in its own file (doc fragments do not reach RETURN), so the entity blocks of a
module and its info module are copies; this holds them to one shape. Descriptions may differ where the meaning does
(an action module returns the entity as read before the action).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.msgraph.security.tests.unit.plugins.modules.module_returns import return_text

# (module, key) pairs returning the same entity, as one object or as a list of them.
SAME_ENTITY = [
    (("entra_user", "user"), ("entra_user_action", "user")),
    (("identity_account_action", "identity_account"), ("identity_account_info", "identity_accounts")),
    (("security_action", "security_action"), ("security_action_info", "security_actions")),
]


def shape(block):
    """Field -> (type, elements, shape of its fields), recursively: what a playbook can rely on."""
    return {name: (field.get("type"), field.get("elements"), shape(field.get("contains") or {})) for name, field in block.items()}


def entity(module, key):
    return yaml.safe_load(return_text(module))[key]["contains"]


@pytest.mark.parametrize("first, second", SAME_ENTITY, ids=[f"{a[0]}-{b[0]}" for a, b in SAME_ENTITY])
def test_an_entity_two_modules_return_has_one_shape(first, second):
    ours, theirs = shape(entity(*first)), shape(entity(*second))
    assert ours == theirs, (f"{first[0]}'s {first[1]} and {second[0]}'s {second[1]} document different fields: "
                            f"only in the first {sorted(set(ours) - set(theirs))}, only in the second {sorted(set(theirs) - set(ours))}, "
                            f"differing {sorted(name for name in set(ours) & set(theirs) if ours[name] != theirs[name])}")


def test_the_shape_sees_a_field_that_one_copy_lacks():
    block = entity("security_action", "security_action")
    trimmed = {name: field for name, field in block.items() if name != "status"}
    assert shape(block) != shape(trimmed)
