# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 5, shared by all (docs/architecture.md): standard library only, no Ansible imports.

"""Exception types shared by every layer, and the redaction of tokens and secrets from messages."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from typing import Any, overload

REDACTED = "<redacted>"

# "Authorization: Bearer eyJ..." and "Bearer <opaque>" wherever they appear.
_BEARER_RE = re.compile(r"(?i)(bearer)\s+\S+")
# JWT-looking strings: header.payload[.signature], the header starting with '{"' base64url encoded.
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?")
# Form-encoded secrets an HTTP library may echo (client_secret=..., client_assertion=..., access_token=...).
_FORM_SECRET_RE = re.compile(r"(?i)\b(client_secret|client_assertion|access_token|refresh_token|password)=([^&\s]+)")
# The same inside JSON: "access_token": "..."
_JSON_SECRET_RE = re.compile(r'(?i)("(?:client_secret|client_assertion|access_token|refresh_token|password)"\s*:\s*")([^"]*)(")')

# Literal values that must never appear in a message (client secret, access token, certificate password, ...).
# Filled by the credential layer; a module run is one process, so the registry lives as long as the task.
_SECRETS: set[str] = set()
_MIN_SECRET_LENGTH = 4
# Each line of a multi-line secret (a PEM private key) this long is a secret too: a message may show it escaped
# (repr turns the newlines into "\\n") or cut short, and the whole value would then not match.
_MIN_LINE_LENGTH = 16


def register_secret(value: Any) -> None:
    """Remember a literal secret so that :func:`redact` removes it from every message."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return
    if isinstance(value, str) and len(value.strip()) >= _MIN_SECRET_LENGTH:
        _SECRETS.add(value)
        stripped = value.strip()
        if stripped != value:
            _SECRETS.add(stripped)
        for line in stripped.splitlines() if "\n" in stripped else []:
            line = line.strip()
            if len(line) >= _MIN_LINE_LENGTH and not line.startswith("-----"):
                _SECRETS.add(line)


@overload
def redact(text: None) -> None:
    ...


@overload
def redact(text: object) -> str:
    ...


def redact(text: Any) -> str | None:
    """Return ``text`` with bearer tokens, JWT-looking strings and registered secrets replaced."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    # Longest first so that a secret containing another registered secret is removed whole.
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _BEARER_RE.sub(lambda m: m.group(1) + " " + REDACTED, text)
    text = _JWT_RE.sub(REDACTED, text)
    text = _FORM_SECRET_RE.sub(lambda m: m.group(1) + "=" + REDACTED, text)
    text = _JSON_SECRET_RE.sub(lambda m: m.group(1) + REDACTED + m.group(3), text)
    return text


@overload
def one_line(text: None, limit: int | None = 300) -> None:
    ...


@overload
def one_line(text: object, limit: int | None = 300) -> str:
    ...


def one_line(text: Any, limit: int | None = 300) -> str | None:
    """``text`` (or an exception's message) on one line, cut after ``limit`` characters (None: never); None stays None."""
    if text is None:
        return None
    text = " ".join(str(text).split())
    return text if limit is None or len(text) <= limit else text[:limit] + "..."


# What could start a new line or change how a line reads in an audit comment or a log: C0 and C1 controls, zero-width
# and bidirectional format characters, line and paragraph separators, the byte order mark.
_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def has_unsafe_characters(text: Any) -> bool:
    """Whether ``text`` is a string holding a character :func:`printable` would escape."""
    return isinstance(text, str) and _UNSAFE_RE.search(text) is not None


def printable(text: Any) -> str:
    """``text`` with every unsafe character escaped (``\\n``, ``\\u001b``): it can no longer break or disguise a line."""
    return _UNSAFE_RE.sub(lambda found: _ESCAPES.get(found.group(), f"\\u{ord(found.group()):04x}"), str(text))


def quoted(text: Any, limit: int = 120) -> str:
    """Untrusted text (from evidence or a directory attribute) for an audit line: backslashes, quotes and unsafe
    characters escaped, in double quotes, cut after ``limit`` characters (marked ``...``)."""
    text = "" if text is None else str(text)
    cut = text[:limit]
    escaped = printable(cut.replace("\\", "\\\\").replace('"', '\\"'))
    return f'"{escaped}"' + ("..." if len(text) > limit else "")


class GraphError(Exception):
    """A Microsoft Graph (or token endpoint) request failed.

    ``status``: HTTP status or None; ``code``: Graph ``error.code`` (or the AADSTS code for auth errors);
    ``request_id`` / ``client_request_id`` / ``date``: from the response headers or ``error.innerError``;
    ``method`` / ``url``: the request; ``required_permission``: the application permission the call
    needs (set on 403); ``hint``: one sentence telling the operator what to do.
    """

    def __init__(self, message: str | None, status: int | None = None, code: str | None = None, request_id: str | None = None,
                 client_request_id: str | None = None, date: str | None = None, method: str | None = None, url: str | None = None,
                 required_permission: str | None = None, hint: str | None = None) -> None:
        message = one_line(redact(message), limit=None) or "Microsoft Graph request failed"
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = one_line(redact(code), limit=None) if code else None
        self.request_id = request_id or None
        self.client_request_id = client_request_id or None
        self.date = date or None
        self.method = method or None
        self.url = redact(url) if url else None
        self.required_permission = required_permission or None
        self.hint = one_line(redact(hint), limit=None) if hint else None

    def to_result(self) -> dict[str, Any]:
        """Snake_case keys for ``fail_json``; ``None`` values are dropped."""
        result = {
            "status": self.status,
            "error_code": self.code,
            "error_message": self.message,
            "request_id": self.request_id,
            "client_request_id": self.client_request_id,
            "date": self.date,
            "method": self.method,
            "url": self.url,
            "required_permission": self.required_permission,
            "hint": self.hint,
        }
        return dict((key, value) for key, value in result.items() if value is not None)

    def __str__(self) -> str:
        parts = []
        if self.code:
            parts.append(f"{self.code}: {self.message}")
        else:
            parts.append(self.message)
        details = []
        if self.method and self.url:
            details.append(f"{self.method} {self.url}")
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.required_permission:
            details.append(f"required permission: {self.required_permission}")
        if self.request_id:
            details.append(f"request-id: {self.request_id}")
        if self.client_request_id:
            details.append(f"client-request-id: {self.client_request_id}")
        if self.date:
            details.append(f"date: {self.date}")
        text = parts[0]
        if details:
            text = f"{text} ({'; '.join(details)})"
        if self.hint:
            text = f"{text.rstrip('.')}. Hint: {self.hint}"
        return one_line(redact(text), limit=None)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r})"


