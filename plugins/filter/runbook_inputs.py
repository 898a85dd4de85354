# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runbooks' input checks: thin filters over plugins/module_utils/_runbook_inputs.py (documented in the .yml files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.msgraph.security.plugins.module_utils import _runbook_inputs
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError


def boolean_input(value, option="value"):
    """Filter boolean_input: a real boolean, or one of Ansible's boolean spellings; anything else fails the run."""
    try:
        return _runbook_inputs.boolean_input(value, option)
    except InputError as error:
        raise AnsibleFilterError(f"Nothing was sent. {error}")


def identity_inputs(value, option="identities"):
    """Filter identity_inputs: the identities to act on (user principal names, SIDs, identity account ids), checked."""
    try:
        return _runbook_inputs.identity_inputs(value, option)
    except InputError as error:
        raise AnsibleFilterError(f"Nothing was sent. {error}")


class FilterModule:
    """The runbooks' input checks."""

    def filters(self):
        """Each filter's name and function."""
        return {"boolean_input": boolean_input, "identity_inputs": identity_inputs}
