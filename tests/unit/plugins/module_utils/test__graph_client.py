# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Graph client: headers, retries and budget, POST safety, 401 refresh, paging, error parsing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
import time
import uuid

import pytest
import requests
import responses
import urllib3

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_answers import GraphResponse
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import (
    GRAPH_RETRIED_STATUSES,
    GraphClient,
    RetryPolicy,
    odata_string,
    origin_of,
    path_segment,
    read_one,
    unwrap_entity,
    validate_path_id,
    validate_server_id,
)
from ansible_collections.msgraph.security.plugins.module_utils._http import VerifyingSession
from ansible_collections.msgraph.security.plugins.module_utils._retries import TRANSIENT_STATUSES
from ansible_collections.msgraph.security.tests.unit.fakes import FAKE_JWT as JWT, FakeClock, FakeTokens, ssl_error_raised_in

ROOT = "https://graph.microsoft.com"
BASE = ROOT + "/beta"
ACCOUNTS = BASE + "/security/identities/identityAccounts"
READ = "SecurityIdentitiesAccount.Read.All"
WRITE = "SecurityIdentitiesActions.ReadWrite.All"


@pytest.fixture
def clock():
    # A monotonic clock from 0 beside a wall clock on 2026-01-01 00:00:00 UTC, as time.monotonic and time.time differ.
    return FakeClock(now=0.0, wall=1767225600.0)


@pytest.fixture
def tokens():
    return FakeTokens()


@pytest.fixture
def warnings():
    return []


@pytest.fixture
def client(clock, tokens, warnings):
    return make_client(clock, tokens, warnings)


def make_client(clock, tokens, warnings, max_retries=5, budget=120, endpoint=ROOT):
    policy = RetryPolicy(max_retries=max_retries, budget_seconds=budget, base_delay=1.0, max_delay=8.0,
                         sleep=clock.sleep, clock=clock.clock, now=clock.wall_time, jitter=lambda: 1.0)
    return GraphClient(endpoint, "beta", tokens, VerifyingSession(), timeout=9, retry=policy, on_retry=warnings.append)


def graph_error(code, message, status=400, inner_key="innerError", **extra):
    inner = {"date": "2026-11-01T10:00:00", "request-id": "inner-req", "client-request-id": "inner-cri"}
    body = {"error": {"code": code, "message": message, inner_key: inner}}
    body["error"].update(extra)
    return body


# --- URLs and headers ------------------------------------------------------------------------------

def test_url_for(client):
    assert client.url_for("/security/identities/identityAccounts") == ACCOUNTS
    assert client.url_for("security/x", {"$filter": "displayName eq 'A B'", "$top": 5, "skip": None}) == \
        BASE + "/security/x?$filter=displayName%20eq%20'A%20B'&$top=5"
    assert client.url_for("x", [("a", "1&b=2")]) == BASE + "/x?a=1%26b%3D2"
    assert GraphClient(ROOT + "/", "v1.0", None, None).url_for("/x") == ROOT + "/v1.0/x"


def test_path_segment_quotes_everything():
    assert path_segment("a/b c?d") == "a%2Fb%20c%3Fd"


@responses.activate
def test_every_request_carries_ids_accept_token_agent_and_timeout(client):
    responses.add(responses.GET, ACCOUNTS, json={"value": []}, headers={"request-id": "srv-1", "Date": "Sat, 01 Nov 2026 10:00:00 GMT"})
    response = client.get("/security/identities/identityAccounts", permission=READ)
    request = responses.calls[0].request
    uuid.UUID(request.headers["client-request-id"])  # a GUID
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer %s-token-1" % JWT
    assert request.headers["User-Agent"].startswith("msgraph.security/")
    assert request.req_kwargs["timeout"] == 9
    assert isinstance(response, GraphResponse)
    assert response.status == 200 and response.body == {"value": []}
    assert response.request_id == "srv-1"
    assert response.client_request_id == request.headers["client-request-id"]
    assert response.date == "Sat, 01 Nov 2026 10:00:00 GMT"
    assert (response.method, response.url) == ("GET", ACCOUNTS)


@responses.activate
def test_a_callers_client_request_id_is_used(client):
    responses.add(responses.POST, ACCOUNTS + "/id1/invokeAction", json={"accountId": "a"})
    response = client.post("/security/identities/identityAccounts/id1/invokeAction", body={"accountId": "a"},
                           client_request_id="caller-id-1", permission=WRITE)
    request = responses.calls[0].request
    assert request.headers["client-request-id"] == "caller-id-1"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"accountId": "a"}
    assert response.client_request_id == "caller-id-1"


@responses.activate
def test_empty_2xx_body_is_none(client):
    responses.add(responses.POST, BASE + "/security/securityActions/1/cancelSecurityAction", status=204)
    assert client.post("/security/securityActions/1/cancelSecurityAction").body is None
    assert "Content-Type" not in responses.calls[0].request.headers


# --- retries ------------------------------------------------------------------------------------------

