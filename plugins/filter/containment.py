# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runbooks' planner: thin filters over plugins/module_utils/_containment.py (documented in the .yml files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.msgraph.security.plugins.module_utils._containment import (
    ContainmentOptions,
    actions_done,
    as_list,
    audit_comment,
    containment_report,
    plan_containment,
    resolve_lookups,
    summary_lines,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError


def _input_error(error):
    return AnsibleFilterError(f"Nothing was sent. {error}")


def split_list(value, option="value"):
    try:
        return as_list(value, option)
    except InputError as error:
        raise _input_error(error)


def resolved_identities(lookup_results):
    return resolve_lookups(lookup_results)


def containment_plan(identities, actions, identity_providers=None, action_matrix=None, protected_accounts=None,
                     protected_account_patterns=None, entra_fallback=False, entra_risk_actions=True, done=None):
    try:
        options = ContainmentOptions(actions, identity_providers, action_matrix, protected_accounts, protected_account_patterns,
                                     entra_fallback, entra_risk_actions)
        return plan_containment(identities, options, done)
    except InputError as error:
        raise _input_error(error)


def containment_report_filter(plan, action_task_result, dry_run, done_word="contained", entra_results=None):
    return containment_report(plan, action_task_result, dry_run, done_word, entra_results)


def containment_summary(report, header):
    return summary_lines(report, header)


def containment_audit(report, incident_id, dry_run, evidence=None, resolved=None, done=None):
    return audit_comment(report, incident_id, dry_run, evidence, resolved, done)


def incident_actions_done(comments):
    return actions_done(comments)


class FilterModule:
    def filters(self):
        return {
            "split_list": split_list,
            "resolved_identities": resolved_identities,
            "containment_plan": containment_plan,
            "containment_report": containment_report_filter,
            "containment_summary": containment_summary,
            "containment_audit": containment_audit,
            "incident_actions_done": incident_actions_done,
        }
