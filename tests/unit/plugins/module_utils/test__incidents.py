# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the Defender XDR incidents domain layer: Microsoft's example payloads, filters, idempotent updates,
and evidence to targets (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
from pathlib import Path

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _incidents as inc
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.tests.unit.plugins.modules.conftest import FakeGraphClient, FakeResponse

PAYLOADS = Path(__file__).resolve().parents[3] / "contract" / "payloads" / "incidents"
SEED = Path(__file__).resolve().parents[3] / "emulator" / "graph_emulator" / "data" / "incidents.json"
PATH = "/security/incidents/2972395"


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


class PatchingClient(FakeGraphClient):
    def patch(self, path, body=None, client_request_id=None, permission=None):
        self.calls.append({"method": "PATCH", "path": path, "body": body, "permission": permission})
        answer = self._answer(self.routes[("PATCH", path)], path, body)
        return answer if isinstance(answer, FakeResponse) else FakeResponse(answer)


# --- Microsoft's payloads ------------------------------------------------------------------------

def test_the_get_example_pascalcase_and_createdby_comments_become_schema_form():
    incident = inc.parse_incident(payload("incident-get-response.json"))
    assert (incident["status"], incident["severity"], incident["classification"], incident["determination"]) == \
        ("active", "medium", "truePositive", "multiStagedAttack")
    assert incident["comments"] == [{"comment": "Demo incident", "created_by_display_name": "DavidS@contoso.onmicrosoft.com",
                                     "created_date_time": "2021-09-30T12:07:37.2756993Z"}]
    assert incident["custom_tags"] == ["Demo"] and "alerts" not in incident


def test_the_expand_example_tags_and_alert_evidence():
    incident = inc.parse_incident(payload("incidents-list-expand-alerts-response.json")["value"][0])
    assert incident["custom_tags"] == ["Demo"]
    evidence = incident["alerts"][0]["evidence"][0]
    assert (evidence["type"], evidence["account_name"], evidence["user_sid"]) == ("processEvidence", "SYSTEM", "S-1-5-18")
    assert evidence["properties"]["processId"] == 4780 and "userAccount" not in evidence["properties"]


def test_the_alert_example_and_the_comment_response():
    alert = inc.parse_alert(payload("alert-get-response.json"))
    assert alert["service_source"] == "microsoftDefenderForEndpoint" and len(alert["evidence"]) == 3
    assert alert["evidence"][0]["properties"]["deviceDnsName"] == "tempDns"
    comments = [inc.parse_comment(item) for item in payload("incident-post-comment-response.json")["value"]]
    assert comments[1]["comment"] == "Demo for docs" and comments[1]["created_by_display_name"] == "secAdmin@contoso.com"


def test_the_update_example_request_is_what_plan_patch_sends_for_its_values():
    current = inc.parse_incident(dict(payload("incident-get-response.json"), classification="Unknown", determination="Unknown",
                                      customTags=[]))
    desired = inc.normalize_desired({"classification": "TruePositive", "determination": "MultiStagedAttack", "custom_tags": ["Demo"]})
    body = inc.plan_patch(current, desired)
    example = payload("incident-update-request.json")
    assert body == {"classification": "truePositive", "determination": "multiStagedAttack", "customTags": ["Demo"]}
    assert {key: value.lower() if isinstance(value, str) else value for key, value in example.items()} == \
        {key: value.lower() if isinstance(value, str) else value for key, value in body.items()}


# --- input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2026-05-01T10:00:00+02:00", "2026-05-01T08:00:00Z"),
    ("2026-05-01", "2026-05-01T00:00:00Z"),
    ("2021-09-30T09:35:45.1133333Z", "2021-09-30T09:35:45.113333Z"),
    ("2026-05-01 08:00", "2026-05-01T08:00:00Z"),
])
def test_timestamps_become_utc(value, expected):
    assert inc.normalize_timestamp(value, "updated_since") == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", ""])