@responses.activate
def test_429_honours_retry_after_seconds(client, clock, warnings):
    responses.add(responses.GET, ACCOUNTS, status=429, headers={"Retry-After": "7"}, json=graph_error("TooManyRequests", "slow down", 429))
    responses.add(responses.GET, ACCOUNTS, json={"value": [1]})
    assert client.get("/security/identities/identityAccounts").body == {"value": [1]}
    assert clock.sleeps == [7.0]
    assert len(responses.calls) == 2
    assert len(warnings) == 1
    assert "HTTP 429" in warnings[0] and "7.0s" in warnings[0] and "Retry-After" in warnings[0]
    # The same logical request keeps its client-request-id across attempts.
    ids = [call.request.headers["client-request-id"] for call in responses.calls]
    assert ids[0] == ids[1]


@responses.activate
def test_429_honours_retry_after_http_date_relative_to_the_date_header(client, clock):
    responses.add(responses.GET, ACCOUNTS, status=429, headers={
        "Retry-After": "Sat, 01 Nov 2026 10:00:30 GMT", "Date": "Sat, 01 Nov 2026 10:00:00 GMT"})
    responses.add(responses.GET, ACCOUNTS, json={"value": []})
    client.get("/security/identities/identityAccounts")
    assert clock.sleeps == [30.0]


@responses.activate
def test_retry_after_http_date_without_date_header_uses_the_clock(clock, tokens, warnings):
    clock.wall = 1793527200.0  # Sat, 01 Nov 2026 10:00:00 GMT
    client = make_client(clock, tokens, warnings)
    responses.add(responses.GET, ACCOUNTS, status=503, headers={"Retry-After": "Sat, 01 Nov 2026 10:00:12 GMT"})
    responses.add(responses.GET, ACCOUNTS, json={"value": []})
    client.get("/security/identities/identityAccounts")
    assert clock.sleeps == [12.0]


@pytest.mark.parametrize("status", [503, 504])
@responses.activate
def test_get_503_504_use_capped_exponential_backoff(client, clock, status):
    for dummy in range(5):
        responses.add(responses.GET, ACCOUNTS, status=status)
    responses.add(responses.GET, ACCOUNTS, json={"value": []})
    client.get("/security/identities/identityAccounts")
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 8.0]  # jitter fixed at 1.0, capped at max_delay 8


def test_backoff_jitter_stays_within_half_and_full_delay():
    low = RetryPolicy(base_delay=2, max_delay=60, jitter=lambda: 0.0)
    high = RetryPolicy(base_delay=2, max_delay=60, jitter=lambda: 0.999)
    assert low.backoff(3) == 4.0
    assert 7.9 < high.backoff(3) <= 8.0


@responses.activate
def test_max_retries_exhausted_names_attempts_status_and_code(clock, tokens, warnings):
    client = make_client(clock, tokens, warnings, max_retries=2)
    for dummy in range(3):
        responses.add(responses.GET, ACCOUNTS, status=429, headers={"Retry-After": "1", "request-id": "last-req"},
                      json=graph_error("TooManyRequests", "Too many requests", 429))
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    err = caught.value
    assert len(responses.calls) == 3
    assert "gave up after 3 attempt(s)" in str(err)
    assert err.status == 429 and err.code == "TooManyRequests"
    assert err.request_id == "last-req"
    assert "max_retries" in err.hint


@responses.activate
def test_budget_exhaustion_names_budget_attempts_last_status_and_request_id(clock, tokens, warnings):
    client = make_client(clock, tokens, warnings, budget=120)
    for dummy in range(3):
        responses.add(responses.GET, ACCOUNTS, status=429, headers={"Retry-After": "100", "request-id": "req-429"})
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    text = str(caught.value)
    assert clock.sleeps == [100.0]  # the second wait (100s) would exceed the 20s left
    assert len(responses.calls) == 2
    assert "retry budget of 120s exhausted after 2 attempt(s)" in text
    assert "last status HTTP 429" in text
    assert "last request-id req-429" in text
    assert "retry_budget" in caught.value.hint


@responses.activate
def test_budget_is_shared_across_requests(clock, tokens, warnings):
    client = make_client(clock, tokens, warnings, budget=10)
    responses.add(responses.GET, ACCOUNTS, status=429, headers={"Retry-After": "8"})
    responses.add(responses.GET, ACCOUNTS, json={"value": []})
    responses.add(responses.GET, ACCOUNTS, status=429, headers={"Retry-After": "8"})
    client.get("/security/identities/identityAccounts")
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert "retry budget of 10s" in str(caught.value)
    assert clock.sleeps == [8.0]


@responses.activate
def test_zero_retries_fails_at_once(clock, tokens, warnings):
    client = make_client(clock, tokens, warnings, max_retries=0)
    responses.add(responses.GET, ACCOUNTS, status=503)
    with pytest.raises(GraphError):
        client.get("/security/identities/identityAccounts")
    assert clock.sleeps == [] and len(responses.calls) == 1


