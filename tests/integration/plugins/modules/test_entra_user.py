# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""entra_user through real ansible-playbook runs against the Graph emulator over HTTPS.

Users are picked from the emulator's live state (derived from the seed identities' entraID accounts). Every test
asserts, from the emulator's request log, exactly which writes reached Graph. Two tests play entra_user_action beside
it, as references.yml credits them with one case for both modules: a protected account and a privileged target.
"""

from __future__ import annotations

import pytest
from entra_helpers import ACTION_MODULE, SEED_SESSIONS_VALID_FROM, USER_MODULE, identity_of, pick, user

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import failed, playbook, task, write_targets


@pytest.mark.smoke
def test_disable_is_idempotent_and_check_mode_previews_the_exact_request(emulator, ansible):
    target = pick(emulator, hybrid=False)
    args = {"user_principal_name": target["userPrincipalName"].upper(), "account_enabled": False}
    played = ansible.play(playbook(task("preview", USER_MODULE, args, check_mode=True),
                                   task("disable", USER_MODULE, args),
                                   task("again", USER_MODULE, args)), diff=True)
    assert played.rc == 0, played.output
    preview, disabled, again = played.task("preview"), played.task("disable"), played.task("again")
    assert preview["changed"] is True and preview["outcome"] == "check_mode"
    expected = {"method": "PATCH", "url": f"{emulator.info['graph_endpoint']}/v1.0/users/{target['id']}",
                "body": {"accountEnabled": False}}
    assert preview["request"] == expected and disabled["request"] == expected
    assert preview["diff"] == {"before": {"account_enabled": True}, "after": {"account_enabled": False}}
    assert disabled["outcome"] == "sent" and disabled["request_ids"]["request_id"]
    assert again["changed"] is False and again["outcome"] == "unchanged" and "request" not in again
    assert write_targets(emulator) == [("PATCH", f"/v1.0/users/{target['id']}")]  # the preview and the re-run sent nothing
    assert user(emulator, target["id"])["accountEnabled"] is False


def test_enable_by_cloud_sid_of_the_identity(emulator, ansible):
    target = pick(emulator, hybrid=False)
    sid = identity_of(emulator, target["id"])["cloudSecurityIdentifier"]
    played = ansible.play(playbook(task("disable", USER_MODULE, dict(user_id=target["id"], account_enabled=False)),
                                   task("enable", USER_MODULE, dict(user_id=sid, account_enabled=True))))
    assert played.rc == 0, played.output
    assert played.task("enable")["user"]["id"] == target["id"] and played.task("enable")["outcome"] == "sent"
    assert user(emulator, target["id"])["accountEnabled"] is True


def test_sync_controlled_user_is_disabled_with_a_warning_to_disable_ad_too(emulator, ansible):
    target = pick(emulator, hybrid=True)
    played = ansible.play(playbook(task("disable", USER_MODULE, dict(user_id=target["id"], account_enabled=False))))
    assert played.rc == 0, played.output
    result = played.task("disable")
    assert result["user"]["on_premises_sync_enabled"] is True
    assert any("onPremisesSyncEnabled" in warning and "activeDirectory" in warning for warning in result["warnings"])
    assert write_targets(emulator) == [("PATCH", f"/v1.0/users/{target['id']}")]


@pytest.mark.parametrize("protect", ["upn", "cloud_sid", "object_id"])
def test_protected_accounts_are_refused_before_any_write(emulator, ansible, protect):
    target = pick(emulator, hybrid=True)
    identity = identity_of(emulator, target["id"])
    entry = {"upn": target["userPrincipalName"].upper(), "cloud_sid": identity["cloudSecurityIdentifier"],
             "object_id": target["id"]}[protect]
    played = ansible.play(playbook(
        task("disable", USER_MODULE, dict(user_id=target["id"], account_enabled=False, protected_accounts=[entry]), ignore_errors=True),
        task("revoke", ACTION_MODULE, dict(user_principal_name=target["userPrincipalName"], action="revoke_sign_in_sessions",
                                           protected_accounts=[entry]), ignore_errors=True)))
    for name in ("disable", "revoke"):
        result = failed(played, name)
        assert result["option"] == "protected_accounts" and entry in result["msg"]
    assert write_targets(emulator) == []


def test_privileged_target_403_is_explained(emulator, ansible):
    target = pick(emulator, hybrid=False, privileged=True)
    played = ansible.play(playbook(
        task("disable", USER_MODULE, dict(user_id=target["id"], account_enabled=False), ignore_errors=True),
        task("revoke", ACTION_MODULE, dict(user_id=target["id"], action="revoke_sign_in_sessions"), ignore_errors=True)))
    for name, permission in (("disable", "User.EnableDisableAccount.All and User.Read.All"), ("revoke", "User.RevokeSessions.All")):
        result = failed(played, name)
        assert (result["error"]["status"], result["error"]["error_code"]) == (403, "Authorization_RequestDenied")
        assert result["error"]["required_permission"] == permission
        assert "privileged administrator role" in result["error"]["hint"] and "directory role" in result["error"]["hint"]
    after = user(emulator, target["id"])
    assert after["accountEnabled"] is True and after["signInSessionsValidFromDateTime"] == SEED_SESSIONS_VALID_FROM


def test_unknown_user_and_bad_ids_fail_closed(emulator, ansible):
    played = ansible.play(playbook(
        task("unknown", USER_MODULE, dict(user_principal_name="nobody@contoso.com", account_enabled=False), ignore_errors=True),
        task("not a guid", USER_MODULE, dict(user_id="meganb", account_enabled=False), ignore_errors=True),
        task("both", USER_MODULE, dict(user_id="3086863e-1807-524b-8a62-ef7649a1d776", user_principal_name="meganb@contoso.com",
                                       account_enabled=False), ignore_errors=True)))
    assert "no Entra ID user matches user_principal_name='nobody@contoso.com'" in failed(played, "unknown")["msg"]
    assert failed(played, "not a guid")["option"] == "user_id"
    assert "mutually exclusive" in failed(played, "both")["msg"]
    assert write_targets(emulator) == []


def test_missing_permission_names_it(emulator, ansible):
    target = pick(emulator, hybrid=False)
    played = ansible.play(playbook(task("disable", USER_MODULE, dict(user_id=target["id"], account_enabled=False), ignore_errors=True)),
                          client="reader")
    result = failed(played, "disable")
    assert (result["error"]["status"], result["error"]["required_permission"]) == (403, "User.Read.All")
    assert write_targets(emulator) == []


def test_synced_user_400_names_the_active_directory_fix_and_a_later_sync_reverts_an_accepted_change(emulator, ansible):
    """No Microsoft page says which happens: the emulator serves both (docs/service-contract.md, "Synced users")."""
    target = pick(emulator, hybrid=True)
    emulator.admin.configure(synced_account_enabled="refuse")
    played = ansible.play(playbook(task("disable", USER_MODULE, dict(user_id=target["id"], account_enabled=False), ignore_errors=True)))
    result = failed(played, "disable")
    assert result["error"]["status"] == 400 and result["error"]["request_id"]
    assert "msgraph.security.identity_account_action" in result["error"]["hint"] and "activeDirectory" in result["error"]["hint"]
    assert user(emulator, target["id"])["accountEnabled"] is True
    emulator.admin.configure(synced_account_enabled="accept")
    played = ansible.play(playbook(task("disable", USER_MODULE, dict(user_id=target["id"], account_enabled=False))))
    assert played.rc == 0 and any("activeDirectory" in warning for warning in played.task("disable")["warnings"])
    assert emulator.admin.directory_sync() == 1 and user(emulator, target["id"])["accountEnabled"] is True
