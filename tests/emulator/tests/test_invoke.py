"""invokeAction: body validation, the provider x action matrix, account actions, effects and response shapes."""

import uuid

import pytest

from emulator_helpers import MEGAN_AD, MEGAN_ID

ACCOUNTS = "/beta/security/identities/identityAccounts"


def _identity(emulator, upn):
    return next(item for item in emulator.store.identities() if item["userPrincipalName"] == upn)


def _account(identity, provider):
    return next(acc for acc in identity["accounts"] if acc["identityProvider"] == provider)


def _invoke(api, identity_id, account_id, action, provider, qualified=False, client="responder"):
    segment = "microsoft.graph.security.invokeAction" if qualified else "invokeAction"
    body = {"accountId": account_id, "action": action, "identityProvider": provider}
    return api.post(f"{ACCOUNTS}/{identity_id}/{segment}", body, client=client)


def _bad_request(response):
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "BadRequest"
    return response.json()["error"]["message"]


@pytest.mark.parametrize("qualified", [False, True])
def test_docs_example_disables_and_flips_actions(api, admin, qualified):
    response = _invoke(api, MEGAN_ID, MEGAN_AD, "disable", "activeDirectory", qualified)
    assert response.status_code == 200
    result = response.json()
    assert (result["accountId"], result["action"], result["identityProvider"]) == (MEGAN_AD, "disable", "activeDirectory")
    assert uuid.UUID(result["correlationId"])
    megan = api.get(f"{ACCOUNTS}/{MEGAN_ID}").json()
    assert megan["isEnabled"] is False
    assert _account(megan, "activeDirectory")["actions"] == ["enable", "forcePasswordReset"]
    assert _account(megan, "entraID")["actions"][0] == "disable"  # other accounts are untouched
    invocations = admin.state()["invocations"]
    assert [item["correlationId"] for item in invocations] == [result["correlationId"]]


def test_disable_twice_is_refused_then_enable_restores(api):
    assert _invoke(api, MEGAN_ID, MEGAN_AD, "disable", "activeDirectory").status_code == 200
    assert "already disabled" in _bad_request(_invoke(api, MEGAN_ID, MEGAN_AD, "disable", "activeDirectory"))
    assert _invoke(api, MEGAN_ID, MEGAN_AD, "enable", "activeDirectory").status_code == 200
    assert api.get(f"{ACCOUNTS}/{MEGAN_ID}").json()["isEnabled"] is True
    assert "already enabled" in _bad_request(_invoke(api, MEGAN_ID, MEGAN_AD, "enable", "activeDirectory"))


def test_enable_of_disabled_identity_keeps_other_disabled_accounts(api, emulator):
    henrietta = _identity(emulator, "henriettam@contoso.com")
    okta = _account(henrietta, "okta")["identifier"]
    assert _invoke(api, henrietta["id"], okta, "enable", "okta").status_code == 200
    after = api.get(f"{ACCOUNTS}/{henrietta['id']}").json()
    assert after["isEnabled"] is False  # the AD and Entra ID accounts are still disabled
    assert _account(after, "okta")["actions"] == ["disable", "revokeAllSessions"]


@pytest.mark.parametrize("upn, provider, action", [
    ("alexw@contoso.com", "okta", "revokeAllSessions"),
    ("alexw@contoso.com", "activeDirectory", "forcePasswordReset"),
    ("riya.patel@contractors.contoso.com", "okta", "disable"),
])
def test_supported_actions(api, emulator, admin, upn, provider, action):
    identity = _identity(emulator, upn)
    response = _invoke(api, identity["id"], _account(identity, provider)["identifier"], action, provider)
    assert response.status_code == 200 and response.json()["action"] == action
    assert admin.state()["invocations"][0]["action"] == action


def test_entra_id_actions_not_supported_in_matrix_a(api, emulator):
    glass = _identity(emulator, "breakglass@contoso.com")
    message = _bad_request(_invoke(api, glass["id"], _account(glass, "entraID")["identifier"], "disable", "entraID"))
    assert message == "EntraID actions are not yet supported"


