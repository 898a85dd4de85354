# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS trust: a self-signed endpoint in front of the emulator, for every module.

A small TLS-terminating relay with a self-signed certificate forwards to the emulator. With REQUESTS_CA_BUNDLE
and CURL_CA_BUNDLE pointing at the system CAs (which requests would otherwise let win), each module must:
refuse the endpoint by default with a message naming ca_path; work with ca_path set to the self-signed
certificate; work with validate_certs false, warning about it.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import select
import socket
import ssl
import threading

import certifi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import playbook, short
from reliability_helpers import MDE, app_token, pick_identities, play, task, warnings_of

SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt" if os.path.exists("/etc/ssl/certs/ca-certificates.crt") else certifi.where()


def self_signed(folder):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self-signed graph relay")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "relay.pem", folder / "relay.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class Relay:
    """TLS in (self-signed), TLS out (to the emulator, verified with its CA); counts completed handshakes."""

    def __init__(self, cert_path, key_path, upstream, upstream_ca):
        self.server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server.load_cert_chain(cert_path, key_path)
        self.client = ssl.create_default_context(cafile=upstream_ca)
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes = 0
        self.refused = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def _accept(self):
        while not self._stop:
            try:
                raw, _address = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        try:
            inbound = self.server.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1  # the client did not trust the certificate
            raw.close()
            return
        self.handshakes += 1
        outbound = self.client.wrap_socket(socket.create_connection(self.upstream), server_hostname=self.upstream[0])
        self._pump(inbound, outbound)

    @staticmethod
    def _pump(inbound, outbound):
        """Both directions in one thread: an SSL socket must not be read and written by two threads at once."""
        peers = {inbound: outbound, outbound: inbound}
        try:
            while True:
                ready = [end for end in peers if end.pending()] or select.select(list(peers), [], [], 60)[0]
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    peers[end].sendall(data)
        except OSError:
            pass
        finally:
            for end in peers:
                try:
                    end.close()
                except OSError:
                    pass

    def close(self):
        self._stop = True
        self.listener.close()


@pytest.fixture
def relay(emulator, tmp_path):
    cert_path, key_path = self_signed(tmp_path)
    host, port = emulator.info["graph_endpoint"].rsplit("//", 1)[1].split(":")
    server = Relay(cert_path, key_path, (host, int(port)), emulator.info["ca_path"])
    server.cert_path = cert_path
    yield server
    server.close()


MODULES = {
    "identity_account_info": ("responder", lambda ids, n: {"user_principal_name": ids[n]["userPrincipalName"]}),
    "identity_account_action": ("responder", lambda ids, n: {"identity_account_id": ids[n]["id"],
                                                             "identity_provider": "activeDirectory", "action": "disable"}),
    "security_action": ("legacy_actions", lambda ids, n: {"name": "BlockIp", "parameters": {"IP": f"203.0.113.{200 + n}"},
                                                          "vendor_information": MDE}),
    "security_action_info": ("legacy_actions", lambda ids, n: {}),
}
MODES = {
    "default": ({}, "refused with a clear message naming ca_path; nothing reaches Graph"),
    "ca_path": (None, "works with ca_path set to the self-signed certificate, despite REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE"),
    "insecure": ({"validate_certs": False}, "works with validate_certs false, and warns"),
}


def test_self_signed_endpoint(ansible, emulator, relay, reliability):
    tokens = {client: app_token(emulator, client) for client in ("responder", "legacy_actions")}
    targets = pick_identities(emulator, len(MODES))
    tasks, cases = [], []
    for module, (client, make_args) in MODULES.items():
        for index, (mode, (extra, expected)) in enumerate(MODES.items()):
            extra = {"ca_path": relay.cert_path} if extra is None else extra
            name = f"{module} {mode}"
            tasks.append(task(name, module, dict(make_args(targets, index), access_token=tokens[client], **extra)))
            cases.append((name, module, mode, expected))
    # The token endpoint behind the relay: refused too, as a token-endpoint problem.
    tasks.append(task("token endpoint default", "identity_account_info",
                      {"user_principal_name": targets[0]["userPrincipalName"], "authority_host": relay.url,
                       "tenant_id": emulator.info["tenant_id"], "client_id": emulator.info["clients"]["responder"]["client_id"],
                       "client_secret": emulator.info["clients"]["responder"]["client_secret"]}))
    env = {"MSGRAPH_ENDPOINT": relay.url, "MSGRAPH_CA_PATH": "", "REQUESTS_CA_BUNDLE": SYSTEM_BUNDLE,
           "CURL_CA_BUNDLE": SYSTEM_BUNDLE}
    played = play(ansible, playbook(*tasks), env=env, auth=None)
    log = emulator.admin.requests()
    for name, module, mode, expected in cases:
        with reliability.case("tls", f"self-signed Graph endpoint, {mode}", module, expected, path="TLS") as case:
            mine = played.during(name, log)
            status = played.status(name)
            result = played.task(name)
            case["writes"] = len([entry for entry in mine if entry["family"] == "graph" and entry["method"] != "GET"])
            message = result.get("msg", "")
            case["observed"] = f"failed: {message.split(': ', 1)[0]}" if status == "failed" else status
            if mode == "default":
                assert status == "failed", f"the self-signed endpoint was trusted: {status}"
                message = result["msg"]
                assert "TLS certificate verification failed" in message and "ca_path" in message, short(result)
                assert "self-signed" in message or "self signed" in message, short(result)
                assert mine == [], "a request went through although the certificate is not trusted"
            else:
                assert status in ("ok", "changed"), short(result)
                assert [entry for entry in mine if entry["family"] == "graph"], "no request reached Graph"
                insecure = [w for w in warnings_of(result) if "validate_certs is false" in w]
                assert bool(insecure) is (mode == "insecure"), f"warnings: {warnings_of(result)}"
    with reliability.case("tls", "self-signed token endpoint (authority_host), default", "identity_account_info",
                          "refused as a token-endpoint problem, naming ca_path; no token, no Graph request", path="TLS") as case:
        result = played.task("token endpoint default")
        case["writes"] = 0
        case["observed"] = f"{played.status('token endpoint default')}: {result.get('msg', '').split(': ', 1)[0]}"
        assert played.status("token endpoint default") == "failed"
        assert "token endpoint" in result["msg"] and "ca_path" in result["msg"], short(result)
        assert played.during("token endpoint default", log) == []
    with reliability.case("tls", "handshakes refused vs completed at the relay", "all",
                          "every default-mode connection refused by the client", path="TLS") as case:
        case["observed"] = f"{relay.refused} refused, {relay.handshakes} completed"
        assert relay.refused >= len(MODULES) + 1, case["observed"]
        assert relay.handshakes >= 2 * len(MODULES), case["observed"]
    reliability.verify()
