# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A job template run the way AWX / Ansible Automation Platform runs it.

* The credential's environment is rendered from docs/awx/credential_type_graph.yml exactly as AWX does it
  (ansible/awx: awx/main/models/credential.py ``CredentialType.inject_credential``): non-empty inputs only,
  a sandboxed Jinja environment, every ``file`` template written to ``<private_data_dir>/env`` and exposed as
  ``tower.filename.<name>``, then the ``env`` templates. The type is first validated the way AWX validates it
  when it is created (awx/main/fields.py ``CredentialTypeInjectorField.validate``).
* The built-in "Microsoft Azure Resource Manager" credential is rendered as awx-plugins' ``azure_rm`` injector
  does it (ansible/awx-plugins: src/awx_plugins/credentials/injectors.py).
* Survey answers become extra vars after AWX's checks (defaults filled in, choices and lengths enforced), from
  the survey specs in docs/awx/.
* The job runs through ansible-runner, without process isolation, from a project holding a one-line playbook
  that imports the collection's runbook; the Graph emulator stands in for Microsoft.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import types
from pathlib import Path

import pytest
import yaml

from graph_emulator.environment import module_environment

pytest.importorskip("ansible_runner")
from jinja2 import StrictUndefined  # noqa: E402  (after the importorskip on purpose)
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
AWX_DOCS = ROOT / "docs" / "awx"
# Variables a developer's shell may carry that would leak into the job (AWX starts from a clean environment).
SCRUBBED = ("AZURE_", "MSGRAPH_", "ANSIBLE_", "IDENTITY_", "MSI_", "IMDS_")
# Names AWX refuses in credential injectors (awx/main/constants.py ENV_BLOCKLIST, abridged) besides ANSIBLE_*.
AWX_ENV_BLOCKLIST = {"VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID",
                     "INVENTORY_UPDATE_ID", "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES",
                     "CALLBACK_QUEUE", "CALLBACK_CONNECTION", "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS",
                     "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"}


# --- AWX's credential machinery ----------------------------------------------------------------------------


def credential_type():
    return yaml.safe_load((AWX_DOCS / "credential_type_graph.yml").read_text(encoding="utf-8"))


def validate_credential_type(definition):
    """What AWX checks when the credential type is created; raises on any problem."""
    fields = definition["inputs"]["fields"]
    ids = [field["id"] for field in fields]
    assert len(ids) == len(set(ids)), ids
    assert set(definition["inputs"].get("required", [])) <= set(ids)
    for field in fields:
        assert field["type"] in ("string", "boolean"), field
        if "choices" in field:
            assert field.get("default", field["choices"][0]) in field["choices"], field
    filenames = types.SimpleNamespace()
    for label in definition["injectors"].get("file", {}):
        assert label.startswith("template."), "use the multi-file syntax (template.<name>)"
        setattr(filenames, label.split(".", 1)[1], "EXAMPLE_FILENAME")
    namespace = dict((field_id, "EXAMPLE") for field_id in ids)
    namespace["tower"] = types.SimpleNamespace(filename=filenames)
    for kind, injector in definition["injectors"].items():
        assert kind in ("env", "file", "extra_vars"), kind
        for key, template in injector.items():
            if kind == "env":
                assert not key.startswith("ANSIBLE_") and key not in AWX_ENV_BLOCKLIST, key
            ImmutableSandboxedEnvironment(undefined=StrictUndefined).from_string(template).render(namespace)


def inject_credential(definition, inputs, private_data_dir):
    """The environment AWX gives the job for a credential of this type with these inputs."""
    filenames = types.SimpleNamespace()
    namespace = {"tower": types.SimpleNamespace(filename=filenames)}
    for name, value in inputs.items():
        if isinstance(value, bool) or len(value):
            namespace[name] = value
    for field in definition["inputs"]["fields"]:
        if field["type"] == "boolean" and field["id"] not in inputs:
            namespace[field["id"]] = False
    sandbox = ImmutableSandboxedEnvironment()
    for label, template in definition["injectors"].get("file", {}).items():
        data = sandbox.from_string(template).render(**namespace)
        handle, path = tempfile.mkstemp(dir=os.path.join(private_data_dir, "env"))
        with os.fdopen(handle, "w") as stream:
            stream.write(data)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        setattr(filenames, label.split(".", 1)[1], path)
    return dict((name, sandbox.from_string(template).render(**namespace))
                for name, template in definition["injectors"].get("env", {}).items())


