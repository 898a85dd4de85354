"""HTTP/TLS plumbing: certificates, speed, keep-alive, unknown paths, the in-process lifecycle."""

import os
import socket
import ssl
import statistics
import time

import pytest
import requests

from graph_emulator import Emulator
from graph_emulator.server import _Handler


def test_handler_disables_nagle_and_keeps_alive():
    assert _Handler.disable_nagle_algorithm is True and _Handler.protocol_version == "HTTP/1.1"


def test_certificate_is_valid_for_ip_and_localhost(info, http):
    context = ssl.create_default_context(cafile=info["ca_path"])
    port = int(info["base_url"].rsplit(":", 1)[1])
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version().startswith("TLS")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(info["base_url"] + "/_emulator/info", verify=True, timeout=5)  # the system bundle does not know our CA


def test_plain_http_is_refused_quietly(info, emulator, api):
    port = int(info["base_url"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(100)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/")  # only a TLS alert or nothing
    assert emulator.admin.counters()["by_route"] == {}
    assert api.token_response().status_code == 200  # and the server keeps serving


def test_token_and_graph_calls_are_fast(api):
    token = api.token()
    token_times, graph_times = [], []
    for _attempt in range(15):
        started = time.perf_counter()
        api.token_response()
        token_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        api.get("/beta/security/identities/identityAccounts/0104216-0539-4838-88b1-55baafdc296b", token=token)
        graph_times.append(time.perf_counter() - started)
    assert statistics.median(token_times) < 0.03 and statistics.median(graph_times) < 0.03


def test_unknown_non_graph_path_is_404(info, http):
    response = http.get(info["base_url"] + "/favicon.ico")
    assert response.status_code == 404 and response.headers["request-id"]


def test_chunked_request_body(api, info):
    token = api.token()

    def chunks():
        yield b'{"accountId": "256db173-930a-4991-9061-0d51a9a93ba5", '
        yield b'"action": "disable", "identityProvider": "activeDirectory"}'

    response = api.http.post(f"{info['base_url']}/beta/security/identities/identityAccounts/0104216-0539-4838-88b1-55baafdc296b/invokeAction",
                             data=chunks(), headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    assert response.status_code == 200


def test_second_emulator_in_process_and_cleanup():
    with Emulator(shape="example", cloud="usgov", page_size=5) as emu:
        workdir = emu.info["workdir"]
        assert os.path.exists(emu.info["ca_path"]) and emu.info["graph_root"] == "https://graph.microsoft.us"
        assert emu.admin.config()["page_size"] == 5
        with pytest.raises(RuntimeError):
            emu.start()
    assert not os.path.exists(workdir)  # a temp workdir the emulator made itself is removed
    emu.stop()  # stopping twice is harmless