@pytest.mark.parametrize("exc", [requests.exceptions.ConnectionError("reset"), requests.exceptions.ReadTimeout("slow")])
@responses.activate
def test_get_retried_on_connection_errors_and_timeouts(client, clock, warnings, exc):
    responses.add(responses.GET, ACCOUNTS, body=exc)
    responses.add(responses.GET, ACCOUNTS, json={"value": []})
    assert client.get("/security/identities/identityAccounts").body == {"value": []}
    assert len(responses.calls) == 2 and len(clock.sleeps) == 1
    assert "retrying" in warnings[0]


@responses.activate
def test_get_connection_errors_exhausted(clock, tokens, warnings):
    client = make_client(clock, tokens, warnings, max_retries=1)
    responses.add(responses.GET, ACCOUNTS, body=requests.exceptions.ConnectionError("down"))
    responses.add(responses.GET, ACCOUNTS, body=requests.exceptions.ConnectionError("down"))
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert "last error down" in str(caught.value)
    assert "graph_endpoint" in caught.value.hint


@responses.activate
def test_get_truncated_body_is_retried(client, clock):
    responses.add(responses.GET, ACCOUNTS, body='{"value": [1, 2', content_type="application/json")
    responses.add(responses.GET, ACCOUNTS, json={"value": [1, 2]})
    assert client.get("/security/identities/identityAccounts").body == {"value": [1, 2]}
    assert len(clock.sleeps) == 1


@responses.activate
def test_get_body_cut_short_of_its_content_length_is_retried(client, clock):
    # requests raises ChunkedEncodingError (urllib3 IncompleteRead) when the connection ends mid-body.
    responses.add(responses.GET, ACCOUNTS, body=requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read)"))
    responses.add(responses.GET, ACCOUNTS, json={"value": [1]})
    assert client.get("/security/identities/identityAccounts").body == {"value": [1]}
    assert len(responses.calls) == 2 and len(clock.sleeps) == 1


@responses.activate
def test_post_body_cut_short_is_outcome_unknown_and_not_resent(client):
    responses.add(responses.POST, BASE + ACTION, body=requests.exceptions.ChunkedEncodingError("IncompleteRead"))
    with pytest.raises(GraphOutcomeUnknownError):
        client.post(ACTION, body={}, client_request_id="cri-cut")
    assert len(responses.calls) == 1


@responses.activate
def test_get_500_is_not_retried(client):
    responses.add(responses.GET, ACCOUNTS, status=500, json=graph_error("InternalServerError", "oops", 500))
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert len(responses.calls) == 1
    assert caught.value.status == 500 and not isinstance(caught.value, GraphOutcomeUnknownError)


def test_graph_retries_the_transient_statuses_it_documents_as_such():
    assert GRAPH_RETRIED_STATUSES == {429, 503, 504} and GRAPH_RETRIED_STATUSES < TRANSIENT_STATUSES


# --- POST safety --------------------------------------------------------------------------------------

ACTION = "/security/identities/identityAccounts/id1/invokeAction"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
@responses.activate
def test_post_is_never_replayed_after_a_5xx(client, clock, status):
    responses.add(responses.POST, BASE + ACTION, status=status, headers={"Retry-After": "1", "request-id": "srv-5xx"},
                  json=graph_error("ServiceUnavailable", "try later", status))
    responses.add(responses.POST, BASE + ACTION, json={})
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        client.post(ACTION, body={"action": "disable"}, client_request_id="cri-post", permission=WRITE)
    assert len(responses.calls) == 1
    assert clock.sleeps == []
    err = caught.value
    assert err.client_request_id == "cri-post"
    assert err.request_id == "srv-5xx"
    assert err.status == status
    assert "read the target's current state" in err.hint


@pytest.mark.parametrize("exc", [
    requests.exceptions.ReadTimeout("read timed out"),
    requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())),
])
@responses.activate
def test_post_is_never_replayed_after_a_timeout_or_reset(client, exc):
    responses.add(responses.POST, BASE + ACTION, body=exc)
    responses.add(responses.POST, BASE + ACTION, json={})
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        client.post(ACTION, body={"action": "disable"}, client_request_id="cri-2")
    assert len(responses.calls) == 1
    assert caught.value.client_request_id == "cri-2"


@pytest.mark.parametrize("exc", [
    requests.exceptions.SSLError(urllib3.exceptions.SSLError("EOF occurred in violation of protocol (_ssl.c:2427)")),
    requests.exceptions.SSLError("[SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] decryption failed or bad record mac"),
])
@responses.activate
def test_post_meeting_a_tls_failure_after_sending_is_an_unknown_outcome(client, exc):
    responses.add(responses.POST, BASE + ACTION, body=exc)
    responses.add(responses.POST, BASE + ACTION, json={})
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        client.post(ACTION, body={"action": "forcePasswordReset"}, client_request_id="cri-tls")
    assert len(responses.calls) == 1  # never replayed
    assert caught.value.code == "TlsErrorAfterSending" and caught.value.client_request_id == "cri-tls"
    assert "read the target's current state" in caught.value.hint


