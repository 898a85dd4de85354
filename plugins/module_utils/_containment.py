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
the provider x action matrices come from _identity_vocabulary and who is protected (protected_accounts and
protected_account_patterns) from _protected_accounts, so the runbooks hold no copy of them. Whether an account's
listed ``actions`` allow an action is *not* decided here: Microsoft's own examples list none (or contradictory
ones), so the module decides at send time and warns (issue 11).

The Entra ID fallback (``entra_fallback``): where Defender for Identity does not cover an action for an identity's
entraID account in the chosen matrix, the plan can use Microsoft Graph's own directory actions instead
(entra_user, entra_user_action), in a second list ``entra_targets``. The account's identifier is the Entra ID
user's object id (docs/service-contract.md); the modules verify it by reading the user before sending anything.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from typing import Any, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import identity_summary
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    ACTIONS,
    IDENTITY_PROVIDERS,
    normalize_action,
    normalize_action_matrix,
    normalize_identity_provider,
    supported_actions,
)
from ansible_collections.msgraph.security.plugins.module_utils._protected_accounts import ProtectedAccounts

# All disables start first (the attacker loses access soonest), then the other actions; enable is for restore.
ACTION_ORDER = ("disable", "revokeAllSessions", "forcePasswordReset", "requireUserToSignInAgain", "markUserAsCompromised", "enable")
FAILURE_STATUSES = ("refused", "failed", "outcome_unknown", "not_started")
# Per-target bulk statuses as a runbook operator reads them.
_OUTCOME_WORDS = {"would_run": "check_mode", "succeeded": "sent"}

# Defender for Identity action -> the native Entra ID actions standing in for it. requireUserToSignInAgain is what
# revoking the refresh tokens does; forcePasswordReset has no native counterpart here; restoring also dismisses the
# risk a containment confirmed.
ENTRA_FALLBACK = {
    "disable": ("disable",),
    "revokeAllSessions": ("revoke_sign_in_sessions",),
    "requireUserToSignInAgain": ("revoke_sign_in_sessions",),
    "markUserAsCompromised": ("confirm_compromised",),
    "enable": ("enable", "dismiss_risk"),
}
ENTRA_ACTION_ORDER = ("disable", "revoke_sign_in_sessions", "confirm_compromised", "enable", "dismiss_risk")
# The module that runs each native action (disable / enable are entra_user's account_enabled).
ENTRA_MODULE = {"disable": "entra_user", "enable": "entra_user", "revoke_sign_in_sessions": "entra_user_action",
                "confirm_compromised": "entra_user_action", "dismiss_risk": "entra_user_action"}
RISK_ACTIONS = ("confirm_compromised", "dismiss_risk")
PATH_DEFENDER = "defender_for_identity"
PATH_ENTRA = "entra_native"


def as_list(value: str | list[Any] | tuple[Any, ...] | None, option: str) -> list[str]:
    """A list, or one string separated by commas, semicolons, spaces or new lines (an AWX survey answer)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = re.split(r"[,;\s]+", value)
    if not isinstance(value, (list, tuple)):
        raise InputError(option, f"must be a list or a string separated by commas, spaces or new lines; got {value!r}")
    items = []
    for item in value:
        text = str(item).strip() if item is not None else ""
        if text and text not in items:
            items.append(text)
    return items


class ContainmentOptions:
    """The operator's choices, validated before anything is looked up (a bad one fails the run, nothing sent)."""

    def __init__(self, actions: str | list[str] | None, identity_providers: str | list[str] | None = None, action_matrix: str | None = None,
                 protected_accounts: str | list[str] | None = None, protected_account_patterns: str | list[str] | None = None,
                 entra_fallback: bool | str | None = False, entra_risk_actions: bool | str | None = True) -> None:
        wanted = [normalize_action(action, "actions") for action in as_list(actions, "actions")]
        if not wanted:
            raise InputError("actions", f"give at least one of: {', '.join(ACTIONS)}")
        self.actions = [action for action in ACTION_ORDER if action in wanted]
        providers = as_list(identity_providers, "identity_providers") if identity_providers is not None else list(IDENTITY_PROVIDERS)
        self.identity_providers = [normalize_identity_provider(provider, "identity_providers") for provider in providers]
        if not self.identity_providers:
            raise InputError("identity_providers", f"give at least one of: {', '.join(IDENTITY_PROVIDERS)}")
        self.action_matrix = normalize_action_matrix(action_matrix)
        self.protected = ProtectedAccounts(as_list(protected_accounts, "protected_accounts"), patterns=protected_account_patterns)
        self.entra_fallback = _boolean(entra_fallback, "entra_fallback")
        # confirm_compromised / dismiss_risk need Microsoft Entra ID P2; without it they can be left out.
        self.entra_risk_actions = _boolean(entra_risk_actions, "entra_risk_actions")


