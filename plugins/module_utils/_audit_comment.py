# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""The incident audit comment of respond_to_incident, and the actions earlier runs recorded in theirs.

Layer 2 (see docs/architecture.md): no Ansible imports, no requests. The comment is built from the planner's
report (``_containment.containment_report``); everything an account or the evidence can choose is quoted or
escaped (``_errors.quoted``, ``_errors.printable``), so it cannot add a line. Its last line, ``done:``, lists the
step keys sent: a later run on the same incident skips them (``actions_done``), and only the collection's own
comments count.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from typing import Any, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._containment import failed_actions, summary_lines
from ansible_collections.msgraph.security.plugins.module_utils._errors import printable, quoted

# Every audit comment starts with this (the incidents event source recognises the collection's own comments by it).
AUDIT_PREFIX = "msgraph.security respond_to_incident"
# The comment's last line lists what was sent, as step keys (step_key): a later run on the incident skips them.
DONE_PREFIX = "done: "
# Microsoft documents no limit for an incident comment; this bound keeps one readable, whatever the evidence says.
AUDIT_COMMENT_LIMIT = 8000
AUDIT_LINE_LIMIT = 600
# Outcomes a later run must not send again: sent, already in place, or unknown (never re-sent blindly).
DONE_OUTCOMES = ("sent", "unchanged", "outcome_unknown")
_DONE_KEY = re.compile(r"^[A-Za-z0-9._-]+/(activeDirectory|entraID|okta|entra)/[A-Za-z_]+$")


def actions_done(comments: list[Any] | None) -> list[str]:
    """The step keys that earlier runs recorded in their own audit comments (first line AUDIT_PREFIX) of an incident."""
    keys: list[str] = []
    for comment in comments or []:
        text = comment.get("comment") if isinstance(comment, dict) else comment
        if not isinstance(text, str) or not text.startswith(AUDIT_PREFIX):
            continue
        for line in text.split("\n"):
            if line.startswith(DONE_PREFIX):
                keys.extend(key for key in line[len(DONE_PREFIX):].split() if _DONE_KEY.match(key) and key not in keys)
    return keys


def _line(text):
    return printable(text)[:AUDIT_LINE_LIMIT]


def _safe_report(report):
    """The report with the text an account or the evidence can choose (display names, UPNs) neutralised."""
    safe = []
    for identity in report:
        item = dict(identity)
        item["display_name"] = quoted(identity["display_name"]) if identity.get("display_name") is not None else None
        item["user_principal_name"] = printable(identity.get("user_principal_name") or "")
        item["actions"] = [dict(action, warnings=[]) for action in identity["actions"]]  # listed once, at the end
        safe.append(item)
    return safe


def _evidence_account(item):
    name = f"{item.get('domain_name') or ''}\\{item.get('account_name') or '?'}"
    return quoted(name, 80)


def audit_comment(report: list[dict[str, Any]], incident_id: Any, dry_run: bool, evidence: Mapping[str, Any] | None = None,
                  resolved: Mapping[str, Any] | None = None, done: list[str] | None = None,
                  limit: int = AUDIT_COMMENT_LIMIT) -> dict[str, Any]:
    """The audit trail of one respond_to_incident run: {"lines", "comment", "done", "not_contained", "excluded"}.

    ``report``: containment_report; ``evidence``: evidence_targets; ``resolved``: evidence_identities; ``done``: the
    step keys of earlier runs (actions_done). Every evidence string is quoted and every line printable, so nothing
    can start a line of its own; the comment holds at most ``limit`` characters, its first line starts with
    AUDIT_PREFIX and its last line is the done line (DONE_PREFIX and the step keys, ids from Graph's answers).
    """
    evidence, resolved = evidence or {}, resolved or {}
    not_contained, excluded = [], []
    for person in list(evidence.get("conflicts") or []) + list(resolved.get("rejected") or []):
        not_contained.append(f"NOT CONTAINED {quoted(person.get('input'))}: {person.get('reason')}")
    for item in evidence.get("unidentified") or []:
        where = f"evidence {_evidence_account(item)} in alert {item.get('alert_id')} identifies nobody ({item.get('reason')})"
        if item.get("benign"):
            excluded.append(f"not a target: {where}; benign ({item['benign']})")
        else:
            not_contained.append(f"NOT CONTAINED: {where}")
    for person in evidence.get("excluded") or []:
        excluded.append(f"not a target {quoted(person.get('input'))}: {person.get('reason')}")
    failed = failed_actions(report)
    if dry_run:
        state = "DRY RUN, nothing was sent"
    elif not_contained or failed:
        state = f"containment INCOMPLETE ({len(not_contained)} not contained, {len(failed)} action(s) failed)"
    else:
        state = "containment executed"
    header = f"{AUDIT_PREFIX}, incident {incident_id}: {state}"
    keys = list(done or [])
    if not dry_run:
        keys += [action["key"] for identity in report for action in identity["actions"]
                 if action["outcome"] in DONE_OUTCOMES and action.get("key") and action["key"] not in keys]
    warnings = []
    for warning in (warning for identity in report for action in identity["actions"] for warning in action["warnings"]):
        if "warning: " + warning not in warnings:
            warnings.append("warning: " + warning)
    # Who was not contained comes first: a bounded comment loses its tail, never that.
    summary = summary_lines(_safe_report(report), header)
    lines = [_line(line) for line in summary[:1] + not_contained + summary[1:] + excluded + warnings]
    # Not cut like the other lines: a lost key would be sent again. Keys match _DONE_KEY, so they are printable.
    done_line = DONE_PREFIX + " ".join(key for key in keys if _DONE_KEY.match(key)) if keys else None
    budget = limit - len(lines[0]) - (len(done_line) + 1 if done_line else 0) - 100
    kept = [lines[0]]
    for index, line in enumerate(lines[1:], start=1):
        if budget - len(line) - 1 < 0:
            kept.append(f"... {len(lines) - index} more line(s) left out (the comment is bounded to {limit} characters; the job output has them all)")
            break
        budget -= len(line) + 1
        kept.append(line)
    if done_line:
        kept.append(done_line)
    return {"lines": lines + ([done_line] if done_line else []), "comment": "\n".join(kept), "done": keys,
            "not_contained": not_contained, "excluded": excluded}