@responses.activate
def test_post_refused_by_certificate_verification_is_a_plain_tls_failure(client):
    """The handshake failed, so nothing was sent: a clear TLS error (with the ca_path fix), not an unknown outcome."""
    responses.add(responses.POST, BASE + ACTION, body=requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"))
    with pytest.raises(GraphError) as caught:
        client.post(ACTION, body={})
    assert not isinstance(caught.value, GraphOutcomeUnknownError) and "ca_path" in caught.value.hint


@responses.activate
def test_post_truncated_2xx_body_is_outcome_unknown(client):
    responses.add(responses.POST, BASE + ACTION, body="{\"accountId\": ", content_type="application/json")
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        client.post(ACTION, body={})
    assert len(responses.calls) == 1
    assert caught.value.code == "UnreadableResponse"


@responses.activate
def test_post_429_is_retried(client, clock):
    responses.add(responses.POST, BASE + ACTION, status=429, headers={"Retry-After": "3"})
    responses.add(responses.POST, BASE + ACTION, json={"ok": True})
    assert client.post(ACTION, body={"a": 1}, client_request_id="cri-3").body == {"ok": True}
    assert len(responses.calls) == 2 and clock.sleeps == [3.0]
    assert all(call.request.headers["client-request-id"] == "cri-3" for call in responses.calls)


@responses.activate
def test_post_not_sent_connection_failure_is_retried(client):
    refused = requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(
        None, BASE + ACTION, reason=urllib3.exceptions.NewConnectionError(None, "Connection refused")))
    responses.add(responses.POST, BASE + ACTION, body=refused)
    responses.add(responses.POST, BASE + ACTION, json={"ok": True})
    assert client.post(ACTION, body={}).body == {"ok": True}
    assert len(responses.calls) == 2


# --- 401 -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "POST"])
@responses.activate
def test_401_refreshes_the_token_once_and_resends(client, tokens, method):
    url = ACCOUNTS if method == "GET" else BASE + ACTION
    responses.add(method, url, status=401, json=graph_error("InvalidAuthenticationToken", "expired", 401))
    responses.add(method, url, json={"value": []})
    if method == "GET":
        client.get("/security/identities/identityAccounts")
    else:
        client.post(ACTION, body={})
    assert tokens.calls == [False, True]
    assert responses.calls[0].request.headers["Authorization"].endswith("token-1")
    assert responses.calls[1].request.headers["Authorization"].endswith("token-2")


@responses.activate
def test_second_401_fails_without_another_refresh(client, tokens):
    responses.add(responses.GET, ACCOUNTS, status=401, json=graph_error("InvalidAuthenticationToken", "bad", 401))
    responses.add(responses.GET, ACCOUNTS, status=401, json=graph_error("InvalidAuthenticationToken", "bad", 401))
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert tokens.calls.count(True) == 1
    assert len(responses.calls) == 2
    assert caught.value.status == 401 and "cloud_environment" in caught.value.hint


@responses.activate
def test_static_token_401_is_not_refreshed(clock, warnings):
    tokens = FakeTokens(refreshable=False)
    client = make_client(clock, tokens, warnings)
    responses.add(responses.GET, ACCOUNTS, status=401, json=graph_error("InvalidAuthenticationToken", "expired", 401))
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert tokens.calls == [False]
    assert len(responses.calls) == 1
    assert "fresh access_token" in caught.value.hint


# --- paging ---------------------------------------------------------------------------------------

@responses.activate
def test_get_all_follows_next_links_and_tolerates_empty_pages(client):
    page = ACCOUNTS + "?$skiptoken=%d"
    responses.add(responses.GET, ACCOUNTS, json={"value": [1, 2], "@odata.nextLink": page % 1})
    responses.add(responses.GET, page % 1, json={"value": [], "@odata.nextLink": page % 2})
    responses.add(responses.GET, page % 2, json={"@odata.nextLink": page % 3})  # no value at all
    responses.add(responses.GET, page % 3, json={"value": [3], "@odata.nextLink": page % 4})
    responses.add(responses.GET, page % 4, json={"value": [4, 5]})
    assert client.get_all("/security/identities/identityAccounts", permission=READ) == [1, 2, 3, 4, 5]
    assert len(responses.calls) == 5


@responses.activate
def test_get_all_many_pages(client):
    for index in range(12):
        url = ACCOUNTS if index == 0 else ACCOUNTS + "?$skiptoken=%d" % index
        body = {"value": [index]}
        if index < 11:
            body["@odata.nextLink"] = ACCOUNTS + "?$skiptoken=%d" % (index + 1)
        responses.add(responses.GET, url, json=body)
    assert client.get_all("/security/identities/identityAccounts") == list(range(12))
    assert len(responses.calls) == 12


