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
