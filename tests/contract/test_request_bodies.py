"""(c) Every request body the collection sends, taken from the emulator's request log after real
ansible-playbook runs (the integration harness, tests/integration/conftest.py), through the SDK's request-body
models: nothing may be left over and every enum value must be the schema's."""

import pytest
import yaml

from conftest import integration_harness
from sdk_contract import findings

MDE = {"vendor": "Microsoft", "provider": "Windows Defender ATP"}


def _play(emulator, tmp_path, tasks, client="responder"):
    runner = integration_harness.AnsibleRunner(tmp_path, emulator.info)
    played = runner.play(yaml.safe_dump([{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}],
                                        sort_keys=False), client=client)
    assert played.rc == 0, played.output
    return played


def _identity(name, **options):
    return {"name": name, "msgraph.security.identity_account_action": options}


@pytest.mark.parametrize("profile", ["schema", "docs"])
def test_invoke_action_bodies_are_sdk_request_bodies(fresh_emulator, tmp_path, profile):
    fresh_emulator.configure({"profile": profile, "propagation_delay_s": 0})
    _play(fresh_emulator, tmp_path, [
        _identity("disable", identity_account_id="5f1b7404-7297-5d35-bc70-9970e79f4775",
                  account_id="43832e34-8ec6-5eb4-b8d8-7ca86e223a48", identity_provider="activeDirectory", action="disable"),
        _identity("reset", identity_account_id="198172ba-a98d-5ebb-9e10-08530bffca46",
                  account_id="2b932066-5b1f-5c71-b477-2a5f6cfd8527", identity_provider="activeDirectory", action="forcePasswordReset"),
        _identity("revoke", identity_account_id="a4df81a3-5e90-5908-b50a-754a16bee7c1", account_id="00uNEDjlmt6VQiv79z2C",
                  identity_provider="okta", action="revokeAllSessions"),
        _identity("v1.0 disable", api_version="v1.0", user_principal_name="lidiah@contoso.com", identity_provider="activeDirectory",
                  action="disable"),
        _identity("bulk", identity_provider="activeDirectory", action="forcePasswordReset",
                  targets=[{"user_principal_name": "jonis@contoso.com"}, {"user_principal_name": "leeg@contoso.com"}]),
    ])
    logged = fresh_emulator.admin.requests(route="invoke_action", method="POST")
    assert len(logged) == 6 and sum(entry["path"].startswith("/v1.0/") for entry in logged) == 1
    for entry in logged:
        assert findings("InvokeActionPostRequestBody", entry["body"], allowed=()) == [], entry["body"]


def test_security_action_bodies_are_sdk_security_actions(fresh_emulator, tmp_path):
    fresh_emulator.configure({"security_action_timing": {"running_after_s": 0.1, "terminal_after_s": 60}})
    _play(fresh_emulator, tmp_path, [
        {"name": "create", "msgraph.security.security_action": {"name": "BlockIp", "parameters": {"IP": "203.0.113.77"},
                                                                "vendor_information": MDE, "client_context": "contract-create",
                                                                "action_reason": "contract test"}},
        {"name": "cancel", "msgraph.security.security_action": {"state": "canceled", "client_context": "contract-create"}},
    ], client="legacy_actions")
    created = fresh_emulator.admin.requests(route="create_security_action", method="POST")
    assert len(created) == 1
    assert findings("SecurityAction", created[0]["body"], allowed=()) == [], created[0]["body"]
    cancels = fresh_emulator.admin.requests(route="cancel_security_action", method="POST")
    assert len(cancels) == 1 and cancels[0]["body"] is None  # the page: "Do not supply a request body"


# The request-body model of each write route the collection sends to, beta and v1.0 SDKs alike. revokeSignInSessions
# takes no body (user-revokesigninsessions.md); the others must parse with nothing left over.
BODY_MODELS = {"update_incident": "Incident", "add_incident_comment": "AlertComment", "update_user": "User",
               "confirm_compromised": "ConfirmCompromisedPostRequestBody", "dismiss_risk": "DismissPostRequestBody"}
MEGAN_USER = "3086863e-1807-524b-8a62-ef7649a1d776"


def body_findings(route, body, version):
    """The contract check of one logged request body: every departure from its SDK model(s) (v1.0 also through msgraph-sdk)."""
    if route == "revoke_sign_in_sessions":
        return [] if body is None else ["revokeSignInSessions: the request takes no body"]
    model = BODY_MODELS[route]
    if not isinstance(body, dict):
        return [f"{model}: body is not a JSON object"]
    try:
        out = findings(model, body, allowed=())
        if version == "v1.0":
            out += [f"v1.0 {item}" for item in findings(model, body, allowed=(), version="v1.0")]
    except (ValueError, TypeError) as error:  # kiota gives up on, e.g., a string where a collection belongs
        return [f"$: not readable by the model ({type(error).__name__})"]
    if model == "AlertComment" and not isinstance(body.get("comment"), str):
        out.append("comment: required")
    if model.endswith("PostRequestBody") and not (isinstance(body.get("userIds"), list) and body["userIds"]):
        out.append("userIds: a non-empty list is required")
    return sorted(out)


def entra_and_incident_bodies(emulator, tmp_path):
    """Real runs of every other write module; the logged (route, version, body) of each write."""
    _play(emulator, tmp_path, [
        {"name": "incident", "msgraph.security.incident": {"incident_id": "4711", "status": "inProgress", "classification": "truePositive",
                                                           "determination": "compromisedAccount", "custom_tags": ["contract"],
                                                           "comment": "contract comment", "api_version": "v1.0"}},
    ], client="incident_responder")
    _play(emulator, tmp_path / "entra", [
        {"name": "disable", "msgraph.security.entra_user": {"user_id": MEGAN_USER, "account_enabled": False}},
        {"name": "revoke", "msgraph.security.entra_user_action": {"user_id": MEGAN_USER, "action": "revoke_sign_in_sessions"}},
        {"name": "confirm", "msgraph.security.entra_user_action": {"action": "confirm_compromised",
                                                                   "targets": [{"user_id": MEGAN_USER}, {"user_principal_name": "adelev@contoso.com"}]}},
        {"name": "dismiss", "msgraph.security.entra_user_action": {"user_id": MEGAN_USER, "action": "dismiss_risk"}},
    ])
    return [(entry["route"], entry["path"].split("/")[1], entry["body"]) for entry in emulator.admin.requests()
            if entry["family"] == "graph" and entry["method"] != "GET"]


def test_every_other_write_body_is_its_sdk_request_model(fresh_emulator, tmp_path):
    logged = entra_and_incident_bodies(fresh_emulator, tmp_path)
    assert sorted({route for route, _version, _body in logged}) == sorted(set(BODY_MODELS) | {"revoke_sign_in_sessions"})
    for route, version, body in logged:
        assert body_findings(route, body, version) == [], (route, body)
