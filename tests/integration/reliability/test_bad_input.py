# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input is refused with an error naming the option and what it expects, before anything reaches Graph.

One playbook per module runs every case as an ``ignore_errors`` task; afterwards the emulator's log must be
empty: no token request, no Graph read, no write. Cases that can only be judged after reading the target
(an account the identity does not have, an action its account does not offer, a protected account) run in
their own playbook and must send zero writes.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import playbook
from reliability_helpers import MDE, pick_identities, play, record_refusals, task

UPN = "meganb@contoso.com"
SID = "S-1-5-21-1004336348-1177238915-682003330-1103"
ACTION = {"user_principal_name": UPN, "identity_provider": "activeDirectory", "action": "disable"}
BLOCK = {"name": "BlockIp", "parameters": {"IP": "203.0.113.7"}, "vendor_information": MDE}
NO_SECRET = {"AZURE_CLIENT_SECRET": ""}  # task environment: the harness's secret counts as unset


def connection_cases(files, base):
    """(case, description, extra args, words the message must contain (the option first), task keywords)."""
    cert = {"auth_method": "certificate"}
    return [
        ("graph_endpoint http", "graph_endpoint is http://", {"graph_endpoint": "http://127.0.0.1:1"},
         ["graph_endpoint", "https://"], {}),
        ("graph_endpoint with version", "graph_endpoint ends with /beta",
         {"graph_endpoint": base + "/beta"}, ["graph_endpoint", "api_version"], {}),
        ("authority_host http", "authority_host is http://", {"authority_host": "http://login.example"},
         ["authority_host", "https://"], {}),
        ("authority_host with path", "authority_host has a tenant path", {"authority_host": base + "/contoso"},
         ["authority_host", "without a path"], {}),
        ("unknown cloud", "cloud_environment: mars", {"cloud_environment": "mars"},
         ["cloud_environment", "usgov"], {}),
        ("retired cloud name", "cloud_environment: AzureGermanCloud", {"cloud_environment": "AzureGermanCloud"},
         ["cloud_environment", "AzureUSGovernment"], {}),
        ("multi-tenant tenant_id", "tenant_id: common", {"tenant_id": "common"}, ["tenant_id", "GUID"], {}),
        ("malformed tenant_id", "tenant_id with a space and a slash", {"tenant_id": "contoso tenant/x"},
         ["tenant_id", "GUID"], {}),
        ("timeout 0", "timeout: 0", {"timeout": 0}, ["timeout", ">= 1"], {}),
        ("timeout not a number", "timeout: soon", {"timeout": "soon"}, ["timeout", "int"], {}),
        ("huge timeout", "timeout: 10**12 (overflows the socket layer)", {"timeout": 10 ** 12}, ["timeout", "86400"], {}),
        ("negative max_retries", "max_retries: -1", {"max_retries": -1}, ["max_retries", ">= 0"], {}),
        ("negative retry_budget", "retry_budget: -5", {"retry_budget": -5}, ["retry_budget", ">= 0"], {}),
        ("unknown api_version", "api_version: v2", {"api_version": "v2"}, ["api_version", "beta"], {}),
        ("unknown auth_method", "auth_method: kerberos", {"auth_method": "kerberos"}, ["auth_method", "client_secret"], {}),
        ("validate_certs not a bool", "validate_certs: maybe", {"validate_certs": "maybe"}, ["validate_certs", "bool"], {}),
        ("two credentials", "client_secret and client_certificate_path with auth_method auto",
         {"client_certificate_path": files["good"]}, ["client_certificate_path", "client_secret", "auth_method"], {}),
        ("token and secret", "access_token and client_secret with auth_method auto",
         {"access_token": "eyJ0eXAiOiJKV1QifQ.e30.c2ln"}, ["access_token", "client_secret"], {}),
        ("no credential", "no credential at all", {}, ["client_secret", "AZURE_CLIENT_SECRET"],
         {"environment": NO_SECRET}),
        ("missing certificate option", "auth_method certificate without client_certificate_path", dict(cert),
         ["client_certificate_path", "AZURE_CLIENT_CERTIFICATE_PATH"], {}),
        ("missing certificate file", "client_certificate_path does not exist",
         dict(cert, client_certificate_path=files["missing"]), ["client_certificate_path", "does not exist"], {}),
        ("certificate is a directory", "client_certificate_path is a directory",
         dict(cert, client_certificate_path=files["directory"]), ["client_certificate_path", "not a file"], {}),
        ("garbage certificate", "client_certificate_path holds no PEM", dict(cert, client_certificate_path=files["garbage"]),
         ["client_certificate_path", "no certificate"], {}),
        ("binary certificate", "client_certificate_path is binary (a .pfx)", dict(cert, client_certificate_path=files["binary"]),
         ["client_certificate_path", "openssl pkcs12"], {}),
        ("certificate without key", "PEM with the certificate only", dict(cert, client_certificate_path=files["cert_only"]),
         ["client_certificate_path", "no private key"], {}),
        ("key without certificate", "PEM with the key only", dict(cert, client_certificate_path=files["key_only"]),
         ["client_certificate_path", "no certificate"], {}),
        ("key of another certificate", "the key does not match the certificate",
         dict(cert, client_certificate_path=files["mismatch"]), ["client_certificate_path", "does not belong"], {}),
        ("corrupt certificate", "the certificate's base64 is corrupt", dict(cert, client_certificate_path=files["corrupt"]),
         ["client_certificate_path", "malformed"], {}),
        ("wrong certificate password", "client_certificate_password is wrong",
         dict(cert, client_certificate_path=files["encrypted"], client_certificate_password="not-the-password"),
         ["client_certificate_password", "wrong"], {}),
        ("encrypted key without password", "encrypted key, no client_certificate_password",
         dict(cert, client_certificate_path=files["encrypted"]), ["client_certificate_password", "encrypted"], {}),
        ("missing CA file", "ca_path does not exist", {"ca_path": files["missing"]}, ["ca_path", "does not exist"], {}),
        ("missing federated token file", "federated_token_file does not exist",
         {"auth_method": "federated", "federated_token_file": files["missing"]}, ["federated_token_file", "does not exist"], {}),
    ]


