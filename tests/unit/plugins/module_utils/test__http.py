# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared HTTP session: per-request verify (the CA-bundle trap), user agent, timeouts, TLS errors, what a failure
proves."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import requests
from requests.adapters import BaseAdapter

from ansible_collections.msgraph.security.plugins.module_utils import _http
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphAuthError, GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._http import (
    VerifyingSession,
    is_tls_error,
    tls_error,
    user_agent,
    validate_ca_path,
    verify_setting,
)
from ansible_collections.msgraph.security.plugins.module_utils._options import COLLECTION_VERSION
from ansible_collections.msgraph.security.tests.unit.fakes import ssl_error_raised_in


class RecordingAdapter(BaseAdapter):
    """Answers 200 and records what reached the transport: the request and the send() kwargs."""

    def __init__(self):
        super(RecordingAdapter, self).__init__()
        self.sent = []

    def send(self, request, **kwargs):
        self.sent.append((request, kwargs))
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"
        response.request = request
        response.url = request.url
        return response

    def close(self):
        pass


@pytest.fixture
def ca_bundle(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    return str(path)


@pytest.fixture
def env_bundles(monkeypatch, tmp_path):
    """The build machines export both variables; so do many corporate hosts."""
    other = tmp_path / "system-bundle.pem"
    other.write_text("system")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(other))
    return str(other)


def _mounted(session):
    adapter = RecordingAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return adapter


def test_plain_session_verify_is_overridden_by_the_environment(env_bundles, ca_bundle):
    """The trap this module exists for: Session.verify loses against REQUESTS_CA_BUNDLE."""
    session = requests.Session()
    session.verify = ca_bundle
    adapter = _mounted(session)
    session.get("https://graph.example.test/x")
    assert adapter.sent[0][1]["verify"] == env_bundles


@pytest.mark.parametrize("method", ["get", "post"])
def test_ca_path_reaches_the_adapter_despite_env_bundles(env_bundles, ca_bundle, method):
    session = VerifyingSession(ca_path=ca_bundle)
    adapter = _mounted(session)
    getattr(session, method)("https://graph.example.test/x")
    assert adapter.sent[0][1]["verify"] == ca_bundle
    assert session.warnings == []


def test_a_callers_verify_is_replaced(env_bundles, ca_bundle):
    session = VerifyingSession(ca_path=ca_bundle)
    adapter = _mounted(session)
    session.request("GET", "https://graph.example.test/x", verify=True)
    assert adapter.sent[0][1]["verify"] == ca_bundle


def test_validate_certs_false_sends_verify_false_and_warns(env_bundles):
    session = VerifyingSession(validate_certs=False)
    adapter = _mounted(session)
    session.get("https://graph.example.test/x")
    assert adapter.sent[0][1]["verify"] is False
    assert len(session.warnings) == 1
    assert "validate_certs is false" in session.warnings[0]
    assert "ca_path" in session.warnings[0]


def test_validate_certs_false_with_ca_path_warns_that_ca_path_is_ignored(ca_bundle):
    verify, messages = verify_setting(validate_certs=False, ca_path=ca_bundle)
    assert verify is False
    assert len(messages) == 2 and "ca_path is ignored" in messages[1]


def test_default_verification_uses_the_environment_bundle(env_bundles):
    """Without ca_path, requests' normal behaviour (system or REQUESTS_CA_BUNDLE) applies."""
    session = VerifyingSession()
    adapter = _mounted(session)
    session.get("https://graph.example.test/x")
    assert adapter.sent[0][1]["verify"] == env_bundles


