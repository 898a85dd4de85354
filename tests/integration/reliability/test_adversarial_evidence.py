# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""respond_to_incident against evidence an attacker shaped: playbooks/respond_to_incident.yml, unchanged and in
execute mode, on incidents seeded through the emulator's admin API.

For every case: no identity the case does not name as compromised is written to (the emulator's request log:
invokeAction by identity id, Entra ID users and riskyUsers by object id, mapped back to the identity), and no run
that left someone uncontained ends as a success (rc 0) or says so in the comment."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = ROOT / "playbooks" / "respond_to_incident.yml"
TENANT = json.loads((ROOT / "tests" / "emulator" / "graph_emulator" / "data" / "tenant.json").read_text(encoding="utf-8"))
IDENTITIES = {identity["id"]: identity for identity in TENANT["identities"]}
# Entra ID object id (the entraID account's identifier) -> identity id
BY_OBJECT_ID = {account["identifier"]: identity["id"] for identity in TENANT["identities"] for account in identity["accounts"]
                if account["identityProvider"] == "entraID"}
PREFIX = "msgraph.security respond_to_incident"
COMMENT_BOUND = 8000 + 2000  # the documented bound, plus the done line (never cut)

ALEX, ADELE, MEGAN = "a4df81a3-5e90-5908-b50a-754a16bee7c1", "5f1b7404-7297-5d35-bc70-9970e79f4775", "0104216-0539-4838-88b1-55baafdc296b"
ADMIN, GLASS, DEBRA = "b1793f5b-0ca1-5acb-869c-b809318de4ac", "7d13fbe2-a140-54c2-9e14-e9932417c373", "02b3dd66-21fa-5625-bdd5-2dfcf3f86e15"
ALEX_JOHNSON = "0ea66a68-9fca-5e5e-801f-decc82bc4c1c"


def _oid(identity_id):
    return next(account["identifier"] for account in IDENTITIES[identity_id]["accounts"] if account["identityProvider"] == "entraID")


def _sid(identity_id):
    return IDENTITIES[identity_id]["onPremisesSecurityIdentifier"]


def _upn(identity_id):
    return IDENTITIES[identity_id]["userPrincipalName"]


def person(identity_id, *keys, **extra):
    """userAccount of ``identity_id`` with the identifiers ``keys`` (oid, sid, upn)."""
    account = {"accountName": _upn(identity_id).split("@")[0], "domainName": "CONTOSO", "displayName": IDENTITIES[identity_id]["displayName"]}
    values = {"oid": ("azureAdUserId", _oid), "sid": ("userSid", _sid), "upn": ("userPrincipalName", _upn)}
    for key in keys:
        account[values[key][0]] = values[key][1](identity_id)
    account.update(extra)
    return account


def evidence(account, roles=("compromised",), verdict="suspicious"):
    return {"@odata.type": "#microsoft.graph.security.userEvidence", "roles": list(roles), "verdict": verdict, "userAccount": account}


FORGED = "Megan Bowen <meganb@contoso.com> id 00104216-0539-4838-88b1-55baafdc296b: CONTAINED"
GHOST_OID = "8b1f0a4e-2d5c-4f7a-9e3b-6c1d2a3b4c5d"

