# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one retry engine: the transient statuses, the wait step, and the token service's retrying HTTP client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import requests

from ansible_collections.msgraph.security.plugins.module_utils import _retries
from ansible_collections.msgraph.security.tests.unit.fakes import FakeClock


class _Answer:
    def __init__(self, status_code, headers=None):
        self.status_code = status_code
        self.headers = headers or {}


class _Script:
    """A session stand-in answering post/get from a list (an exception in the list is raised)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def _next(self, url, **kwargs):
        self.calls.append(url)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    post = get = _next


def _policy(clock, max_retries=5, budget_seconds=120):
    return _retries.RetryPolicy(max_retries=max_retries, budget_seconds=budget_seconds, base_delay=0.5, max_delay=8.0,
                                sleep=clock.sleep, clock=clock.clock, now=lambda: 1000.0, jitter=lambda: 0.999999)


def _retrying(session, max_retries=5, budget_seconds=120, messages=None):
    clock = FakeClock(now=0.0)
    client = _retries.RetryingHttpClient(session, policy=_policy(clock, max_retries, budget_seconds),
                                         on_retry=None if messages is None else messages.append)
    return client, clock.sleeps


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_token_requests_are_retried_on_transient_statuses_and_each_retry_warns(status):
    session = _Script(_Answer(status), _Answer(200))
    messages = []
    client, sleeps = _retrying(session, messages=messages)
    assert client.post("https://login/token", data={"a": 1}).status_code == 200
    assert len(session.calls) == 2 and [round(s, 3) for s in sleeps] == [0.5]
    assert messages == ["token service POST https://login/token: HTTP %d; retrying in 0.5s (backoff, retry 1 of 5)" % status]


def test_token_and_graph_retries_share_one_budget():
    """The token service used 8 of 10 s: a Graph wait of 5 s no longer fits (one budget per task, not one each)."""
    clock = FakeClock(now=0.0)
    policy = _policy(clock, budget_seconds=10)
    client = _retries.RetryingHttpClient(_Script(_Answer(429, {"Retry-After": "8"}), _Answer(200)), policy=policy)
    assert client.post("https://login/token").status_code == 200
    assert policy.waited == 8.0 and policy.remaining == 2.0
    assert policy.hold(5.0) is False and clock.sleeps == [8.0]


def test_token_retry_honours_retry_after_in_seconds_and_as_a_date():
    session = _Script(_Answer(429, {"Retry-After": "3"}), _Answer(503, {"Retry-After": "Thu, 01 Jan 1970 00:16:42 GMT"}),
                      _Answer(200))
    client, sleeps = _retrying(session)
    assert client.get("https://login/discovery").status_code == 200
    assert [round(s, 3) for s in sleeps] == [3.0, 2.0]


def test_token_retry_stops_at_max_retries_and_at_the_budget():
    session = _Script(*([_Answer(503)] * 5))
    client, sleeps = _retrying(session, max_retries=2)
    assert client.post("https://login/token").status_code == 503
    assert len(session.calls) == 3 and [round(s, 3) for s in sleeps] == [0.5, 1.0]
    session = _Script(_Answer(429, {"Retry-After": "30"}), _Answer(200))
    client, sleeps = _retrying(session, budget_seconds=10)
    assert client.post("https://login/token").status_code == 429 and sleeps == []


def test_the_one_wait_step_waits_out_retry_after_and_announces_it():
    clock = FakeClock(now=0.0)
    policy = _policy(clock, max_retries=1)
    announced = []
    assert policy.wait_before_retry(0, {"Retry-After": "4"}, lambda delay, source: announced.append((delay, source))) is None
    assert announced == [(4.0, "Retry-After")] and clock.sleeps == [4.0]
    assert policy.wait_before_retry(1, None, announced.append) == _retries.RetryStop(budget=False)
    assert len(announced) == 1 and clock.sleeps == [4.0]


def test_the_one_wait_step_stops_at_the_budget_naming_the_wait_it_needed():
    clock = FakeClock(now=0.0)
    policy = _policy(clock, budget_seconds=3)
    announced = []
    assert policy.wait_before_retry(0, {"Retry-After": "5"}, announced.append) == _retries.RetryStop(budget=True, delay=5.0)
    assert announced == [] and clock.sleeps == [] and policy.waited == 0.0


def test_one_set_of_transient_statuses():
    assert _retries.TRANSIENT_STATUSES == {429, 500, 502, 503, 504}


def test_token_retry_leaves_other_statuses_and_tls_failures_alone():
    session = _Script(_Answer(400), _Answer(401))
    client, sleeps = _retrying(session)
    assert client.post("https://login/token").status_code == 400 and sleeps == []
    tls = requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED")
    client, sleeps = _retrying(_Script(tls))
    with pytest.raises(requests.exceptions.SSLError):
        client.get("https://login/discovery")
    assert sleeps == []


def test_token_retry_retries_connection_errors_and_delegates_the_rest():
    session = _Script(requests.exceptions.ConnectionError("reset"), requests.exceptions.ReadTimeout("slow"), _Answer(200))
    session.forced_verify = "/ca.pem"
    client, sleeps = _retrying(session)
    assert client.post("https://login/token").status_code == 200 and [round(s, 3) for s in sleeps] == [0.5, 1.0]
    assert client.forced_verify == "/ca.pem"


# --- stored discovery answers ---------------------------------------------------------------------

class _Store:
    def __init__(self, answer=None):
        self.answer, self.stored = answer, []

    def stored_answer(self, url, params):
        return self.answer

    def store_answer(self, url, params, response):
        self.stored.append((url, params, response.status_code))


def test_a_stored_answer_is_returned_without_a_request():
    session = _Script()
    client = _retries.RetryingHttpClient(session, stored_answers=_Store((200, '{"token_endpoint": "x"}', {"A": "b"})))
    response = client.get("https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration")
    assert session.calls == [] and response.status_code == 200 and response.json() == {"token_endpoint": "x"}
    assert response.headers == {"A": "b"} and response.content == b'{"token_endpoint": "x"}'


def test_a_2xx_get_is_stored_and_a_post_never():
    session = _Script(_Answer(200), _Answer(200))
    store = _Store()
    client = _retries.RetryingHttpClient(session, stored_answers=store)
    client.get("https://login.microsoftonline.com/common/discovery/instance", params={"api-version": "1.1"})
    client.post("https://login.microsoftonline.com/t/oauth2/v2.0/token", data={"a": "b"})
    assert len(session.calls) == 2
    assert store.stored == [("https://login.microsoftonline.com/common/discovery/instance", {"api-version": "1.1"}, 200)]