# Module-specific cases: (case, description, args, words the message must contain (the option first)).
INFO_CASES = [
    ("empty id", "id: ''", {"id": ""}, ["id", "non-empty"]),
    ("blank id", "id: '   '", {"id": "   "}, ["id", "non-empty"]),
    ("id with a slash", "id: ../x/invokeAction", {"id": "../x/invokeAction"}, ["id", "'/'"]),
    ("id with a query", "id: abc?$select=id", {"id": "abc?$select=id"}, ["id", "'?'"]),
    ("id with a space", "id: 'abc def'", {"id": "abc def"}, ["id", "spaces"]),
    ("id with a newline", "id with a control character", {"id": "abc\ndef"}, ["id", "control characters"]),
    ("dot-dot id", "id: '..' (a dot segment: GET .../identities/)", {"id": ".."}, ["id", "dot segment"]),
    ("dot id", "id: '.'", {"id": "."}, ["id", "dot segment"]),
    ("encoded dot-dot id", "id: '%2e%2E' (a percent-encoded dot segment)", {"id": "%2e%2E"}, ["id", "dot segment"]),
    ("SID with non-ASCII digits", "on_premises_security_identifier with Arabic-Indic digits",
     {"on_premises_security_identifier": "S-1-5-21-\u0661\u0662\u0663-1105"}, ["on_premises_security_identifier", "S-1-5-21"]),
    ("UPN without @", "user_principal_name: alice", {"user_principal_name": "alice"}, ["user_principal_name", "@"]),
    ("UPN with two @", "user_principal_name: a@b@c", {"user_principal_name": "a@b@c"}, ["user_principal_name", "@"]),
    ("empty UPN", "user_principal_name: ''", {"user_principal_name": ""}, ["user_principal_name", "non-empty"]),
    ("malformed SID", "on_premises_security_identifier: S-1-x", {"on_premises_security_identifier": "S-1-x"},
     ["on_premises_security_identifier", "S-1-5-21"]),
    ("blank display_name", "display_name: ' '", {"display_name": " "}, ["display_name", "non-empty"]),
    ("blank filter", "filter: '   '", {"filter": "   "}, ["filter", "non-empty"]),
    ("id and UPN", "id and user_principal_name together", {"id": "abc", "user_principal_name": UPN},
     ["id", "user_principal_name", "mutually exclusive"]),
]