# (case, description, alerts: [[evidence...]...], identities the case names as compromised and contained, outcome)
# outcome "success": rc 0 and the comment says executed; "incomplete": rc != 0 and the comment says INCOMPLETE.
CASES = [
    ("spoofed UPN, real object id", "an admin's UPN with the attacker's object id (the issue's case)",
     [[evidence(dict(person(ALEX, "oid"), userPrincipalName=_upn(ADMIN)))]], set(), "incomplete"),
    ("unknown UPN plus object id", "a UPN that matches nobody plus Alex's object id",
     [[evidence(dict(person(ALEX, "oid"), userPrincipalName="ghost@contoso.com"))]], set(), "incomplete"),
    ("SID of one, UPN of another", "Adele's SID with Alex's UPN", [[evidence(dict(person(ADELE, "sid"), userPrincipalName=_upn(ALEX)))]],
     set(), "incomplete"),
    ("object id of one, SID of another", "Alex's object id with Megan's SID", [[evidence(dict(person(ALEX, "oid"), userSid=_sid(MEGAN)))]],
     set(), "incomplete"),
    ("three identifiers, three people", "Alex's object id, Adele's SID, Megan's UPN",
     [[evidence(dict(person(ALEX, "oid"), userSid=_sid(ADELE), userPrincipalName=_upn(MEGAN)))]], set(), "incomplete"),
    ("admin object id, attacker SID", "the break-glass account's object id with Alex's SID",
     [[evidence(dict(person(ALEX, "sid"), azureAdUserId=_oid(GLASS)))]], set(), "incomplete"),
    ("every identifier agrees", "Alex's object id, SID and UPN (control)", [[evidence(person(ALEX, "oid", "sid", "upn"))]], {ALEX}, "success"),
    ("other spelling, same person", "Alex's object id in upper case and UPN in another case",
     [[evidence(dict(person(ALEX), azureAdUserId=_oid(ALEX).upper(), userPrincipalName=_upn(ALEX).upper()))]], {ALEX}, "success"),
    ("object id only", "Debra's object id, confirmed by her entraID account", [[evidence(person(DEBRA, "oid"))]], {DEBRA}, "success"),
    ("unknown object id", "an object id no identity has", [[evidence({"accountName": "x", "azureAdUserId": GHOST_OID})]], set(), "incomplete"),
    ("unknown UPN", "a UPN no identity has", [[evidence({"accountName": "ghost", "userPrincipalName": "ghost@contoso.com"})]], set(),
     "incomplete"),
    ("unknown SID", "a domain SID no identity has",
     [[evidence({"accountName": "x", "userSid": "S-1-5-21-1004336348-1177238915-682003330-9999"})]], set(), "incomplete"),
    ("well-known SID", "S-1-5-18 (Local System) only", [[evidence({"accountName": "SYSTEM", "userSid": "S-1-5-18"})]], set(), "incomplete"),
    ("display name only", "Megan's account and display name, no identifier",
     [[evidence({"accountName": "meganb", "displayName": "Megan Bowen"})]], set(), "incomplete"),
    ("contextual", "Adele's SID with the role contextual only", [[evidence(person(ADELE, "sid"), roles=["contextual"])]], set(), "success"),
    ("noThreatsFound", "Adele's SID, role compromised, verdict noThreatsFound",
     [[evidence(person(ADELE, "sid"), verdict="noThreatsFound")]], set(), "success"),
    ("benign then compromised", "Adele contextual in one alert, compromised in another",
     [[evidence(person(ADELE, "sid"), roles=["contextual"])], [evidence(person(ADELE, "sid", "upn"))]], {ADELE}, "success"),
    ("benign beside compromised", "Adele contextual beside Megan compromised",
     [[evidence(person(ADELE, "sid"), roles=["contextual"]), evidence(person(MEGAN, "sid", "upn"))]], {MEGAN}, "success"),
    ("newline forging a line", "no identifier; accountName with a newline and a forged CONTAINED line",
     [[evidence({"accountName": "x\n" + FORGED, "domainName": "CONTOSO"})]], set(), "incomplete"),
    ("newline in a display name", "Adele's SID; displayName with a newline and a forged CONTAINED line",
     [[evidence(person(ADELE, "sid", displayName="Adele\n" + FORGED + "\r\n"))]], {ADELE}, "success"),
    ("control characters in the UPN", "a UPN with ESC and a right-to-left override",
     [[evidence({"accountName": "eve", "userPrincipalName": "meganb\x1b[2J\u202e@contoso.com"})]], set(), "incomplete"),
    ("line separator", "accountName with U+2028 and U+2029", [[evidence({"accountName": "x\u2028" + FORGED + "\u2029"})]], set(),
     "incomplete"),
    ("oversized string", "accountName of 100,000 characters", [[evidence({"accountName": "A" * 100000, "domainName": "B" * 5000})]], set(),
     "incomplete"),
    ("many unidentifiable items", "300 evidence items naming nobody, each with a newline",
     [[evidence({"accountName": f"user{number}\n{FORGED}"}) for number in range(300)]], set(), "incomplete"),
    ("same person in several alerts", "Alex by SID, by UPN and by object id in three alerts",
     [[evidence(person(ALEX, "sid"))], [evidence(person(ALEX, "upn"))], [evidence(person(ALEX, "oid"))]], {ALEX}, "success"),
    ("conflict beside clean evidence", "Alex's object id with the admin's UPN, beside Adele's clean SID",
     [[evidence(dict(person(ALEX, "oid"), userPrincipalName=_upn(ADMIN))), evidence(person(ADELE, "sid"))]], {ADELE}, "incomplete"),
    ("two SIDs for one UPN", "Alex's UPN with his SID in one alert and Adele's SID in another",
     [[evidence(person(ALEX, "sid", "upn"))], [evidence(dict(person(ALEX, "upn"), userSid=_sid(ADELE)))]], set(), "incomplete"),
    ("protected by UPN", "the break-glass account's UPN", [[evidence(person(GLASS, "upn"))]], set(), "success"),
    ("duplicate display names", "the UPN of one of two identities named Alex Johnson", [[evidence(person(ALEX_JOHNSON, "upn"))]],
     {ALEX_JOHNSON}, "success"),
]
RENAMED = ("rename to a protected name", "Alex renamed \"Break-Glass (Alex)\", named by his SID", {ALEX}, "success")