class GraphAuthError(GraphError):
    """Token acquisition failed; ``code`` is the AADSTS code, e.g. ``AADSTS7000215``."""


class GraphOutcomeUnknownError(GraphError):
    """A write was sent but its outcome is unknown (timeout, 5xx, connection reset after sending).

    The client never replays it: the caller reads the current state to find out what happened. ``request`` is the
    write as it was sent (method, URL, body), set by the write protocol.
    """

    request: dict[str, Any] | None = None

    def to_result(self) -> dict[str, Any]:
        """As :meth:`GraphError.to_result`, with ``outcome: unknown``: a caller of the module (a runbook's report)
        tells an unknown outcome from a failure by this key, not by the wording of the message."""
        result = super().to_result()
        result["outcome"] = "unknown"
        if self.request:
            result["request"] = self.request
        return result

    @classmethod
    def after_reconciling(cls, error: GraphError, message: str, client_request_id: str, audit_trail: str) -> GraphOutcomeUnknownError:
        """The outcome is still unknown after the caller read the target again: ``error``'s details, the caller's
        ``message``, and a hint to look the client-request-id up in ``audit_trail`` before trying again."""
        return cls(message, status=error.status, code=error.code, request_id=error.request_id,
                   client_request_id=client_request_id, date=error.date, method=error.method or "POST", url=error.url,
                   required_permission=error.required_permission,
                   hint=f"look up client-request-id {client_request_id} in {audit_trail} before running the task again")


class GraphUnsupportedCloudError(GraphError):
    """The API is not offered in the chosen cloud; raised before any request."""


class InputError(ValueError):
    """Bad module input, raised before any request.

    ``option`` names the option at fault (a list or tuple names several; ``options`` always holds
    the list); ``str()`` names it and says how to fix it.
    """

    def __init__(self, option: str | list[str] | tuple[str, ...], message: str) -> None:
        if isinstance(option, (list, tuple)):
            options = [str(item) for item in option]
        else:
            options = [str(option)]
        self.options = options
        self.option = ", ".join(options)
        self.message = one_line(redact(message), limit=None)
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.option}: {self.message}"
