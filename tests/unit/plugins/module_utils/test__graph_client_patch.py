# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GraphClient.patch is a write: retried only when rejected (429) or never sent, never replayed after a 5xx or timeout."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import requests
import responses

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphOutcomeUnknownError
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient, RetryPolicy
from ansible_collections.msgraph.security.plugins.module_utils._http import VerifyingSession
from ansible_collections.msgraph.security.tests.unit.fakes import FakeClock, FakeTokens

ROOT = "https://graph.microsoft.com"
BASE = ROOT + "/v1.0"
INCIDENT = "/security/incidents/2972395"


def make_client(clock, tokens, warnings):
    policy = RetryPolicy(max_retries=3, budget_seconds=60, base_delay=1.0, max_delay=8.0, sleep=clock.sleep, clock=clock.clock,
                         now=clock.clock, jitter=lambda: 1.0)
    return GraphClient(ROOT, "v1.0", tokens, VerifyingSession(), timeout=9, retry=policy, on_retry=warnings.append)


@pytest.fixture
def parts():
    return FakeClock(now=1767225600.0), FakeTokens(), []


@pytest.mark.parametrize("failure", [dict(status=504), dict(body=requests.exceptions.ReadTimeout("read timed out"))])
@responses.activate
def test_patch_is_never_replayed(parts, failure):
    clock, tokens, warnings = parts
    responses.add(responses.PATCH, BASE + INCIDENT, **failure)
    responses.add(responses.PATCH, BASE + INCIDENT, json={"id": "2972395"})
    with pytest.raises(GraphOutcomeUnknownError) as caught:
        make_client(clock, tokens, warnings).patch(INCIDENT, body={"status": "resolved"}, client_request_id="cri-patch")
    assert len(responses.calls) == 1 and clock.sleeps == []
    assert caught.value.client_request_id == "cri-patch"


@responses.activate
def test_patch_429_is_retried_with_the_same_body_and_id(parts):
    clock, tokens, warnings = parts
    responses.add(responses.PATCH, BASE + INCIDENT, status=429, headers={"Retry-After": "2"})
    responses.add(responses.PATCH, BASE + INCIDENT, json={"id": "2972395", "status": "resolved"})
    response = make_client(clock, tokens, warnings).patch(INCIDENT, body={"status": "resolved"}, client_request_id="cri-4")
    assert response.body["status"] == "resolved" and clock.sleeps == [2.0]
    assert [json.loads(call.request.body) for call in responses.calls] == [{"status": "resolved"}] * 2
    assert all(call.request.headers["client-request-id"] == "cri-4" for call in responses.calls)
