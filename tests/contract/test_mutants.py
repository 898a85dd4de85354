"""The contract checks can fail: each blind spot of issue 20 as a mutant, and the check that must catch it.

Response mutants change what the in-process emulator answers (a route's handler wrapped for one test); request
mutants change a body the collection really sent (the emulator's request log) as a broken client would send it.
Each test asserts the check fails on the mutant and passes on the unmutated answer or body.
"""

import contextlib
import copy

import pytest

from conftest import Graph
from sdk_contract import findings, missing_non_nullable, response_findings
from test_request_bodies import body_findings, entra_and_incident_bodies


@contextlib.contextmanager
def mutant(emulator, route_name, transform):
    """Answer ``route_name`` with ``transform(body)`` of the real answer's JSON body."""
    [route] = [route for route in emulator.router.routes if route.name == route_name]
    original = route.handler

    def mutated(req, **params):
        result = original(req, **params)
        return transform(copy.deepcopy(result)) if isinstance(result, dict) else result

    route.handler = mutated
    try:
        yield
    finally:
        route.handler = original


def _incident(emulator):
    response = Graph(emulator.info, "incident_responder").call("GET", "/v1.0/security/incidents/4711")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_beta_only_property_on_a_v1_incident_fails_the_v1_check(fresh_emulator):
    assert response_findings("Incident", _incident(fresh_emulator), "v1.0") == []
    with mutant(fresh_emulator, "get_incident", lambda body: dict(body, recommendedActions="Reset the password")):
        body = _incident(fresh_emulator)
    assert findings("Incident", body) == []  # the blind spot: the beta models have it
    assert response_findings("Incident", body, "v1.0") == ["v1.0 recommendedActions: unknown property"]


@pytest.mark.parametrize("name", ["status", "severity", "lastUpdateDateTime"])
def test_a_missing_non_nullable_incident_property_fails(fresh_emulator, name):
    with mutant(fresh_emulator, "get_incident", lambda body: {key: value for key, value in body.items() if key != name}):
        body = _incident(fresh_emulator)
    assert findings("Incident", body) == [] and findings("Incident", body, version="v1.0") == []  # the blind spot
    assert missing_non_nullable("Incident", body) == [f"{name}: non-nullable property missing"]
    assert f"{name}: non-nullable property missing" in response_findings("Incident", body, "v1.0")


@pytest.fixture(scope="module")
def sent_bodies(emulator, tmp_path_factory):
    emulator.reset()
    return entra_and_incident_bodies(emulator, tmp_path_factory.mktemp("bodies"))


def _sent(sent_bodies, route):
    return next((version, body) for name, version, body in sent_bodies if name == route)


@pytest.mark.parametrize("change, expected", [
    (lambda body: dict(body, status="InProgress"), "status: enum 'InProgress' is not the schema value 'inProgress'"),
    (lambda body: dict(body, assignedToUser="soc@contoso.com"), "assignedToUser: unknown property"),
    (lambda body: dict(body, severity="critical"), "severity: value 'critical' not readable by the model"),
])
def test_an_invalid_incident_patch_body_fails(sent_bodies, change, expected):
    version, body = _sent(sent_bodies, "update_incident")
    assert body_findings("update_incident", body, version) == []
    assert expected in body_findings("update_incident", change(body), version)


@pytest.mark.parametrize("route", ["confirm_compromised", "dismiss_risk"])
@pytest.mark.parametrize("change, expected", [
    (lambda body: {"userId": body["userIds"]}, "userId: unknown property"),
    (lambda body: {"userIds": body["userIds"][0]}, "$: not readable by the model (JSONDecodeError)"),
    (lambda body: {"userIds": []}, "userIds: a non-empty list is required"),
])
def test_an_invalid_risky_users_body_fails(sent_bodies, route, change, expected):
    version, body = _sent(sent_bodies, route)
    assert body_findings(route, body, version) == []
    assert expected in body_findings(route, change(body), version)


def test_a_body_on_revoke_or_a_comment_without_text_fails(sent_bodies):
    version, body = _sent(sent_bodies, "add_incident_comment")
    assert body_findings("add_incident_comment", body, version) == []
    assert "comment: required" in body_findings("add_incident_comment", {k: v for k, v in body.items() if k != "comment"}, version)
    assert body_findings("revoke_sign_in_sessions", {"value": True}, "v1.0") == ["revokeSignInSessions: the request takes no body"]