@responses.activate
def test_get_all_stops_at_max_items(client):
    responses.add(responses.GET, ACCOUNTS, json={"value": [1, 2], "@odata.nextLink": ACCOUNTS + "?p=2"})
    responses.add(responses.GET, ACCOUNTS + "?p=2", json={"value": [3, 4], "@odata.nextLink": ACCOUNTS + "?p=3"})
    responses.add(responses.GET, ACCOUNTS + "?p=3", json={"value": [5]})
    assert client.get_all("/security/identities/identityAccounts", max_items=3) == [1, 2, 3]
    assert len(responses.calls) == 2


@pytest.mark.parametrize("link", [
    "https://evil.example.test/beta/security/identities/identityAccounts?p=2",
    "http://graph.microsoft.com/beta/security/identities/identityAccounts?p=2",
    "https://graph.microsoft.com:8443/beta/x",
])
@responses.activate
def test_get_all_refuses_foreign_next_links(client, link):
    responses.add(responses.GET, ACCOUNTS, json={"value": [1], "@odata.nextLink": link})
    with pytest.raises(GraphError) as caught:
        client.get_all("/security/identities/identityAccounts")
    assert caught.value.code == "ForeignNextLink"
    assert len(responses.calls) == 1


@responses.activate
def test_get_all_detects_a_paging_loop(client):
    responses.add(responses.GET, ACCOUNTS, json={"value": [1], "@odata.nextLink": ACCOUNTS + "?p=2"})
    responses.add(responses.GET, ACCOUNTS + "?p=2", json={"value": [2], "@odata.nextLink": ACCOUNTS + "?p=2"})
    with pytest.raises(GraphError) as caught:
        client.get_all("/security/identities/identityAccounts")
    assert caught.value.code == "PagingLoop"


@responses.activate
def test_get_all_with_a_custom_endpoint_and_params(clock, tokens, warnings):
    client = make_client(clock, tokens, warnings, endpoint="https://127.0.0.1:8443")
    first = "https://127.0.0.1:8443/beta/security/identities/identityAccounts?$filter=isEnabled%20eq%20true"
    responses.add(responses.GET, first, json={"value": [{"id": "a"}], "@odata.nextLink": first + "&$skiptoken=x"})
    responses.add(responses.GET, first + "&$skiptoken=x", json={"value": [{"id": "b"}]})
    items = client.get_all("/security/identities/identityAccounts", params={"$filter": "isEnabled eq true"})
    assert [item["id"] for item in items] == ["a", "b"]


@responses.activate
def test_get_all_wrapped_single_entity(client):
    responses.add(responses.GET, ACCOUNTS, json={"value": {"id": "only"}})
    assert client.get_all("/security/identities/identityAccounts") == [{"id": "only"}]


# --- shapes -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ({"value": {"accountId": "a", "provider": "ActiveDirectory"}}, {"accountId": "a", "provider": "ActiveDirectory"}),
    ({"accountId": "a", "identityProvider": "activeDirectory"}, {"accountId": "a", "identityProvider": "activeDirectory"}),
    ({"value": [1, 2]}, {"value": [1, 2]}),
    (None, {}),
    ("accepted", {}),
    ([{"id": "x"}], {}),
    (42, {}),
])
def test_unwrap_entity(body, expected):
    assert unwrap_entity(body) == expected


# --- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("inner_key", ["innerError", "innererror"])
@responses.activate
def test_error_body_is_parsed_with_either_inner_error_spelling(client, inner_key):
    responses.add(responses.GET, ACCOUNTS + "/nope", status=404,
                  json=graph_error("ResourceNotFound", "Resource not found for the segment 'nope'.", 404, inner_key))
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts/nope")
    err = caught.value
    assert err.status == 404
    assert err.code == "ResourceNotFound"
    assert err.message == "Resource not found for the segment 'nope'."
    assert err.request_id == "inner-req"
    assert err.date == "2026-11-01T10:00:00"
    assert err.client_request_id == "inner-cri"
    assert err.method == "GET" and err.url == ACCOUNTS + "/nope"


@responses.activate
def test_headers_win_over_inner_error_ids(client):
    responses.add(responses.GET, ACCOUNTS, status=400, json=graph_error("BadRequest", "bad"),
                  headers={"request-id": "hdr-req", "client-request-id": "hdr-cri"})
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert (caught.value.request_id, caught.value.client_request_id) == ("hdr-req", "hdr-cri")


@responses.activate
def test_empty_code_falls_back_to_the_status_text(client):
    responses.add(responses.POST, BASE + "/security/securityActions", status=400,
                  json={"error": {"code": "", "message": "Cannot find a provider for this request"}})
    with pytest.raises(GraphError) as caught:
        client.post("/security/securityActions", body={})
    assert caught.value.code == "BadRequest"
    assert caught.value.message == "Cannot find a provider for this request"


@responses.activate
def test_403_unknown_error_with_empty_message_is_a_missing_permission(client):
    responses.add(responses.GET, ACCOUNTS, status=403, json={"error": {"code": "UnknownError", "message": ""}})
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts", permission=READ)
    err = caught.value
    assert err.code == "Forbidden"
    assert err.message == "HTTP 403 Forbidden"
    assert err.required_permission == READ
    assert err.hint.startswith("missing permission: grant the application permission %s" % READ)
    assert "required permission: %s" % READ in str(err)
    assert err.to_result()["required_permission"] == READ


