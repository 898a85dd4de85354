"""Fault injection through the admin API: every kind, matching, counting and the ambiguous-write case."""

import email.utils
import random
import time

import pytest
import requests

from graph_emulator import AdminError
from emulator_helpers import MEGAN_AD, MEGAN_ID

ACCOUNTS = "/beta/security/identities/identityAccounts"
INVOKE = f"{ACCOUNTS}/{MEGAN_ID}/invokeAction"
DISABLE = {"accountId": MEGAN_AD, "action": "disable", "identityProvider": "activeDirectory"}


@pytest.fixture
def token(api):
    return api.token()


def test_429_with_retry_after_seconds_then_recovers(api, admin, token):
    admin.add_fault(route="list_identity_accounts", kind="status", status=429, retry_after=3, times=2)
    first = api.get(ACCOUNTS, token=token)
    assert first.status_code == 429 and first.headers["Retry-After"] == "3"
    assert first.json()["error"]["code"] == "TooManyRequests" and first.json()["error"]["innerError"]["request-id"]
    assert api.get(ACCOUNTS, token=token).status_code == 429
    assert api.get(ACCOUNTS, token=token).status_code == 200
    entries = admin.requests(route="list_identity_accounts")
    assert [entry["fault"] for entry in entries] == ["status", "status", None]


def test_retry_after_as_http_date(api, admin, token):
    admin.add_fault(route="get_identity_account", kind="status", status=503, retry_after=30, retry_after_format="date")
    response = api.get(f"{ACCOUNTS}/{MEGAN_ID}", token=token)
    assert response.status_code == 503 and response.json()["error"]["code"] == "ServiceUnavailable"
    when = email.utils.parsedate_to_datetime(response.headers["Retry-After"]).timestamp()
    assert 20 < when - time.time() <= 31


def test_status_with_custom_code_and_504(api, admin, token):
    admin.add_fault(path_regex="identityAccounts$", method="GET", kind="status", status=504, code="UnknownError", message="")
    error = api.get(ACCOUNTS, token=token).json()["error"]
    assert (error["code"], error["message"]) == ("UnknownError", "")
    assert api.get(f"{ACCOUNTS}/{MEGAN_ID}", token=token).status_code == 200  # regex did not match


def test_status_on_token_route_uses_entra_shape(api, admin):
    admin.add_fault(route="token", kind="status", status=503, retry_after=1, times=1)
    response = api.token_response()
    assert response.status_code == 503 and response.json()["error"] == "temporarily_unavailable"
    assert response.json()["error_description"].startswith("AADSTS")
    assert api.token_response().status_code == 200


def test_latency(api, admin, token):
    admin.add_fault(route="list_identity_accounts", kind="latency", latency_ms=300, times=1)
    started = time.time()
    assert api.get(ACCOUNTS, token=token).status_code == 200
    assert time.time() - started >= 0.3
    started = time.time()
    api.get(ACCOUNTS, token=token)
    assert time.time() - started < 0.2


def test_configured_graph_latency(api, admin, token):
    admin.configure(graph_latency_ms=200)
    started = time.time()
    api.get(f"{ACCOUNTS}/{MEGAN_ID}", token=token)
    assert time.time() - started >= 0.2


@pytest.mark.parametrize("kind", ["drop", "reset"])
def test_broken_connections(api, admin, token, kind):
    admin.add_fault(route="list_identity_accounts", kind=kind, times=1)
    with pytest.raises(requests.ConnectionError):
        api.get(ACCOUNTS, token=token)
    assert api.get(ACCOUNTS, token=token).status_code == 200
    assert admin.requests(route="list_identity_accounts")[0]["status"] is None


