"""The answers besides the default ones, through the SDK models: error bodies (ODataError, beta and v1.0 SDKs),
the no-P2 403, the synced-user 400, the riskyUsers over-limit 400, the Identity Protection 429, and the 204 answers
that carry no body at all."""

import pytest

from conftest import Graph
from sdk_contract import findings

MEGAN_USER = "3086863e-1807-524b-8a62-ef7649a1d776"
RISKY = "/v1.0/identityProtection/riskyUsers/"


def _synced(emulator):
    return next(user["id"] for user in emulator.admin.state()["users"] if user["onPremisesSyncEnabled"] is True and not user["directoryRoles"])


VARIANTS = {
    "unknown incident 404": ({}, "incident_responder", "GET", "/v1.0/security/incidents/999999", None, 404),
    "no-P2 403": ({"entra_id_p2": False}, "responder", "POST", RISKY + "confirmCompromised", {"userIds": [MEGAN_USER]}, 403),
    "missing permission 403": ({}, "reader", "GET", f"/v1.0/users/{MEGAN_USER}", None, 403),
    "riskyUsers over 60 ids 400": ({}, "responder", "POST", RISKY + "dismiss",
                                   {"userIds": ["00000000-0000-4000-8000-%012d" % n for n in range(61)]}, 400),
    "Identity Protection 429": ({"identity_protection_rps": 1}, "responder", "POST", RISKY + "dismiss", {"userIds": [MEGAN_USER]}, 429),
    "unknown user 404": ({}, "responder", "GET", "/v1.0/users/nobody@contoso.com", None, 404),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_error_answers_are_odata_errors_in_both_sdks(fresh_emulator, name):
    config, client, method, path, body, status = VARIANTS[name]
    fresh_emulator.configure(config)
    graph = Graph(fresh_emulator.info, client)
    if status == 429:
        assert graph.call(method, path, body).status_code == 204  # the first of the second is allowed
    response = graph.call(method, path, body)
    assert response.status_code == status, response.text
    assert findings("ODataError", response.json(), allowed=()) == [], response.json()
    assert findings("ODataError", response.json(), allowed=(), version="v1.0") == [], response.json()


def test_synced_user_400_is_an_odata_error(fresh_emulator):
    fresh_emulator.configure({"synced_account_enabled": "refuse"})
    response = Graph(fresh_emulator.info, "responder").call("PATCH", f"/v1.0/users/{_synced(fresh_emulator)}", {"accountEnabled": False})
    assert response.status_code == 400
    assert findings("ODataError", response.json(), allowed=(), version="v1.0") == [], response.json()


def test_no_content_answers_have_no_body(fresh_emulator):
    fresh_emulator.configure({"revoke_sessions_response": "no_content"})
    graph = Graph(fresh_emulator.info, "responder")
    for method, path, body in (("POST", f"/v1.0/users/{MEGAN_USER}/revokeSignInSessions", None),
                               ("PATCH", f"/v1.0/users/{MEGAN_USER}", {"accountEnabled": True}),
                               ("POST", RISKY + "confirmCompromised", {"userIds": [MEGAN_USER]})):
        answered = graph.call(method, path, body)
        assert answered.status_code == 204 and answered.content == b"", (path, answered.text)