@responses.activate
def test_403_not_onboarded_is_told_apart(client):
    responses.add(responses.GET, ACCOUNTS, status=403, json={"error": {
        "code": "Forbidden", "message": "Tenant is not onboarded to Microsoft Defender for Identity. After license is "
                                        "purchased, first login to portal and sensor are required."}})
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts", permission=READ)
    assert "not onboarded to Microsoft Defender for Identity" in caught.value.hint
    assert "missing permission" not in caught.value.hint.replace("not a missing permission", "")
    assert caught.value.required_permission == READ


@responses.activate
def test_non_json_error_body(client):
    responses.add(responses.GET, ACCOUNTS, status=502, body="<html><body>Bad gateway from proxy</body></html>",
                  content_type="text/html")
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert caught.value.code == "BadGateway"
    assert "Bad gateway from proxy" in caught.value.message


@responses.activate
def test_oauth_style_error_body(client):
    responses.add(responses.GET, ACCOUNTS, status=400, json={"error": "invalid_request", "error_description": "nope"})
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert (caught.value.code, caught.value.message) == ("invalid_request", "nope")


@responses.activate
def test_tokens_are_redacted_from_errors_and_retry_messages(client, warnings, tokens):
    token = tokens.get_token()
    tokens.calls = []
    responses.add(responses.GET, ACCOUNTS, status=429, headers={"Retry-After": "1"})
    responses.add(responses.GET, ACCOUNTS, status=400, json={"error": {
        "code": "BadRequest", "message": "Header was Authorization: Bearer %s (echo %s)" % (token, JWT)}})
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    rendered = str(caught.value) + json.dumps(caught.value.to_result()) + " ".join(warnings)
    assert token not in rendered
    assert JWT not in rendered
    assert "Bearer <redacted>" in rendered


@responses.activate
def test_tls_failure_on_graph_has_the_ca_path_hint(client):
    responses.add(responses.GET, ACCOUNTS, body=requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain"))
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert len(responses.calls) == 1
    assert "the endpoint's certificate is not trusted; set ca_path to the CA bundle" in caught.value.hint
    assert caught.value.url == ACCOUNTS


@responses.activate
def test_redirects_are_not_followed(client):
    responses.add(responses.GET, ACCOUNTS, status=302, headers={"Location": "https://elsewhere.example.test/"})
    with pytest.raises(GraphError) as caught:
        client.get("/security/identities/identityAccounts")
    assert caught.value.status == 302
    assert len(responses.calls) == 1


def test_retry_after_parsing():
    policy = RetryPolicy(now=lambda: 0.0)
    assert policy.retry_after({"Retry-After": "5"}) == 5.0
    assert policy.retry_after({"retry-after": "2.5"}) == 2.5
    assert policy.retry_after({"Retry-After": "-3"}) == 0.0
    assert policy.retry_after({"Retry-After": "soon"}) is None
    assert policy.retry_after({}) is None
    assert policy.retry_after({"Retry-After": "Thu, 01 Jan 1970 00:01:00 GMT"}) == 60.0


# --- threads: one shared gate, one token ---------------------------------------------------------

def test_overlapping_pauses_are_counted_once_in_the_budget(clock):
    policy = RetryPolicy(budget_seconds=10, sleep=clock.sleep, clock=clock.clock)
    assert policy.hold(5) is True and policy.waited == 5
    clock.now = 1.0
    assert policy.hold(3) is True and policy.waited == 5  # ends at 4, inside the pause until 5: nothing extra
    clock.now = 2.0
    assert policy.hold(5) is True and policy.waited == 7  # extends the pause from 5 to 7
    assert policy.hold(20) is False and policy.waited == 7  # 15 more would exceed the 10 s budget: unchanged
    policy.wait_until_open()
    assert clock.sleeps == [5.0] and clock.now == 7.0


def test_wait_until_open_returns_at_once_when_nobody_was_throttled(clock):
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.clock)
    policy.wait_until_open()
    assert clock.sleeps == []


class _ThreadedHttp:
    """A requests-like session for thread tests: a 429 (Retry-After) for the first request of ``throttled``,
    401 for ``rejected_token``, else 200; records (path, monotonic time) of every request."""

    def __init__(self, throttled=None, retry_after="0.3", rejected_token=None):
        self.throttled, self.retry_after, self.rejected_token = throttled, retry_after, rejected_token
        self.sent = []
        self.lock = threading.Lock()

    def request(self, method, url, data=None, headers=None, **kwargs):
        path = url.split("/beta")[1]
        with self.lock:
            self.sent.append((path, time.monotonic()))
            first = [entry for entry in self.sent if entry[0] == path] == [self.sent[-1]]
        response = requests.Response()
        response.headers["request-id"] = "req"
        response._content = b"{}"
        response.status_code = 200
        if path == self.throttled and first:
            response.status_code, response.headers["Retry-After"] = 429, self.retry_after
        elif headers["Authorization"] == "Bearer %s" % self.rejected_token:
            time.sleep(0.1)  # every thread sends with the old token before the first 401 comes back
            response.status_code = 401
        return response


