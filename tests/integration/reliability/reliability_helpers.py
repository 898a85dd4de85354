# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plays with a timeline, emulator look-ups and secret scanning shared by the reliability suite (the playbooks
themselves and ``failed``/``short`` are tests/integration/playbook_helpers.py)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import requests

from ansible_collections.msgraph.security.tests.integration import playbook_helpers

HERE = Path(__file__).resolve().parent
CALLBACK_DIRS = os.pathsep.join([str(HERE.parent / "callback_plugins"), str(HERE / "callback_plugins")])

MODULES = ("identity_account_info", "identity_account_action", "security_action", "security_action_info")
MDE = {"vendor": "Microsoft", "provider": "Windows Defender ATP"}
# Graph routes of each kind of request (graph_emulator.routing names).
IDENTITY_GET = "get_identity_account"
IDENTITY_LIST = "list_identity_accounts"
INVOKE = "invoke_action"
SA_LIST = "list_security_actions"
SA_GET = "get_security_action"
SA_CREATE = "create_security_action"
SA_CANCEL = "cancel_security_action"
# Security actions stay Running long enough to be canceled.
SLOW_ACTIONS = {"running_after_s": 0, "terminal_after_s": 600}


# --- playbooks ---------------------------------------------------------------------------------------------


def task(name, module, args, ignore_errors=True, **keywords):
    """A task of the shared shape (playbook_helpers.task) that lets the play go on when it fails, unless told not to."""
    return playbook_helpers.task(name, module, args, ignore_errors=ignore_errors, **keywords)


class Played:
    """A PlayResult plus when each task ran, to tell which task sent which request."""

    def __init__(self, result, timeline):
        self.result = result
        self.windows = {}
        for event in timeline:
            window = self.windows.setdefault(event["name"], [event["time"], event["time"]])
            if event["event"] == "start":
                window[0] = event["time"]
            else:
                window[1] = max(window[1], event["time"])

    def __getattr__(self, name):
        return getattr(self.result, name)

    def during(self, name, found):
        """The log entries in ``found`` that arrived while task ``name`` ran."""
        start, end = self.windows[name]
        return [entry for entry in found if start <= entry["time"] <= end]


def play(ansible, text, env=None, **kwargs):
    """``ansible.play`` with the timeline callback enabled."""
    timeline = Path(ansible.workdir) / f"timeline{ansible.runs + 1}.jsonl"
    environment = {"ANSIBLE_CALLBACK_PLUGINS": CALLBACK_DIRS,
                   "ANSIBLE_CALLBACKS_ENABLED": "msgraph_results,reliability_timeline",
                   "MSGRAPH_TEST_TIMELINE": str(timeline)}
    environment.update(env or {})
    result = ansible.play(text, env=environment, **kwargs)
    events = []
    if timeline.exists():
        events = [json.loads(line) for line in timeline.read_text(encoding="utf-8").splitlines() if line.strip()]
    return Played(result, events)


def succeeded(played, name):
    status = played.status(name)
    result = played.task(name)
    assert status in ("ok", "changed"), f"task {name!r} was expected to succeed but is {status}: {result.get('msg')}"
    return result


def warnings_of(result):
    messages = []
    for warning in result.get("warnings") or []:
        if isinstance(warning, dict):  # ansible-core 2.19+ may hand out warning objects
            warning = warning.get("msg") or warning.get("event", {}).get("msg") or str(warning)
        messages.append(str(warning))
    return messages


# --- refusals ----------------------------------------------------------------------------------------------


def check_refused(result, words):
    """The task failed with a clear message naming every one of ``words``, and no traceback."""
    message = result.get("msg", "")
    missing = [word for word in words if word not in message]
    assert not missing, f"the message does not name {missing}: {playbook_helpers.short(result, 600)}"
    trace = str(result.get("exception") or "") + str(result.get("module_stderr") or "")
    assert "Traceback (most recent call last)" not in message + trace, f"refused with a traceback, not a clear error: {trace[-300:]}"


def record_refusals(reliability, played, logged, cases, read_first=None):
    """One input case of the reliability report per ``(module, task name, description, words)``: the task is refused
    naming ``words[0]`` (and the rest) with zero requests, or, when the refusal needs the target's own data
    (``read_first`` names it), after reading it and with zero writes."""
    for module, name, description, words in cases:
        expected = (f"refused after reading, naming {words[0]}; zero writes" if read_first
                    else f"refused, naming {words[0]}; zero requests")
        with reliability.case("input", description, module, expected, expected_writes=0) as case:
            mine = played.during(name, logged)
            case["writes"] = len([entry for entry in mine if entry["family"] == "graph" and entry["method"] != "GET"])
            result = playbook_helpers.failed(played, name)
            check_refused(result, words)
            case["observed"] = playbook_helpers.short(result, 160)
            if read_first:
                assert any(entry["family"] == "graph" for entry in mine), f"decided without reading {read_first}"
                assert case["writes"] == 0, "a write reached Graph"
            else:
                assert mine == [], f"the task reached the emulator: {[(e['method'], e['path']) for e in mine]}"


# --- the emulator's log ------------------------------------------------------------------------------------


