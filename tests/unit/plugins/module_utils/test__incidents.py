# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the Defender XDR incidents and alerts: Microsoft's example payloads, reads, idempotent updates and
the comment sent once (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from pathlib import Path

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _incidents as inc
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.tests.unit.fakes import FakeGraphClient, FakeResponse

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

def test_desired_values_take_both_documented_determination_spellings_and_refuse_redirected():
    assert inc.normalize_desired({"determination": "compromisedUser"}) == {"determination": "compromisedAccount"}
    assert inc.normalize_desired({"determination": "ConfirmedActivity"}) == {"determination": "confirmedActivity"}
    with pytest.raises(InputError, match="status"):
        inc.normalize_desired({"status": "redirected"})
    with pytest.raises(InputError) as caught:
        inc.normalize_desired({"determination": "guilty"})
    assert caught.value.option == "determination"


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


def test_awaiting_action_is_refused_as_input_with_the_reason():
    with pytest.raises(InputError) as caught:
        inc.normalize_desired({"status": "AwaitingAction"})
    assert caught.value.option == "status" and "Defender Experts" in str(caught.value)
    assert inc.normalize_desired({"status": "inprogress"}) == {"status": "inProgress"}