def test_bad_timestamps_name_the_option(value):
    with pytest.raises(InputError) as caught:
        inc.normalize_timestamp(value, "updated_since")
    assert caught.value.option == "updated_since"


def test_desired_values_take_both_documented_determination_spellings_and_refuse_redirected():
    assert inc.normalize_desired({"determination": "compromisedUser"}) == {"determination": "compromisedAccount"}
    assert inc.normalize_desired({"determination": "ConfirmedActivity"}) == {"determination": "confirmedActivity"}
    with pytest.raises(InputError, match="status"):
        inc.normalize_desired({"status": "redirected"})
    with pytest.raises(InputError) as caught:
        inc.normalize_desired({"determination": "guilty"})
    assert caught.value.option == "determination"


def test_filter_joins_values_with_or_and_properties_with_and():
    assert inc.build_filter(["high", "medium"], ["active"], "2026-05-01T00:00:00Z", odata_filter="assignedTo eq null") == \
        "(severity eq 'high' or severity eq 'medium') and status eq 'active' and lastUpdateDateTime ge 2026-05-01T00:00:00Z " \
        "and (assignedTo eq null)"
    assert inc.build_filter() is None


def test_list_rechecks_the_bounds_a_service_might_ignore():
    seed = json.loads(SEED.read_text(encoding="utf-8"))["incidents"]
    client = FakeGraphClient(collections={"/security/incidents": seed})
    found = inc.list_incidents(client, severities=["high"], updated_since="2026-05-01T08:30:00Z")
    assert [item["id"] for item in found] == ["4711"]
    assert client.calls[0]["params"]["$filter"] == "severity eq 'high' and lastUpdateDateTime ge 2026-05-01T08:30:00Z"


# --- update --------------------------------------------------------------------------------------

def stored():
    return dict(payload("incident-get-response.json"), id="2972395")


def test_update_sends_only_differences_and_comments_once():
    client = PatchingClient(routes={("GET", PATH): stored(), ("PATCH", PATH): lambda path, body: dict(stored(), **body),
                                    ("POST", PATH + "/comments"): {"value": [{"comment": "done"}]}})
    result = inc.update_incident(client, "2972395", inc.normalize_desired({"status": "active", "assigned_to": "me@contoso.com",
                                                                           "custom_tags": ["Demo"]}), comment="done")
    assert [call["body"] for call in client.calls_of("PATCH")] == [{"assignedTo": "me@contoso.com"}]
    assert result["changed"] and result["patched"] == ["assignedTo"] and result["comment_added"]
    assert client.calls_of("PATCH")[0]["permission"] == "SecurityIncident.ReadWrite.All"

    client = PatchingClient(routes={("GET", PATH): stored()})
    again = inc.update_incident(client, "2972395", inc.normalize_desired({"status": "Active"}), comment="  Demo\n incident ")
    assert again["changed"] is False and again["requests"] == [] and client.calls_of("POST") == []


def test_check_mode_previews_and_sends_nothing():
    client = PatchingClient(routes={("GET", PATH): stored()})
    result = inc.update_incident(client, "2972395", {"status": "resolved"}, comment="x", check_mode=True)
    assert [request["method"] for request in result["requests"]] == ["PATCH", "POST"]
    assert result["incident"]["status"] == "resolved" and result["diff"]["after"]["comments"] == 2
    assert client.calls_of("PATCH") == [] and client.calls_of("POST") == []


def test_unknown_outcomes_are_reconciled_by_reading_never_resent():
    reads = iter([stored(), dict(stored(), status="resolved")])
    client = PatchingClient(routes={("GET", PATH): lambda path, params: next(reads),
                                    ("PATCH", PATH): GraphOutcomeUnknownError("timed out", code="Timeout")})
    warnings = []
    result = inc.update_incident(client, "2972395", {"status": "resolved"}, warn=warnings.append)
    assert result["incident"]["status"] == "resolved" and "outcome was unknown" in warnings[0]
    assert len(client.calls_of("PATCH")) == 1

    client = PatchingClient(routes={("GET", PATH): stored(), ("POST", PATH + "/comments"): GraphOutcomeUnknownError("reset")})
    with pytest.raises(GraphOutcomeUnknownError):
        inc.update_incident(client, "2972395", {}, comment="new")
    assert len(client.calls_of("POST")) == 1