def test_default_verification_without_env(monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    session = VerifyingSession()
    adapter = _mounted(session)
    session.get("https://graph.example.test/x")
    assert adapter.sent[0][1]["verify"] is True


def test_user_agent_names_the_collection_and_version():
    agent = user_agent()
    assert re.match(r"^msgraph\.security/%s \(ansible-collection\) python-requests/\d+\.\d+" % re.escape(COLLECTION_VERSION),
                    agent), agent
    assert agent.endswith(requests.__version__)


def test_user_agent_header_is_sent():
    session = VerifyingSession()
    adapter = _mounted(session)
    session.get("https://graph.example.test/x")
    assert adapter.sent[0][0].headers["User-Agent"] == user_agent()


def test_default_timeout_is_applied_and_explicit_timeout_wins():
    session = VerifyingSession(timeout=17)
    adapter = _mounted(session)
    session.get("https://graph.example.test/x")
    session.get("https://graph.example.test/x", timeout=3)
    assert adapter.sent[0][1]["timeout"] == 17
    assert adapter.sent[1][1]["timeout"] == 3


def test_validate_ca_path(tmp_path, ca_bundle):
    validate_ca_path(ca_bundle)
    validate_ca_path(str(tmp_path))  # a directory of hashed certificates is valid for requests
    validate_ca_path(None)
    with pytest.raises(InputError) as caught:
        validate_ca_path(str(tmp_path / "missing.pem"))
    assert caught.value.option == "ca_path"
    assert "does not exist" in str(caught.value)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read any file")
def test_validate_ca_path_unreadable(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(InputError) as caught:
        validate_ca_path(str(path))
    assert "not readable" in str(caught.value)


def _ssl_error():
    return requests.exceptions.SSLError(
        "HTTPSConnectionPool(host='graph.example.test', port=443): Max retries exceeded (Caused by SSLError("
        "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local "
        "issuer certificate (_ssl.c:1000)')))")


def test_tls_error_for_graph_has_the_ca_path_hint():
    err = tls_error(_ssl_error(), method="GET", url="https://graph.example.test/beta/x")
    assert isinstance(err, GraphError) and not isinstance(err, GraphAuthError)
    assert "TLS certificate verification failed for Microsoft Graph" in str(err)
    assert "the endpoint's certificate is not trusted; set ca_path to the CA bundle" in err.hint
    assert err.url == "https://graph.example.test/beta/x"


def test_tls_error_for_token_endpoint_is_an_auth_error_and_names_ca_path(ca_bundle):
    err = tls_error(_ssl_error(), url="https://login.example.test/t", verify=ca_bundle, auth=True)
    assert isinstance(err, GraphAuthError)
    assert "token endpoint" in str(err)
    assert ca_bundle in err.hint


def test_tls_error_names_the_openssl_reason_before_the_long_url():
    detail = ("HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /beta/" + "x" * 400 +
              " (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
              "failed: self-signed certificate (_ssl.c:1000)')))")
    err = tls_error(requests.exceptions.SSLError(detail), method="GET", url="https://127.0.0.1:1/beta/x")
    assert str(err).startswith("TLS certificate verification failed for Microsoft Graph (self-signed certificate): ")


def test_is_tls_error():
    assert is_tls_error(_ssl_error())
    assert not is_tls_error(requests.exceptions.ConnectionError("refused"))


def test_session_requires_requests(monkeypatch):
    monkeypatch.setattr(_http, "HAS_REQUESTS", False)
    with pytest.raises(RuntimeError):
        VerifyingSession()


def test_pool_size_sizes_the_connection_pool_for_threads():
    session = VerifyingSession(pool_size=25)
    assert session.get_adapter("https://graph.microsoft.com")._pool_maxsize == 25
    assert VerifyingSession().get_adapter("https://graph.microsoft.com")._pool_maxsize == 10


# --- the requests floor ----------------------------------------------------------------------------

@pytest.mark.parametrize("version, refused", [("2.25.1", True), ("2.27.1", True), ("2.31.0", True), ("2.32.3", True),
                                              ("2.32.4", False), ("2.32.5", False), ("2.34.2", False), ("3.0.0rc1", False)])
def test_requests_below_the_floor_is_refused(version, refused):
    problem = _http.requests_too_old(version)
    assert bool(problem) is refused
    if refused:
        assert version in problem and "requests>=2.32.4" in problem and "CURL_CA_BUNDLE" in problem


def test_an_old_requests_counts_as_missing_at_import(monkeypatch):
    """With requests 2.27 CURL_CA_BUNDLE="" switched verification off inside requests: the import refuses it."""
    import importlib
    monkeypatch.setattr(requests, "__version__", "2.27.1")
    try:
        reloaded = importlib.reload(_http)
        assert reloaded.HAS_REQUESTS is False and reloaded.requests is None
        assert "requests 2.27.1 is installed, but requests>=2.32.4 is required" in reloaded.REQUESTS_IMPORT_ERROR
        assert reloaded.REQUESTS_TOO_OLD and "2.27.1" in reloaded.REQUESTS_TOO_OLD
        with pytest.raises(RuntimeError, match="2.27.1"):
            reloaded.VerifyingSession()
    finally:
        monkeypatch.undo()
        importlib.reload(_http)
    assert _http.HAS_REQUESTS is True and _http.REQUESTS_TOO_OLD is None


# --- .netrc never replaces the bearer token ----------------------------------------------------------

@pytest.fixture
def netrc_for_graph(monkeypatch, tmp_path):
    path = tmp_path / "netrc"
    path.write_text("machine graph.microsoft.com login netrc-user password netrc-password\n"
                    "machine login.microsoftonline.com login netrc-user password netrc-password\n")
    os.chmod(path, 0o600)
    monkeypatch.setenv("NETRC", str(path))
    return path


def test_a_netrc_entry_does_not_replace_the_bearer_token(netrc_for_graph):
    plain = requests.Session()
    plain_adapter = _mounted(plain)
    plain.get("https://graph.microsoft.com/v1.0/x", headers={"Authorization": "Bearer tok"})
    assert plain_adapter.sent[0][0].headers["Authorization"].startswith("Basic ")  # the trap being guarded against
    session = VerifyingSession()
    adapter = _mounted(session)
    session.get("https://graph.microsoft.com/v1.0/x", headers={"Authorization": "Bearer tok"})
    session.post("https://login.microsoftonline.com/t/oauth2/v2.0/token", data={"client_id": "c"})
    assert adapter.sent[0][0].headers["Authorization"] == "Bearer tok"
    assert "Authorization" not in adapter.sent[1][0].headers


def test_a_redirect_drops_the_token_for_another_host_and_never_adds_netrc_credentials(netrc_for_graph):
    session = VerifyingSession()
    previous = requests.Request("GET", "https://graph.microsoft.com/v1.0/x", headers={"Authorization": "Bearer tok"}).prepare()
    response = requests.Response()
    response.request = previous
    for target, kept in (("https://graph.microsoft.com/v1.0/y", "Bearer tok"), ("https://login.microsoftonline.com/z", None)):
        redirected = previous.copy()
        redirected.url = target
        session.rebuild_auth(redirected, response)
        assert redirected.headers.get("Authorization") == kept


# --- did the request leave this host? -------------------------------------------------------------

def test_a_plaintext_server_met_in_the_handshake_proves_nothing_was_sent():
    assert _http.tls_failed_before_sending(ssl_error_raised_in("do_handshake"))


def test_a_plaintext_answer_read_after_sending_is_not_proof():
    assert not _http.tls_failed_before_sending(ssl_error_raised_in("getresponse"))


def test_a_tls_failure_with_no_trace_of_where_it_happened_is_not_proof():
    assert not _http.tls_failed_before_sending(requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number"))


def test_a_certificate_failure_is_proof_by_itself():
    assert _http.tls_failed_before_sending(requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"))
