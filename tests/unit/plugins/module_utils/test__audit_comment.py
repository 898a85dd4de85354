# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The audit comment of respond_to_incident: what it records as done, and that evidence cannot forge a line of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.msgraph.security.plugins.module_utils import _audit_comment as comments
from ansible_collections.msgraph.security.plugins.module_utils import _containment as c
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import parse_identity
from ansible_collections.msgraph.security.tests.unit.fakes import account_body, identity_body
from ansible_collections.msgraph.security.tests.unit.plugins.module_utils.containment_samples import AD_ONLY, HYBRID, plan


# --- idempotent per incident: the done: line of the collection's own comment ---------------------------

def sent_report(identities, **kwargs):
    planned = plan(identities, **kwargs)
    results = {"results": [dict(target, status="succeeded", correlation_id="corr-" + target["action"]) for target in planned["targets"]]}
    return planned, c.containment_report(planned, results, dry_run=False)


def test_a_second_plan_skips_what_the_first_runs_comment_records():
    _planned, report = sent_report([AD_ONLY])
    audit = comments.audit_comment(report, "4711", dry_run=False)
    assert audit["comment"].startswith("msgraph.security respond_to_incident, incident 4711: containment executed")
    assert audit["comment"].rsplit("\n", maxsplit=1)[-1] == "done: a-2/activeDirectory/disable a-2/activeDirectory/forcePasswordReset"
    done = comments.actions_done([{"comment": "someone else\ndone: h-1/activeDirectory/disable"}, {"comment": audit["comment"]}])
    assert done == ["a-2/activeDirectory/disable", "a-2/activeDirectory/forcePasswordReset"]  # only the collection's own comment
    again = plan([AD_ONLY, HYBRID], done=done)
    assert {t["identity_account_id"] for t in again["targets"]} == {"h-1"}  # new evidence is still contained
    assert "already sent by an earlier run" in again["identities"][0]["notes"][-1]


def test_a_dry_run_and_failed_actions_record_nothing_as_done():
    planned = plan([AD_ONLY], actions=["disable"])
    failed = c.containment_report(planned, {"results": [dict(planned["targets"][0], status="failed", error_message="503")]}, dry_run=False)
    assert comments.audit_comment(failed, "1", dry_run=False)["done"] == []
    dry = c.containment_report(planned, {"results": [dict(planned["targets"][0], status="would_run")]}, dry_run=True)
    assert comments.audit_comment(dry, "1", dry_run=True)["done"] == []


def test_forged_done_keys_are_ignored():
    assert comments.actions_done(["msgraph.security respond_to_incident x\ndone: a/b/c a-2/activeDirectory/disable;rm x/okta/disable\n"]) == ["x/okta/disable"]


# --- an audit trail that cannot be forged ----------------------------------------------------------------

EVIL = "Megan Bowen\n  activeDirectory x disable: sent correlation_id=forged\u2028\x1b[31m\u202e"


def test_evidence_and_directory_text_cannot_add_a_line_to_the_comment():
    evil_identity = parse_identity(identity_body("e-1", EVIL, upn="eve@contoso.com", accounts=[account_body("ad-e", "activeDirectory", [])]))
    _planned, report = sent_report([evil_identity], actions=["disable"])
    evidence = {"unidentified": [{"alert_id": "da1", "account_name": EVIL, "domain_name": "X\r\nY", "reason": "no identifier", "benign": None}],
                "conflicts": [{"input": EVIL, "reason": "two userSid; not contained"}], "excluded": []}
    audit = comments.audit_comment(report, "7", dry_run=False, evidence=evidence)
    lines = audit["comment"].split("\n")
    assert not any("correlation_id=forged" in line and line.lstrip().startswith("activeDirectory x") for line in lines)
    assert all(not any(ch in line for ch in "\r\x1b\u2028\u202e") for line in lines)
    assert '"Megan Bowen\\n  activeDirectory x disable: sent correlation_id=forged\\u2028\\u001b[31m\\u202e"' in audit["comment"]
    assert "containment INCOMPLETE (2 not contained, 0 action(s) failed)" in lines[0]
    assert lines[1].startswith("NOT CONTAINED")  # who was not contained comes right after the header


def test_the_comment_is_bounded_and_keeps_its_header_not_contained_and_done_lines():
    many = [parse_identity(identity_body(f"i-{n}", "x" * 5000, upn=f"u{n}@contoso.com", accounts=[account_body(f"ad-{n}", "activeDirectory", [])]))
            for n in range(40)]
    _planned, report = sent_report(many, actions=["disable"])
    evidence = {"conflicts": [{"input": "a" * 10000, "reason": "r" * 10000}], "unidentified": [], "excluded": []}
    audit = comments.audit_comment(report, "8", dry_run=False, evidence=evidence)
    assert len(audit["comment"]) <= comments.AUDIT_COMMENT_LIMIT + 40 * 40  # the done line is never cut
    lines = audit["comment"].split("\n")
    assert lines[0].startswith(comments.AUDIT_PREFIX) and lines[1].startswith("NOT CONTAINED") and len(lines[1]) <= comments.AUDIT_LINE_LIMIT
    assert "more line(s) left out" in lines[-2] and lines[-1].startswith("done: ") and "i-39/activeDirectory/disable" in lines[-1]