def azure_rm_environment(subscription, client, tenant, secret, cloud_environment=None):
    """awx-plugins' azure_rm injector for the built-in "Microsoft Azure Resource Manager" credential."""
    env = {"AZURE_SUBSCRIPTION_ID": subscription, "AZURE_CLIENT_ID": client, "AZURE_TENANT": tenant, "AZURE_SECRET": secret}
    if cloud_environment:
        env["AZURE_CLOUD_ENVIRONMENT"] = cloud_environment
    return env


def survey(name):
    return json.loads((AWX_DOCS / f"survey_{name}.json").read_text(encoding="utf-8"))


def survey_extra_vars(spec, answers):
    """AWX's survey handling: unknown answers refused, defaults filled in, types, choices and lengths enforced."""
    questions = dict((question["variable"], question) for question in spec["spec"])
    unknown = set(answers) - set(questions)
    if unknown:
        raise ValueError(f"not in the survey: {sorted(unknown)}")
    extra_vars = {}
    for variable, question in questions.items():
        if variable in answers:
            value = answers[variable]
        elif question.get("default") not in (None, ""):
            value = question["default"]
            if question["type"] == "multiselect":
                value = value.split("\n")
        elif question["required"]:
            raise ValueError(f"{variable} is required")
        else:
            value = question.get("default", "")
        kind = question["type"]
        if kind in ("text", "textarea", "password"):
            if not isinstance(value, str) or not question.get("min", 0) <= len(value) <= question.get("max", 1024):
                raise ValueError(f"{variable}: {value!r} is not a string of the allowed length")
        elif kind == "integer":
            if not isinstance(value, int) or not question.get("min", value) <= value <= question.get("max", value):
                raise ValueError(f"{variable}: {value!r} is not an integer in range")
        elif kind == "multiplechoice":
            if value not in question["choices"]:
                raise ValueError(f"{variable}: {value!r} is not one of {question['choices']}")
        elif kind == "multiselect":
            if not isinstance(value, list) or not set(value) <= set(question["choices"]):
                raise ValueError(f"{variable}: {value!r} is not a subset of {question['choices']}")
        else:
            raise ValueError(f"{variable}: unknown question type {kind}")
        extra_vars[variable] = value
    return extra_vars