def test_a_429_pauses_the_other_threads_until_the_same_instant():
    http = _ThreadedHttp(throttled="/a")
    client = GraphClient(ROOT, "beta", FakeTokens(), http, retry=RetryPolicy(budget_seconds=5))
    client.get("/a")  # throttled once: the gate closes for 0.3 s, then the retry succeeds
    throttled_at = http.sent[0][1]
    worker = threading.Thread(target=client.get, args=("/b",))
    client.retry.hold(0.3)  # as if another request was throttled right now
    closed_at = time.monotonic()
    worker.start()
    worker.join(5)
    b_sent = [sent for path, sent in http.sent if path == "/b"][0]
    assert b_sent >= closed_at + 0.29  # /b waited for the gate although it was never throttled itself
    assert [path for path, dummy in http.sent] == ["/a", "/a", "/b"]
    assert http.sent[1][1] >= throttled_at + 0.29
    assert 0.55 < client.retry.waited < 0.7  # two pauses of 0.3 s, each counted once


class _SlowMsal:
    """Like MSAL: the first call acquires a token (slowly), later calls return it from its cache."""

    auth_method = "client_secret"
    refreshable = True

    def __init__(self):
        self.acquisitions = 0
        self.token = None

    def get_token(self, force_refresh=False):
        if self.token is None or force_refresh:
            time.sleep(0.05)
            self.acquisitions += 1
            self.token = "%s-token-%d" % (JWT, self.acquisitions)
        return self.token


