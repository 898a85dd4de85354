# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""The single containment planner the runbooks use (through the filters in plugins/filter/containment.py).

Layer 2 (see docs/architecture.md): no Ansible imports, no requests. It turns identities already read
(identity_account_info's ``identity_accounts``) into the ordered target list identity_account_action takes, and
turns that task's per-target results back into a per-identity report. The rules it applies are the module's own:
the provider x action matrices and the protected_accounts comparison come from _identity_accounts, so the runbooks
hold no copy of them. Whether an account's listed ``actions`` allow an action is *not* decided here: Microsoft's
own examples list none (or contradictory ones), so the module decides at send time and warns (issue 11).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_accounts import (
    ACTIONS,
    IDENTITY_PROVIDERS,
    ProtectedAccounts,
    identity_summary,
    normalise_action,
    normalise_action_matrix,
    normalise_identity_provider,
    supported_actions,
)

# All disables start first (the attacker loses access soonest), then the other actions; enable is for restore.
ACTION_ORDER = ("disable", "revokeAllSessions", "forcePasswordReset", "requireUserToSignInAgain", "markUserAsCompromised", "enable")
FAILURE_STATUSES = ("refused", "failed", "outcome_unknown", "not_started")
# Per-target bulk statuses as a runbook operator reads them.
_OUTCOME_WORDS = {"would_run": "check_mode", "succeeded": "sent"}


def as_list(value, option):
    """A list, or one string separated by commas, semicolons, spaces or new lines (an AWX survey answer)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[,;\s]+", value)
    if not isinstance(value, (list, tuple)):
        raise InputError(option, "must be a list or a string separated by commas, spaces or new lines; got {0!r}".format(value))
    items = []
    for item in value:
        text = str(item).strip() if item is not None else ""
        if text and text not in items:
            items.append(text)
    return items


def _compile_patterns(patterns):
    """Regular expressions, as a list or one per line (a comma may be part of a pattern, so lines only)."""
    if isinstance(patterns, str):
        patterns = patterns.split("\n")
    compiled = []
    for pattern in patterns or []:
        pattern = str(pattern).strip() if pattern is not None else ""
        if not pattern:
            continue
        try:
            compiled.append((pattern, re.compile(pattern, re.IGNORECASE)))
        except re.error as error:
            raise InputError("protected_account_patterns", "'{0}' is not a valid regular expression: {1}".format(pattern, error))
    return compiled


class ContainmentOptions(object):
    """The operator's choices, validated before anything is looked up (a bad one fails the run, nothing sent)."""

    def __init__(self, actions, identity_providers=None, action_matrix=None, protected_accounts=None,
                 protected_account_patterns=None):
        wanted = [normalise_action(action, "actions") for action in as_list(actions, "actions")]
        if not wanted:
            raise InputError("actions", "give at least one of: {0}".format(", ".join(ACTIONS)))
        self.actions = [action for action in ACTION_ORDER if action in wanted]
        providers = as_list(identity_providers, "identity_providers") if identity_providers is not None else list(IDENTITY_PROVIDERS)
        self.identity_providers = [normalise_identity_provider(provider, "identity_providers") for provider in providers]
        if not self.identity_providers:
            raise InputError("identity_providers", "give at least one of: {0}".format(", ".join(IDENTITY_PROVIDERS)))
        self.action_matrix = normalise_action_matrix(action_matrix)
        self.protected = ProtectedAccounts(as_list(protected_accounts, "protected_accounts"))
        self.patterns = _compile_patterns(protected_account_patterns)


def _pattern_reason(identity, patterns):
    texts = [identity.get(key) for key in ("user_principal_name", "email_address", "display_name",
                                           "on_premises_security_identifier", "cloud_security_identifier")]
    for pattern, regex in patterns:
        for text in texts:
            if isinstance(text, str) and regex.search(text):
                return "'{0}' matches the protected_account_patterns entry '{1}'".format(text, pattern)
    return None


def _protected_reason(identity, options):
    entry = options.protected.entry_matching(identity)
    if entry is not None:
        return "it is in protected_accounts ('{0}')".format(entry)
    return _pattern_reason(identity, options.patterns)


def _steps_for(identity, options):
    """(steps, notes) of one identity: each selected action its provider supports, for each selected account."""
    steps, notes = [], []
    accounts = [account for account in identity.get("accounts") or [] if account.get("identity_provider") in options.identity_providers]
    if not accounts:
        present = ", ".join(str(account.get("identity_provider")) for account in identity.get("accounts") or []) or "none"
        notes.append("no account for identity_providers {0} (its accounts: {1})".format(", ".join(options.identity_providers), present))
    for account in accounts:
        provider = account["identity_provider"]
        supported = supported_actions(provider, options.action_matrix)
        planned = [action for action in options.actions if action in supported]
        if not planned:
            note = "{0} {1}: no selected action is supported for {0} in the {2} action_matrix".format(
                provider, account.get("identifier"), options.action_matrix)
            if options.action_matrix == "documented" and any(action in supported_actions(provider, "extended") for action in options.actions):
                note += " (the account resource page lists some: action_matrix=extended)"
            notes.append(note)
        for action in planned:
            steps.append({"identity_account_id": identity.get("id"), "identity_provider": provider,
                          "account_id": account.get("identifier"), "action": action})
    return steps, notes


def plan_containment(identities, options):
    """{"targets": [...], "identities": [...]}: what identity_account_action must do, and why, per identity.

    ``identities`` are identity_account_info results (snake_case); an ``input`` key is passed through. The same
    identity twice (two inputs naming it) is planned once. Targets are ordered by ACTION_ORDER across identities.
    """
    planned, seen = [], set()
    for identity in identities or []:
        if not isinstance(identity, dict) or not identity.get("id"):
            raise InputError("identities", "each identity must be an identity_account_info result with an id; got {0!r}".format(identity))
        if identity["id"] in seen:
            continue
        seen.add(identity["id"])
        entry = dict(identity_summary(identity), input=identity.get("input"), protected_reason=_protected_reason(identity, options))
        entry["steps"], entry["notes"] = ([], []) if entry["protected_reason"] else _steps_for(identity, options)
        planned.append(entry)
    targets = [step for action in ACTION_ORDER for entry in planned for step in entry["steps"] if step["action"] == action]
    return {"targets": targets, "identities": planned}


def resolve_lookups(lookup_results):
    """Exactly one identity per looked-up input (fail closed): {"identities": [...], "errors": [...]}.

    ``lookup_results`` is the registered ``results`` of a looped identity_account_info task (each carries the
    loop item as ``target`` or ``item``); a lookup that matched none or several is an error naming what matched.
    """
    identities, errors = [], []
    for lookup in lookup_results or []:
        given = lookup.get("target", lookup.get("item"))
        found = lookup.get("identity_accounts")
        if lookup.get("failed") or found is None:
            errors.append("'{0}' could not be looked up: {1}".format(given, lookup.get("msg") or "no identity_accounts returned"))
        elif not found:
            errors.append("'{0}' matches none (a UPN is compared whole, a SID must be the on-premises SID, an id is the "
                          "identity account id).".format(given))
        elif len(found) > 1:
            errors.append("'{0}' matches {1}: {2}; give the identity account id of the right one.".format(
                given, len(found), "; ".join("{0} ({1}, {2})".format(item.get("id"), item.get("display_name"),
                                                                   item.get("user_principal_name")) for item in found)))
        else:
            identities.append(dict(found[0], input=given))
    return {"identities": identities, "errors": errors}


def _result_for(step, results):
    for result in results:
        if (result.get("identity_account_id") == step["identity_account_id"] and result.get("account_id") == step["account_id"]
                and result.get("action") == step["action"]):
            return result
    for result in results:  # refused before the identity was read: only the target the runbook gave is known
        target = result.get("target") or {}
        if all(target.get(key) == step[key] for key in ("identity_account_id", "account_id", "action")):
            return result
    return None


def _action_report(step, result, task_error):
    if result is None:
        result = {"status": "failed", "error_message": task_error or "no result for this action"}
    status = result.get("status")
    failed = status in FAILURE_STATUSES
    return {
        "identity_provider": step["identity_provider"],
        "account_id": step["account_id"],
        "action": step["action"],
        "outcome": _OUTCOME_WORDS.get(status, status),
        "reason": result.get("reason"),
        "correlation_id": result.get("correlation_id"),
        "request_id": result.get("request_id"),
        "client_request_id": result.get("client_request_id"),
        "error_code": result.get("error_code"),
        "error": (result.get("error_message") or result.get("reason") or status) if failed else None,
        "warnings": list(result.get("warnings") or []),
    }


def containment_report(plan, action_task_result, dry_run, done_word="contained"):
    """Per identity: status, protected reason, each action's outcome and ids, and the planner's notes."""
    action_task_result = action_task_result or {}
    results = action_task_result.get("results") or []
    task_error = None
    if action_task_result.get("failed") and not results:
        task_error = action_task_result.get("msg") or "the action task failed"
    report = []
    for identity in plan.get("identities") or []:
        actions = [_action_report(step, _result_for(step, results), task_error) for step in identity.get("steps") or []]
        failed = [action for action in actions if action["outcome"] in FAILURE_STATUSES]
        if identity.get("protected_reason"):
            status = "protected, skipped"
        elif failed:
            status = "FAILED ({0} of {1} actions)".format(len(failed), len(actions))
        elif not actions:
            status = "nothing to do"
        elif all(action["outcome"] == "unchanged" for action in actions):
            status = "unchanged"
        else:
            status = "would be {0} (dry run)".format(done_word) if dry_run else done_word
        report.append(dict((key, identity.get(key)) for key in ("input", "id", "display_name", "user_principal_name")))
        report[-1].update(status=status, protected_reason=identity.get("protected_reason"), actions=actions,
                          notes=list(identity.get("notes") or []))
    return report


def _action_line(action):
    ids = "".join(" {0}={1}".format(key, action[key]) for key in ("correlation_id", "request_id", "client_request_id") if action[key])
    if action["outcome"] == "check_mode":
        text = "would be sent (dry run)"
    elif action["outcome"] == "outcome_unknown":
        text = "OUTCOME UNKNOWN, look up the client_request_id in the Defender Action center: {0}{1}".format(action["error"], ids)
    elif action["error"]:
        text = "FAILED ({0}): {1}".format(action["outcome"], action["error"])
    else:
        text = "{0}{1}{2}".format(action["outcome"], ": " + action["reason"] if action["reason"] else "", ids)
    return "  {0} {1} {2}: {3}".format(action["identity_provider"], action["account_id"], action["action"], text)


def summary_lines(report, header):
    """The report as lines for the job output: one per identity, one per action, then warnings and notes."""
    lines = [header]
    for identity in report:
        lines.append("{0} <{1}> id {2}: {3}{4}".format(
            identity.get("display_name") or "?", identity.get("user_principal_name") or "", identity.get("id"),
            identity["status"].upper(), " - " + identity["protected_reason"] if identity.get("protected_reason") else ""))
        for action in identity["actions"]:
            lines.append(_action_line(action))
            lines.extend("    warning: " + warning for warning in action["warnings"])
        lines.extend("  " + note for note in identity["notes"])
    return lines


def failed_actions(report):
    return [action for identity in report for action in identity["actions"] if action["error"]]