BULK = {"identity_provider": "activeDirectory", "action": "disable"}


def upn_targets(count):
    return [{"user_principal_name": f"user{number}@contoso.com"} for number in range(count)]


ACTION_CASES = [
    ("unknown action", "action: nuke", dict(ACTION, action="nuke"), ["action", "forcePasswordReset"]),
    ("sentinel action", "action: unknownFutureValue", dict(ACTION, action="unknownFutureValue"), ["action", "disable"]),
    ("empty action", "action: ''", dict(ACTION, action=""), ["action", "required"]),
    ("unknown provider", "identity_provider: ldap", dict(ACTION, identity_provider="ldap"),
     ["identity_provider", "activeDirectory"]),
    ("unsupported pair (documented matrix)", "entraID x disable with action_matrix documented",
     dict(ACTION, identity_provider="entraID"), ["action", "not supported", "action_matrix=extended"]),
    ("unsupported pair (both matrices)", "okta x forcePasswordReset",
     dict(ACTION, identity_provider="okta", action="forcePasswordReset"), ["action", "not supported", "revokeAllSessions"]),
    ("unknown action_matrix", "action_matrix: both", dict(ACTION, action_matrix="both"), ["action_matrix", "documented"]),
    ("no target", "no identity_account_id, user_principal_name, SID or display_name",
     {"identity_provider": "activeDirectory", "action": "disable"}, ["identity_account_id", "user_principal_name"]),
    ("id and lookup", "identity_account_id and user_principal_name together", dict(ACTION, identity_account_id="abc"),
     ["identity_account_id", "user_principal_name", "mutually exclusive"]),
    ("empty identity_account_id", "identity_account_id: ''",
     {"identity_account_id": "", "identity_provider": "activeDirectory", "action": "disable"}, ["identity_account_id"]),
    ("dot-dot identity_account_id", "identity_account_id: '..'",
     {"identity_account_id": "..", "identity_provider": "activeDirectory", "action": "disable"},
     ["identity_account_id", "dot segment"]),
    ("encoded dot identity_account_id", "identity_account_id: '%2E'",
     {"identity_account_id": "%2E", "identity_provider": "activeDirectory", "action": "disable"},
     ["identity_account_id", "dot segment"]),
    ("path in identity_account_id", "identity_account_id: a/b#c",
     {"identity_account_id": "a/b#c", "identity_provider": "activeDirectory", "action": "disable"},
     ["identity_account_id", "'/'"]),
    ("malformed UPN", "user_principal_name: alice@", dict(ACTION, user_principal_name="alice@"), ["user_principal_name", "@"]),
    ("malformed SID", "on_premises_security_identifier: 1105",
     {"on_premises_security_identifier": "1105", "identity_provider": "activeDirectory", "action": "disable"},
     ["on_premises_security_identifier", "S-1-5-21"]),
    ("blank account_id", "account_id: '  '", dict(ACTION, account_id="  "), ["account_id", "non-empty"]),
    ("blank protected entry", "protected_accounts: ['']", dict(ACTION, protected_accounts=[""]),
     ["protected_accounts", "non-empty"]),
    ("missing action", "no action", {"user_principal_name": UPN, "identity_provider": "activeDirectory"},
     ["action", "required"]),
    # Bulk targets (helper-5's targets / max_targets): the cap refuses the whole list before any request.
    ("over the default cap", "101 targets, default max_targets 100", dict(BULK, targets=upn_targets(101)),
     ["max_targets", "nothing was sent"]),
    ("over max_targets", "4 targets with max_targets: 3", dict(BULK, targets=upn_targets(4), max_targets=3),
     ["max_targets", "exceed"]),
    ("max_concurrency 0", "max_concurrency: 0", dict(BULK, targets=upn_targets(2), max_concurrency=0), ["max_concurrency"]),
    ("max_concurrency 51", "max_concurrency: 51", dict(BULK, targets=upn_targets(2), max_concurrency=51), ["max_concurrency"]),
    ("targets and a lookup", "targets and user_principal_name together",
     dict(BULK, targets=upn_targets(1), user_principal_name=UPN), ["targets", "user_principal_name", "mutually exclusive"]),
    ("targets and account_id", "targets and account_id together", dict(BULK, targets=upn_targets(1), account_id="x"),
     ["targets", "account_id", "mutually exclusive"]),
    ("target without a lookup", "a target naming no identity", dict(BULK, targets=[{"action": "disable"}]),
     ["targets", "identity_account_id"]),
    ("target with two lookups", "a target with identity_account_id and user_principal_name",
     dict(BULK, targets=[{"identity_account_id": "abc", "user_principal_name": UPN}]), ["targets", "mutually exclusive"]),
    ("target with a malformed UPN", "the only target has a malformed UPN", dict(BULK, targets=[{"user_principal_name": "bob"}]),
     ["user_principal_name", "@"]),
]