def test_a_missing_incident_fails_with_a_hint_and_keeps_graphs_code_and_request_ids():
    graph = GraphError("Incident not found", status=404, code="ResourceNotFound", request_id="req-404", client_request_id="cri-404")
    client = PatchingClient(routes={("GET", PATH): graph})
    with pytest.raises(GraphError) as caught:
        inc.update_incident(client, "2972395", {"status": "resolved"})
    error = caught.value
    assert error.status == 404 and "incident_info" in error.hint and "2972395 was not found" in error.message
    assert (error.code, error.request_id, error.client_request_id) == ("ResourceNotFound", "req-404", "cri-404")


@pytest.mark.parametrize("write", ["PATCH", "comment"])
def test_an_unknown_write_stays_unknown_when_reading_the_incident_again_fails(write):
    reads = iter([stored(), GraphError("throttled", status=503, code="ServiceUnavailable", request_id="req-read")])

    def read(path, params):
        answer = next(reads)
        if isinstance(answer, Exception):
            raise answer
        return answer
    unknown = GraphOutcomeUnknownError("timed out", code="Timeout", client_request_id="cri-write", method="PATCH")
    routes = {("GET", PATH): read, ("PATCH", PATH): unknown, ("POST", PATH + "/comments"): unknown}
    client = PatchingClient(routes=routes)
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        if write == "PATCH":
            inc.update_incident(client, "2972395", {"status": "resolved"})
        else:
            inc.update_incident(client, "2972395", {}, comment="new")
    error = caught.value
    assert error.to_result()["outcome"] == "unknown" and error.client_request_id == "cri-write"
    assert "failed too" in error.message and "throttled" in error.message
    assert len(client.calls_of("PATCH")) + len(client.calls_of("POST")) == 1  # never resent


# --- several values of one property --------------------------------------------------------------

def _refusing_or(items):
    def answer(params):
        if " or " in (params.get("$filter") or ""):
            raise GraphError("Invalid filter clause", status=400, code="BadRequest", request_id="req-or")
        found = items
        for prop in ("severity", "status", "serviceSource"):
            for value in ("high", "medium", "low", "active", "resolved", "microsoftDefenderForIdentity"):
                if f"{prop} eq '{value}'" in params["$filter"]:
                    found = [item for item in found if item.get(prop) == value]
        return found
    return answer


INCIDENTS = [
    {"id": "1", "severity": "high", "status": "active", "lastUpdateDateTime": "2026-05-01T08:00:00Z"},
    {"id": "2", "severity": "medium", "status": "resolved", "lastUpdateDateTime": "2026-05-01T09:00:00Z"},
    {"id": "3", "severity": "low", "status": "active", "lastUpdateDateTime": "2026-05-01T10:00:00Z"},
    {"id": "4", "severity": "medium", "status": "active", "lastUpdateDateTime": "2026-05-01T11:00:00Z"},
]


def test_a_service_that_takes_or_gets_one_combined_query():
    client = FakeGraphClient(collections={"/security/incidents": lambda params: [i for i in INCIDENTS if i["id"] in ("1", "2", "4")]})
    found = inc.list_incidents(client, severities=["high", "medium"])
    assert [call["params"]["$filter"] for call in client.calls] == ["(severity eq 'high' or severity eq 'medium')"]
    assert [item["id"] for item in found] == ["1", "2", "4"]