def graph_log(emulator):
    return [entry for entry in emulator.admin.requests() if entry["family"] == "graph"]


def entries(emulator, route=None, method=None, path_contains=None):
    found = emulator.admin.requests(route=route, method=method)
    if path_contains:
        found = [entry for entry in found if path_contains in entry["path"]]
    return found


def statuses(found):
    return [entry["status"] for entry in found]


_FAULT_WORDS = {"reset": "reset", "drop": "closed", "timeout": "timed out", "truncate": "2xx truncated",
                "malformed": "2xx malformed", "expire_token": "401 expired", "tls_corrupt": "TLS broken",
                "tls_plaintext": "plaintext answer"}


def describe(found):
    """Attempts as the client saw them, e.g. ``429 -> 200`` or ``timed out -> 200``."""
    words = []
    for entry in found:
        word = _FAULT_WORDS.get(entry.get("fault"))
        if word is None or (entry.get("fault") == "malformed" and entry.get("status") != 200):
            word = "no answer" if entry["status"] is None else str(entry["status"])
        words.append(word)
    return " -> ".join(words)


def wait_for(condition, timeout=15.0, interval=0.1):
    """Wait until ``condition()`` is truthy; the emulator logs a held request only when it answers."""
    deadline = time.monotonic() + timeout
    value = condition()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = condition()
    return value


def gap(earlier, later):
    """Seconds between the answer to ``earlier`` and the arrival of ``later`` (both log entries)."""
    return later["time"] - (earlier["time"] + earlier["duration_ms"] / 1000.0)


def token_requests_between(log, first_seq, last_seq):
    """Token requests logged between two log entries (by sequence number)."""
    return [entry for entry in log if entry["route"] == "token" and first_seq < entry["seq"] < last_seq]


# --- the emulator's data -----------------------------------------------------------------------------------


def identities(emulator):
    return emulator.admin.state()["identities"]


def account_for(identity, provider):
    return next((account for account in identity["accounts"] if account["identityProvider"] == provider), None)


def pick_identities(emulator, count, provider="activeDirectory", offering="disable", skip=()):
    """``count`` identities with a UPN whose ``provider`` account offers ``offering``."""
    found = []
    for identity in identities(emulator):
        account = account_for(identity, provider)
        if identity.get("userPrincipalName") and account and offering in account["actions"] and identity["id"] not in skip:
            found.append(identity)
        if len(found) == count:
            return found
    raise AssertionError(f"the emulator has only {len(found)} identities whose {provider} account offers {offering}")


def invocations(emulator, identity_id=None):
    return [item for item in emulator.admin.state()["invocations"]
            if identity_id is None or item.get("identityAccountId") == identity_id]


def security_actions(emulator):
    return emulator.admin.state()["security_actions"]


def app_token(emulator, client="legacy_actions"):
    """An access token for one of the emulator's app registrations, requested directly (client credentials)."""
    info = emulator.info
    app = info["clients"][client]
    reply = requests.post(f"{info['authority_host']}/{info['tenant_id']}/oauth2/v2.0/token",
                          data={"grant_type": "client_credentials", "client_id": app["client_id"],
                                "client_secret": app["client_secret"], "scope": info["scope"]},
                          verify=info["ca_path"], timeout=10)
    reply.raise_for_status()
    return reply.json()["access_token"]


def create_security_action(emulator, token, ip, client_context=None):
    """Set-up through Graph itself (not through the module under test): one BlockIp action."""
    body = {"name": "BlockIp", "parameters": [{"name": "IP", "value": ip}], "vendorInformation": MDE}
    if client_context:
        body["clientContext"] = client_context
    reply = requests.post(f"{emulator.info['graph_endpoint']}/beta/security/securityActions", json=body,
                          headers={"Authorization": f"Bearer {token}"}, verify=emulator.info["ca_path"], timeout=10)
    reply.raise_for_status()
    return reply.json()


# --- secrets -----------------------------------------------------------------------------------------------

# Any JWT (access tokens, client assertions, federated tokens): header.payload[.signature], base64url of '{"'.
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}")
PEM_BODY_MIN = 24  # a base64 line of a private key PEM shorter than this is not distinctive


def private_key_lines(pem_path):
    """The base64 body lines of every private key block in a PEM file (each line is distinctive)."""
    text = open(pem_path, encoding="ascii").read()
    lines = []
    for block in re.finditer(r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----(.*?)-----END \1-----", text, re.S):
        lines.extend(line.strip() for line in block.group(2).splitlines()
                     if len(line.strip()) >= PEM_BODY_MIN and ":" not in line)
    return lines


def find_leaks(texts, secrets):
    """``[(where, secret name)]`` for every secret value (or JWT) found in any of ``texts`` ({where: text})."""
    leaks = []
    for where, text in texts.items():
        for name, values in secrets.items():
            for value in values if isinstance(values, (list, tuple, set)) else [values]:
                if value and value in text:
                    leaks.append((where, name))
                    break
        for match in JWT_RE.finditer(text):
            leaks.append((where, "JWT " + match.group(0)[:12] + "..."))
    return leaks