def test_truncated_body(api, admin, token):
    admin.add_fault(route="get_identity_account", kind="truncate", times=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        api.get(f"{ACCOUNTS}/{MEGAN_ID}", token=token)


def test_tls_corrupt_breaks_the_tls_session_after_the_write_was_applied(api, admin, token):
    admin.add_fault(route="invoke_action", kind="tls_corrupt", times=1)
    with pytest.raises(requests.exceptions.SSLError) as caught:
        api.post(INVOKE, DISABLE, token=token)
    assert "CERTIFICATE_VERIFY_FAILED" not in str(caught.value)
    [entry] = admin.requests(route="invoke_action")
    assert entry["fault"] == "tls_corrupt" and entry["status"] == 200  # processed: the disable took effect


def test_tls_plaintext_answers_in_clear_text_after_the_write_was_applied(api, admin, token):
    admin.add_fault(route="invoke_action", kind="tls_plaintext", times=1)
    with pytest.raises(requests.exceptions.SSLError) as caught:
        api.post(INVOKE, DISABLE, token=token)
    assert "WRONG_VERSION_NUMBER" in str(caught.value) or "wrong version number" in str(caught.value)
    [entry] = admin.requests(route="invoke_action")
    assert entry["fault"] == "tls_plaintext" and entry["status"] == 200  # processed: the disable took effect


@pytest.mark.parametrize("status, content_type", [(200, "application/json"), (502, "text/html")])
def test_malformed_body(api, admin, token, status, content_type):
    admin.add_fault(route="get_identity_account", kind="malformed", status=status)
    response = api.get(f"{ACCOUNTS}/{MEGAN_ID}", token=token)
    assert response.status_code == status and response.headers["Content-Type"] == content_type
    with pytest.raises(ValueError):
        response.json()


def test_timeout_without_effect_until_the_server_wakes(api, admin, token, emulator):
    admin.add_fault(route="invoke_action", kind="timeout", delay_s=0.6, times=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(INVOKE, DISABLE, token=token, timeout=0.2)
    assert emulator.store.identity(MEGAN_ID)["isEnabled"] is True  # still asleep
    time.sleep(0.6)
    assert emulator.store.identity(MEGAN_ID)["isEnabled"] is False  # the late write landed


def test_timeout_after_processing_applies_at_once(api, admin, token, emulator):
    admin.add_fault(route="invoke_action", kind="timeout", delay_s=0.5, times=1, after_processing=True)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(INVOKE, DISABLE, token=token, timeout=0.2)
    assert emulator.store.identity(MEGAN_ID)["isEnabled"] is False


def test_after_processing_status_is_the_ambiguous_write(api, admin, token):
    admin.add_fault(route="invoke_action", kind="status", status=500, after_processing=True, times=1)
    assert api.post(INVOKE, DISABLE, token=token).status_code == 500
    assert len(admin.state()["invocations"]) == 1  # the action ran although the client saw a 500
    retry = api.post(INVOKE, DISABLE, token=token)
    assert retry.status_code == 400 and "already disabled" in retry.json()["error"]["message"]


def test_status_before_processing_has_no_effect(api, admin, token):
    admin.add_fault(route="invoke_action", kind="status", status=503, retry_after=0, times=1)
    assert api.post(INVOKE, DISABLE, token=token).status_code == 503
    assert admin.state()["invocations"] == []


def test_drop_after_processing(api, admin, token):
    admin.add_fault(route="invoke_action", kind="drop", after_processing=True, times=1)
    with pytest.raises(requests.ConnectionError):
        api.post(INVOKE, DISABLE, token=token)
    assert len(admin.state()["invocations"]) == 1


def test_expire_token(api, admin, token):
    admin.add_fault(kind="expire_token", times=1)
    assert api.token_response().status_code == 200  # token route is not a Graph route: not consumed
    response = api.get(ACCOUNTS, token=token)
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
    assert api.get(ACCOUNTS, token=token).status_code == 200


def test_probability_is_deterministic(api, admin, token):
    admin.add_fault(route="get_identity_account", kind="status", status=503, probability=0.5, seed=7)
    statuses = [api.get(f"{ACCOUNTS}/{MEGAN_ID}", token=token).status_code for _attempt in range(12)]
    rng = random.Random(7)
    assert statuses == [503 if rng.random() < 0.5 else 200 for _attempt in range(12)]
    assert 0 < statuses.count(503) < 12


def test_method_filter_and_listing(api, admin, token):
    fault = admin.add_fault(path_regex="/invokeAction$", method="POST", kind="status", status=429, times=3)
    assert fault["remaining"] == 3 and fault["id"] >= 1
    api.get(ACCOUNTS, token=token)
    api.post(INVOKE, DISABLE, token=token)
    listed = admin.faults()[0]
    assert listed["hits"] == 1 and listed["remaining"] == 2
    admin.remove_fault(fault["id"])
    assert admin.faults() == []
    assert admin.counters()["faults_fired"] == 1


def test_clear_faults(api, admin, token):
    admin.add_fault(kind="status", status=500)
    admin.clear_faults()
    assert api.get(ACCOUNTS, token=token).status_code == 200


@pytest.mark.parametrize("spec", [
    {"kind": "explode"},
    {"kind": "status"},
    {"kind": "status", "status": 700},
    {"kind": "latency"},
    {"kind": "timeout", "delay_s": -1},
    {"kind": "drop", "route": "no_such_route"},
    {"kind": "drop", "path_regex": "("},
    {"kind": "drop", "times": 0},
    {"kind": "drop", "probability": 2},
    {"kind": "malformed", "status": 404},
    {"kind": "drop", "colour": "red"},
])
def test_invalid_fault_specs(admin, spec):
    with pytest.raises(AdminError, match="400"):
        admin.add_fault(**spec)


def test_configured_token_latency(api, admin):
    admin.configure(token_latency_ms=150)
    started = time.time()
    assert api.token_response().status_code == 200
    assert time.time() - started >= 0.15


def test_reset_discards_requests_still_in_flight(api, admin, token, emulator):
    admin.add_fault(route="invoke_action", kind="timeout", delay_s=0.4, times=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(INVOKE, DISABLE, token=token, timeout=0.1)
    admin.reset()
    time.sleep(0.5)
    assert emulator.store.identity(MEGAN_ID)["isEnabled"] is True  # the late write did not land in the fresh state
    assert admin.requests() == [] and admin.counters()["graph_requests"] == 0