def test_a_refused_or_is_answered_by_one_documented_query_per_combination_merged_newest_first():
    client = FakeGraphClient(collections={"/security/incidents": _refusing_or(INCIDENTS)})
    warnings = []
    found = inc.list_incidents(client, severities=["high", "medium"], statuses=["active", "resolved"], warn=warnings.append)
    filters = [call["params"]["$filter"] for call in client.calls]
    assert filters[0] == "(severity eq 'high' or severity eq 'medium') and (status eq 'active' or status eq 'resolved')"
    assert sorted(filters[1:]) == sorted(f"severity eq '{sev}' and status eq '{st}'" for sev in ("high", "medium")
                                         for st in ("active", "resolved"))
    assert [item["id"] for item in found] == ["4", "2", "1"]
    assert len(warnings) == 1 and "4 queries" in warnings[0] and "req-or" in warnings[0]


def test_the_merge_removes_duplicates_by_id_and_applies_top_after_merging():
    def duplicated(params):
        return [INCIDENTS[3], INCIDENTS[0]] if " or " not in params["$filter"] else _refusing_or([])(params)
    client = FakeGraphClient(collections={"/security/alerts_v2": duplicated})
    found = inc.list_alerts(client, severities=["high", "medium"], top=1)
    assert len(client.calls) == 3 and [call["params"]["$top"] for call in client.calls] == [1, 1, 1]
    assert [item["id"] for item in found] == ["4"]
    assert [item["id"] for item in inc.list_alerts(client, severities=["high", "medium"])] == ["4", "1"]  # each once


@pytest.mark.parametrize("severities", [["high"], None])
def test_a_400_without_several_values_is_the_services_answer(severities):
    client = FakeGraphClient(collections={"/security/incidents": GraphError("bad", status=400, code="BadRequest")})
    with pytest.raises(GraphError):
        inc.list_incidents(client, severities=severities, odata_filter="bogus eq 1")
    assert len(client.calls) == 1


# --- evidence to targets -------------------------------------------------------------------------

ALEX_OID, ALEX_SID, ALEX_UPN = "4a427b07-2380-51f4-b5d1-7f9abdd896d3", "S-1-5-21-1004336348-1177238915-682003330-1105", "alexw@contoso.com"
ADELE_SID = "S-1-5-21-1004336348-1177238915-682003330-1104"
DEBRA_OID = "d485ff87-7789-55bf-8349-9deb7153ce79"


def seed_alerts():
    return [inc.parse_alert(item) for item in json.loads(SEED.read_text(encoding="utf-8"))["alerts"] if item["incidentId"] == "4711"]


def user(roles=("compromised",), verdict="suspicious", **account):
    return dict({"type": "userEvidence", "roles": list(roles), "verdict": verdict}, **account)


def test_evidence_targets_merges_duplicates_and_looks_up_every_identifier_object_id_first():
    result = inc.evidence_targets(seed_alerts())
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
    result = inc.evidence_targets(evidence)
    assert result["persons"] == []
    assert "not a domain account SID" in result["unidentified"][0]["reason"]
    assert "more than one userSid" in result["conflicts"][0]["reason"]


@pytest.mark.parametrize("evidence, reason", [
    (user(roles=["contextual"], user_principal_name="bob@contoso.com"), "roles contextual"),
    (user(roles=["compromised"], verdict="noThreatsFound", user_principal_name="bob@contoso.com"), "verdict noThreatsFound"),
    (user(roles=["contextual"], verdict="NoThreatsFound", user_principal_name="bob@contoso.com"), "verdict NoThreatsFound"),
])
def test_benign_evidence_is_excluded_with_its_reason(evidence, reason):
    result = inc.evidence_targets([evidence])
    assert result["persons"] == []
    assert [item["input"] for item in result["excluded"]] == ["bob@contoso.com"]
    assert reason in result["excluded"][0]["reason"]


