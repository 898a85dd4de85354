# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport guards and service variants, through real ansible-playbook runs against the emulator.

Each case is a trap a host or the service can set: a ``~/.netrc`` entry for the Graph host, a requests older than
the floor (with ``CURL_CA_BUNDLE=""``), a command whose answer is lost after it was sent, an id the service returns
that would change a request path, and a service that refuses a filter joining values with ``or``.
"""

from __future__ import annotations

import json
import os

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import playbook, short, writes
from reliability_helpers import (
    MDE,
    SLOW_ACTIONS,
    app_token,
    entries,
    invocations,
    pick_identities,
    play,
    task,
    warnings_of,
)

MODULE_TASKS = {
    "identity_account_info": lambda identity, token: {"user_principal_name": identity["userPrincipalName"]},
    "identity_account_action": lambda identity, token: {"identity_account_id": identity["id"], "identity_provider": "activeDirectory",
                                                        "action": "disable"},
    "security_action": lambda identity, token: {"name": "BlockIp", "parameters": {"IP": "203.0.113.77"}, "vendor_information": MDE,
                                                "access_token": token, "auth_method": "access_token"},
}


def test_a_netrc_entry_for_the_graph_host_never_replaces_the_bearer_token(ansible, emulator, reliability):
    home = ansible.workdir / "home"
    home.mkdir(exist_ok=True)
    netrc = home / ".netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-password-value\n", encoding="utf-8")
    os.chmod(netrc, 0o600)
    token = app_token(emulator, "legacy_actions")
    identities = pick_identities(emulator, 2)
    tasks = [task(module, module, make(identities[index % 2], token)) for index, (module, make) in enumerate(MODULE_TASKS.items())]
    played = play(ansible, playbook(*tasks))
    log = emulator.admin.requests()
    basic = [entry for entry in log if str(entry["headers"].get("Authorization", "")).lower().startswith("basic")]
    for module in MODULE_TASKS:
        with reliability.case("transport", "~/.netrc holds credentials for the Graph and token host", module,
                              "the bearer token (and the token request) go out unchanged; no Basic credentials sent") as case:
            mine = played.during(module, log)
            case["writes"] = len([entry for entry in mine if entry["family"] == "graph" and entry["method"] != "GET"])
            case["observed"] = f"{played.status(module)}; {len([e for e in mine if e in basic])} request(s) with Basic credentials"
            assert played.status(module) in ("ok", "changed"), short(played.task(module))
            assert not [entry for entry in mine if entry in basic], "a request carried the .netrc credentials"
            assert any(str(entry["headers"].get("Authorization", "")).startswith("Bearer") for entry in mine if entry["family"] == "graph")
    reliability.verify()


def test_a_requests_below_the_floor_is_refused_before_any_request(ansible, emulator, reliability, tmp_path):
    """requests reports 2.27.1 (a distribution's package): with it, CURL_CA_BUNDLE="" switched verification off."""
    shim = tmp_path / "old_requests"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import requests\nrequests.__version__ = '2.27.1'\n", encoding="utf-8")
    token = app_token(emulator, "legacy_actions")
    [identity] = pick_identities(emulator, 1)
    tasks = [task(module, module, make(identity, token)) for module, make in MODULE_TASKS.items()]
    env = {"PYTHONPATH": os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")]), "CURL_CA_BUNDLE": ""}
    emulator.admin.clear_requests()
    played = play(ansible, playbook(*tasks), env=env)
    log = emulator.admin.requests()
    for module in MODULE_TASKS:
        with reliability.case("transport", 'requests 2.27.1 on the host, CURL_CA_BUNDLE=""', module,
                              "refused like a missing library, naming requests>=2.32.4 and why; nothing sent") as case:
            result = played.task(module)
            case["writes"] = 0
            case["observed"] = f"{played.status(module)}: {result.get('msg', '')[:90]}"
            assert played.status(module) == "failed", short(result)
            assert "requests>=2.32.4" in result["msg"] and "requests 2.27.1 is installed" in result["msg"], short(result)
            assert played.during(module, log) == [], "a request was sent with a requests below the floor"
    reliability.verify()


def test_a_command_whose_answer_comes_back_in_plaintext_after_sending_is_an_unknown_outcome(ansible, emulator, reliability):
    [identity] = pick_identities(emulator, 1, offering="forcePasswordReset")
    emulator.admin.add_fault(route="invoke_action", kind="tls_plaintext", times=1,
                             path_regex=identity["id"].replace(".", r"\."))
    played = play(ansible, playbook(task("reset", "identity_account_action", {
        "identity_account_id": identity["id"], "identity_provider": "activeDirectory", "action": "forcePasswordReset"})))
    with reliability.case("transport", "plaintext answer after the command was sent (WRONG_VERSION_NUMBER)", "identity_account_action",
                          "error.outcome unknown with the client-request-id; not resent, never a plain TLS failure",
                          expected_writes=1) as case:
        result = played.task("reset")
        sent = writes(emulator, identity["id"])
        case["writes"] = len(sent)
        case["observed"] = f"{played.status('reset')}: outcome {result.get('error', {}).get('outcome')}"
        assert played.status("reset") == "failed", short(result)
        assert result["error"]["outcome"] == "unknown" and result["error"]["client_request_id"], short(result)
        assert "TLS connection failed" not in result["msg"], short(result)
        assert len(sent) == 1 and len(invocations(emulator, identity["id"])) == 1
    reliability.verify()


def test_a_returned_security_action_id_that_would_change_the_path_is_refused(ansible, emulator, reliability):
    emulator.admin.configure(security_action_timing=SLOW_ACTIONS)
    context = "msgraph.security:test:dot-segment-id"
    planted = {"id": "..", "name": "BlockIp", "status": "Running", "clientContext": context,
               "parameters": [{"name": "IP", "value": "203.0.113.9"}], "vendorInformation": MDE}
    emulator.admin.add_fault(route="list_security_actions", kind="malformed", content_type="application/json",
                             body=json.dumps({"value": [planted]}), times=1)
    token = app_token(emulator, "legacy_actions")
    played = play(ansible, playbook(task("cancel", "security_action", {"state": "canceled", "client_context": context,
                                                                       "access_token": token, "auth_method": "access_token"})))
    with reliability.case("transport", "the service returns a securityAction id '..' (it would collapse the cancel path)",
                          "security_action", "refused with UnsafeServerId before the cancel; nothing sent", expected_writes=0) as case:
        result = played.task("cancel")
        posts = entries(emulator, method="POST", path_contains="securityActions")
        case["writes"] = len(posts)
        case["observed"] = f"{played.status('cancel')}: {result.get('error', {}).get('error_code')}"
        assert played.status("cancel") == "failed" and result["error"]["error_code"] == "UnsafeServerId", short(result)
        assert posts == []
    reliability.verify()


def test_a_service_that_refuses_or_filters_still_answers_multi_value_filters(ansible, emulator, reliability):
    args = {"severity": ["high", "medium", "low", "informational"], "status": ["active", "inProgress"]}
    reads = [task("combined", "incident_info", args), task("per value", "incident_info", args)]
    combined = play(ansible, playbook(reads[0]), client="incident_responder")
    emulator.admin.configure(incident_filter_or="refuse")
    emulator.admin.clear_requests()
    refused = play(ansible, playbook(reads[1]), client="incident_responder")
    with reliability.case("transport", "the service answers 400 to (p eq 'a' or p eq 'b') on incidents", "incident_info",
                          "one documented eq query per value, merged and de-duplicated by id: the same incidents, with a warning",
                          expected_writes=0) as case:
        first, second = combined.task("combined"), refused.task("per value")
        queries = entries(emulator, route="list_incidents")
        case["writes"] = 0
        case["observed"] = f"{refused.status('per value')}: {len(queries)} queries, {len(second.get('incidents') or [])} incidents"
        assert refused.status("per value") == "ok", short(second)
        assert [item["id"] for item in second["incidents"]] == [item["id"] for item in first["incidents"]]
        assert first["incidents"], "the seed has no matching incident: the case proves nothing"
        assert [entry["status"] for entry in queries][:1] == [400] and len(queries) == 1 + 4 * 2
        assert any("'or'" in warning for warning in warnings_of(second)), warnings_of(second)
    reliability.verify()