SA_CASES = [
    ("unknown state", "state: absent", dict(BLOCK, state="absent"), ["state", "present, canceled"]),
    ("missing name", "state present without name", {"parameters": {"IP": "203.0.113.7"}, "vendor_information": MDE},
     ["name", "state is present"]),
    ("blank name", "name: ' '", dict(BLOCK, name=" "), ["name", "BlockIp"]),
    ("parameters as text", "parameters: 'IP=203.0.113.7'", dict(BLOCK, parameters="IP=203.0.113.7"),
     ["parameters", "list of {name, value}"]),
    ("empty parameters", "parameters: []", dict(BLOCK, parameters=[]), ["parameters", "at least one"]),
    ("parameter without value", "parameters: [{name: IP}]", dict(BLOCK, parameters=[{"name": "IP"}]),
     ["parameters", "exactly the keys name and value"]),
    ("nested parameter value", "parameters: {IP: [a, b]}", dict(BLOCK, parameters={"IP": ["a", "b"]}),
     ["parameters", "string, number or boolean"]),
    ("read-only parameter", "parameters: {azureTenantId: x}", dict(BLOCK, parameters={"azureTenantId": "x"}),
     ["parameters", "read-only"]),
    ("vendor without provider", "vendor_information: {vendor: Microsoft}", dict(BLOCK, vendor_information={"vendor": "Microsoft"}),
     ["provider", "vendor_information"]),
    ("unknown vendor key", "vendor_information.color", dict(BLOCK, vendor_information=dict(MDE, color="red")),
     ["color", "vendor_information"]),
    ("oversize client_context", "client_context of 257 characters", dict(BLOCK, client_context="c" * 257),
     ["client_context", "256"]),
    ("id with state present", "id and state present", dict(BLOCK, id="abc"), ["id", "state=canceled"]),
    ("id and client_context", "id and client_context together", {"state": "canceled", "id": "abc", "client_context": "x"},
     ["id", "client_context", "mutually exclusive"]),
    ("negative wait_timeout", "wait_timeout: -1", dict(BLOCK, wait_timeout=-1), ["wait_timeout", "0 or more"]),
    ("poll_interval 0", "poll_interval: 0", dict(BLOCK, poll_interval=0), ["poll_interval", "at least 1"]),
    ("cancel without target", "state canceled without id, client_context or name", {"state": "canceled"},
     ["id", "client_context", "name"]),
    ("cancel with an empty id", "state canceled, id: ''", {"state": "canceled", "id": ""}, ["id", "non-empty"]),
    ("cancel with a path in id", "state canceled, id: x/cancelSecurityAction", {"state": "canceled", "id": "x/cancelSecurityAction"},
     ["id", "'/'"]),
    ("cancel with an encoded path in id", "state canceled, id: x%2FcancelSecurityAction",
     {"state": "canceled", "id": "x%2FcancelSecurityAction"}, ["id", "percent-encoded"]),
    ("cancel with a dot-segment id", "state canceled, id: '..'", {"state": "canceled", "id": ".."}, ["id", "dot segment"]),
]