def test_one_malicious_evidence_item_makes_the_person_a_target_and_options_widen_or_narrow():
    mixed = [user(roles=["contextual"], user_principal_name="bob@contoso.com"),
             user(roles=["compromised", "contextual"], user_principal_name="bob@contoso.com")]
    assert [person["input"] for person in inc.evidence_targets(mixed)["persons"]] == ["bob@contoso.com"]
    contextual = [user(roles=["contextual"], user_principal_name="bob@contoso.com")]
    assert inc.evidence_targets(contextual, benign_roles=[])["persons"][0]["input"] == "bob@contoso.com"  # widened
    scanned = [user(roles=["scanned"], user_principal_name="bob@contoso.com")]
    assert inc.evidence_targets(scanned, benign_roles="contextual, scanned")["persons"] == []  # narrowed
    with pytest.raises(InputError) as caught:
        inc.evidence_targets(contextual, benign_roles=["contextal"])
    assert "benign_roles" in str(caught.value) and "contextual" in str(caught.value)
    with pytest.raises(InputError):
        inc.evidence_targets(contextual, benign_verdicts=["clean"])


@pytest.mark.parametrize("upn", ["eve@contoso.com\nMegan Bowen: CONTAINED", "eve\x1b[2J@contoso.com", "eve@contoso.com\u202e"])
def test_an_identifier_with_control_characters_is_unusable_and_quoted_in_the_reason(upn):
    result = inc.evidence_targets([user(user_principal_name=upn, account_name="eve")])
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
    assert inc.evidence_identities(persons, lookups) == {"identities": [], "rejected": [], "not_found": [], "ambiguous": []}


def test_evidence_identities_refuses_lookups_without_persons():
    with pytest.raises(InputError) as caught:
        inc.evidence_identities(None, [{"identity_accounts": []}])
    assert "0 lookups, 1 results" in str(caught.value)


ALEX = identity("alex", ALEX_UPN, ALEX_SID, ALEX_OID)
ADMIN = identity("admin", "adm-tier0@contoso.com", "S-1-5-21-1004336348-1177238915-682003330-1137")


def resolve(evidence, *found_lists):
    persons = inc.evidence_targets(evidence)["persons"]
    return inc.evidence_identities(persons, answers(*found_lists))


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


# --- the event source's watermark ----------------------------------------------------------------

def update(incident_id, when, **extra):
    return dict({"id": incident_id, "last_update_date_time": when, "alerts": []}, **extra)


def test_watermark_emits_each_update_once_including_ties_and_survives_a_round_trip():
    mark = inc.Watermark("2026-05-01T08:00:00Z")
    first = [update("2", "2026-05-01T08:05:00.1234567Z"), update("1", "2026-05-01T08:05:00.1234567Z"), update("3", "2026-05-01T07:00:00Z")]
    chosen = inc.incidents_to_emit(first, mark)
    assert [item["id"] for item in chosen] == ["3", "1", "2"]  # oldest update first, ties by id
    for item in chosen:
        mark.mark(item)
    # every handled incident is remembered (bounded by MAX_REMEMBERED): a later own write is recognised as such
    assert mark.since == "2026-05-01T08:05:00.123456Z" and sorted(mark.emitted) == ["1", "2", "3"]
    restored = inc.Watermark.from_dict(mark.to_dict(), "2020-01-01T00:00:00Z")
    again = [update("1", "2026-05-01T08:05:00.1234567Z"), update("2", "2026-05-01T08:06:00Z"),
             update("4", "2026-05-01T08:05:00.1234567Z")]  # 4 arrived late with the same time: still new
    assert [item["id"] for item in inc.incidents_to_emit(again, restored)] == ["4", "2"]


def test_watermark_service_source_filter_needs_a_matching_alert():
    mark = inc.Watermark("2026-05-01T08:00:00Z")
    items = [update("1", "2026-05-01T08:01:00Z", alerts=[{"service_source": "microsoftDefenderForEndpoint"}]),
             update("2", "2026-05-01T08:01:00Z", alerts=[{"service_source": "microsoftDefenderForIdentity"}])]
    assert [item["id"] for item in inc.incidents_to_emit(items, mark, ["microsoftDefenderForIdentity"])] == ["2"]
    assert inc.Watermark.from_dict(None, "2026-05-01").since == "2026-05-01T00:00:00Z"