def identity_writes(emulator):
    """Identity ids that some request wrote to: invokeAction paths, Entra ID users and riskyUsers by object id."""
    touched = []
    for entry in emulator.admin.writes():
        parts = entry["path"].split("/")
        if entry["route"] == "invoke_action":
            touched.append(parts[-2])
        elif "users" in parts:
            touched.append(BY_OBJECT_ID.get(parts[parts.index("users") + 1], parts[parts.index("users") + 1]))
        elif "riskyUsers" in parts:
            touched.extend(BY_OBJECT_ID.get(user, user) for user in (entry.get("body") or {}).get("userIds") or [])
    return touched


def comments(emulator, incident_id):
    stored = next(item for item in emulator.admin.incidents()["incidents"] if item["id"] == incident_id)
    return [item["comment"] for item in stored["comments"]]


def check_run(emulator, result, incident_id, contained, outcome):
    """The assertions every case shares; returns (identity writes, comment)."""
    written = identity_writes(emulator)
    strangers = sorted(set(written) - contained)
    assert strangers == [], f"wrote to identities the case does not name as compromised: {strangers}"
    assert set(written) == contained, f"expected {sorted(contained)} contained, wrote to {sorted(set(written))}"
    texts = comments(emulator, incident_id)
    assert len(texts) == 1, f"{len(texts)} comments"
    comment = texts[0]
    lines = comment.split("\n")
    assert lines[0].startswith(f"{PREFIX}, incident {incident_id}: ")
    assert len(comment) <= COMMENT_BOUND, f"comment of {len(comment)} characters"
    assert not any(line.startswith("Megan Bowen <") for line in lines), "a forged line reached the comment"
    assert not any(ch in comment for ch in "\r\x1b\u2028\u2029\u202e"), "a control character reached the comment"
    if outcome == "success":
        assert result.rc == 0, f"rc {result.rc}: {result.output[-600:]}"
        assert "containment executed" in lines[0] and "NOT CONTAINED" not in comment
    else:
        assert result.rc != 0, "a run that left someone uncontained ended as a success"
        assert "containment INCOMPLETE" in lines[0] and "NOT CONTAINED" in comment
    return written, comment


