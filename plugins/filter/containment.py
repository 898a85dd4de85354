# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runbooks' planner: thin filters over plugins/module_utils/_containment.py (documented in the .yml files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.msgraph.security.plugins.module_utils._audit_comment import actions_done, audit_comment
from ansible_collections.msgraph.security.plugins.module_utils._containment import (
    ContainmentOptions,
    as_list,
    containment_report,
    plan_containment,
    resolve_lookups,
    summary_lines,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError


def _input_error(error):
    return AnsibleFilterError(f"Nothing was sent. {error}")


def split_list(value, option="value"):
    """Filter split_list: a list, or one string of items separated by commas, semicolons, spaces or new lines."""
    try:
        return as_list(value, option)
    except InputError as error:
        raise _input_error(error)


def resolved_identities(lookup_results):
    """Filter resolved_identities: exactly one identity per looked-up input, {"identities": [...], "errors": [...]}."""
    return resolve_lookups(lookup_results)


def containment_plan(identities, actions, identity_providers=None, action_matrix=None, protected_accounts=None,
                     protected_account_patterns=None, entra_fallback=False, entra_risk_actions=True, done=None):
    """Filter containment_plan: what identity_account_action (and the Entra ID modules) must do per identity, and why."""
    try:
        options = ContainmentOptions(actions, identity_providers, action_matrix, protected_accounts, protected_account_patterns,
                                     entra_fallback, entra_risk_actions)
        return plan_containment(identities, options, done)
    except InputError as error:
        raise _input_error(error)


def containment_report_filter(plan, action_task_result, dry_run, done_word="contained", entra_results=None):
    """Filter containment_report: per identity, its status and each action's outcome after the run."""
    return containment_report(plan, action_task_result, dry_run, done_word, entra_results)


def containment_summary(report, header):
    """Filter containment_summary: the report as lines for the job output."""
    return summary_lines(report, header)


def containment_audit(report, incident_id, dry_run, evidence=None, resolved=None, done=None):
    """Filter containment_audit: the run's audit trail and the incident comment that records it."""
    return audit_comment(report, incident_id, dry_run, evidence, resolved, done)


def incident_actions_done(comments):
    """Filter incident_actions_done: the steps earlier runs recorded in their audit comments on the incident."""
    return actions_done(comments)


class FilterModule:
    """The planner's filters, by the names the runbooks use."""

    def filters(self):
        """Each filter's name and function."""
        return {
            "split_list": split_list,
            "resolved_identities": resolved_identities,
            "containment_plan": containment_plan,
            "containment_report": containment_report_filter,
            "containment_summary": containment_summary,
            "containment_audit": containment_audit,
            "incident_actions_done": incident_actions_done,
        }