SA_INFO_CASES = [
    ("top 0", "top: 0", {"top": 0}, ["top", "1 or more"]),
    ("negative top", "top: -5", {"top": -5}, ["top", "1 or more"]),
    ("oversize client_context", "client_context of 300 characters", {"client_context": "x" * 300}, ["client_context", "256"]),
    ("empty client_context", "client_context: ''", {"client_context": ""}, ["client_context", "non-empty"]),
    ("empty id", "id: ''", {"id": ""}, ["id", "non-empty"]),
    ("blank id", "id: '  '", {"id": "  "}, ["id", "non-empty"]),
    ("id with a slash", "id: ../x", {"id": "../x"}, ["id", "'/'"]),
    ("id with an encoded query", "id: 'x%3F$top=1'", {"id": "x%3F$top=1"}, ["id", "percent-encoded"]),
    ("encoded dot-segment id", "id: '%2e%2e'", {"id": "%2e%2e"}, ["id", "dot segment"]),
    ("empty filter", "filter: ''", {"filter": ""}, ["filter", "non-empty"]),
    ("id and filter", "id and filter together", {"id": "abc", "filter": "name eq 'BlockIp'"}, ["id", "filter", "mutually exclusive"]),
    ("id and top", "id and top together", {"id": "abc", "top": 5}, ["id", "top", "mutually exclusive"]),
]

MODULE_CASES = {
    "identity_account_info": ({"user_principal_name": UPN}, INFO_CASES),
    "identity_account_action": (ACTION, ACTION_CASES),
    "security_action": (BLOCK, SA_CASES),
    "security_action_info": ({}, SA_INFO_CASES),
}
# The connection checks live in the shared layer: each case runs on one module, spread round-robin.
CONNECTION_SPREAD = {
    "identity_account_info": 0, "identity_account_action": 1, "security_action": 2, "security_action_info": 3,
}


@pytest.fixture
def credential_files(tmp_path, emulator):
    """Broken certificate files made from the emulator's real ones."""
    responder = emulator.info["clients"]["responder"]
    good = open(responder["certificate_path"], encoding="ascii").read()
    other = open(responder["unregistered_certificate_path"], encoding="ascii").read()

    def block(text, label):
        start = text.index(f"-----BEGIN {label}-----")
        end = text.index(f"-----END {label}-----") + len(f"-----END {label}-----")
        return text[start:end] + "\n"

    key_label = "PRIVATE KEY"
    certificate = block(good, "CERTIFICATE")
    lines = certificate.splitlines()
    corrupt = "\n".join(lines[:3] + ["A" * len(lines[3])] + lines[4:]) + "\n"
    contents = {
        "garbage": "this is not a certificate\n",
        "cert_only": certificate,
        "key_only": block(good, key_label),
        "mismatch": certificate + block(other, key_label),
        "corrupt": corrupt + block(good, key_label),
    }
    files = {"good": responder["certificate_path"], "encrypted": responder["encrypted_certificate_path"],
             "missing": str(tmp_path / "no-such-file.pem"), "directory": str(tmp_path)}
    for name, text in contents.items():
        path = tmp_path / f"{name}.pem"
        path.write_text(text, encoding="ascii")
        files[name] = str(path)
    binary = tmp_path / "binary.pfx"
    binary.write_bytes(bytes(range(256)) * 4)
    files["binary"] = str(binary)
    os.chmod(tmp_path, 0o700)
    return files


@pytest.mark.parametrize("module", sorted(MODULE_CASES))
def test_bad_input_is_refused_before_any_request(ansible, emulator, reliability, credential_files, module):
    base_args, own = MODULE_CASES[module]
    client = "legacy_actions" if module.startswith("security") else "responder"
    connection = [case for index, case in enumerate(connection_cases(credential_files, emulator.info["graph_endpoint"]))
                  if index % 4 == CONNECTION_SPREAD[module]]
    cases = [(name, description, dict(base_args, **args), words, keywords)
             for name, description, args, words, keywords in connection]
    cases += [(name, description, args, words, {}) for name, description, args, words in own]
    tasks = [task(name, module, args, **keywords) for name, description, args, words, keywords in cases]
    played = play(ansible, playbook(*tasks), client=client)
    logged = emulator.admin.requests()
    record_refusals(reliability, played, logged, [(module, name, description, words) for name, description, args, words, keywords in cases])
    # Belt and braces: the whole playbook, every case together, sent nothing at all.
    assert logged == [] or reliability.failures, f"requests outside any task window: {logged}"
    reliability.verify()


def look_alike(upn):
    """``upn`` with one character replaced by a look-alike that casefold() or a careless compare would equate."""
    for plain, similar in (("fi", "\ufb01"), ("ss", "\u00df"), ("a", "\u0430"), ("e", "\u0435"), ("o", "\u043e")):
        if plain in upn.split("@")[0]:
            return upn.replace(plain, similar, 1)
    raise AssertionError(f"no look-alike for {upn}")


