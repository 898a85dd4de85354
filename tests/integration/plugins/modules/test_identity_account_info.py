# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""identity_account_info through real ansible-playbook runs against the Graph emulator over HTTPS.

Expected values come from the emulator's live state (seeded from graph_emulator/data/tenant.json).
"""

from __future__ import annotations

import pytest
from graph_emulator.shapes import contradictory

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import BOTH_PROFILES, playbook, task

pytestmark = BOTH_PROFILES  # the schema and docs profiles of the emulator

MODULE = "msgraph.security.identity_account_info"


def info_task(name, ignore_errors=False, **args):
    return task(name, MODULE, args, ignore_errors=ignore_errors)


def identities(emulator):
    return emulator.admin.state()["identities"]


def snake_case(identity):
    """What the module must return for a stored (schema-shaped) identity."""
    return {
        "id": identity["id"],
        "display_name": identity["displayName"],
        "domain": identity.get("domain"),
        "is_enabled": identity["isEnabled"],
        "on_premises_security_identifier": identity.get("onPremisesSecurityIdentifier"),
        "cloud_security_identifier": identity.get("cloudSecurityIdentifier"),
        "user_principal_name": identity.get("userPrincipalName"),
        "email_address": identity.get("emailAddress"),
        "accounts": [{"identifier": a["identifier"], "identity_provider": a["identityProvider"], "actions": a["actions"]}
                     for a in identity["accounts"]],
    }


def shown(emulator, identity, route):
    """What the service shows of a stored identity on a route ("list" or "get"). Profile-specific: under the docs
    profile List results offer no actions and the contradictory identities' Get shows Get example 1's picture."""
    config = emulator.admin.config()
    if route == "list" and config["list_actions"] == "empty":
        identity = dict(identity, accounts=[dict(account, actions=[]) for account in identity["accounts"]])
    elif identity["id"] in config["contradictory_identities"]:
        identity = contradictory(identity)
    return snake_case(identity)


def as_shown(emulator, identity):
    """The pictures a lookup may return: which one depends on whether the module read it by List or by Get
    (the same under the schema profile)."""
    return [shown(emulator, identity, "list"), shown(emulator, identity, "get")]


@pytest.fixture(params=["schema", "example"])
def shape(request, emulator):
    emulator.admin.configure(shape=request.param)
    return request.param


@pytest.mark.smoke
def test_every_identity_is_listed_across_pages_in_snake_case(emulator, ansible, shape):
    expected = [shown(emulator, identity, "list") for identity in identities(emulator)]
    played = ansible.play(playbook(info_task("all")))
    assert played.rc == 0, played.output
    result = played.task("all")
    assert result["changed"] is False
    assert sorted(result["identity_accounts"], key=lambda i: i["id"]) == sorted(expected, key=lambda i: i["id"])
    pages = emulator.admin.requests(route="list_identity_accounts")
    assert len(pages) == -(-len(expected) // emulator.admin.config()["page_size"]) > 1


def test_each_lookup_finds_its_identity(emulator, ansible, shape):
    everyone = identities(emulator)
    counts = {}
    for identity in everyone:
        counts[identity["displayName"]] = counts.get(identity["displayName"], 0) + 1
    # Unique display name, a SID, and an account on the last page (the identifier lookup reads every page).
    target = next(i for i in everyone if i.get("onPremisesSecurityIdentifier") and counts[i["displayName"]] == 1)
    last = everyone[-1]
    guest = next((i for i in everyone if "#" in (i.get("userPrincipalName") or "")), target)
    played = ansible.play(playbook(
        info_task("by id", id=target["id"]),
        info_task("by upn", user_principal_name=target["userPrincipalName"].upper()),
        info_task("by sid", on_premises_security_identifier=target["onPremisesSecurityIdentifier"]),
        info_task("by display name", display_name=target["displayName"].lower()),
        info_task("by account identifier", account_identifier=last["accounts"][-1]["identifier"]),
        info_task("by filter", filter=f"domain eq '{target['domain']}' and isEnabled eq {str(target['isEnabled']).lower()}"),
        info_task("guest with #EXT# in its upn", user_principal_name=guest["userPrincipalName"]),
    ))
    assert played.rc == 0, played.output
    for name in ("by id", "by upn", "by sid", "by display name"):
        found = played.task(name)["identity_accounts"]
        assert len(found) == 1 and found[0] in as_shown(emulator, target), name
    found = played.task("by account identifier")["identity_accounts"]
    assert len(found) == 1 and found[0] in as_shown(emulator, last)
    assert target["id"] in [i["id"] for i in played.task("by filter")["identity_accounts"]]
    found = played.task("guest with #EXT# in its upn")["identity_accounts"]
    assert len(found) == 1 and found[0] in as_shown(emulator, guest)
    assert emulator.admin.writes() == []


def test_shared_display_names_return_every_match(emulator, ansible):
    counts = {}
    for identity in identities(emulator):
        counts.setdefault(identity["displayName"], []).append(identity["id"])
    shared, ids = next((name, ids) for name, ids in counts.items() if len(ids) > 1)
    played = ansible.play(playbook(info_task("shared", display_name=shared), info_task("nobody", user_principal_name="no.one@contoso.com"),
                                   info_task("unknown id", id="00000000-0000-4000-8000-000000000000")))
    assert played.rc == 0, played.output
    assert sorted(i["id"] for i in played.task("shared")["identity_accounts"]) == sorted(ids)
    assert played.task("nobody")["identity_accounts"] == []
    assert played.task("unknown id")["identity_accounts"] == []


def test_a_quote_in_a_lookup_value_cannot_break_out_of_the_filter(emulator, ansible):
    played = ansible.play(playbook(info_task("injection", display_name="x' or displayName ne 'x")))
    assert played.rc == 0, played.output
    assert played.task("injection")["identity_accounts"] == []
    (listing,) = emulator.admin.requests(route="list_identity_accounts")
    assert listing["query"]["$filter"] == "displayName eq 'x'' or displayName ne ''x'"


def test_bad_input_is_refused_before_any_request(emulator, ansible):
    played = ansible.play(playbook(
        info_task("bad sid", ignore_errors=True, on_premises_security_identifier="not-a-sid"),
        info_task("two lookups", ignore_errors=True, id="abc", display_name="Alex"),
    ))
    assert played.rc == 0, played.output
    assert played.status("bad sid") == "failed" and played.task("bad sid")["option"] == "on_premises_security_identifier"
    assert played.status("two lookups") == "failed" and "mutually exclusive" in played.task("two lookups")["msg"]
    assert emulator.admin.requests() == []


def test_an_app_without_roles_gets_403_naming_the_read_permission(emulator, ansible):
    played = ansible.play(playbook(info_task("all", ignore_errors=True)), client="no_roles")
    assert played.status("all") == "failed"
    result = played.task("all")
    (logged,) = emulator.admin.requests(route="list_identity_accounts")
    assert result["error"]["status"] == 403 and result["error"]["required_permission"] == "SecurityIdentitiesAccount.Read.All"
    assert result["error"]["request_id"] == logged["request_id"] and result["error"]["error_code"]


def test_a_tenant_not_onboarded_is_told_apart_from_a_missing_permission(emulator, ansible):
    played = ansible.play(playbook(info_task("all", ignore_errors=True)), client="not_onboarded")
    assert played.status("all") == "failed"
    result = played.task("all")
    assert result["error"]["status"] == 403 and "not onboarded" in result["error"]["hint"]


def test_china_is_refused_before_any_request(emulator, ansible):
    played = ansible.play(playbook(info_task("all", ignore_errors=True, cloud_environment="AzureChinaCloud")))
    assert played.status("all") == "failed" and played.task("all")["error"]["error_code"] == "UnsupportedCloud"
    assert emulator.admin.requests() == []
