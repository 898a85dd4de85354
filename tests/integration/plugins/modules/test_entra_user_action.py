# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""entra_user_action through real ansible-playbook runs against the Graph emulator over HTTPS.

Users are picked from the emulator's live state (derived from the seed identities' entraID accounts). Every test
asserts, from the emulator's request log, exactly which writes reached Graph.
"""

from __future__ import annotations

import pytest
from entra_helpers import ACTION_MODULE, SEED_SESSIONS_VALID_FROM, pick, user, users

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import failed, playbook, task, write_targets


# One answer shape on the smoke legs: how it is read does not depend on ansible-core.
@pytest.mark.parametrize("answer", [pytest.param("value", marks=pytest.mark.smoke), "no_content"])
def test_revoke_sessions_sends_every_run_and_returns_the_new_valid_from(emulator, ansible, answer):
    emulator.admin.configure(revoke_sessions_response=answer)
    target = pick(emulator, hybrid=True)
    args = {"user_id": target["id"], "action": "revoke_sign_in_sessions"}
    played = ansible.play(playbook(task("preview", ACTION_MODULE, args, check_mode=True),
                                   task("revoke", ACTION_MODULE, args),
                                   task("again", ACTION_MODULE, args)), diff=True)
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
    assert write_targets(emulator) == [("POST", path), ("POST", path)]


def test_guest_revocation_warns_that_it_does_not_reach_home_tenant_sessions(emulator, ansible):
    guest = next(entry for entry in users(emulator) if entry["userType"] == "Guest")
    played = ansible.play(playbook(task("revoke", ACTION_MODULE, dict(user_id=guest["id"], action="revoke_sign_in_sessions"))))
    assert played.rc == 0, played.output
    assert any("external (guest) user" in warning for warning in played.task("revoke")["warnings"])


@pytest.mark.parametrize("action, state", [("confirm_compromised", "confirmedCompromised"), ("dismiss_risk", "dismissed")])
def test_risk_actions_send_user_ids(emulator, ansible, action, state):
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("risk", ACTION_MODULE, dict(user_principal_name=target["userPrincipalName"], action=action))))
    assert played.rc == 0, played.output
    result = played.task("risk")
    assert result["request"]["body"] == {"userIds": [target["id"]]}
    assert user(emulator, target["id"])["riskState"] == state
    segment = "confirmCompromised" if action == "confirm_compromised" else "dismiss"
    assert write_targets(emulator) == [("POST", f"/v1.0/identityProtection/riskyUsers/{segment}")]


def test_missing_p2_license_is_explained(emulator, ansible):
    emulator.admin.configure(entra_id_p2=False)
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("risk", ACTION_MODULE, dict(user_id=target["id"], action="confirm_compromised"),
                                        ignore_errors=True)))
    result = failed(played, "risk")
    assert (result["error"]["status"], result["error"]["required_permission"]) == (403, "IdentityRiskyUser.ReadWrite.All")
    assert "P2" in result["error"]["hint"] and "not a missing permission" in result["error"]["hint"]
    assert user(emulator, target["id"])["riskState"] == "none"


def test_risk_actions_are_refused_in_china_before_any_request(emulator, ansible):
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("risk", ACTION_MODULE, dict(user_id=target["id"], action="dismiss_risk", cloud_environment="china"),
                                        ignore_errors=True)))
    result = failed(played, "risk")
    assert result["error"]["error_code"] == "UnsupportedCloud" and "risky_users" in result["msg"]
    assert [entry for entry in emulator.admin.requests() if entry["family"] == "graph"] == []


@pytest.mark.parametrize("applied", [True, False])
def test_unknown_revoke_outcome_is_never_resent(emulator, ansible, applied):
    """A 500 after (or instead of) the revocation: reconciled from the new valid-from time, or reported unknown."""
    target = pick(emulator, hybrid=False)
    emulator.admin.add_fault(route="revoke_sign_in_sessions", kind="status", status=500, times=1, after_processing=applied)
    played = ansible.play(playbook(task("revoke", ACTION_MODULE, dict(user_id=target["id"], action="revoke_sign_in_sessions"),
                                        ignore_errors=True)))
    result = played.task("revoke")
    if applied:
        assert played.status("revoke") == "changed", result
        assert result["outcome"] == "reconciled" and result["sign_in_sessions_valid_from_date_time"] > SEED_SESSIONS_VALID_FROM
    else:
        failed(played, "revoke")
        assert "outcome is unknown" in result["msg"] and result["error"]["client_request_id"] in result["error"]["hint"]
        assert result["error"]["outcome"] == "unknown"  # what the runbooks' reports read
    assert write_targets(emulator) == [("POST", f"/v1.0/users/{target['id']}/revokeSignInSessions")]


def test_bulk_confirm_compromised_sends_one_request_per_60_users_paced_to_identity_protection(emulator, ansible):
    emulator.admin.configure(extra_identities=70, identity_protection_rps=1)  # a second request within 1 s would get 429
    bulk = sorted((entry for entry in users(emulator) if entry["userPrincipalName"].startswith("bulk-user-")),
                  key=lambda entry: entry["userPrincipalName"])[:65]
    targets = [{"user_principal_name": entry["userPrincipalName"]} for entry in bulk]
    played = ansible.play(playbook(task("preview", ACTION_MODULE, dict(action="confirm_compromised", targets=targets), check_mode=True),
                                   task("confirm", ACTION_MODULE, dict(action="confirm_compromised", targets=targets))))
    assert played.rc == 0, played.output
    assert [len(r["body"]["userIds"]) for r in played.task("preview")["batch_requests"]] == [60, 5]
    posts = [entry for entry in emulator.admin.requests(method="POST") if entry["family"] == "graph"]
    assert [entry["status"] for entry in posts] == [204, 204]  # paced: no 429 from the 1 request/s limit
    assert all(user(emulator, entry["id"])["riskState"] == "confirmedCompromised" for entry in bulk)
    assert len(played.task("confirm")["batch_request_ids"]) == 2
