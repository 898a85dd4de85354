# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""What an operator types into a runbook (``-e`` or an AWX survey), checked before anything is looked up.

Layer 2 (see docs/architecture.md): no Ansible imports. Ansible's own ``bool`` filter turns a typo such as
``execute_containment=ture`` into false, a silent dry run; and a display name with a space becomes two lookups.
Both are refused here, with the option's name and the fix.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from typing import Any

from ansible_collections.msgraph.security.plugins.module_utils._containment import as_list
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError

# The spellings Ansible's own boolean conversion accepts, and nothing else.
TRUE_WORDS = ("true", "yes", "on", "y", "t", "1")
FALSE_WORDS = ("false", "no", "off", "n", "f", "0", "")
SID = re.compile(r"^S-1-[0-9]", re.IGNORECASE)


def boolean_input(value: Any, option: str) -> bool:
    """A real boolean, or one of Ansible's boolean spellings (any case); anything else is refused."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise InputError(option, f"must be true or false, got {value!r}")


def identity_inputs(value: Any, option: str = "identities") -> list[str]:
    """User principal names, on-premises SIDs or identity account ids; a word that is none of them is refused.

    A display name is not accepted: two people can share one, it can change, and a space in it splits it into
    separate entries. A word without ``@`` and without a digit is neither a UPN, a SID nor an id."""
    items = as_list(value, option)
    words = [item for item in items if "@" not in item and not SID.match(item) and not re.search(r"[0-9]", item)]
    if words:
        kinds = ("is not a user principal name, an on-premises SID or an identity account id" if len(words) == 1
                 else "are not user principal names, on-premises SIDs or identity account ids")
        raise InputError(option, f"{', '.join(repr(word) for word in words)} {kinds}. Display names are not accepted (two "
                                 "people can share one, and a space splits one into two entries): give the user principal "
                                 "name (name@domain) instead")
    return items
