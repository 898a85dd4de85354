"""Entra ID users and riskyUsers: seed mapping, reads, accountEnabled, revokeSignInSessions, the privileged 403,
the P2 license 403 and both documented revokeSignInSessions answers."""

import pytest

from graph_emulator.seed import cloud_sid
from graph_emulator.users import SESSIONS_VALID_FROM_SEED

SELECT = "id,userPrincipalName,accountEnabled,onPremisesSyncEnabled,onPremisesSecurityIdentifier,signInSessionsValidFromDateTime"
MEGAN_ENTRA = "3086863e-1807-524b-8a62-ef7649a1d776"


def _identity(emulator, upn):
    return next(item for item in emulator.store.identities() if item["userPrincipalName"] == upn)


def _entra_id(identity):
    return next(a["identifier"] for a in identity["accounts"] if a["identityProvider"] == "entraID")


def _user(admin, user_id):
    return next(user for user in admin.state()["users"] if user["id"] == user_id)


def _privileged(admin):
    return next(user for user in admin.state()["users"] if user["directoryRoles"])


def test_every_entra_account_is_a_user_with_the_same_object_id_and_cloud_sid(emulator):
    users = {user["id"]: user for user in emulator.admin.state()["users"]}
    with_entra = [identity for identity in emulator.store.identities()
                  if any(a["identityProvider"] == "entraID" for a in identity["accounts"])]
    assert with_entra and len(users) == len(with_entra)
    for identity in with_entra:
        user = users[_entra_id(identity)]
        assert user["userPrincipalName"] == identity["userPrincipalName"]
        assert cloud_sid(user["id"]) == identity["cloudSecurityIdentifier"]  # the S-1-12-1 form of the object id
        hybrid = any(a["identityProvider"] == "activeDirectory" for a in identity["accounts"])
        assert user["onPremisesSyncEnabled"] is (True if hybrid else None)


def test_get_by_id_and_by_upn_with_select(api):
    by_id = api.get(f"/v1.0/users/{MEGAN_ENTRA}", params={"$select": SELECT})
    assert by_id.status_code == 200, by_id.text
    body = by_id.json()
    assert body["@odata.context"].endswith("$entity")
    assert (body["accountEnabled"], body["onPremisesSyncEnabled"], body["signInSessionsValidFromDateTime"]) == (
        True, True, SESSIONS_VALID_FROM_SEED)
    assert set(body) - {"@odata.context"} == set(SELECT.split(","))
    by_upn = api.get("/v1.0/users/MeganB@contoso.com", params={"$select": "id"}).json()
    assert by_upn["id"] == MEGAN_ENTRA


def test_get_without_select_returns_the_default_set_only(api):
    body = api.get(f"/v1.0/users/{MEGAN_ENTRA}").json()
    assert "accountEnabled" not in body and body["userPrincipalName"] == "meganb@contoso.com"