def test_targets_refused_after_reading_send_no_write(ansible, emulator, reliability):
    """What only the identity can tell: the provider account it lacks, the action it does not offer, protection."""
    ad_only = next(i for i in emulator.admin.state()["identities"]
                   if i.get("userPrincipalName") and [a["identityProvider"] for a in i["accounts"]] == ["activeDirectory"])
    [hybrid] = pick_identities(emulator, 1, provider="okta", offering="disable")
    glass = next(i for i in emulator.admin.state()["identities"] if (i.get("userPrincipalName") or "").startswith("breakglass"))
    glass_account = glass["accounts"][0]  # its Entra ID account (the seed's break-glass admin is cloud-only)
    empty = dict(ad_only, id="0e0e0e0e-0000-4000-8000-00000000e0e0", userPrincipalName="noaccounts@contoso.com",
                 emailAddress="noaccounts@contoso.com", displayName="No Accounts", accounts=[],
                 onPremisesSecurityIdentifier="S-1-5-21-1004336348-1177238915-682003330-9999")
    emulator.admin.put_identity(empty)
    cases = [
        ("no okta account", "okta x disable on an identity without an okta account",
         {"identity_account_id": ad_only["id"], "identity_provider": "okta", "action": "disable"},
         ["identity_provider", "has no 'okta' account"]),
        ("foreign account_id", "account_id of another identity",
         {"identity_account_id": ad_only["id"], "identity_provider": "activeDirectory", "action": "disable",
          "account_id": "00000000-0000-0000-0000-000000000000"}, ["account_id", "own accounts"]),
        ("protected account through another identity", "account_id of the protected break-glass identity's account, "
         "named under another identity", {"identity_account_id": ad_only["id"], "identity_provider": glass_account["identityProvider"],
                                          "action": "disable", "action_matrix": "extended",
                                          "account_id": glass_account["identifier"],
                                          "protected_accounts": [glass["userPrincipalName"]]}, ["account_id", "own accounts"]),
        ("protected account through an identity without accounts", "account_id of the protected break-glass identity's "
         "account, named under an identity that lists no accounts",
         {"identity_account_id": empty["id"], "identity_provider": glass_account["identityProvider"], "action": "disable",
          "action_matrix": "extended", "account_id": glass_account["identifier"],
          "protected_accounts": [glass["userPrincipalName"]]}, ["account_id", "lists no accounts"]),
        ("look-alike UPN", "user_principal_name that is a real UPN with one letter swapped for a look-alike (Cyrillic, "
         "ligature or sharp s)", {"user_principal_name": look_alike(hybrid["userPrincipalName"]),
                                  "identity_provider": "okta", "action": "disable"},
         ["user_principal_name", "no identity account matches"]),
        ("account of another provider", "account_id of the okta account with identity_provider activeDirectory",
         {"identity_account_id": hybrid["id"], "identity_provider": "activeDirectory", "action": "disable",
          "account_id": next(a["identifier"] for a in hybrid["accounts"] if a["identityProvider"] == "okta")},
         ["account_id", "belongs to identity provider 'okta'"]),
        ("protected account", "identity listed in protected_accounts",
         {"user_principal_name": hybrid["userPrincipalName"], "identity_provider": "okta", "action": "disable",
          "protected_accounts": [hybrid["userPrincipalName"].upper()]}, ["protected_accounts", "refusing"]),
        ("ambiguous display name", "display_name shared by several identities",
         {"display_name": "Alex Johnson", "identity_provider": "activeDirectory", "action": "disable"},
         ["display_name", "refusing to guess"]),
        ("unknown UPN", "user_principal_name that matches nobody",
         {"user_principal_name": "nobody-here@contoso.com", "identity_provider": "activeDirectory", "action": "disable"},
         ["user_principal_name", "no identity account matches"]),
    ]
    played = play(ansible, playbook(*[task(name, "identity_account_action", args) for name, description, args, words in cases]))
    logged = emulator.admin.requests()
    record_refusals(reliability, played, logged, [("identity_account_action", name, description, words)
                                                  for name, description, args, words in cases], read_first="the identity")
    reliability.verify()
