# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets stay secret: every module with every auth method, at -vvvv, with the default and a JSON stdout callback.

The secrets are read from the emulator (client secrets, certificate password, the private keys' PEM body lines,
the federated token, the managed identity header) or requested from it (access tokens); every JWT-looking
string counts as a leaked token or assertion. Failures are forced too: a wrong secret and a wrong certificate
password, a 403, a retry budget running out, an unknown outcome, a TLS failure, a rejected access token, and a
credential library (a stand-in for msal) whose exceptions and crash carry the credential in their text.
"""

from __future__ import annotations

import glob
import json
import textwrap

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import playbook, short
from reliability_helpers import (
    INVOKE,
    MDE,
    SA_GET,
    app_token,
    find_leaks,
    pick_identities,
    play,
    private_key_lines,
    task,
)

OUTPUTS = ["default", "json"]
MODULES = ("identity_account_info", "identity_account_action", "security_action", "security_action_info", "entra_user",
           "entra_user_action")
WRONG_SECRET = "Wr0ng-secret-value~reliability.2026"
WRONG_PASSWORD = "not-the-certificate-password-4711"

FAKE_MSAL = '''
"""A stand-in for msal whose failures carry the credential in their text (as a careless library might)."""
__version__ = "0.0.0-reliability"


class TokenCache:
    class CredentialType:
        ACCESS_TOKEN = "AccessToken"


class SerializableTokenCache(TokenCache):
    pass


class CrashWithCredential(BaseException):
    """Not an Exception: nothing in the module catches it, so the process dies with a traceback."""


class ConfidentialClientApplication:
    def __init__(self, client_id, client_credential=None, **kwargs):
        self.client_credential = client_credential

    def remove_tokens_for_client(self):
        pass

    def acquire_token_for_client(self, scopes):
        credential = self.client_credential
        if isinstance(credential, dict) and callable(credential.get("client_assertion")):
            credential = dict(credential, client_assertion=credential["client_assertion"]())
        text = "token request failed for client_credential=%r scopes=%r" % (credential, scopes)
        if "crash" in str(scopes) or CRASH:
            raise CrashWithCredential(text)
        raise RuntimeError(text)


CRASH = __import__("os").environ.get("FAKE_MSAL_CRASH") == "1"
'''


def secrets_of(emulator, extra=()):
    """Every credential value the run must never show, by name."""
    info = emulator.info
    found = {}
    for name, client in info["clients"].items():
        found[f"{name} client secret"] = client["client_secret"]
        found[f"{name} certificate password"] = client.get("certificate_password")
        for key in ("certificate_path", "encrypted_certificate_path", "unregistered_certificate_path"):
            if client.get(key):
                found[f"{name} {key} private key"] = private_key_lines(client[key])
    federated = info["federated"]
    for key in ("token_file", "expired_token_file"):
        found[f"federated {key}"] = open(federated[key], encoding="ascii").read().strip()
    managed = info["managed_identity"]
    found["managed identity header"] = managed.get("identity_header")
    found["managed identity ML secret"] = managed.get("msi_secret")
    found["admin key"] = info["admin_key"]
    found.update(extra)
    return {name: value for name, value in found.items() if value}


def connection(info, client, method):
    """Module options for one auth method (credentials as task parameters: the strictest case for no_log)."""
    app = info["clients"][client]
    base = {"tenant_id": info["tenant_id"], "client_id": app["client_id"]}
    if method == "client_secret":
        return dict(base, client_secret=app["client_secret"])
    if method == "certificate":
        return dict(base, auth_method="certificate", client_certificate_path=app["certificate_path"])
    if method == "encrypted_certificate":
        return dict(base, auth_method="certificate", client_certificate_path=app["encrypted_certificate_path"],
                    client_certificate_password=app["certificate_password"])
    if method == "federated":
        federated = info["federated"]
        return {"tenant_id": info["tenant_id"], "client_id": federated["client_id"], "auth_method": "federated",
                "federated_token_file": federated["token_file"]}
    if method == "managed_identity":
        return {"auth_method": "managed_identity"}
    raise ValueError(method)


METHODS = ("client_secret", "certificate", "encrypted_certificate", "federated", "managed_identity", "access_token")


def module_args(module, index, targets):
    if module == "identity_account_info":
        return {"user_principal_name": targets[index]["userPrincipalName"]}
    if module == "identity_account_action":
        return {"identity_account_id": targets[index]["id"], "identity_provider": "activeDirectory", "action": "disable"}
    if module == "security_action":
        return {"name": "BlockIp", "parameters": {"IP": f"203.0.113.{150 + index}"}, "vendor_information": MDE}
    if module == "entra_user":  # the identity's Entra ID user has the same UPN (the emulator derives it)
        return {"user_principal_name": targets[index]["userPrincipalName"], "account_enabled": False}
    if module == "entra_user_action":
        return {"user_principal_name": targets[index]["userPrincipalName"], "action": "revoke_sign_in_sessions"}
    return {}


@pytest.fixture
def fake_msal(tmp_path):
    folder = tmp_path / "fake_msal"
    (folder / "msal").mkdir(parents=True)
    (folder / "msal" / "__init__.py").write_text(textwrap.dedent(FAKE_MSAL), encoding="utf-8")
    return str(folder)


def build_playbook(emulator, tokens, fake_msal):
    info = emulator.info
    targets = pick_identities(emulator, len(METHODS) + 3)
    tasks, expectations = [], {}
    for index, method in enumerate(METHODS):
        for module in MODULES:
            client = "legacy_actions" if module.startswith("security") else "responder"
            if method == "access_token":
                options = {"access_token": tokens[client]}
            else:
                options = connection(info, client, method)
            name = f"{module} with {method}"
            tasks.append(task(name, module, dict(module_args(module, index, targets), **options)))
            expectations[name] = ("ok", method, module)
    secret = connection(info, "responder", "client_secret")
    legacy = connection(info, "legacy_actions", "client_secret")
    reader = connection(info, "reader", "client_secret")
    spare = targets[len(METHODS):]
    forged = tokens["responder"].rsplit(".", 1)[0] + ".c2lnbmF0dXJlLW5vdC1mcm9tLXRoZS1lbXVsYXRvcg"
    failures = [
        ("wrong secret", "identity_account_info", dict(secret, client_secret=WRONG_SECRET, user_principal_name="x@contoso.com")),
        ("wrong certificate password", "identity_account_action",
         dict(connection(info, "responder", "encrypted_certificate"), client_certificate_password=WRONG_PASSWORD,
              **module_args("identity_account_action", 0, spare))),
        ("403 on the write", "identity_account_action", dict(reader, **module_args("identity_account_action", 0, spare))),
        ("retry budget exhausted", "security_action_info", dict(legacy, id="budget-exhausted", retry_budget=2, max_retries=9)),
        ("unknown outcome", "identity_account_action", dict(secret, **module_args("identity_account_action", 1, spare))),
        ("TLS failure", "security_action", dict(legacy, ca_path=info["clients"]["responder"]["certificate_path"],
                                                **module_args("security_action", 9, targets))),
        ("rejected access token", "identity_account_info", {"access_token": forged, "user_principal_name": "x@contoso.com"}),
        ("credential in a library exception (secret)", "identity_account_info",
         dict(secret, user_principal_name="x@contoso.com")),
        ("credential in a library exception (certificate)", "security_action_info",
         connection(info, "legacy_actions", "encrypted_certificate")),
        ("credential in a library exception (federated)", "identity_account_action",
         dict(connection(info, "responder", "federated"), **module_args("identity_account_action", 2, spare))),
        ("credential in a library crash (traceback)", "identity_account_info",
         dict(secret, user_principal_name="x@contoso.com")),
    ]
    for name, module, args in failures:
        keywords = {}
        if "library" in name:
            keywords["environment"] = {"PYTHONPATH": fake_msal, "FAKE_MSAL_CRASH": "1" if "crash" in name else "0"}
        tasks.append(task(name, module, args, **keywords))
        expectations[name] = ("failed", None, module)
    # Faults for the forced failures: each matches only its own path.
    emulator.admin.add_fault(route=SA_GET, path_regex="budget-exhausted", kind="status", status=503, retry_after=1)
    emulator.admin.add_fault(route=INVOKE, path_regex=spare[1]["id"], kind="status", status=504, times=1)
    return playbook(*tasks), expectations


def scan(played, run_dir):
    """Every channel the run wrote: stdout, stderr, the per-task JSON results and the JUnit files."""
    texts = {"stdout": played.stdout, "stderr": played.stderr,
             "results": json.dumps(played.tasks, default=str)}
    for path in glob.glob(str(run_dir / "junit" / "*.xml")):
        texts[f"junit {path.rsplit('/', 1)[-1]}"] = open(path, encoding="utf-8").read()
    return texts


@pytest.mark.parametrize("output", OUTPUTS)
def test_no_secret_in_any_output(ansible, emulator, reliability, tmp_path, fake_msal, output):
    info = emulator.info
    tokens = {"responder": app_token(emulator, "responder"), "legacy_actions": app_token(emulator, "legacy_actions")}
    text, expectations = build_playbook(emulator, tokens, fake_msal)
    env = {"IDENTITY_ENDPOINT": info["managed_identity"]["identity_endpoint"],
           "IDENTITY_HEADER": info["managed_identity"]["identity_header"],
           # ansible.builtin.junit names test cases after the task's raw arguments unless told not to (an Ansible
           # behaviour for secrets given as task parameters, whatever the module's no_log): hide them, as documented.
           "JUNIT_OUTPUT_DIR": str(tmp_path / "junit"), "JUNIT_TASK_CLASS": "true", "JUNIT_HIDE_TASK_ARGUMENTS": "true"}
    if output == "json":
        env["ANSIBLE_STDOUT_CALLBACK"] = "reliability_json"
        env["ANSIBLE_CALLBACKS_ENABLED"] = "msgraph_results,reliability_timeline"
    else:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.default"
        env["ANSIBLE_CALLBACKS_ENABLED"] = "msgraph_results,reliability_timeline,ansible.builtin.junit"
    played = play(ansible, text, env=env, auth=None, verbosity=4)
    # A fresh token with the same credentials: its header segment is what every token of this emulator starts with.
    fresh = app_token(emulator, "responder")
    secrets = secrets_of(emulator, {"access token (responder)": tokens["responder"],
                                    "access token (legacy_actions)": tokens["legacy_actions"],
                                    "token header segment": fresh.split(".")[0],
                                    "wrong secret": WRONG_SECRET, "wrong certificate password": WRONG_PASSWORD})
    texts = scan(played, tmp_path)
    if output == "json":
        document = played.stdout[played.stdout.rindex("\n{\n") + 1:]
        assert json.loads(document)["tasks"], "the JSON callback printed no task"
    for name, (expected, method, module) in expectations.items():
        label = f"{name} ({output} callback, -vvvv)"
        with reliability.case("secrets", label, module, "no secret in stdout, stderr, results"
                              + (" or JUnit" if output == "default" else " or JSON"), path=method or "failure") as case:
            status = played.status(name)
            result = played.task(name)
            case["observed"] = f"{status}: {short(result, 120)}" if status == "failed" else status
            per_task = {"result": json.dumps(result, default=str)}
            leaks = find_leaks(per_task, secrets)
            case["leaks"] = len(leaks)
            assert not leaks, f"leaked in the task result: {leaks}"
            if expected == "ok":
                assert status in ("ok", "changed"), f"the task did not succeed: {short(result)}"
            else:
                assert status == "failed", f"the forced failure did not fail: {status}"
    with reliability.case("secrets", f"the whole run ({output} callback, -vvvv, {len(expectations)} tasks)", "all",
                          "no secret, private key line, token or assertion in any channel", path="all") as case:
        leaks = find_leaks(texts, secrets)
        case["leaks"] = len(leaks)
        case["observed"] = f"{sum(len(value) for value in texts.values())} characters scanned in {len(texts)} channels"
        assert len(texts) >= (4 if output == "default" else 3), f"channels: {sorted(texts)}"
        assert not leaks, f"leaked: {sorted(set(leaks))[:10]}"
    with reliability.case("secrets", f"forced failures say what happened ({output} callback)", "all",
                          "AADSTS code, 403 permission, retry budget, client-request-id, TLS hint, redacted library text",
                          path="failure") as case:
        checks = {
            "wrong secret": "AADSTS7000215", "wrong certificate password": "client_certificate_password",
            "403 on the write": "SecurityIdentitiesActions.ReadWrite.All", "retry budget exhausted": "retry budget",
            "unknown outcome": "client-request-id", "TLS failure": "ca_path", "rejected access token": "401",
            "credential in a library exception (secret)": "<redacted>",
            "credential in a library exception (certificate)": "<redacted>",
            "credential in a library exception (federated)": "<redacted>",
        }
        wrong = {name: short(played.task(name)) for name, word in checks.items() if word not in played.task(name).get("msg", "")}
        case["observed"] = f"{len(checks) - len(wrong)} of {len(checks)} failures explained"
        assert not wrong, f"unclear failures: {wrong}"
    reliability.verify()


# Refused before the Graph client is built, so only the argument spec's no_log can hide the credential: the client
# would otherwise add it to no_log_values itself. ansible-core 2.16 returns the invocation (the module's arguments)
# with every result; newer cores do with ANSIBLE_INJECT_INVOCATION=true.
REFUSED_EARLY = [
    ("client_secret", "identity_account_info", {"user_principal_name": "not-a-upn"}),
    ("client_secret", "identity_account_action", {"identity_account_id": "a/b", "identity_provider": "activeDirectory",
                                                  "action": "disable"}),
    ("client_secret", "security_action", {"name": "BlockIp", "parameters": {"IP": "203.0.113.9"},
                                          "vendor_information": MDE, "cloud_environment": "usgov"}),
    ("client_certificate_password", "security_action_info", {"cloud_environment": "china"}),
    ("access_token", "identity_account_info", {"on_premises_security_identifier": "not-a-sid"}),
]


@pytest.mark.smoke
def test_credentials_of_a_task_refused_before_the_client_is_built_stay_hidden(ansible, emulator, reliability, tmp_path):
    info = emulator.info
    app = info["clients"]["legacy_actions"]
    values = {"client_secret": app["client_secret"], "client_certificate_password": app["certificate_password"],
              "access_token": app_token(emulator, "responder")}
    tasks = []
    for index, (option, module, args) in enumerate(REFUSED_EARLY):
        # Templated from a vars file: ansible-core prints the playbook lines around a failed task, and a literal there
        # would be Ansible showing the playbook, not the module leaking the value.
        credentials = {"tenant_id": info["tenant_id"], "client_id": app["client_id"], option: "{{ %s_value }}" % option}
        if option == "client_certificate_password":
            credentials.update(auth_method="certificate", client_certificate_path=app["encrypted_certificate_path"])
        if option == "access_token":
            credentials = {"access_token": "{{ access_token_value }}"}
        tasks.append(task(f"refused {index} ({option})", module, dict(args, **credentials)))
    # A vars file: ansible-playbook -vvvv prints its command line, so -e with the values would show them itself.
    variables = tmp_path / "credentials.json"
    variables.write_text(json.dumps({"%s_value" % option: value for option, value in values.items()}), encoding="utf-8")
    emulator.admin.clear_requests()
    played = play(ansible, playbook(*tasks), env={"ANSIBLE_INJECT_INVOCATION": "true"}, auth=None, verbosity=4,
                  args=("-e", "@%s" % variables))
    for index, (option, module, args) in enumerate(REFUSED_EARLY):
        name = f"refused {index} ({option})"
        with reliability.case("secrets", f"{option} given to a task refused before any request (-vvvv, invocation "
                              "shown)", module, "refused; the credential is not in the output or the result",
                              path="refused") as case:
            result = played.task(name)
            case["observed"] = f"{played.status(name)}: {short(result, 100)}"
            assert played.status(name) == "failed" and (result.get("option") or result.get("error")), short(result)
            leaks = find_leaks({"stdout": played.stdout, "stderr": played.stderr,
                                "result": json.dumps(result, default=str)}, {option: values[option]})
            case["leaks"] = len(leaks)
            assert not leaks, f"{option} leaked: {leaks}"
    assert emulator.admin.requests(route="token") == []  # refused before any token request
    reliability.verify()
