# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""entra_user and entra_user_action read the user back by the object id they resolved, never by the task's UPN:
after a timed-out PATCH whose UPN then names another (disabled) user, after a revoke that renamed the target; and
the UPN look-alike (U+FB01 'fi' ligature) never resolves to the real user, even against a service that folds."""

from __future__ import annotations

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import failed, playbook, short
from reliability_helpers import play, task, wait_for

TIMEOUT_OPTIONS = {"timeout": 2}


def _user(emulator, upn):
    return next(user for user in emulator.admin.state()["users"] if user["userPrincipalName"] == upn)


def _cloud_only(emulator):
    return next(user for user in emulator.admin.state()["users"]
                if user["onPremisesSyncEnabled"] is None and not user["directoryRoles"] and user["accountEnabled"]
                and user["userType"] == "Member")


def _writes(emulator):
    return [entry for entry in emulator.admin.requests() if entry["family"] == "graph" and entry["method"] != "GET"]


def test_timed_out_patch_is_read_back_by_object_id_when_the_upn_moved_to_a_disabled_user(ansible, emulator, reliability):
    target = _cloud_only(emulator)
    emulator.admin.configure(user_after_write="upn_moved")
    emulator.admin.add_fault(route="update_user", kind="timeout", delay_s=4, after_processing=False, times=1)
    with reliability.case("fault", "PATCH times out (it lands later); meanwhile its UPN went to another, disabled user",
                          "entra_user", "outcome known from the target's object id, never from the user now holding the UPN",
                          path="PATCH /users/{id}", expected_writes=1) as case:
        played = play(ansible, playbook(task("disable", "entra_user", dict(TIMEOUT_OPTIONS, user_principal_name=target["userPrincipalName"],
                                                                           account_enabled=False))))
        result = played.task("disable")
        case["observed"] = short(result, 160)
        wait_for(lambda: _writes(emulator), timeout=10)  # the held PATCH is logged when the emulator answers it
        case["writes"] = len(_writes(emulator))
        reads = [entry["path"] for entry in emulator.admin.requests(method="GET") if entry["family"] == "graph"]
        assert reads[-1].endswith("/users/" + target["id"]), f"read back by {reads[-1]}, not by the object id"
        assert result.get("error", {}).get("outcome") == "unknown", result  # the target was not disabled when read
        assert case["writes"] == 1
    reliability.verify()


def test_revoke_of_a_target_renamed_meanwhile_is_read_back_by_object_id(ansible, emulator, reliability):
    target = _cloud_only(emulator)
    emulator.admin.configure(user_after_write="renamed")
    with reliability.case("fault", "revokeSignInSessions accepted; the target's UPN changed right after",
                          "entra_user_action", "success with the new signInSessionsValidFromDateTime, read by object id",
                          path="POST /users/{id}/revokeSignInSessions", expected_writes=1) as case:
        played = play(ansible, playbook(task("revoke", "entra_user_action", {"user_principal_name": target["userPrincipalName"],
                                                                             "action": "revoke_sign_in_sessions"})))
        result = played.task("revoke")
        case["observed"] = short(result, 160)
        case["writes"] = len(_writes(emulator))
        assert played.status("revoke") == "changed", result
        assert result["outcome"] == "sent" and result["sign_in_sessions_valid_from_date_time"] > "2026-01-05T08:00:00Z"
        assert case["writes"] == 1
    emulator.admin.configure(user_after_write="none")
    emulator.admin.add_fault(route="revoke_sign_in_sessions", kind="status", status=500, times=1, after_processing=True)
    emulator.admin.configure(user_after_write="upn_moved")
    moved_from = next(u for u in emulator.admin.state()["users"] if u["id"] == target["id"])["userPrincipalName"]
    with reliability.case("fault", "revokeSignInSessions answered 500 after it was applied; the UPN then moved to another user",
                          "entra_user_action", "reconciled from the target's own valid-from time (object id), never resent",
                          path="POST /users/{id}/revokeSignInSessions", expected_writes=1) as case:
        before = len(_writes(emulator))
        played = play(ansible, playbook(task("revoke", "entra_user_action", {"user_principal_name": moved_from,
                                                                             "action": "revoke_sign_in_sessions"})))
        result = played.task("revoke")
        case["observed"] = short(result, 160)
        case["writes"] = len(_writes(emulator)) - before
        assert result.get("outcome") == "reconciled", result
        assert result["user"]["id"] == target["id"] and case["writes"] == 1
    reliability.verify()


def test_upn_look_alike_never_resolves_to_the_real_user(ansible, emulator, reliability):
    """A service that folds like casefold() answers 'ﬁnance@' with 'finance@': the module refuses, nothing sent."""
    target = _cloud_only(emulator)
    local, dummy, domain = target["userPrincipalName"].partition("@")
    real = "fi" + local + "@" + domain
    emulator.admin.put_identity({"id": "fold-identity-1", "displayName": "Finance", "userPrincipalName": real, "isEnabled": True,
                                 "accounts": [{"identityProvider": "entraID", "identifier": "6f1c3a52-0f6e-4d7b-9a51-3c1f0e2d4b71",
                                               "actions": ["disable"]}]})
    look_alike = "\ufb01" + local + "@" + domain
    # The emulator compares UPNs with lower(); it is taught to fold as casefold() would, as a service might.
    emulator.admin.configure(upn_fold="casefold")
    with reliability.case("input", "user_principal_name with the U+FB01 'fi' ligature; the service folds it to the real 'fi' user",
                          "entra_user", "refused as another user (NFC + A-Z folding only); zero writes", expected_writes=0) as case:
        played = play(ansible, playbook(task("disable", "entra_user", {"user_principal_name": look_alike, "account_enabled": False})))
        result = failed(played, "disable")
        case["observed"] = short(result, 160)
        case["writes"] = len(_writes(emulator))
        assert "another user" in result["msg"] and result.get("option") == "user_principal_name", result
        assert case["writes"] == 0
        assert _user(emulator, real)["accountEnabled"] is True
    reliability.verify()
