# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""entra_user and entra_user_action through real ansible-playbook runs against the Graph emulator over HTTPS.

Users are picked from the emulator's live state (derived from the seed identities' entraID accounts). Every test
asserts, from the emulator's request log, exactly which writes reached Graph.
"""

from __future__ import annotations

import pytest
import yaml

USER_MODULE = "msgraph.security.entra_user"
ACTION_MODULE = "msgraph.security.entra_user_action"
SEED_SESSIONS_VALID_FROM = "2026-01-05T08:00:00Z"


def playbook(*tasks):
    return yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": list(tasks)}],
                          sort_keys=False)


def task(name, module, ignore_errors=False, check_mode=None, **args):
    entry = {"name": name, module: {key: value for key, value in args.items() if value is not None}}
    if ignore_errors:
        entry["ignore_errors"] = True
    if check_mode is not None:
        entry["check_mode"] = check_mode
    return entry


def users(emulator):
    return emulator.admin.state()["users"]


def user(emulator, user_id):
    return next(entry for entry in users(emulator) if entry["id"] == user_id)


def pick(emulator, hybrid, privileged=False, guest=False):
    for entry in users(emulator):
        if (bool(entry["onPremisesSyncEnabled"]) is hybrid and bool(entry["directoryRoles"]) is privileged
                and (entry["userType"] == "Guest") is guest and entry["accountEnabled"]):
            return entry
    raise AssertionError("the emulator seed has no such user")


def identity_of(emulator, user_id):
    return next(i for i in emulator.admin.state()["identities"]
                if any(a["identifier"] == user_id and a["identityProvider"] == "entraID" for a in i["accounts"]))


def writes(emulator):
    return [(entry["method"], entry["path"]) for entry in emulator.admin.writes()]


def failed(played, name):
    assert played.status(name) == "failed", (played.status(name), played.task(name))
    return played.task(name)


# --- entra_user ---------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_disable_is_idempotent_and_check_mode_previews_the_exact_request(emulator, ansible):
    target = pick(emulator, hybrid=False)
    args = {"user_principal_name": target["userPrincipalName"].upper(), "account_enabled": False}
    played = ansible.play(playbook(task("preview", USER_MODULE, check_mode=True, **args),
                                   task("disable", USER_MODULE, **args),
                                   task("again", USER_MODULE, **args)), diff=True)
    assert played.rc == 0, played.output
    preview, disabled, again = played.task("preview"), played.task("disable"), played.task("again")
    assert preview["changed"] is True and preview["outcome"] == "check_mode"
    expected = {"method": "PATCH", "url": f"{emulator.info['graph_endpoint']}/v1.0/users/{target['id']}",
                "body": {"accountEnabled": False}}
    assert preview["request"] == expected and disabled["request"] == expected
    assert preview["diff"] == {"before": {"account_enabled": True}, "after": {"account_enabled": False}}
    assert disabled["outcome"] == "sent" and disabled["request_ids"]["request_id"]
    assert again["changed"] is False and again["outcome"] == "unchanged" and "request" not in again
    assert writes(emulator) == [("PATCH", f"/v1.0/users/{target['id']}")]  # the preview and the re-run sent nothing
    assert user(emulator, target["id"])["accountEnabled"] is False


def test_enable_by_cloud_sid_of_the_identity(emulator, ansible):
    target = pick(emulator, hybrid=False)
    sid = identity_of(emulator, target["id"])["cloudSecurityIdentifier"]
    played = ansible.play(playbook(task("disable", USER_MODULE, user_id=target["id"], account_enabled=False),
                                   task("enable", USER_MODULE, user_id=sid, account_enabled=True)))
    assert played.rc == 0, played.output
    assert played.task("enable")["user"]["id"] == target["id"] and played.task("enable")["outcome"] == "sent"
    assert user(emulator, target["id"])["accountEnabled"] is True


def test_sync_controlled_user_is_disabled_with_a_warning_to_disable_ad_too(emulator, ansible):
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("disable", USER_MODULE, user_id=target["id"], account_enabled=False)))
    assert played.rc == 0, played.output
    result = played.task("disable")
    assert result["user"]["on_premises_sync_enabled"] is True
    assert any("onPremisesSyncEnabled" in warning and "activeDirectory" in warning for warning in result["warnings"])
    assert writes(emulator) == [("PATCH", f"/v1.0/users/{target['id']}")]


@pytest.mark.parametrize("protect", ["upn", "cloud_sid", "object_id"])
def test_protected_accounts_are_refused_before_any_write(emulator, ansible, protect):
    target = pick(emulator, hybrid=True)
    identity = identity_of(emulator, target["id"])
    entry = {"upn": target["userPrincipalName"].upper(), "cloud_sid": identity["cloudSecurityIdentifier"],
             "object_id": target["id"]}[protect]
    played = ansible.play(playbook(
        task("disable", USER_MODULE, ignore_errors=True, user_id=target["id"], account_enabled=False, protected_accounts=[entry]),
        task("revoke", ACTION_MODULE, ignore_errors=True, user_principal_name=target["userPrincipalName"],
             action="revoke_sign_in_sessions", protected_accounts=[entry])))
    for name in ("disable", "revoke"):
        result = failed(played, name)
        assert result["option"] == "protected_accounts" and entry in result["msg"]
    assert writes(emulator) == []


def test_privileged_target_403_is_explained(emulator, ansible):
    target = pick(emulator, hybrid=False, privileged=True)
    played = ansible.play(playbook(
        task("disable", USER_MODULE, ignore_errors=True, user_id=target["id"], account_enabled=False),
        task("revoke", ACTION_MODULE, ignore_errors=True, user_id=target["id"], action="revoke_sign_in_sessions")))
    for name, permission in (("disable", "User.EnableDisableAccount.All and User.Read.All"), ("revoke", "User.RevokeSessions.All")):
        result = failed(played, name)
        assert (result["error"]["status"], result["error"]["error_code"]) == (403, "Authorization_RequestDenied")
        assert result["error"]["required_permission"] == permission
        assert "privileged administrator role" in result["error"]["hint"] and "directory role" in result["error"]["hint"]
    after = user(emulator, target["id"])
    assert after["accountEnabled"] is True and after["signInSessionsValidFromDateTime"] == SEED_SESSIONS_VALID_FROM


def test_unknown_user_and_bad_ids_fail_closed(emulator, ansible):
    played = ansible.play(playbook(
        task("unknown", USER_MODULE, ignore_errors=True, user_principal_name="nobody@contoso.com", account_enabled=False),
        task("not a guid", USER_MODULE, ignore_errors=True, user_id="meganb", account_enabled=False),
        task("both", USER_MODULE, ignore_errors=True, user_id="3086863e-1807-524b-8a62-ef7649a1d776",
             user_principal_name="meganb@contoso.com", account_enabled=False)))
    assert "no Entra ID user matches user_principal_name='nobody@contoso.com'" in failed(played, "unknown")["msg"]
    assert failed(played, "not a guid")["option"] == "user_id"
    assert "mutually exclusive" in failed(played, "both")["msg"]
    assert writes(emulator) == []


def test_missing_permission_names_it(emulator, ansible):
    target = pick(emulator, hybrid=False)
    played = ansible.play(playbook(task("disable", USER_MODULE, ignore_errors=True, user_id=target["id"], account_enabled=False)),
                          client="reader")
    result = failed(played, "disable")
    assert (result["error"]["status"], result["error"]["required_permission"]) == (403, "User.Read.All")
    assert writes(emulator) == []


# --- entra_user_action --------------------------------------------------------------------------------


@pytest.mark.smoke
@pytest.mark.parametrize("answer", ["value", "no_content"])
def test_revoke_sessions_sends_every_run_and_returns_the_new_valid_from(emulator, ansible, answer):
    emulator.admin.configure(revoke_sessions_response=answer)
    target = pick(emulator, hybrid=True)
    args = {"user_id": target["id"], "action": "revoke_sign_in_sessions"}
    played = ansible.play(playbook(task("preview", ACTION_MODULE, check_mode=True, **args),
                                   task("revoke", ACTION_MODULE, **args),
                                   task("again", ACTION_MODULE, **args)), diff=True)
    assert played.rc == 0, played.output
    preview, revoked, again = played.task("preview"), played.task("revoke"), played.task("again")
    path = f"/v1.0/users/{target['id']}/revokeSignInSessions"
    assert preview["request"] == {"method": "POST", "url": emulator.info["graph_endpoint"] + path, "body": None}
    assert preview["outcome"] == "check_mode" and "sign_in_sessions_valid_from_date_time" not in preview
    assert revoked["outcome"] == "sent" and revoked["changed"] is True and again["changed"] is True
    new_value = user(emulator, target["id"])["signInSessionsValidFromDateTime"]
    assert revoked["sign_in_sessions_valid_from_date_time"] > SEED_SESSIONS_VALID_FROM
    assert again["sign_in_sessions_valid_from_date_time"] == new_value
    assert revoked["diff"]["before"] == {"sign_in_sessions_valid_from_date_time": SEED_SESSIONS_VALID_FROM}
    assert writes(emulator) == [("POST", path), ("POST", path)]


def test_guest_revocation_warns_that_it_does_not_reach_home_tenant_sessions(emulator, ansible):
    guest = next(entry for entry in users(emulator) if entry["userType"] == "Guest")
    played = ansible.play(playbook(task("revoke", ACTION_MODULE, user_id=guest["id"], action="revoke_sign_in_sessions")))
    assert played.rc == 0, played.output
    assert any("external (guest) user" in warning for warning in played.task("revoke")["warnings"])


@pytest.mark.parametrize("action, state", [("confirm_compromised", "confirmedCompromised"), ("dismiss_risk", "dismissed")])
def test_risk_actions_send_user_ids(emulator, ansible, action, state):
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("risk", ACTION_MODULE, user_principal_name=target["userPrincipalName"], action=action)))
    assert played.rc == 0, played.output
    result = played.task("risk")
    assert result["request"]["body"] == {"userIds": [target["id"]]}
    assert user(emulator, target["id"])["riskState"] == state
    segment = "confirmCompromised" if action == "confirm_compromised" else "dismiss"
    assert writes(emulator) == [("POST", f"/v1.0/identityProtection/riskyUsers/{segment}")]


def test_missing_p2_license_is_explained(emulator, ansible):
    emulator.admin.configure(entra_id_p2=False)
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("risk", ACTION_MODULE, ignore_errors=True, user_id=target["id"], action="confirm_compromised")))
    result = failed(played, "risk")
    assert (result["error"]["status"], result["error"]["required_permission"]) == (403, "IdentityRiskyUser.ReadWrite.All")
    assert "P2" in result["error"]["hint"] and "not a missing permission" in result["error"]["hint"]
    assert user(emulator, target["id"])["riskState"] == "none"


def test_risk_actions_are_refused_in_china_before_any_request(emulator, ansible):
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("risk", ACTION_MODULE, ignore_errors=True, user_id=target["id"], action="dismiss_risk",
                                        cloud_environment="china")))
    result = failed(played, "risk")
    assert result["error"]["error_code"] == "UnsupportedCloud" and "risky_users" in result["msg"]
    assert [entry for entry in emulator.admin.requests() if entry["family"] == "graph"] == []


@pytest.mark.parametrize("applied", [True, False])
def test_unknown_revoke_outcome_is_never_resent(emulator, ansible, applied):
    """A 500 after (or instead of) the revocation: reconciled from the new valid-from time, or reported unknown."""
    target = pick(emulator, hybrid=False)
    emulator.admin.add_fault(route="revoke_sign_in_sessions", kind="status", status=500, times=1, after_processing=applied)
    played = ansible.play(playbook(task("revoke", ACTION_MODULE, ignore_errors=True, user_id=target["id"],
                                        action="revoke_sign_in_sessions")))
    result = played.task("revoke")
    if applied:
        assert played.status("revoke") == "changed", result
        assert result["outcome"] == "reconciled" and result["sign_in_sessions_valid_from_date_time"] > SEED_SESSIONS_VALID_FROM
    else:
        failed(played, "revoke")
        assert "outcome is unknown" in result["msg"] and result["error"]["client_request_id"] in result["error"]["hint"]
        assert result["error"]["outcome"] == "unknown"  # what the runbooks' reports read
    assert writes(emulator) == [("POST", f"/v1.0/users/{target['id']}/revokeSignInSessions")]


# --- synced users and risk actions in bulk ----------------------------------------------------------


def test_synced_user_400_names_the_active_directory_fix_and_a_later_sync_reverts_an_accepted_change(emulator, ansible):
    """No Microsoft page says which happens: the emulator serves both (docs/service-contract.md, "Synced users")."""
    target = pick(emulator, hybrid=True)
    emulator.admin.configure(synced_account_enabled="refuse")
    played = ansible.play(playbook(task("disable", USER_MODULE, ignore_errors=True, user_id=target["id"], account_enabled=False)))
    result = failed(played, "disable")
    assert result["error"]["status"] == 400 and result["error"]["request_id"]
    assert "msgraph.security.identity_account_action" in result["error"]["hint"] and "activeDirectory" in result["error"]["hint"]
    assert user(emulator, target["id"])["accountEnabled"] is True
    emulator.admin.configure(synced_account_enabled="accept")
    played = ansible.play(playbook(task("disable", USER_MODULE, user_id=target["id"], account_enabled=False)))
    assert played.rc == 0 and any("activeDirectory" in warning for warning in played.task("disable")["warnings"])
    assert emulator.admin.directory_sync() == 1 and user(emulator, target["id"])["accountEnabled"] is True


def test_bulk_confirm_compromised_sends_one_request_per_60_users_paced_to_identity_protection(emulator, ansible):
    emulator.admin.configure(extra_identities=70, identity_protection_rps=1)  # a second request within 1 s would get 429
    bulk = sorted((entry for entry in users(emulator) if entry["userPrincipalName"].startswith("bulk-user-")),
                  key=lambda entry: entry["userPrincipalName"])[:65]
    targets = [{"user_principal_name": entry["userPrincipalName"]} for entry in bulk]
    played = ansible.play(playbook(task("preview", ACTION_MODULE, check_mode=True, action="confirm_compromised", targets=targets),
                                   task("confirm", ACTION_MODULE, action="confirm_compromised", targets=targets)))
    assert played.rc == 0, played.output
    assert [len(r["body"]["userIds"]) for r in played.task("preview")["batch_requests"]] == [60, 5]
    posts = [entry for entry in emulator.admin.requests(method="POST") if entry["family"] == "graph"]
    assert [entry["status"] for entry in posts] == [204, 204]  # paced: no 429 from the 1 request/s limit
    assert all(user(emulator, entry["id"])["riskState"] == "confirmedCompromised" for entry in bulk)
    assert len(played.task("confirm")["batch_request_ids"]) == 2
