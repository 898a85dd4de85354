# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throttling, transient errors, token refresh and paging against the emulator's fault injection."""

from __future__ import annotations

import json

import pytest

from connection_helpers import read_playbook, some_identity, token_requests

# A lookup by user principal name first asks for the derived type microsoft.graph.security.user (issue 11): the cast
# route is where its faults must be injected.
UPN_ROUTE = "list_identity_accounts_cast"
LIST_ALL = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: read
      msgraph.security.identity_account_info:
        filter: "domain eq 'contoso.com'"
      register: found
"""


# One Retry-After form on the smoke legs: parsing it is the collection's code, not ansible-core's.
@pytest.mark.parametrize("style", ["seconds", pytest.param("http-date", marks=pytest.mark.smoke)])
def test_429_is_retried_after_retry_after(ansible, emulator, style):
    identity = some_identity(emulator)
    # The emulator writes the date when it answers. An HTTP date has whole seconds, and Retry-After is measured from the
    # answer's Date header: +3 s means at least 2 s.
    retry_after = {"retry_after": "2"} if style == "seconds" else {"retry_after": 3, "retry_after_format": "date"}
    emulator.admin.add_fault(route=UPN_ROUTE, kind="status", status=429, times=1, **retry_after)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]})
    assert result.rc == 0, result.output
    attempts = emulator.admin.requests(route=UPN_ROUTE)
    assert [entry["status"] for entry in attempts] == [429, 200]
    waited = attempts[1]["time"] - attempts[0]["time"]
    assert waited >= 1.9, f"retried {waited:.2f} s after the 429, before its Retry-After"
    assert any("429" in warning for warning in result.task("read").get("warnings", []))


@pytest.mark.parametrize("status", [503, 504])
def test_transient_5xx_on_get_is_retried(ansible, emulator, status):
    identity = some_identity(emulator)
    emulator.admin.add_fault(route=UPN_ROUTE, kind="status", status=status, times=2)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]})
    assert result.rc == 0, result.output
    assert [e["status"] for e in emulator.admin.requests(route=UPN_ROUTE)] == [status, status, 200]


def test_persistent_5xx_exhausts_the_budget_with_a_clear_message(ansible, emulator):
    emulator.admin.add_fault(route=UPN_ROUTE, kind="status", status=503)
    result = ansible.play(read_playbook(max_retries=2), extra_vars={"upn": "x@contoso.com"})
    assert result.rc != 0
    failure = result.task("read")
    attempts = emulator.admin.requests(route=UPN_ROUTE)
    assert len(attempts) == 3
    assert attempts[-1]["request_id"] in failure["msg"]
    assert "max_retries" in failure["msg"] or "retry" in failure["msg"].lower()


@pytest.mark.smoke
def test_expired_token_is_reacquired_once(ansible, emulator):
    identity = some_identity(emulator)
    emulator.admin.add_fault(route=UPN_ROUTE, kind="expire_token", times=1)
    result = ansible.play(read_playbook(), extra_vars={"upn": identity["userPrincipalName"]})
    assert result.rc == 0, result.output
    assert len(token_requests(emulator)) == 2
    assert [e["status"] for e in emulator.admin.requests(route=UPN_ROUTE)] == [401, 200]


def test_paging_follows_every_next_link(ansible, emulator):
    emulator.admin.configure(page_size=3)
    expected = {i["id"] for i in emulator.admin.state()["identities"] if i.get("domain") == "contoso.com"}
    assert len(expected) > 6, "the seed needs several pages of contoso.com identities"
    result = ansible.play(LIST_ALL)
    assert result.rc == 0, result.output
    assert {item["id"] for item in result.task("read")["identity_accounts"]} == expected
    pages = emulator.admin.requests(route="list_identity_accounts")
    assert len(pages) == -(-len(expected) // 3)


@pytest.mark.smoke
def test_a_foreign_next_link_is_not_followed_and_gets_no_token(ansible, emulator):
    """A page pointing @odata.nextLink at another origin (here the emulator under the name localhost, which would log
    the request and its bearer token) fails the task instead of sending the token there."""
    foreign = emulator.info["graph_endpoint"].replace("127.0.0.1", "localhost") + "/beta/security/identities/identityAccounts"
    body = json.dumps({"value": [], "@odata.nextLink": foreign + "?$skiptoken=stolen"})
    emulator.admin.add_fault(route="list_identity_accounts", kind="malformed", status=200, body=body,
                             content_type="application/json", times=1)
    result = ansible.play(LIST_ALL)
    assert result.rc != 0
    failed = result.task("read")
    assert failed["error"]["error_code"] == "ForeignNextLink" and "localhost" in failed["msg"]
    pages = emulator.admin.requests(route="list_identity_accounts")
    assert len(pages) == 1 and all("skiptoken=stolen" not in str(page.get("query")) for page in pages)
