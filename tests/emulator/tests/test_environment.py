"""module_environment: the variables that point the collection's modules at the emulator."""

import pytest

from graph_emulator.environment import module_environment, shell_exports


def test_secret_environment(info):
    env = module_environment(info)
    assert env["AZURE_CLIENT_SECRET"] == info["clients"]["responder"]["client_secret"]
    assert env["AZURE_AUTHORITY_HOST"] == info["authority_host"] and env["MSGRAPH_ENDPOINT"] == info["graph_endpoint"]


def test_other_auth_methods(info):
    fed = module_environment(info, auth="federated")
    assert fed["AZURE_FEDERATED_TOKEN_FILE"] == info["federated"]["token_file"]
    enc = module_environment(info, client="legacy_actions", auth="encrypted_certificate")
    assert enc["AZURE_CLIENT_CERTIFICATE_PASSWORD"] == info["clients"]["legacy_actions"]["certificate_password"]
    assert module_environment(info, client="not_onboarded")["AZURE_TENANT_ID"] == info["not_onboarded_tenant_id"]
    assert "AZURE_CLIENT_ID" not in module_environment(info, auth="none")
    with pytest.raises(ValueError):
        module_environment(info, auth="kerberos")


def test_shell_exports_are_sorted():
    assert shell_exports({"B": "2", "A": "1"}) == "export A='1'\nexport B='2'"