def test_unknown_user_is_request_resource_not_found(api):
    response = api.get("/v1.0/users/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404 and response.json()["error"]["code"] == "Request_ResourceNotFound"


def test_patch_account_enabled_is_204_and_sticks(api, admin):
    response = api.call("PATCH", f"/v1.0/users/{MEGAN_ENTRA}", json={"accountEnabled": False})
    assert response.status_code == 204 and response.content == b""
    assert _user(admin, MEGAN_ENTRA)["accountEnabled"] is False


@pytest.mark.parametrize("body", [{"accountEnabled": "false"}, {"displayName": "x"}, {}])
def test_patch_refuses_other_properties_and_non_booleans(api, admin, body):
    response = api.call("PATCH", f"/v1.0/users/{MEGAN_ENTRA}", json=body)
    assert response.status_code == 400, response.text
    assert _user(admin, MEGAN_ENTRA)["accountEnabled"] is True


def test_privileged_target_is_403_authorization_request_denied(api, admin):
    target = _privileged(admin)
    for method, path, body in (("PATCH", f"/v1.0/users/{target['id']}", {"accountEnabled": False}),
                               ("POST", f"/v1.0/users/{target['id']}/revokeSignInSessions", None)):
        response = api.call(method, path, json=body)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "Authorization_RequestDenied"
    after = _user(admin, target["id"])
    assert after["accountEnabled"] is True and after["signInSessionsValidFromDateTime"] == SESSIONS_VALID_FROM_SEED


def test_enable_disable_permission_needs_user_read_all_too(api, mint, admin):
    alone = mint(roles=["User.EnableDisableAccount.All"])
    response = api.call("PATCH", f"/v1.0/users/{MEGAN_ENTRA}", token=alone, json={"accountEnabled": False})
    assert response.status_code == 403 and _user(admin, MEGAN_ENTRA)["accountEnabled"] is True
    paired = mint(roles=["User.EnableDisableAccount.All", "User.Read.All"])
    assert api.call("PATCH", f"/v1.0/users/{MEGAN_ENTRA}", token=paired, json={"accountEnabled": False}).status_code == 204


def test_reader_app_cannot_read_users(api):
    response = api.get(f"/v1.0/users/{MEGAN_ENTRA}", client="reader")
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("answer, status", [("value", 200), ("no_content", 204)])
def test_revoke_sign_in_sessions_both_documented_answers(api, admin, answer, status):
    admin.configure(revoke_sessions_response=answer)
    response = api.post(f"/v1.0/users/{MEGAN_ENTRA}/revokeSignInSessions", client="responder")
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["value"] is True and response.json()["@odata.context"].endswith("#Edm.Boolean")
    else:
        assert response.content == b""
    assert _user(admin, MEGAN_ENTRA)["signInSessionsValidFromDateTime"] > SESSIONS_VALID_FROM_SEED


def test_revoke_needs_a_session_permission(api, mint, admin):
    token = mint(roles=["User.Read.All"])
    response = api.call("POST", f"/v1.0/users/{MEGAN_ENTRA}/revokeSignInSessions", token=token)
    assert response.status_code == 403
    assert _user(admin, MEGAN_ENTRA)["signInSessionsValidFromDateTime"] == SESSIONS_VALID_FROM_SEED


def test_guest_sessions_are_not_revoked(api, admin):
    guest = next(user for user in admin.state()["users"] if user["userType"] == "Guest")
    assert api.post(f"/v1.0/users/{guest['id']}/revokeSignInSessions").status_code == 200
    assert _user(admin, guest["id"])["signInSessionsValidFromDateTime"] == SESSIONS_VALID_FROM_SEED


def test_confirm_compromised_then_dismiss(api, admin):
    path = "/v1.0/identityProtection/riskyUsers/"
    assert api.post(path + "confirmCompromised", {"userIds": [MEGAN_ENTRA]}).status_code == 204
    assert (_user(admin, MEGAN_ENTRA)["riskState"], _user(admin, MEGAN_ENTRA)["riskLevel"]) == ("confirmedCompromised", "high")
    assert api.post(path + "dismiss", {"userIds": [MEGAN_ENTRA]}).status_code == 204
    assert _user(admin, MEGAN_ENTRA)["riskState"] == "dismissed"


@pytest.mark.parametrize("body", [{}, {"userIds": []}, {"userIds": ["alice@contoso.com"]}, {"userIds": [MEGAN_ENTRA], "x": 1}])
def test_risky_users_body_is_checked(api, admin, body):
    response = api.post("/v1.0/identityProtection/riskyUsers/confirmCompromised", body)
    assert response.status_code == 400, response.text
    assert _user(admin, MEGAN_ENTRA)["riskState"] == "none"


def test_risky_users_without_p2_is_403_not_licensed(api, admin):
    admin.configure(entra_id_p2=False)
    response = api.post("/v1.0/identityProtection/riskyUsers/confirmCompromised", {"userIds": [MEGAN_ENTRA]})
    assert response.status_code == 403
    assert response.json()["error"] == dict(response.json()["error"], code="Forbidden",
                                            message="Your tenant is not licensed for this feature.")
    assert _user(admin, MEGAN_ENTRA)["riskState"] == "none"


def test_risky_users_need_their_permission(api):
    response = api.post("/v1.0/identityProtection/riskyUsers/dismiss", {"userIds": [MEGAN_ENTRA]}, client="reader")
    assert response.status_code == 403 and response.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("cloud, users_status, risky_status", [("china", 200, 404), ("usgov", 200, 204)])
def test_cloud_availability(emulator, api, mint, cloud, users_status, risky_status):
    emulator.admin.configure(cloud=cloud)
    roots = {"china": "https://microsoftgraph.chinacloudapi.cn", "usgov": "https://graph.microsoft.us"}
    token = mint(audience=roots[cloud])
    assert api.call("GET", f"/v1.0/users/{MEGAN_ENTRA}", token=token).status_code == users_status
    response = api.call("POST", "/v1.0/identityProtection/riskyUsers/dismiss", token=token, json={"userIds": [MEGAN_ENTRA]})
    assert response.status_code == risky_status, response.text


def test_revoke_answer_has_the_shape_of_microsofts_example(api):
    import json
    import pathlib

    example = json.loads((pathlib.Path(__file__).resolve().parents[2] / "contract" / "payloads" / "entra" /
                          "revokesigninsessions-response-200.json").read_text())
    body = api.post(f"/v1.0/users/{MEGAN_ENTRA}/revokeSignInSessions").json()
    assert set(body) == set(example) and body["value"] == example["value"]
    assert body["@odata.context"].split("/v1.0/")[1] == example["@odata.context"].split("/v1.0/")[1]


def _synced(admin):
    return next(user for user in admin.state()["users"] if user["onPremisesSyncEnabled"] is True and not user["directoryRoles"])


def test_synced_user_patch_refused_with_400_when_configured(api, admin):
    admin.configure(synced_account_enabled="refuse")
    user = _synced(admin)
    response = api.call("PATCH", f"/v1.0/users/{user['id']}", json={"accountEnabled": False})
    assert response.status_code == 400 and "on-premises mastered" in response.json()["error"]["message"]
    assert _user(admin, user["id"])["accountEnabled"] is True
    cloud_only = next(u for u in admin.state()["users"] if u["onPremisesSyncEnabled"] is None and not u["directoryRoles"])
    assert api.call("PATCH", f"/v1.0/users/{cloud_only['id']}", json={"accountEnabled": False}).status_code == 204


def test_synced_user_patch_accepted_then_reverted_by_a_directory_sync(api, admin):
    user = _synced(admin)
    assert api.call("PATCH", f"/v1.0/users/{user['id']}", json={"accountEnabled": False}).status_code == 204
    assert _user(admin, user["id"])["accountEnabled"] is False
    assert admin.directory_sync() == 1
    assert _user(admin, user["id"])["accountEnabled"] is True


@pytest.mark.parametrize("change", ["renamed", "upn_moved"])
def test_user_after_write_renames_the_target_and_can_move_its_upn(api, admin, change):
    admin.configure(user_after_write=change)
    before = _user(admin, MEGAN_ENTRA)
    assert api.post(f"/v1.0/users/{MEGAN_ENTRA}/revokeSignInSessions").status_code == 200
    assert _user(admin, MEGAN_ENTRA)["userPrincipalName"] != before["userPrincipalName"]
    holder = [u for u in admin.state()["users"] if u["userPrincipalName"] == before["userPrincipalName"]]
    if change == "upn_moved":
        assert len(holder) == 1 and holder[0]["id"] != MEGAN_ENTRA and holder[0]["accountEnabled"] is False
    else:
        assert holder == []


def test_risky_users_refuse_more_than_the_documented_60_ids(api, admin):
    ids = [MEGAN_ENTRA] + ["00000000-0000-4000-8000-%012d" % number for number in range(60)]
    response = api.post("/v1.0/identityProtection/riskyUsers/confirmCompromised", {"userIds": ids})
    assert response.status_code == 400 and "60" in response.json()["error"]["message"]
    assert api.post("/v1.0/identityProtection/riskyUsers/confirmCompromised", {"userIds": ids[:60]}).status_code == 204


def test_identity_protection_rate_429_has_no_retry_after(api, admin):
    admin.configure(identity_protection_rps=1)
    assert api.post("/v1.0/identityProtection/riskyUsers/dismiss", {"userIds": [MEGAN_ENTRA]}).status_code == 204
    response = api.post("/v1.0/identityProtection/riskyUsers/dismiss", {"userIds": [MEGAN_ENTRA]})
    assert response.status_code == 429 and "Retry-After" not in response.headers