def _together(count, function):
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        function()

    threads = [threading.Thread(target=run) for dummy in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


def test_threads_starting_together_share_one_token_acquisition():
    tokens = _SlowMsal()
    client = GraphClient(ROOT, "beta", tokens, _ThreadedHttp())
    _together(8, lambda: client.get("/a"))
    assert tokens.acquisitions == 1


def test_threads_rejected_with_the_same_token_refresh_it_once():
    tokens = _SlowMsal()
    http = _ThreadedHttp(rejected_token="%s-token-1" % JWT)
    client = GraphClient(ROOT, "beta", tokens, http)
    client.ensure_token()
    _together(6, lambda: client.get("/a"))
    assert tokens.acquisitions == 2  # the first token, and one refresh for all six 401s
    assert len(http.sent) == 12  # each thread: rejected once, then accepted with the new token


def test_odata_string_doubles_single_quotes():
    assert odata_string("dana.o'brien@contoso.com") == "'dana.o''brien@contoso.com'"
    assert odata_string("x' or 1 eq 1 or 'a") == "'x'' or 1 eq 1 or ''a'"


@pytest.mark.parametrize("value", [
    "a/b", "a?b", "a#b", "a\\b", "a b", "a\tb", "a\x00b", "a\x7fb",  # path or query changers, control characters
    "a%2Fb", "a%2fb", "a%3Fb", "a%23b", "a%5Cb", "a%20b", "a%00b",  # the same, percent-encoded
    ".", "..", "%2E", "%2e%2E", "...",  # dot segments, also encoded
    "", "   ", None, 42, ["id"],  # not a usable string
])
def test_validate_path_id_refuses_what_could_change_the_path_and_names_the_option(value):
    with pytest.raises(InputError) as caught:
        validate_path_id(value, "incident_id", "an incident id", fix="use the id incident_info returns")
    assert caught.value.option == "incident_id"
    if isinstance(value, str) and value.strip():
        assert "use the id incident_info returns" in str(caught.value)


@pytest.mark.parametrize("value, expected", [
    ("2972395", "2972395"), ("  da637551227677560813_-961444813 ", "da637551227677560813_-961444813"),
    ("0f6b1c3e-5b8a-4c49-9e1e-1e2f3a4b5c6d", "0f6b1c3e-5b8a-4c49-9e1e-1e2f3a4b5c6d"), ("a.b", "a.b"), ("%41", "%41"),
])
def test_validate_path_id_returns_the_stripped_id(value, expected):
    assert validate_path_id(value, "id", "an id") == expected


# --- evolvable enums --------------------------------------------------------------------------------------

@responses.activate
def test_incident_and_alert_requests_ask_for_evolvable_enum_members_and_others_do_not(client):
    for method, path in (("GET", "/security/incidents"), ("GET", "/security/incidents/7"), ("PATCH", "/security/incidents/7"),
                         ("POST", "/security/incidents/7/comments"), ("GET", "/security/alerts_v2"),
                         ("GET", "/security/alerts_v2/da1"), ("GET", "/security/identities/identityAccounts"),
                         ("GET", "/security/incidentsX"), ("GET", "/users")):
        responses.add(method, BASE + path, json={"value": []})
        client._request(method, client.url_for(path, {"$filter": "status eq 'awaitingAction'"} if method == "GET" else None),
                        body={} if method != "GET" else None)
    prefer = [(call.request.method, call.request.url.split("?")[0][len(BASE):], call.request.headers.get("Prefer"))
              for call in responses.calls]
    wanted = "include-unknown-enum-members"
    assert prefer == [("GET", "/security/incidents", wanted), ("GET", "/security/incidents/7", wanted),
                      ("PATCH", "/security/incidents/7", wanted), ("POST", "/security/incidents/7/comments", wanted),
                      ("GET", "/security/alerts_v2", wanted), ("GET", "/security/alerts_v2/da1", wanted),
                      ("GET", "/security/identities/identityAccounts", None), ("GET", "/security/incidentsX", None),
                      ("GET", "/users", None)]


# --- the default port, server ids, answers after sending ----------------------------------------------------

@pytest.mark.parametrize("one, other", [
    ("https://graph.microsoft.com", "https://graph.microsoft.com:443/v1.0/x?$skiptoken=1"),
    ("https://GRAPH.microsoft.com:443", "https://graph.microsoft.com/v1.0/x"),
])
def test_the_default_port_is_the_same_origin(one, other):
    assert origin_of(one) == origin_of(other) == ("https", "graph.microsoft.com", 443)


def test_other_ports_and_schemes_are_other_origins():
    assert origin_of("https://graph.microsoft.com:8443") != origin_of("https://graph.microsoft.com")
    assert origin_of("http://graph.microsoft.com") != origin_of("https://graph.microsoft.com")
    assert origin_of("https://graph.microsoft.com:99999") is None


@responses.activate
def test_an_endpoint_with_port_443_follows_graphs_own_next_links(clock, tokens, warnings):
    client = make_client(clock, tokens, warnings, endpoint=ROOT + ":443")
    responses.add(responses.GET, ROOT + ":443/beta/security/identities/identityAccounts",
                  json={"value": [1], "@odata.nextLink": ACCOUNTS + "?$skiptoken=2"})
    responses.add(responses.GET, ACCOUNTS + "?$skiptoken=2", json={"value": [2]})
    assert client.get_all("/security/identities/identityAccounts") == [1, 2]


@pytest.mark.parametrize("value", ["..", ".", "%2E%2E", "a/b", "a%2Fb", "x?y", "x#y", "a b", "", None, 7])
def test_a_server_id_that_could_change_the_path_is_a_graph_error_not_bad_input(value):
    with pytest.raises(GraphError) as caught:
        validate_server_id(value, "a security action id")
    assert caught.value.code == "UnsafeServerId" and "nothing more was sent" in caught.value.message


def test_a_plain_server_id_passes():
    assert validate_server_id("8b7c9d1e-aaaa", "a security action id") == "8b7c9d1e-aaaa"


@responses.activate
def test_a_plaintext_answer_after_the_post_was_sent_is_an_unknown_outcome(client):
    responses.add(responses.POST, BASE + ACTION, body=ssl_error_raised_in("getresponse"))
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        client.post(ACTION, body={"action": "disable"}, client_request_id="cri-plain")
    assert caught.value.code == "TlsErrorAfterSending" and caught.value.to_result()["outcome"] == "unknown"
    assert len(responses.calls) == 1


@responses.activate
def test_a_plaintext_server_met_in_the_handshake_is_a_plain_tls_failure(client):
    responses.add(responses.POST, BASE + ACTION, body=ssl_error_raised_in("do_handshake"))
    with pytest.raises(GraphError) as caught:
        client.post(ACTION, body={"action": "disable"})
    assert not isinstance(caught.value, GraphOutcomeUnknownError) and "TLS connection failed" in caught.value.message


# --- read_one: the one home of "404 means missing" ---------------------------------------------------------------

class _AnsweringGet:
    def __init__(self, answer):
        self.answer = answer

    def get(self, path, params=None, permission=None):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_read_one_answers_a_404_with_none_and_returns_anything_else():
    missing = GraphError("not found", status=404, code="ResourceNotFound", request_id="req-404")
    assert read_one(_AnsweringGet(missing), "/x") is None
    found = GraphResponse(200, {"id": "x"}, {}, request_id="r")
    assert read_one(_AnsweringGet(found), "/x") is found


def test_read_one_raises_what_missing_makes_of_the_404_keeping_graphs_ids():
    missing = GraphError("not found", status=404, code="ResourceNotFound", request_id="req-404")
    with pytest.raises(InputError) as caught:
        read_one(_AnsweringGet(missing), "/x", missing=lambda error: InputError("id", f"no such thing ({error.request_id})"))
    assert "req-404" in caught.value.message and caught.value.__cause__ is missing


@pytest.mark.parametrize("status", [400, 403, 500])
def test_read_one_raises_every_other_failure_as_it_is(status):
    refused = GraphError("no", status=status)
    with pytest.raises(GraphError) as caught:
        read_one(_AnsweringGet(refused), "/x", missing=lambda error: InputError("id", "missing"))
    assert caught.value is refused