def _boolean(value, option):
    """true/false, also as the strings an AWX survey or -e gives."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0", ""):
        return False
    raise InputError(option, f"must be true or false; got {value!r}")


def _entra_steps(identity, account, uncovered, options):
    """(entra steps, note) standing in for the ``uncovered`` Defender for Identity actions of an entraID account."""
    steps: list[dict[str, Any]] = []
    for action in uncovered:
        for entra_action in ENTRA_FALLBACK.get(action, ()):
            if entra_action in RISK_ACTIONS and not options.entra_risk_actions:
                continue
            existing = next((step for step in steps if step["entra_action"] == entra_action), None)
            if existing is not None:
                existing["replaces"].append(action)
                continue
            steps.append({"identity_account_id": identity.get("id"), "user_id": account.get("identifier"),
                          "entra_action": entra_action, "module": ENTRA_MODULE[entra_action], "replaces": [action]})
    without = [action for action in uncovered if action not in ENTRA_FALLBACK]
    why = f"Defender for Identity does not cover {', '.join(uncovered)} for entraID in the {options.action_matrix} action_matrix"
    for step in steps:
        step["reason"] = f"{why}; native Microsoft Graph action on the Entra ID user instead"
    planned = ", ".join(step["entra_action"] for step in steps) or "none"
    note = f"entraID {account.get('identifier')}: {why}; native Entra ID actions planned instead (entra_fallback): {planned}"
    if without:
        note += f"; no native counterpart for {', '.join(without)}"
    if not options.entra_risk_actions and any(set(ENTRA_FALLBACK.get(action, ())) & set(RISK_ACTIONS) for action in uncovered):
        note += "; risk actions left out (entra_risk_actions=false)"
    return steps, note


def _steps_for(identity, options):
    """(steps, entra steps, notes) of one identity: each selected action its provider supports, for each selected
    account; with entra_fallback, the native Entra ID actions for what Defender for Identity does not cover."""
    steps, entra_steps, notes = [], [], []
    accounts = [account for account in identity.get("accounts") or [] if account.get("identity_provider") in options.identity_providers]
    if not accounts:
        present = ", ".join(str(account.get("identity_provider")) for account in identity.get("accounts") or []) or "none"
        notes.append(f"no account for identity_providers {', '.join(options.identity_providers)} (its accounts: {present})")
    for account in accounts:
        provider = account["identity_provider"]
        supported = supported_actions(provider, options.action_matrix)
        planned = [action for action in options.actions if action in supported]
        uncovered = [action for action in options.actions if action not in supported]
        if provider == "entraID" and options.entra_fallback and uncovered:
            native, note = _entra_steps(identity, account, uncovered, options)
            entra_steps.extend(native)
            notes.append(note)
        elif not planned:
            note = f"{provider} {account.get('identifier')}: no selected action is supported for {provider} in the {options.action_matrix} action_matrix"
            if options.action_matrix == "documented" and any(action in supported_actions(provider, "extended") for action in options.actions):
                note += " (the account resource page lists some: action_matrix=extended)"
            if provider == "entraID" and any(action in ENTRA_FALLBACK for action in options.actions):
                note += "; entra_fallback=true would use Microsoft Graph's native Entra ID actions"
            notes.append(note)
        for action in planned:
            steps.append({"identity_account_id": identity.get("id"), "identity_provider": provider,
                          "account_id": account.get("identifier"), "action": action})
    # A synced (hybrid) user's accountEnabled is mastered in AD: Graph refuses the native disable or the next sync
    # reverts it (docs/service-contract.md, "Synced users"), so the Defender for Identity AD disable wins when planned.
    if any(step["identity_provider"] == "activeDirectory" and step["action"] == "disable" for step in steps) and any(
            step["entra_action"] == "disable" for step in entra_steps):
        entra_steps = [step for step in entra_steps if step["entra_action"] != "disable"]
        notes.append("disable through the activeDirectory account (Defender for Identity), not entra_user: the user is "
                     "synchronised from Active Directory, so a cloud accountEnabled change is refused or reverted at the next sync")
    return steps, entra_steps, notes


def step_key(step: Mapping[str, Any]) -> str:
    """What an audit comment records of a step: identity id, provider (or ``entra``) and action, ids from Graph."""
    if "entra_action" in step:
        return f"{step['identity_account_id']}/entra/{step['entra_action']}"
    return f"{step['identity_account_id']}/{step['identity_provider']}/{step['action']}"


def _without_done(entry, done):
    """Drop the steps an earlier run already sent (``done``: step keys); say so in the notes."""
    kept = [step for step in entry["steps"] if step_key(step) not in done]
    kept_entra = [step for step in entry["entra_steps"] if step_key(step) not in done]
    skipped = [step.get("action") or step.get("entra_action") for step in entry["steps"] + entry["entra_steps"]
               if step not in kept and step not in kept_entra]
    if skipped:
        entry["notes"].append(f"already sent by an earlier run on this incident (its audit comment), not sent again: {', '.join(skipped)}")
    entry["steps"], entry["entra_steps"] = kept, kept_entra


def plan_containment(identities: list[dict[str, Any]] | None, options: ContainmentOptions,
                     done: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """{"targets": [...], "entra_targets": [...], "identities": [...], "warnings": [...]}: what
    identity_account_action (and, with entra_fallback, entra_user / entra_user_action) must do, and why, per identity.

    ``identities`` are identity_account_info results (snake_case); an ``input`` key is passed through. The same
    identity twice (two inputs naming it) is planned once. Targets are ordered by ACTION_ORDER across identities.
    ``done``: step keys (step_key) an earlier run recorded as sent; they are not planned again.
    """
    done_keys = set(done or [])
    planned, seen = [], set()
    for identity in identities or []:
        if not isinstance(identity, dict) or not identity.get("id"):
            raise InputError("identities", f"each identity must be an identity_account_info result with an id; got {identity!r}")
        if identity["id"] in seen:
            continue
        seen.add(identity["id"])
        entry = dict(identity_summary(identity), input=identity.get("input"), protected_reason=options.protected.reason(identity))
        entry["steps"], entry["entra_steps"], entry["notes"] = (
            ([], [], []) if entry["protected_reason"] else _steps_for(identity, options))
        _without_done(entry, done_keys)
        planned.append(entry)
    targets = [step for action in ACTION_ORDER for entry in planned for step in entry["steps"] if step["action"] == action]
    entra_targets = [step for action in ENTRA_ACTION_ORDER for entry in planned for step in entry["entra_steps"]
                     if step["entra_action"] == action]
    return {"targets": targets, "entra_targets": entra_targets, "identities": planned, "warnings": options.protected.warnings()}


def resolve_lookups(lookup_results: list[dict[str, Any]] | None) -> dict[str, list[Any]]:
    """Exactly one identity per looked-up input (fail closed): {"identities": [...], "errors": [...]}.

    ``lookup_results`` is the registered ``results`` of a looped identity_account_info task (each carries the
    loop item as ``target`` or ``item``); a lookup that matched none or several is an error naming what matched.
    """
    identities, errors = [], []
    for lookup in lookup_results or []:
        given = lookup.get("target", lookup.get("item"))
        found = lookup.get("identity_accounts")
        if lookup.get("failed") or found is None:
            errors.append(f"'{given}' could not be looked up: {lookup.get('msg') or 'no identity_accounts returned'}")
        elif not found:
            errors.append(f"'{given}' matches none (a UPN is compared whole, a SID must be the on-premises SID, an id is the identity account id).")
        elif len(found) > 1:
            listed = "; ".join(f"{item.get('id')} ({item.get('display_name')}, {item.get('user_principal_name')})"
                               for item in found)
            errors.append(f"'{given}' matches {len(found)}: {listed}; give the identity account id of the right one.")
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
        "key": step_key(step),
        "identity_provider": step["identity_provider"],
        "account_id": step["account_id"],
        "action": step["action"],
        "path": PATH_DEFENDER,
        "path_reason": None,
        "outcome": _OUTCOME_WORDS.get(status, status),
        "reason": result.get("reason"),
        "correlation_id": result.get("correlation_id"),
        "request_id": result.get("request_id"),
        "client_request_id": result.get("client_request_id"),
        "error_code": result.get("error_code"),
        "error": (result.get("error_message") or result.get("reason") or status) if failed else None,
        "warnings": list(result.get("warnings") or []),
    }


def _entra_result_for(step, entra_results):
    for result in entra_results:
        item = result.get(result.get("ansible_loop_var") or "item") or {}
        if item.get("identity_account_id") == step["identity_account_id"] and item.get("entra_action") == step["entra_action"]:
            return result
    return None


def _graph_error(result):
    """The Graph error details of a failed task (the modules return them once, under ``error``)."""
    error = result.get("error")
    return error if isinstance(error, dict) else {}


def _entra_status(result):
    """A looped entra_user / entra_user_action result as one of the bulk statuses."""
    if result is None or result.get("skipped"):
        return "not_started"
    if result.get("failed"):
        error = _graph_error(result)
        # A read that timed out is reported as unknown too: whether containment happened must then be checked.
        if error.get("outcome") == "unknown" or error.get("error_code") in ("Timeout", "ConnectionError", "UnreadableResponse"):
            return "outcome_unknown"
        return "refused" if result.get("option") else "failed"
    return {"check_mode": "would_run", "unchanged": "unchanged"}.get(result.get("outcome"), "succeeded")


def _entra_action_report(step, result):
    status = _entra_status(result)
    result = result or {}
    ids = result.get("request_ids") or {}
    failed = status in FAILURE_STATUSES
    reason = result.get("reason")
    if result.get("sign_in_sessions_valid_from_date_time"):
        reason = f"sessions valid from {result['sign_in_sessions_valid_from_date_time']}"
    return {
        "key": step_key(step),
        "identity_provider": "entraID",
        "account_id": step["user_id"],
        "action": step["entra_action"],
        "path": PATH_ENTRA,
        "path_reason": step.get("reason"),
        "outcome": _OUTCOME_WORDS.get(status, status),
        "reason": reason,
        "correlation_id": None,
        "request_id": ids.get("request_id") or _graph_error(result).get("request_id"),
        "client_request_id": ids.get("client_request_id") or _graph_error(result).get("client_request_id"),
        "error_code": _graph_error(result).get("error_code"),
        "error": (result.get("msg") or "the task did not run for this action") if failed else None,
        "warnings": list(result.get("warnings") or []),
    }


def _drop_covered_sync_warnings(actions):
    """entra_user warns that directory sync undoes a native disable/enable of a synchronised user unless the Active
    Directory account gets the same action: where this plan gives it that action (sent, would be sent or already
    done), the warning asks for what the run does, so the report leaves it out."""
    done = {action["action"] for action in actions
            if action["identity_provider"] == "activeDirectory" and action["outcome"] not in FAILURE_STATUSES}
    for action in actions:
        if action["path"] == PATH_ENTRA:
            action["warnings"] = [warning for warning in action["warnings"] if not (
                "(onPremisesSyncEnabled)" in warning
                and any(warning.endswith(f"identity_provider: activeDirectory, action: {name})") for name in done))]


def containment_report(plan: Mapping[str, Any], action_task_result: Mapping[str, Any] | None, dry_run: bool, done_word: str = "contained",
                       entra_results: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Per identity: status, protected reason, each action's outcome, ids and path (Defender for Identity or native
    Entra ID, and why), and the planner's notes. ``entra_results``: the ``results`` of the looped entra_user and
    entra_user_action tasks (each carries its entra target as ``item``)."""
    action_task_result = action_task_result or {}
    results = action_task_result.get("results") or []
    task_error = None
    if action_task_result.get("failed") and not results:
        task_error = action_task_result.get("msg") or "the action task failed"
    report = []
    for identity in plan.get("identities") or []:
        actions = [_action_report(step, _result_for(step, results), task_error) for step in identity.get("steps") or []]
        actions += [_entra_action_report(step, _entra_result_for(step, entra_results or []))
                    for step in identity.get("entra_steps") or []]
        _drop_covered_sync_warnings(actions)
        failed = [action for action in actions if action["outcome"] in FAILURE_STATUSES]
        if identity.get("protected_reason"):
            status = "protected, skipped"
        elif failed:
            status = f"FAILED ({len(failed)} of {len(actions)} action{'' if len(actions) == 1 else 's'})"
        elif not actions:
            status = "nothing to do"
        elif all(action["outcome"] == "unchanged" for action in actions):
            status = "unchanged"
        else:
            status = f"would be {done_word} (dry run)" if dry_run else done_word
        report.append(dict((key, identity.get(key)) for key in ("input", "id", "display_name", "user_principal_name")))
        report[-1].update(status=status, protected_reason=identity.get("protected_reason"), actions=actions,
                          notes=list(identity.get("notes") or []))
    return report