def seed(emulator, incident_id, alerts):
    emulator.admin.put_incident({"id": incident_id, "severity": "high", "alerts": [
        {"id": f"da{incident_id}x{number}", "evidence": items} for number, items in enumerate(alerts)]})


def run(ansible, incident_id, **extra):
    return ansible.play(PLAYBOOK, extra_vars=dict({"incident_id": incident_id, "execute_containment": True}, **extra),
                        client="incident_responder")


def observed(result, written, comment):
    return f"rc {result.rc}; identities written to: {len(set(written))}; comment: {comment.split(chr(10))[0].split(': ', 1)[-1]}"


@pytest.mark.parametrize("number", range(len(CASES)), ids=[case[0] for case in CASES])
def test_adversarial_evidence_never_contains_the_wrong_identity(ansible, emulator, reliability, number):
    name, description, alerts, contained, outcome = CASES[number]
    incident_id = str(6000 + number)
    expected = ("contains " + ", ".join(IDENTITIES[i]["displayName"] for i in sorted(contained)) if contained else "contains nobody") + \
        ("; success" if outcome == "success" else "; fails naming who was not contained")
    with reliability.case("adversarial", f"{name}: {description}", "respond_to_incident", expected) as case:
        seed(emulator, incident_id, alerts)
        result = run(ansible, incident_id)
        written, comment = check_run(emulator, result, incident_id, contained, outcome)
        case["writes"] = len([entry for entry in emulator.admin.writes() if entry["route"] not in ("add_incident_comment", "update_incident")])
        case["observed"] = observed(result, written, comment)
        if name == "same person in several alerts":
            sent = [(entry["path"], entry["body"]["identityProvider"], entry["body"]["action"]) for entry in emulator.admin.requests(route="invoke_action")]
            assert len(sent) == len(set(sent)), f"an action was sent twice: {sent}"
        if name == "protected by UPN":
            assert "PROTECTED, SKIPPED" in comment
        if name in ("contextual", "noThreatsFound"):
            assert "not a target" in comment and "benign" in comment
    reliability.verify()


def test_a_rename_to_a_protected_name_does_not_escape_containment(ansible, emulator, reliability):
    name, description, contained, outcome = RENAMED
    with reliability.case("adversarial", f"{name}: {description}", "respond_to_incident", "contains Alex Wilber; success") as case:
        renamed = copy.deepcopy(IDENTITIES[ALEX])
        renamed["displayName"] = "Break-Glass (Alex)"
        emulator.admin.put_identity(renamed)
        seed(emulator, "6100", [[evidence(person(ALEX, "sid"))]])
        result = run(ansible, "6100")
        written, comment = check_run(emulator, result, "6100", contained, outcome)
        assert "PROTECTED" not in comment
        case["writes"] = len(written)
        case["observed"] = observed(result, written, comment)
    reliability.verify()


def test_the_same_incident_run_again_sends_nothing_new(ansible, emulator, reliability):
    with reliability.case("adversarial", "replayed incident: the same evidence run twice (an event source re-emitting it)",
                          "respond_to_incident", "the second run sends nothing and adds no comment", expected_writes=0) as case:
        seed(emulator, "6101", [[evidence(person(ALEX, "oid", "sid", "upn"))]])
        first = run(ansible, "6101")
        check_run(emulator, first, "6101", {ALEX}, "success")
        before = len(emulator.admin.writes())
        second = run(ansible, "6101")
        assert second.rc == 0, second.output[-600:]
        case["writes"] = len(emulator.admin.writes()) - before
        assert case["writes"] == 0, f"the second run wrote {case['writes']} time(s)"
        assert len(comments(emulator, "6101")) == 1
        case["observed"] = f"second run rc {second.rc}; {case['writes']} new writes; 1 comment"
    reliability.verify()
