# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""api_version=v1.0 end to end: identityAccounts and invokeAction are generally available in v1.0 (v1.0-Prod
metadata, docs/service-contract.md); securityActions exist in beta only and are refused before any request."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import playbook, task

V1 = {"api_version": "v1.0"}


def v1_task(task_name, module, ignore_errors=False, **args):
    """A task with api_version v1.0."""
    return task(task_name, module, dict(V1, **args), ignore_errors=ignore_errors)


def enabled_ad_identity(emulator, skip=()):
    for identity in emulator.admin.state()["identities"]:
        ad = next((a for a in identity["accounts"] if a["identityProvider"] == "activeDirectory"), None)
        if identity.get("userPrincipalName") and identity["isEnabled"] and ad and "disable" in ad["actions"] \
                and identity["id"] not in skip and not identity["userPrincipalName"].startswith("break"):
            return identity, ad
    raise AssertionError("the seed has no enabled identity with an Active Directory account")


def graph_paths(emulator):
    return [entry["path"] for entry in emulator.admin.requests() if entry["family"] == "graph"]


@pytest.mark.parametrize("shape", [pytest.param("schema", marks=pytest.mark.smoke), "example"])
def test_lookup_preview_action_and_rerun_all_on_v1_0(emulator, ansible, shape):
    emulator.admin.configure(shape=shape)
    identity, ad = enabled_ad_identity(emulator)
    disable = dict(user_principal_name=identity["userPrincipalName"], identity_provider="activeDirectory", action="disable")
    play = ansible.play(playbook(
        v1_task("find", "identity_account_info", user_principal_name=identity["userPrincipalName"]),
        dict(v1_task("preview", "identity_account_action", **disable), check_mode=True),
        v1_task("disable", "identity_account_action", **disable),
        v1_task("again", "identity_account_action", **disable),
    ))
    assert play.rc == 0, play.output
    assert [found["id"] for found in play.task("find")["identity_accounts"]] == [identity["id"]]
    preview = play.task("preview")["request"]
    assert preview["url"] == f"{emulator.info['graph_endpoint']}/v1.0/security/identities/identityAccounts/{identity['id']}/invokeAction"
    assert preview["body"] == {"accountId": ad["identifier"], "action": "disable", "identityProvider": "activeDirectory"}
    sent = play.task("disable")
    assert sent["outcome"] == "sent" and sent["invoke_action_result"]["correlation_id"]
    [write] = emulator.admin.writes()
    assert write["path"] == f"/v1.0/security/identities/identityAccounts/{identity['id']}/invokeAction"
    assert write["body"] == preview["body"]
    assert play.task("again")["changed"] is False
    assert all(path.startswith("/v1.0/") for path in graph_paths(emulator)), graph_paths(emulator)


def test_bulk_targets_on_v1_0(emulator, ansible):
    first = enabled_ad_identity(emulator)[0]
    second = enabled_ad_identity(emulator, skip={first["id"]})[0]
    play = ansible.play(playbook(v1_task("bulk", "identity_account_action", identity_provider="activeDirectory", action="disable",
                                         targets=[{"user_principal_name": first["userPrincipalName"]},
                                                  {"identity_account_id": second["id"]}])))
    assert play.rc == 0, play.output
    assert play.task("bulk")["summary"]["succeeded"] == 2
    assert sorted(write["path"].split("/")[-2] for write in emulator.admin.writes()) == sorted([first["id"], second["id"]])
    assert all(path.startswith("/v1.0/") for path in graph_paths(emulator))


@pytest.mark.smoke
def test_security_actions_on_v1_0_are_refused_before_any_request(emulator, ansible):
    play = ansible.play(playbook(
        v1_task("create", "security_action", ignore_errors=True, name="BlockIp", parameters=[{"name": "IP", "value": "203.0.113.9"}],
                vendor_information={"vendor": "Microsoft", "provider": "Windows Defender ATP"}),
        v1_task("read", "security_action_info", ignore_errors=True),
    ), client="legacy_actions")
    for name in ("create", "read"):
        result = play.task(name)
        assert play.status(name) == "failed" and "api_version" in result["msg"] and "beta only" in result["msg"]
    assert emulator.admin.requests() == []  # not even a token request