# --- loop-proofing: the collection's own write --------------------------------------------------------------

OWN = "msgraph.security respond_to_incident, incident 7: containment executed"


def parsed(when, comments=(), status="active", assigned_to=None, alerts=None, **extra):
    raw = {"id": "7", "lastUpdateDateTime": when, "status": status, "assignedTo": assigned_to, "severity": "high",
           "comments": [{"comment": text} for text in comments],
           "alerts": alerts if alerts is not None else [{"id": "a1", "status": "new", "lastUpdateDateTime": when, "evidence": []}]}
    raw.update(extra)
    return inc.parse_incident(raw)


def test_own_comments_are_recognised_by_their_first_line_only():
    assert inc.is_own_comment(OWN + "\nmore") and inc.is_own_comment({"comment": "  " + OWN})
    assert not inc.is_own_comment("note: " + OWN) and not inc.is_own_comment(None) and not inc.is_own_comment(5)


def test_decide_tells_our_write_from_anyone_elses():
    mark = inc.Watermark("2026-05-01T08:00:00Z")
    first = parsed("2026-05-01T08:01:00Z")
    assert mark.decide(first) == "new"
    mark.mark(first)
    assert mark.decide(first) == "seen"
    ours = parsed("2026-05-01T08:02:00Z", comments=[OWN], status="inProgress", assigned_to="soc@contoso.com",
                  alerts=[{"id": "a1", "status": "inProgress", "lastUpdateDateTime": "2026-05-01T08:02:00Z", "evidence": []}])
    assert mark.decide(ours) == "own_write"
    assert mark.decide(parsed("2026-05-01T08:02:00Z", status="resolved")) == "new"  # no audit comment came with it
    assert mark.decide(parsed("2026-05-01T08:02:00Z", comments=[OWN], severity="medium")) == "new"
    assert mark.decide(parsed("2026-05-01T08:02:00Z", comments=["a person's note"])) == "new"
    assert mark.decide(parsed("2026-05-01T08:02:00Z", alerts=[{"id": "a1", "evidence": []}, {"id": "a2", "evidence": []}])) == "new"
    emit, absorb = inc.plan_emission([ours], mark)
    assert (emit, [item["id"] for item in absorb]) == ([], ["7"])


def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(inc, "MAX_REMEMBERED", 3)
    mark = inc.Watermark("2026-05-01T08:00:00Z")
    for minute in range(5):
        mark.mark(update(str(minute), f"2026-05-01T08:0{minute}:00Z"))
    assert sorted(mark.emitted) == ["2", "3", "4"]  # the oldest updates are forgotten first


def test_a_future_watermark_is_refused_and_a_near_one_kept():
    now = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.timezone.utc)
    mark = inc.Watermark("2026-05-01T09:04:00Z")
    assert mark.refuse_future(now, "2026-05-01T08:00:00Z") is None  # within clock skew
    mark = inc.Watermark("2031-01-01T00:00:00Z")
    assert "in the future" in mark.refuse_future(now, "2026-05-01T08:00:00Z") and mark.since == "2026-05-01T08:00:00Z"


def test_parse_each_skips_a_malformed_item_only_when_asked():
    messages = []
    items = [{"id": "8", "comments": 5}, {"id": "9"}]
    assert [item["id"] for item in inc.parse_each(items, inc.parse_incident, messages.append)] == ["9"]
    assert "'8'" in messages[0]
    with pytest.raises(TypeError):
        inc.parse_each(items, inc.parse_incident)


def test_awaiting_action_is_refused_as_input_with_the_reason():
    with pytest.raises(InputError) as caught:
        inc.normalize_desired({"status": "AwaitingAction"})
    assert caught.value.option == "status" and "Defender Experts" in str(caught.value)
    assert inc.normalize_desired({"status": "inprogress"}) == {"status": "inProgress"}