def play_like_awx(private_data_dir, runbook, credential_env, extra_vars):
    """ansible-runner in the foreground, as AWX's job run uses it (process isolation off: no container engine)."""
    project = private_data_dir / "project"
    project.mkdir()
    # An AWX project holds the playbook a job template names; this one imports the collection's runbook.
    (project / "runbook.yml").write_text(
        f"---\n- name: Run {runbook} from the msgraph.security collection\n"
        f"  ansible.builtin.import_playbook: msgraph.security.{runbook}\n", encoding="utf-8")
    # AWX's "Demo Inventory": localhost with a local connection and the execution environment's Python.
    inventory = private_data_dir / "inventory"
    inventory.mkdir()
    (inventory / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter='{{ ansible_playbook_python }}'\n",
                                     encoding="utf-8")
    env = dict(credential_env)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCAL_TEMP=str(private_data_dir / "tmp" / "local"),
               ANSIBLE_REMOTE_TMP=str(private_data_dir / "tmp" / "remote"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    (private_data_dir / "env" / "envvars").write_text(yaml.safe_dump(env), encoding="utf-8")
    (private_data_dir / "env" / "extravars").write_text(yaml.safe_dump(extra_vars), encoding="utf-8")
    # ansible-runner's own command line, in a child process: the emulator's threads live in this one.
    environ = {name: value for name, value in os.environ.items() if not name.startswith(SCRUBBED)}
    completed = subprocess.run([str(Path(sys.executable).parent / "ansible-runner"), "run", str(private_data_dir),
                                "-p", "runbook.yml", "--ident", "job", "-q"],
                               env=environ, capture_output=True, text=True, timeout=600, check=False)
    artifacts = private_data_dir / "artifacts" / "job"
    status = (artifacts / "status").read_text(encoding="utf-8").strip() if (artifacts / "status").exists() else "missing"
    stdout = (artifacts / "stdout").read_text(encoding="utf-8") if (artifacts / "stdout").exists() else ""
    events = [json.loads(path.read_text(encoding="utf-8"))
              for path in sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-")[0]))]
    stats = [event for event in events if event["event"] == "playbook_on_stats"]
    return types.SimpleNamespace(status=status, output=completed.stdout + completed.stderr + stdout), events, \
        (stats[0]["event_data"].get("artifact_data") or {}) if stats else {}


def collections_path():
    for entry in sys.path:
        if entry and (Path(entry) / "ansible_collections" / "msgraph" / "security").exists():
            return entry
    raise RuntimeError("put the directory holding ansible_collections/ on PYTHONPATH")


def job_dir(tmp_path):
    private = tmp_path / "job"
    (private / "env").mkdir(parents=True)
    return private


# --- tests -------------------------------------------------------------------------------------------------


def test_credential_type_and_surveys_are_what_awx_accepts():
    definition = credential_type()
    validate_credential_type(definition)
    env_values = " ".join(definition["injectors"]["env"].values())
    # Every input reaches the job, and only through the names the modules read (docs/authentication.md).
    for field in definition["inputs"]["fields"]:
        assert field["id"] in env_values or field["id"] in " ".join(definition["injectors"]["file"].values()), field["id"]
    from ansible_collections.msgraph.security.plugins.module_utils._options import CONNECTION_OPTIONS  # noqa: E402
    read = {name for option in CONNECTION_OPTIONS.values() for name in option.get("env") or []}
    assert set(definition["injectors"]["env"]) <= read
    with pytest.raises(Exception):
        broken = credential_type()
        broken["injectors"]["env"]["AZURE_CLIENT_SECRET"] = "{{ clientsecret }}"  # a typo AWX would refuse
        validate_credential_type(broken)

    # Each survey's variables and defaults are the runbook's own documented variables and defaults.
    for name in ("contain_compromised_identity", "restore_identity", "block_indicator", "respond_to_incident"):
        spec = survey(name)
        play_vars = yaml.safe_load((ROOT / "playbooks" / f"{name}.yml").read_text(encoding="utf-8"))[0]["vars"]
        for question in spec["spec"]:
            assert question["variable"] in play_vars, (name, question["variable"])
            default = question.get("default")
            if question["type"] == "multiselect":
                assert default.split("\n") == play_vars[question["variable"]], (name, question["variable"])
            elif question["type"] == "multiplechoice" and default in ("true", "false"):
                assert default == str(play_vars[question["variable"]]).lower(), (name, question["variable"])
            else:
                assert default == play_vars[question["variable"]], (name, question["variable"])
        with pytest.raises(ValueError):
            survey_extra_vars(spec, {"not_a_question": "x"})
    with pytest.raises(ValueError):
        survey_extra_vars(survey("contain_compromised_identity"), {"identities": "alice@contoso.com", "execute_containment": "yes"})


def test_job_template_with_the_custom_credential_contains_an_identity(emulator, tmp_path):
    """Certificate credential (file injector), survey answers ask to execute: exactly the planned POSTs."""
    info = emulator.info
    app = info["clients"]["responder"]
    target = next(identity for identity in emulator.admin.state()["identities"]
                  if identity["isEnabled"] and {a["identityProvider"] for a in identity["accounts"]} == {"activeDirectory", "okta", "entraID"})
    private = job_dir(tmp_path)
    env = inject_credential(credential_type(), {
        "tenant_id": info["tenant_id"], "client_id": app["client_id"], "client_secret": "",
        "client_certificate": Path(app["certificate_path"]).read_text(encoding="utf-8"),
        "cloud_environment": "global",
        # The rehearsal emulator stands in for Microsoft: its endpoints and its CA, through the optional fields.
        "authority_host": info["authority_host"], "graph_endpoint": info["graph_endpoint"],
        "ca_bundle": Path(info["ca_path"]).read_text(encoding="utf-8"),
    }, private)
    assert env["AZURE_CLIENT_SECRET"] == "" and Path(env["AZURE_CLIENT_CERTIFICATE_PATH"]).parent == private / "env"
    # The emulator's hosts are not Microsoft's: the opt-in is deliberately not a credential field (whoever may edit a
    # credential could then send its secret anywhere). An AWX administrator sets it, e.g. in AWX_TASK_ENV.
    assert "MSGRAPH_ALLOW_CUSTOM_ENDPOINTS" not in env
    env["MSGRAPH_ALLOW_CUSTOM_ENDPOINTS"] = "true"
    extra_vars = survey_extra_vars(survey("contain_compromised_identity"), {
        "identities": target["userPrincipalName"], "execute_containment": "true", "incident_id": "INC-AWX-1"})
    assert extra_vars["containment_actions"][0] == "disable" and extra_vars["execute_containment"] == "true"

    runner, events, artifacts = play_like_awx(private, "contain_compromised_identity", env, extra_vars)

    assert runner.status == "successful", runner.output
    writes = emulator.admin.writes()
    bodies = sorted((entry["body"]["identityProvider"], entry["body"]["action"]) for entry in writes if entry["route"] == "invoke_action")
    assert bodies == [("activeDirectory", "disable"), ("activeDirectory", "forcePasswordReset"),
                      ("okta", "disable"), ("okta", "revokeAllSessions")]
    # The Entra ID side, natively (entra_fallback defaults to true): block sign-in, revoke sessions, confirm compromised.
    # No update_user: the hybrid user's disable goes through its Active Directory account (synced users).
    assert sorted(entry["route"] for entry in writes if entry["route"] != "invoke_action") == [
        "confirm_compromised", "revoke_sign_in_sessions"]
    # The token came from the certificate: a client_assertion, never a secret.
    tokens = emulator.admin.requests(route="token")
    assert tokens and all("client_assertion" in entry["body"] and "client_secret" not in entry["body"] for entry in tokens)
    report = artifacts["msgraph_containment"]
    assert report["dry_run"] is False and report["incident_id"] == "INC-AWX-1"
    correlation_ids = [item["correlationId"] for item in emulator.admin.state()["invocations"]]
    assert sorted(action["correlation_id"] for action in report["identities"][0]["actions"]
                  if action["path"] == "defender_for_identity") == sorted(correlation_ids)
    assert any(event["event"] == "runner_on_ok" and event["event_data"]["task"].startswith("Show the summary") for event in events)


def test_job_template_with_the_builtin_azure_credential_runs_a_dry_run(emulator, tmp_path):
    """AWX's "Microsoft Azure Resource Manager" credential (AZURE_TENANT / AZURE_SECRET, dummy subscription) and
    the survey's defaults: a dry run that sends nothing."""
    info = emulator.info
    app = info["clients"]["responder"]
    target = next(identity for identity in emulator.admin.state()["identities"]
                  if identity["isEnabled"] is False and identity.get("onPremisesSecurityIdentifier"))
    private = job_dir(tmp_path)
    env = azure_rm_environment("00000000-0000-0000-0000-000000000000", app["client_id"], info["tenant_id"],
                               app["client_secret"], "AzureCloud")
    env.update(module_environment(info, auth="none"))  # the emulator's endpoints and CA; a real tenant needs none
    extra_vars = survey_extra_vars(survey("restore_identity"), {"identities": target["onPremisesSecurityIdentifier"]})
    assert extra_vars["execute_restore"] == "false"

    runner, _events, artifacts = play_like_awx(private, "restore_identity", env, extra_vars)

    assert runner.status == "successful", runner.output
    assert emulator.admin.writes() == []
    report = artifacts["msgraph_restore"]
    assert report["dry_run"] is True
    assert report["identities"][0]["id"] == target["id"] and report["identities"][0]["status"] == "would be restored (dry run)"
    assert emulator.admin.requests(route="list_identity_accounts")  # it did read, with the AWX variable names
