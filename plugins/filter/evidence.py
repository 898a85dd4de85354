# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Filters from Defender XDR evidence to identities: evidence_targets and evidence_identities (docs: the .yml files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._evidence import evidence_identities, evidence_targets


def _evidence_targets(source, benign_roles=None, benign_verdicts=None):
    try:
        return evidence_targets(source, benign_roles, benign_verdicts)
    except InputError as error:
        raise AnsibleFilterError(str(error))


def _evidence_identities(persons, lookups):
    try:
        return evidence_identities(persons, lookups)
    except InputError as error:
        raise AnsibleFilterError(str(error))


class FilterModule:
    """The filters from incident evidence to identities."""

    def filters(self):
        """Each filter's name and function."""
        return {"evidence_targets": _evidence_targets, "evidence_identities": _evidence_identities}