def _action_line(action):
    ids = "".join(f" {key}={action[key]}" for key in ("correlation_id", "request_id", "client_request_id") if action[key])
    if action["outcome"] == "check_mode":
        text = "would be sent (dry run)"
    elif action["outcome"] == "outcome_unknown":
        place = "Entra ID audit log" if action.get("path") == PATH_ENTRA else "Defender Action center"
        text = f"OUTCOME UNKNOWN, look up the client_request_id in the {place}: {action['error']}{ids}"
    elif action["error"]:
        text = f"FAILED ({action['outcome']}): {action['error']}"
    else:
        text = f"{action['outcome']}{': ' + action['reason'] if action['reason'] else ''}{ids}"
    path = " (native Entra ID)" if action.get("path") == PATH_ENTRA else ""
    return f"  {action['identity_provider']} {action['account_id']} {action['action']}{path}: {text}"


def summary_lines(report: list[dict[str, Any]], header: str) -> list[str]:
    """The report as lines for the job output: one per identity, one per action, then warnings and notes."""
    lines = [header]
    shown = set()  # a warning every action repeats (a custom endpoint, say) is shown once, under its first action
    for identity in report:
        lines.append(f"{identity.get('display_name') or '?'} <{identity.get('user_principal_name') or ''}> id {identity.get('id')}:"
                     f" {identity['status'].upper()}{' - ' + identity['protected_reason'] if identity.get('protected_reason') else ''}")
        for action in identity["actions"]:
            lines.append(_action_line(action))
            lines.extend("    warning: " + warning for warning in action["warnings"] if warning not in shown)
            shown.update(action["warnings"])
        lines.extend("  " + note for note in identity["notes"])
    return lines


def failed_actions(report: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every action of the report that ended with an error."""
    return [action for identity in report for action in identity["actions"] if action["error"]]