def test_matrix_b_allows_entra_id(api, emulator, admin):
    admin.configure(matrix="B")
    debra = _identity(emulator, "debrab@contoso.onmicrosoft.com")
    entra = _account(debra, "entraID")["identifier"]
    assert _invoke(api, debra["id"], entra, "markUserAsCompromised", "entraID").status_code == 200
    assert _invoke(api, debra["id"], entra, "disable", "entraID").status_code == 200
    assert api.get(f"{ACCOUNTS}/{debra['id']}").json()["isEnabled"] is False


@pytest.mark.parametrize("action, provider, fragment", [
    ("revokeAllSessions", "activeDirectory", "not supported for identity provider 'activeDirectory'"),
    ("forcePasswordReset", "okta", "not supported for identity provider 'okta'"),
])
def test_matrix_refusals(api, emulator, action, provider, fragment):
    alex = _identity(emulator, "alexw@contoso.com")
    assert fragment in _bad_request(_invoke(api, alex["id"], _account(alex, provider)["identifier"], action, provider))


def test_action_must_be_listed_on_the_account(api, emulator, admin):
    svc = _identity(emulator, "svc-backup@contoso.com")
    svc["accounts"][0]["actions"] = ["disable"]  # e.g. a protected account offering no password reset
    admin.put_identity(svc)
    message = _bad_request(_invoke(api, svc["id"], svc["accounts"][0]["identifier"], "forcePasswordReset", "activeDirectory"))
    assert "not available" in message


def test_provider_must_match_account(api):
    assert "belongs to identity provider 'activeDirectory'" in _bad_request(_invoke(api, MEGAN_ID, MEGAN_AD, "disable", "okta"))


def test_unknown_identity_and_account_are_404(api):
    assert _invoke(api, "no-such-identity", MEGAN_AD, "disable", "activeDirectory").status_code == 404
    response = _invoke(api, MEGAN_ID, "no-such-account", "disable", "activeDirectory")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NotFound"


@pytest.mark.parametrize("body, fragment", [
    ({"accountId": MEGAN_AD, "action": "disable", "provider": "activeDirectory"}, "'identityProvider' is missing"),
    ({"action": "disable", "identityProvider": "activeDirectory"}, "'accountId' is missing"),
    ({"accountId": MEGAN_AD, "action": "Disable", "identityProvider": "activeDirectory"}, "'Disable' was not found"),
    ({"accountId": MEGAN_AD, "action": "disable", "identityProvider": "ActiveDirectory"}, "'ActiveDirectory' was not found"),
    ({"accountId": MEGAN_AD, "action": "unknownFutureValue", "identityProvider": "activeDirectory"}, "was not found"),
    ({"accountId": MEGAN_AD, "action": "disable", "identityProvider": "activeDirectory", "reason": "x"}, "'reason'"),
    ({"accountId": 5, "action": "disable", "identityProvider": "activeDirectory"}, "non-empty string"),
    ([1, 2], "JSON object"),
])
def test_body_validation(api, admin, body, fragment):
    response = api.post(f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", body)
    assert fragment in _bad_request(response)
    assert admin.state()["invocations"] == []


def test_bad_and_empty_json(api):
    headers = {"Content-Type": "application/json"}
    assert "JSON" in _bad_request(api.call("POST", f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", data="{oops", headers=headers))
    assert "Empty Payload" in _bad_request(api.call("POST", f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", data="", headers=headers))


def test_example_shape_result(api, admin):
    admin.configure(shape="example")
    result = _invoke(api, MEGAN_ID, MEGAN_AD, "disable", "activeDirectory").json()["value"]
    assert result["provider"] == "ActiveDirectory" and result["action"] == "Disable" and "identityProvider" not in result
    assert uuid.UUID(result["correlationId"])


def test_correlation_ids_are_fresh(api, emulator):
    alex = _identity(emulator, "alexw@contoso.com")
    okta = _account(alex, "okta")["identifier"]
    ids = {_invoke(api, alex["id"], okta, "revokeAllSessions", "okta").json()["correlationId"] for _attempt in range(3)}
    assert len(ids) == 3


def test_v1_invoke_action(api):
    response = api.post(f"/v1.0/security/identities/identityAccounts/{MEGAN_ID}/invokeAction",
                        {"accountId": MEGAN_AD, "action": "forcePasswordReset", "identityProvider": "activeDirectory"})
    assert response.status_code == 200 and "/v1.0/$metadata" in response.json()["@odata.context"]
