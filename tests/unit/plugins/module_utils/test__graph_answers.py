# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading Graph's answers: the body, and an error answer as a GraphError (through the client: test__graph_client)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._graph_answers import error_from_response, parse_body


class _Raw:
    """What the answer reader reads of a requests response."""

    def __init__(self, status_code, content=b"", headers=None, reason=None):
        self.status_code, self.content, self.headers, self.reason = status_code, content, headers or {}, reason


@pytest.mark.parametrize("content, expected", [
    (b"", (None, True)), (b"  \n", (None, True)), (None, (None, True)),
    (b'{"a": 1}', ({"a": 1}, True)), ("\ufeff{\"a\": 1}".encode("utf-8"), ({"a": 1}, True)),
    (b'{"a": ', (None, False)), (b"<html>proxy</html>", (None, False)), (b"\xff\xfe", (None, False)),
])
def test_a_body_is_json_empty_or_unreadable(content, expected):
    assert parse_body(_Raw(200, content)) == expected


def test_a_403_names_the_permission_the_call_needs():
    body = json.dumps({"error": {"code": "UnknownError", "message": ""}}).encode()
    error = error_from_response(_Raw(403, body, {"request-id": "r-1"}), "GET", "https://g/x", permission="A.Read.All",
                                client_request_id="c-1")
    assert (error.status, error.code, error.message) == (403, "Forbidden", "HTTP 403 Forbidden")
    assert error.required_permission == "A.Read.All" and "A.Read.All" in error.hint
    assert (error.request_id, error.client_request_id) == ("r-1", "c-1")


def test_a_404_hint_names_the_cloud_and_api_version():
    error = error_from_response(_Raw(404, b'{"error": {"code": "NotFound", "message": "gone"}}'), "GET", "https://g/x")
    assert error.code == "NotFound" and error.message == "gone" and "api_version" in error.hint
    assert error.required_permission is None
