# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the shared exception types and of token/secret redaction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _errors
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphAuthError,
    GraphError,
    GraphOutcomeUnknownError,
    GraphUnsupportedCloudError,
    InputError,
    redact,
    register_secret,
)

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2lnbmF0dXJlLXBhcnQ"


def test_to_result_uses_snake_case_keys_and_drops_none():
    err = GraphError("Insufficient privileges", status=403, code="Authorization_RequestDenied", request_id="r-1",
                     client_request_id="c-1", date="2026-01-01T00:00:00", method="GET",
                     url="https://graph.microsoft.com/beta/x", required_permission="SecurityIdentitiesAccount.Read.All",
                     hint="grant it")
    assert err.to_result() == {
        "status": 403,
        "error_code": "Authorization_RequestDenied",
        "error_message": "Insufficient privileges",
        "request_id": "r-1",
        "client_request_id": "c-1",
        "date": "2026-01-01T00:00:00",
        "method": "GET",
        "url": "https://graph.microsoft.com/beta/x",
        "required_permission": "SecurityIdentitiesAccount.Read.All",
        "hint": "grant it",
    }
    assert GraphError("boom").to_result() == {"error_message": "boom"}


def test_str_is_one_line_naming_code_permission_ids_and_hint():
    err = GraphError("Insufficient\nprivileges", status=403, code="Forbidden", request_id="r-1", client_request_id="c-1",
                     method="GET", url="https://graph.microsoft.com/beta/x", required_permission="Perm.Read.All",
                     hint="grant Perm.Read.All")
    text = str(err)
    assert "\n" not in text
    assert text.startswith("Forbidden: Insufficient privileges")
    for part in ("HTTP 403", "GET https://graph.microsoft.com/beta/x", "required permission: Perm.Read.All",
                 "request-id: r-1", "client-request-id: c-1", "Hint: grant Perm.Read.All"):
        assert part in text


def test_str_without_details_is_the_message():
    assert str(GraphError("plain message")) == "plain message"


def test_empty_message_gets_a_default():
    assert str(GraphError("")) == "Microsoft Graph request failed"


@pytest.mark.parametrize("cls", [GraphAuthError, GraphOutcomeUnknownError, GraphUnsupportedCloudError])
def test_subclasses_are_graph_errors(cls):
    err = cls("x", code="C")
    assert isinstance(err, GraphError)
    assert err.to_result()["error_code"] == "C"


def test_bearer_and_jwt_tokens_are_redacted_everywhere():
    message = "request failed with header Authorization: Bearer %s and body token %s" % ("opaque-token-value", JWT)
    err = GraphError(message, code="X", hint="token " + JWT, url="https://graph.microsoft.com/beta/x?t=" + JWT)
    rendered = str(err) + repr(err.to_result())
    assert "opaque-token-value" not in rendered
    assert JWT not in rendered
    assert "eyJ0eXAi" not in rendered
    assert "Bearer <redacted>" in rendered


def test_registered_secrets_are_redacted():
    register_secret("s3cr3t-value-123")
    err = GraphError("the secret s3cr3t-value-123 was echoed", hint="do not use s3cr3t-value-123")
    assert "s3cr3t-value-123" not in str(err)
    assert "s3cr3t-value-123" not in repr(err.to_result())
    assert "<redacted>" in str(err)


def test_each_line_of_a_multi_line_secret_is_redacted_even_when_escaped():
    body = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj", "short"]
    pem = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % "\n".join(body)
    register_secret(pem)
    text = redact("credential=%r" % {"private_key": pem})  # repr shows the newlines as \\n
    assert body[0] not in text and body[1] not in text
    assert "-----BEGIN PRIVATE KEY-----" in text and "short" in text


def test_short_values_are_not_registered():
    register_secret("ab")
    assert redact("a b ab abc") == "a b ab abc"


def test_register_secret_ignores_non_strings():
    register_secret(None)
    register_secret(12345)
    register_secret(b"\xff\xfe-binary")
    assert redact("12345") == "12345"


@pytest.mark.parametrize("text, leaked", [
    ("client_secret=abcdef123&grant_type=client_credentials", "abcdef123"),
    ('{"access_token": "opaque-abc-123", "token_type": "Bearer"}', "opaque-abc-123"),
    ("client_assertion=a.b.c&x=1", "a.b.c"),
])
def test_form_and_json_secrets_are_redacted(text, leaked):
    assert leaked not in redact(text)


def test_redact_keeps_ordinary_text():
    text = "GET https://graph.microsoft.com/beta/security/identities/identityAccounts returned 404"
    assert redact(text) == text
    assert redact(None) is None


def test_input_error_names_the_option_and_the_fix():
    err = InputError("graph_endpoint", "must be an https:// URL")
    assert isinstance(err, ValueError)
    assert err.option == "graph_endpoint"
    assert err.options == ["graph_endpoint"]
    assert str(err) == "graph_endpoint: must be an https:// URL"


def test_input_error_with_several_options():
    err = InputError(["client_secret", "client_certificate_path"], "set auth_method")
    assert err.options == ["client_secret", "client_certificate_path"]
    assert str(err).startswith("client_secret, client_certificate_path: ")


def test_input_error_redacts_tokens():
    err = InputError("access_token", "bad token " + JWT)
    assert JWT not in str(err)


def test_a_registered_secret_is_redacted_from_later_messages_and_short_values_are_ignored():
    assert "another-secret-xyz" not in _errors._SECRETS  # the autouse fixture empties the registry per test
    register_secret("another-secret-xyz")
    register_secret("ab")  # too short to be told apart from ordinary words: never registered
    assert _errors._SECRETS == {"another-secret-xyz"}
    redacted = redact("token another-secret-xyz leaked")
    assert "another-secret-xyz" not in redacted and redacted.startswith("token ") and redacted.endswith(" leaked")


def test_only_an_unknown_outcome_says_outcome_unknown():
    sent = GraphError("Service unavailable", status=503, code="ServiceUnavailable", request_id="r-1", method="POST")
    assert "outcome" not in sent.to_result()
    unknown = GraphOutcomeUnknownError.after_reconciling(sent, "sent, outcome unknown", "c-1", "the Entra ID audit log")
    result = unknown.to_result()
    assert result["outcome"] == "unknown"
    assert (result["status"], result["error_code"], result["request_id"], result["client_request_id"]) == (503, "ServiceUnavailable", "r-1", "c-1")
    assert result["hint"] == "look up client-request-id c-1 in the Entra ID audit log before running the task again"


@pytest.mark.parametrize("text, expected", [
    ("plain", '"plain"'),
    ('a "quote" and a \\ backslash', '"a \\"quote\\" and a \\\\ backslash"'),
    ("two\nlines\r\tand\x00\x1b\x7f\x85", '"two\\nlines\\r\\tand\\u0000\\u001b\\u007f\\u0085"'),
    ("sep\u2028para\u2029bidi\u202ezero\u200bbom\ufeff", '"sep\\u2028para\\u2029bidi\\u202ezero\\u200bbom\\ufeff"'),
    (None, '""'),
])
def test_quoted_text_is_one_printable_line(text, expected):
    assert _errors.quoted(text) == expected


def test_quoted_text_is_cut_and_marked():
    assert _errors.quoted("x" * 200, limit=10) == '"xxxxxxxxxx"...'
    assert _errors.has_unsafe_characters("a\u202eb") and not _errors.has_unsafe_characters("alexw@contoso.com")
