# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of evidence to targets and identities: the persons user evidence names, benign evidence, and a person
confirmed by every identifier or rejected (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from pathlib import Path

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _evidence as evidence_rules
from ansible_collections.msgraph.security.plugins.module_utils import _incidents as inc
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError

SEED = Path(__file__).resolve().parents[3] / "emulator" / "graph_emulator" / "data" / "incidents.json"


# --- evidence to targets -------------------------------------------------------------------------

ALEX_OID, ALEX_SID, ALEX_UPN = "4a427b07-2380-51f4-b5d1-7f9abdd896d3", "S-1-5-21-1004336348-1177238915-682003330-1105", "alexw@contoso.com"
ADELE_SID = "S-1-5-21-1004336348-1177238915-682003330-1104"
DEBRA_OID = "d485ff87-7789-55bf-8349-9deb7153ce79"


def seed_alerts():
    return [inc.parse_alert(item) for item in json.loads(SEED.read_text(encoding="utf-8"))["alerts"] if item["incidentId"] == "4711"]


def user(roles=("compromised",), verdict="suspicious", **account):
    return dict({"type": "userEvidence", "roles": list(roles), "verdict": verdict}, **account)


def test_evidence_targets_merges_duplicates_and_looks_up_every_identifier_object_id_first():
    result = evidence_rules.evidence_targets(seed_alerts())
    by_input = {person["input"]: person for person in result["persons"]}
    alex = by_input[ALEX_OID]  # the object id names the person: the least spoofable identifier
    assert alex["alerts"] == ["da4711_ptt_0001", "da4711_ptt_0002"]  # the UPN-only evidence merged in
    assert [(lookup["by"], lookup.get("account_identifier") or lookup.get("on_premises_security_identifier")
             or lookup.get("user_principal_name")) for lookup in alex["lookups"]] == [
        ("azure_ad_user_id", ALEX_OID), ("on_premises_security_identifier", ALEX_SID), ("user_principal_name", ALEX_UPN)]
    assert by_input[DEBRA_OID]["lookups"] == [{"person": DEBRA_OID, "by": "azure_ad_user_id", "account_identifier": DEBRA_OID}]
    assert "targets" not in result  # the unconfirmed shortcut is gone
    assert [(item["account_name"], item["benign"]) for item in result["unidentified"]] == [("jdoe", "roles contextual")]
    assert result["conflicts"] == [] and result["excluded"] == []


def test_well_known_sids_and_contradicting_evidence_are_never_targeted():
    evidence = [
        user(user_sid="S-1-5-18", account_name="SYSTEM"),
        user(user_sid="S-1-5-21-1-2-3-500", user_principal_name="a@contoso.com"),
        user(user_sid="S-1-5-21-1-2-3-501", user_principal_name="A@contoso.com"),
        {"type": "deviceEvidence", "user_principal_name": "ignored@contoso.com"},
    ]
    result = evidence_rules.evidence_targets(evidence)
    assert result["persons"] == []
    assert "not a domain account SID" in result["unidentified"][0]["reason"]
    assert "more than one userSid" in result["conflicts"][0]["reason"]


@pytest.mark.parametrize("evidence, reason", [
    (user(roles=["contextual"], user_principal_name="bob@contoso.com"), "roles contextual"),
    (user(roles=["compromised"], verdict="noThreatsFound", user_principal_name="bob@contoso.com"), "verdict noThreatsFound"),
    (user(roles=["contextual"], verdict="NoThreatsFound", user_principal_name="bob@contoso.com"), "verdict NoThreatsFound"),
])
def test_benign_evidence_is_excluded_with_its_reason(evidence, reason):
    result = evidence_rules.evidence_targets([evidence])
    assert result["persons"] == []
    assert [item["input"] for item in result["excluded"]] == ["bob@contoso.com"]
    assert reason in result["excluded"][0]["reason"]


def test_one_malicious_evidence_item_makes_the_person_a_target_and_options_widen_or_narrow():
    mixed = [user(roles=["contextual"], user_principal_name="bob@contoso.com"),
             user(roles=["compromised", "contextual"], user_principal_name="bob@contoso.com")]
    assert [person["input"] for person in evidence_rules.evidence_targets(mixed)["persons"]] == ["bob@contoso.com"]
    contextual = [user(roles=["contextual"], user_principal_name="bob@contoso.com")]
    assert evidence_rules.evidence_targets(contextual, benign_roles=[])["persons"][0]["input"] == "bob@contoso.com"  # widened
    scanned = [user(roles=["scanned"], user_principal_name="bob@contoso.com")]
    assert evidence_rules.evidence_targets(scanned, benign_roles="contextual, scanned")["persons"] == []  # narrowed
    with pytest.raises(InputError) as caught:
        evidence_rules.evidence_targets(contextual, benign_roles=["contextal"])
    assert "benign_roles" in str(caught.value) and "contextual" in str(caught.value)
    with pytest.raises(InputError):
        evidence_rules.evidence_targets(contextual, benign_verdicts=["clean"])


@pytest.mark.parametrize("upn", ["eve@contoso.com\nMegan Bowen: CONTAINED", "eve\x1b[2J@contoso.com", "eve@contoso.com\u202e"])
def test_an_identifier_with_control_characters_is_unusable_and_quoted_in_the_reason(upn):
    result = evidence_rules.evidence_targets([user(user_principal_name=upn, account_name="eve")])
    assert result["persons"] == []
    reason = result["unidentified"][0]["reason"]
    assert "\n" not in reason and "\x1b" not in reason and "\u202e" not in reason and '"' in reason


def identity(identity_id, upn=None, sid=None, entra=None):
    accounts = [{"identifier": entra, "identity_provider": "entraID"}] if entra else []
    return {"id": identity_id, "display_name": identity_id, "user_principal_name": upn, "on_premises_security_identifier": sid,
            "accounts": accounts}


def answers(*found_lists):
    return {"results": [{"identity_accounts": found} for found in found_lists]}


@pytest.mark.parametrize("persons, lookups", [(None, []), (None, {"results": []}), ([], None)])
def test_evidence_identities_of_no_evidence_is_empty(persons, lookups):
    assert evidence_rules.evidence_identities(persons, lookups) == {"identities": [], "rejected": [], "not_found": [], "ambiguous": []}


def test_evidence_identities_refuses_lookups_without_persons():
    with pytest.raises(InputError) as caught:
        evidence_rules.evidence_identities(None, [{"identity_accounts": []}])
    assert "0 lookups, 1 results" in str(caught.value)


ALEX = identity("alex", ALEX_UPN, ALEX_SID, ALEX_OID)
ADMIN = identity("admin", "adm-tier0@contoso.com", "S-1-5-21-1004336348-1177238915-682003330-1137")


def resolve(evidence, *found_lists):
    persons = evidence_rules.evidence_targets(evidence)["persons"]
    return evidence_rules.evidence_identities(persons, answers(*found_lists))


def test_a_person_confirmed_by_every_identifier_is_an_identity():
    result = resolve([user(azure_ad_user_id=ALEX_OID.upper(), user_sid=ALEX_SID, user_principal_name="AlexW@contoso.com")], [ALEX], [ALEX], [ALEX])
    assert [(item["id"], item["input"]) for item in result["identities"]] == [("alex", ALEX_OID)]
    assert result["rejected"] == []


@pytest.mark.parametrize("evidence, found, kind, why", [
    # the case: an admin's UPN with the attacker's object id; each lookup finds a different identity
    ([user(azure_ad_user_id=ALEX_OID, user_principal_name="adm-tier0@contoso.com")], [[ALEX], [ADMIN]], "contradicting",
     "the identifiers name different identities"),
    # a UPN that matches nobody beside a real object id
    ([user(azure_ad_user_id=ALEX_OID, user_principal_name="ghost@contoso.com")], [[ALEX], []], "contradicting",
     "no identity has userPrincipalName ghost@contoso.com"),
    # one person's SID with another person's UPN
    ([user(user_sid=ADELE_SID, user_principal_name=ALEX_UPN)], [[identity("adele", "adelev@contoso.com", ADELE_SID)], [ALEX]],
     "contradicting", "different identities"),
    # an identifier the identity cannot confirm is a mismatch, not a match (the old rule let a missing UPN pass)
    ([user(user_sid=ADELE_SID, user_principal_name="adelev@contoso.com")], [[identity("adele", None, ADELE_SID)], [identity("adele", None, ADELE_SID)]],
     "contradicting", "it has no userPrincipalName to confirm adelev@contoso.com"),
    # the object id is confirmed against the entraID account's identifier, not a derived cloud SID
    ([user(azure_ad_user_id=ALEX_OID)], [[identity("alex", ALEX_UPN, ALEX_SID)]], "contradicting", "it has no entraID account"),
    ([user(azure_ad_user_id=ALEX_OID)], [[identity("other", "o@contoso.com", None, DEBRA_OID)]], "contradicting",
     f"its entraID account is {DEBRA_OID}, not azureAdUserId {ALEX_OID}"),
    ([user(user_principal_name="chris@contoso.com")], [[identity("c1", "chris@contoso.com"), identity("c2", "chris@contoso.com")]],
     "several", "2 identities have userPrincipalName chris@contoso.com"),
    ([user(user_principal_name="nobody@contoso.com")], [[]], "not_found", "no identity has userPrincipalName nobody@contoso.com"),
    # a lookup the service answered wrongly
    ([user(user_principal_name="eve@contoso.com")], [[identity("mallory", "mallory@contoso.com")]], "contradicting",
     "its userPrincipalName is mallory@contoso.com, not eve@contoso.com"),
])
def test_a_person_is_never_an_identity_unless_every_identifier_confirms_one(evidence, found, kind, why):
    result = resolve(evidence, *found)
    assert result["identities"] == []
    assert [item["kind"] for item in result["rejected"]] == [kind]
    assert why in result["rejected"][0]["reason"] and result["rejected"][0]["reason"].endswith("not contained")
    assert (result["not_found"] if kind == "not_found" else result["ambiguous"]) == result["rejected"]


def test_conflicting_evidence_for_one_person_does_not_block_another():
    evidence = [user(azure_ad_user_id=ALEX_OID, user_principal_name="adm-tier0@contoso.com"),
                user(user_sid=ADELE_SID, account_name="adelev")]
    adele = identity("adele", "adelev@contoso.com", ADELE_SID)
    result = resolve(evidence, [ALEX], [ADMIN], [adele])
    assert [item["id"] for item in result["identities"]] == ["adele"]
    assert [item["input"] for item in result["rejected"]] == [ALEX_OID]
