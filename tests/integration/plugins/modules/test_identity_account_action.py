# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""identity_account_action through real ansible-playbook runs against the Graph emulator over HTTPS.

Identities are picked from the emulator's live state (seeded from graph_emulator/data/tenant.json), never
hard-coded. Every test asserts, from the emulator's request log, exactly which writes reached Graph.
"""

from __future__ import annotations

import itertools
import time

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import BOTH_PROFILES, playbook, task

pytestmark = BOTH_PROFILES  # the schema and docs profiles of the emulator

MODULE = "msgraph.security.identity_account_action"
PROVIDERS = ("activeDirectory", "entraID", "okta")
ACTIONS = ("disable", "enable", "forcePasswordReset", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised")
# The emulator's matrices (graph_emulator.config.MATRICES) and the module's action_matrix for each.
EMULATOR_MATRICES = {"A": "documented", "B": "extended"}
SHAPES = ("schema", "example")


# --- playbooks ---------------------------------------------------------------------------------------


def action_task(name, ignore_errors=False, check_mode=None, **args):
    return task(name, MODULE, args, ignore_errors=ignore_errors, check_mode=check_mode)


# --- picking identities from the emulator's state ------------------------------------------------------


def identities(emulator):
    return emulator.admin.state()["identities"]


def account_for(identity, provider):
    return next((a for a in identity["accounts"] if a["identityProvider"] == provider), None)


def display_name_counts(emulator):
    counts = {}
    for identity in identities(emulator):
        counts[identity["displayName"]] = counts.get(identity["displayName"], 0) + 1
    return counts


def pick(emulator, provider, offering, skip=()):
    """An identity with a unique UPN whose account for ``provider`` offers ``offering`` (e.g. "enable")."""
    for identity in identities(emulator):
        account = account_for(identity, provider)
        if identity.get("userPrincipalName") and account and offering in account["actions"] and identity["id"] not in skip:
            return identity
    raise AssertionError(f"the emulator seed has no identity whose {provider} account offers {offering}")


def target_for(emulator, provider, action, skip=()):
    """An identity the action makes sense on: enable needs a disabled account, everything else an enabled one."""
    return pick(emulator, provider, "enable" if action == "enable" else "disable", skip)


def supported_pairs(emulator_matrix):
    from graph_emulator.config import MATRICES  # the emulator is the reference for what it executes

    return sorted((provider, action) for provider, actions in MATRICES[emulator_matrix].items() for action in actions)


def failed_task(played, name):
    """The result of a task that must have failed (the callback records the status beside the result)."""
    assert played.status(name) == "failed", (played.status(name), played.task(name))
    return played.task(name)


def graph_writes(emulator):
    return emulator.admin.writes()


def wait_for_writes(emulator, count, timeout=10):
    """The emulator logs a request when it has answered it: wait for a delayed write to be logged, so that it is
    counted here and does not land in the next test's log."""
    deadline = time.monotonic() + timeout
    while len(graph_writes(emulator)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return graph_writes(emulator)


def graph_requests(emulator):
    return [entry for entry in emulator.admin.requests() if entry["family"] == "graph"]


def invoke_path(identity):
    return f"/beta/security/identities/identityAccounts/{identity['id']}/invokeAction"


@pytest.fixture(params=SHAPES)
def shape(request, emulator):
    emulator.admin.configure(shape=request.param)
    return request.param


# --- every supported pair is executed ------------------------------------------------------------------


@pytest.mark.parametrize("emulator_matrix", sorted(EMULATOR_MATRICES))
def test_every_supported_pair_is_executed(emulator, ansible, shape, emulator_matrix):
    """One task per pair the emulator's matrix supports, each on its own identity (one play keeps it fast)."""
    emulator.admin.configure(matrix=emulator_matrix)
    pairs = [pair for pair in supported_pairs(emulator_matrix) if emulator_matrix == "A" or pair[0] == "entraID"]
    targets = {}
    for provider, action in pairs:
        targets[(provider, action)] = target_for(emulator, provider, action, skip=[t["id"] for t in targets.values()])
    played = ansible.play(playbook(*[
        action_task(f"{provider} {action}", ignore_errors=True, user_principal_name=targets[(provider, action)]["userPrincipalName"],
                    identity_provider=provider, action=action, action_matrix=EMULATOR_MATRICES[emulator_matrix])
        for provider, action in pairs]))
    assert played.rc == 0, played.output
    assert [name for name in (f"{p} {a}" for p, a in pairs) if played.status(name) != "changed"] == []
    writes = graph_writes(emulator)
    invocations = emulator.admin.state()["invocations"]
    assert len(writes) == len(pairs) == len(invocations)
    for provider, action in pairs:
        identity = targets[(provider, action)]
        account = account_for(identity, provider)
        body = {"accountId": account["identifier"], "action": action, "identityProvider": provider}
        (write,) = [w for w in writes if w["path"] == invoke_path(identity) and w["body"] == body]
        result = played.task(f"{provider} {action}")
        assert result["outcome"] == "sent"
        invoked = result["invoke_action_result"]
        assert (invoked["account_id"], invoked["action"], invoked["identity_provider"]) == (account["identifier"], action, provider)
        assert (invoked["request_id"], invoked["client_request_id"]) == (write["request_id"], write["client_request_id"])
        (invocation,) = [i for i in invocations if i["identityAccountId"] == identity["id"]]
        assert invoked["correlation_id"] == invocation["correlationId"]
        if action in ("disable", "enable"):
            after = account_for(next(i for i in identities(emulator) if i["id"] == identity["id"]), provider)
            assert ("enable" if action == "disable" else "disable") in after["actions"], (provider, action)
    assert len(pairs) == (6 if emulator_matrix == "A" else 5)


# --- every unsupported pair is refused before anything is sent ------------------------------------------


@pytest.mark.request_free
def test_every_unsupported_pair_is_refused_with_zero_posts(emulator, ansible, shape):
    supported = set(supported_pairs("A"))
    unsupported = [pair for pair in itertools.product(PROVIDERS, ACTIONS) if pair not in supported]
    identity = next(i for i in identities(emulator) if all(account_for(i, p) for p in PROVIDERS))
    tasks = [action_task(f"{provider} {action}", ignore_errors=True, identity_account_id=identity["id"],
                         identity_provider=provider, action=action) for provider, action in unsupported]
    played = ansible.play(playbook(*tasks))
    assert played.rc == 0, played.output
    for provider, action in unsupported:
        result = failed_task(played, f"{provider} {action}")
        assert result["option"] == "action", result
        assert f"'{action}' is not supported for identity provider '{provider}'" in result["msg"]
    assert len(unsupported) == 12
    assert graph_writes(emulator) == []
    assert graph_requests(emulator) == []  # refused from the input alone: not even a GET


# --- check mode, diff, idempotency ---------------------------------------------------------------------


@pytest.mark.smoke
def test_check_mode_then_real_run_then_idempotent_rerun(emulator, ansible, shape, emulator_profile):
    identity = pick(emulator, "activeDirectory", "disable")
    account = account_for(identity, "activeDirectory")
    args = dict(user_principal_name=identity["userPrincipalName"], identity_provider="ActiveDirectory", action="Disable")
    played = ansible.play(playbook(
        action_task("preview", check_mode=True, **args),
        action_task("disable", **args),
        action_task("disable again", **args),
    ), diff=True)
    assert played.rc == 0, played.output
    preview, first, second = played.task("preview"), played.task("disable"), played.task("disable again")

    assert preview["changed"] is True and preview["outcome"] == "check_mode"
    assert preview["request"] == {
        "method": "POST",
        "url": emulator.info["graph_endpoint"] + invoke_path(identity),
        "body": {"accountId": account["identifier"], "action": "disable", "identityProvider": "activeDirectory"},
    }
    assert preview["diff"]["before"]["is_enabled"] is True and preview["diff"]["after"]["is_enabled"] is False

    assert first["changed"] is True and first["invoke_action_result"]["correlation_id"]
    writes = graph_writes(emulator)
    assert writes[0]["client_request_id"] == first["invoke_action_result"]["client_request_id"]
    if emulator_profile == "schema":
        assert second["changed"] is False and second["outcome"] == "unchanged"
        assert "already disabled" in second["reason"]
        assert second["identity_account"]["is_enabled"] is False
        assert len(writes) == 1
    else:  # docs profile: the lookup shows no offered actions, isEnabled alone does not confirm: the re-run sends again
        assert second["changed"] is True and second["invoke_action_result"]["correlation_id"]
        assert len(writes) == 2


def test_check_mode_run_of_a_whole_play_sends_no_write(emulator, ansible, shape):
    identity = pick(emulator, "okta", "disable")
    played = ansible.play(playbook(
        action_task("okta disable", user_principal_name=identity["userPrincipalName"], identity_provider="okta", action="disable"),
        action_task("okta revoke", user_principal_name=identity["userPrincipalName"], identity_provider="okta",
                    action="revokeAllSessions"),
    ), check=True)
    assert played.rc == 0, played.output
    assert played.task("okta revoke")["request"]["body"]["action"] == "revokeAllSessions"
    assert graph_writes(emulator) == []
    assert graph_requests(emulator)  # it did read


def test_command_actions_are_sent_on_every_run(emulator, ansible):
    identity = pick(emulator, "activeDirectory", "forcePasswordReset")
    options = dict(user_principal_name=identity["userPrincipalName"], identity_provider="activeDirectory", action="forcePasswordReset")
    played = ansible.play(playbook(action_task("first", **options), action_task("second", **options)))
    assert played.rc == 0, played.output
    assert played.task("first")["changed"] is True and played.task("second")["changed"] is True
    writes = graph_writes(emulator)
    assert len(writes) == 2 and writes[0]["client_request_id"] != writes[1]["client_request_id"]


def test_enable_on_an_enabled_account_is_unchanged_without_a_post(emulator, ansible, shape, emulator_profile):
    identity = pick(emulator, "okta", "disable")
    played = ansible.play(playbook(action_task(
        "enable", on_premises_security_identifier=identity["onPremisesSecurityIdentifier"] or None,
        identity_account_id=None if identity["onPremisesSecurityIdentifier"] else identity["id"],
        identity_provider="okta", action="enable")))
    assert played.rc == 0, played.output
    result = played.task("enable")
    if emulator_profile == "schema":
        assert result["changed"] is False and "already enabled" in result["reason"]
        assert graph_writes(emulator) == []
    else:  # docs profile: no offered actions to confirm isEnabled, so the enable is sent (and accepted)
        assert result["changed"] is True and len(graph_writes(emulator)) == 1


# --- lookups that do not resolve to exactly one identity -------------------------------------------------


def test_an_ambiguous_display_name_and_an_unknown_upn_fail_closed(emulator, ansible, shape):
    shared = next(name for name, count in display_name_counts(emulator).items() if count > 1)
    expected = sorted(i["id"] for i in identities(emulator) if i["displayName"] == shared)
    played = ansible.play(playbook(
        action_task("ambiguous", ignore_errors=True, display_name=shared, identity_provider="activeDirectory", action="disable"),
        action_task("unknown", ignore_errors=True, user_principal_name="nobody.here@contoso.com",
                    identity_provider="activeDirectory", action="disable"),
    ))
    assert played.rc == 0, played.output
    ambiguous, unknown = failed_task(played, "ambiguous"), failed_task(played, "unknown")
    assert ambiguous["option"] == "display_name"
    assert sorted(m["id"] for m in ambiguous["matches"]) == expected
    assert "refusing to guess" in ambiguous["msg"]
    assert unknown["matches"] == [] and "no identity account matches" in unknown["msg"]
    assert graph_writes(emulator) == []


def test_an_unknown_identity_id_is_a_404_with_code_and_request_id(emulator, ansible):
    played = ansible.play(playbook(action_task(
        "missing", ignore_errors=True, identity_account_id="00000000-0000-4000-8000-000000000000",
        identity_provider="okta", action="disable")))
    result = failed_task(played, "missing")
    logged = [e for e in graph_requests(emulator) if e["status"] == 404]
    assert result["error"]["status"] == 404 and result["error"]["error_code"] == "NotFound"
    assert len(logged) == 1 and result["error"]["request_id"] == logged[0]["request_id"]
    assert "identity_account_info" in result["error"]["hint"]
    assert graph_writes(emulator) == []


# --- guards ----------------------------------------------------------------------------------------------------


def test_protected_accounts_are_never_acted_on(emulator, ansible, shape):
    identity = pick(emulator, "activeDirectory", "disable")
    account = account_for(identity, "activeDirectory")
    args = dict(user_principal_name=identity["userPrincipalName"], identity_provider="activeDirectory", action="disable")
    played = ansible.play(playbook(
        action_task("by upn", ignore_errors=True, protected_accounts=[identity["userPrincipalName"].upper()], **args),
        action_task("by account id in check mode", ignore_errors=True, check_mode=True,
                    protected_accounts=["someone@contoso.com", account["identifier"]], **args),
    ))
    assert played.rc == 0, played.output
    for name in ("by upn", "by account id in check mode"):
        assert failed_task(played, name)["option"] == "protected_accounts"
    assert graph_writes(emulator) == []


# --- permissions, clouds --------------------------------------------------------------------------------------


def test_a_reader_app_gets_403_naming_the_write_permission(emulator, ansible, shape):
    identity = pick(emulator, "activeDirectory", "disable")
    played = ansible.play(playbook(action_task(
        "act", ignore_errors=True, identity_account_id=identity["id"], identity_provider="activeDirectory", action="disable")),
        client="reader")
    result = failed_task(played, "act")
    writes = graph_writes(emulator)
    assert result["error"]["status"] == 403
    assert result["error"]["required_permission"] == "SecurityIdentitiesActions.ReadWrite.All"
    assert result["error"]["error_code"]
    assert len(writes) == 1 and writes[0]["status"] == 403 and result["error"]["request_id"] == writes[0]["request_id"]
    assert "SecurityIdentitiesActions.ReadWrite.All" in result["msg"] and result["error"]["request_id"] in result["msg"]


def test_an_app_without_roles_gets_403_naming_the_read_permission(emulator, ansible):
    identity = pick(emulator, "activeDirectory", "disable")
    played = ansible.play(playbook(action_task(
        "act", ignore_errors=True, user_principal_name=identity["userPrincipalName"], identity_provider="activeDirectory",
        action="disable")), client="no_roles")
    result = failed_task(played, "act")
    assert result["error"]["status"] == 403
    assert result["error"]["required_permission"] == "SecurityIdentitiesAccount.Read.All" and result["error"]["request_id"]
    assert graph_writes(emulator) == []


def test_china_is_refused_before_any_request(emulator, ansible):
    emulator.admin.configure(cloud="china")
    played = ansible.play(playbook(action_task(
        "act", ignore_errors=True, user_principal_name="someone@contoso.com", identity_provider="activeDirectory",
        action="disable", cloud_environment="china")))
    result = failed_task(played, "act")
    assert result["error"]["error_code"] == "UnsupportedCloud" and "china" in result["msg"]
    assert emulator.admin.requests() == []  # not even a token request


# --- unknown outcomes are reconciled, never resent ------------------------------------------------------------


def test_a_timed_out_disable_that_took_effect_is_reconciled(emulator, ansible, shape):
    # An identity whose reads are consistent; the contradictory picture is the next test's.
    identity = pick(emulator, "activeDirectory", "disable", skip=emulator.admin.config()["contradictory_identities"])
    emulator.admin.add_fault(route="invoke_action", kind="timeout", delay_s=4, after_processing=True, times=1)
    played = ansible.play(playbook(action_task(
        "disable", timeout=2, identity_account_id=identity["id"], identity_provider="activeDirectory", action="disable")))
    assert played.rc == 0, played.output
    result = played.task("disable")
    writes = wait_for_writes(emulator, 1)
    assert result["changed"] is True and result["outcome"] == "reconciled"
    assert len(writes) == 1 and result["invoke_action_result"]["client_request_id"] == writes[0]["client_request_id"]
    assert any("of the identity show it took effect (isEnabled is false" in warning for warning in result.get("warnings", []))


def test_contradictory_evidence_after_a_timeout_stays_an_unknown_outcome(emulator, ansible):
    """Get example 1's picture (isEnabled and the offered toggle disagree) never proves the disable took effect:
    the outcome is reported unknown, naming the evidence, after reading for reconcile_timeout; never resent."""
    identity = pick(emulator, "activeDirectory", "disable")
    emulator.admin.configure(contradictory_identities=[identity["id"]])
    emulator.admin.add_fault(route="invoke_action", kind="timeout", delay_s=4, after_processing=True, times=1)
    played = ansible.play(playbook(action_task(
        "disable", ignore_errors=True, timeout=2, reconcile_timeout=3, identity_account_id=identity["id"],
        identity_provider="activeDirectory", action="disable")))
    result = failed_task(played, "disable")
    writes = wait_for_writes(emulator, 1)
    assert len(writes) == 1 and "outcome is unknown" in result["msg"] and "do not show it (isEnabled is" in result["msg"]
    assert result["error"]["outcome"] == "unknown"
    assert writes[0]["client_request_id"] in result["msg"]


def test_a_disable_whose_5xx_left_no_trace_fails_with_the_client_request_id(emulator, ansible):
    identity = pick(emulator, "activeDirectory", "disable")
    emulator.admin.add_fault(route="invoke_action", kind="status", status=500, times=1)
    played = ansible.play(playbook(action_task(
        "disable", ignore_errors=True, identity_account_id=identity["id"], identity_provider="activeDirectory", action="disable")))
    result = failed_task(played, "disable")
    writes = graph_writes(emulator)
    assert "may still be applied" in result["msg"]
    assert len(writes) == 1 and result["error"]["client_request_id"] == writes[0]["client_request_id"]
    assert "Action center" in result["error"]["hint"]


def test_a_command_with_an_unknown_outcome_is_not_resent(emulator, ansible):
    identity = pick(emulator, "okta", "revokeAllSessions")
    emulator.admin.add_fault(route="invoke_action", kind="status", status=503, times=1)
    played = ansible.play(playbook(action_task(
        "revoke", ignore_errors=True, user_principal_name=identity["userPrincipalName"], identity_provider="okta",
        action="revokeAllSessions")))
    result = failed_task(played, "revoke")
    writes = graph_writes(emulator)
    assert len(writes) == 1
    assert result["error"]["client_request_id"] == writes[0]["client_request_id"] and "Action center" in result["msg"]
