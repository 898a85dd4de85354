# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 3: the standard library, _errors and _http's header lookup only. No Ansible imports.

"""How an answer of Microsoft Graph is read: its body (JSON, empty or unreadable), a successful answer as a
:class:`GraphResponse`, and an error answer as a :class:`GraphError` whose hint says what to fix. The Graph client
(``_graph_client.GraphClient``) decides what to do with them."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import dataclasses
import json
from typing import Any, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.plugins.module_utils._http import header_value as _header

try:
    from http.client import responses as _HTTP_REASONS
except ImportError:  # pragma: no cover
    _HTTP_REASONS = {}

NOT_ONBOARDED_MARKER = "not onboarded"


@dataclasses.dataclass
class GraphResponse:
    """A successful response: ``status``, ``body`` (parsed JSON or None), ``headers``, request ids, the request."""

    status: int
    body: Any
    headers: Mapping[str, str]
    request_id: str | None = None
    client_request_id: str | None = None
    date: str | None = None
    method: str | None = None
    url: str | None = None

    def __repr__(self) -> str:
        return f"GraphResponse({self.method} {self.url} -> {self.status})"


def _reason(status, fallback=None):
    return fallback or _HTTP_REASONS.get(status) or f"HTTP {status}"


def parse_body(raw: Any) -> tuple[Any, bool]:
    """``(parsed, ok)`` for a response's body: an empty body is ``(None, True)``; a body that does not parse (truncated,
    not JSON) is ``(None, False)``."""
    content = raw.content
    if content is None or not content.strip():
        return None, True
    try:
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
        return json.loads(text), True
    except (ValueError, UnicodeDecodeError):
        return None, False


def error_from_response(raw: Any, method: str, url: str, permission: str | None = None, client_request_id: str | None = None) -> GraphError:
    """A :class:`GraphError` for an error response: ``{"error": {code, message, innerError|innererror}}``.

    ``code`` "" or ``UnknownError`` falls back to the HTTP status text. A 403 names ``permission`` and tells a
    tenant not onboarded to Defender for Identity apart from a missing permission.
    """
    status = raw.status_code
    parsed, ok = parse_body(raw)
    code = None
    message = None
    inner: dict[str, Any] = {}
    if ok and isinstance(parsed, dict):
        err = parsed.get("error")
        if isinstance(err, dict):
            code = err.get("code")
            message = err.get("message")
            inner = err.get("innerError") or err.get("innererror") or {}
            if not isinstance(inner, dict):
                inner = {}
        elif isinstance(err, str):  # OAuth-style {"error": "...", "error_description": "..."}
            code = err
            message = parsed.get("error_description")
    reason = _reason(status, getattr(raw, "reason", None))
    if not code or str(code) == "UnknownError":
        code = reason.replace(" ", "")
    if not message:
        if not ok:
            text = raw.content.decode("utf-8", "replace") if isinstance(raw.content, bytes) else str(raw.content)
            text = " ".join(text.split())[:200]
            message = f"HTTP {status} {reason}{': ' + text if text else ''}"
        else:
            message = f"HTTP {status} {reason}"
    request_id = _header(raw.headers, "request-id") or inner.get("request-id") or inner.get("requestId")
    cri = _header(raw.headers, "client-request-id") or inner.get("client-request-id") or client_request_id
    date = inner.get("date") or _header(raw.headers, "Date")
    hint = None
    required = None
    if status == 403:
        required = permission
        if NOT_ONBOARDED_MARKER in str(message).lower():
            hint = ("the tenant is not onboarded to Microsoft Defender for Identity (this is not a missing permission): "
                    "complete the Defender for Identity onboarding (license, portal sign-in, sensor) first")
        elif permission:
            hint = (f"missing permission: grant the application permission {permission} to the app registration and grant admin "
                    "consent (for delegated tokens the user also needs the Security Administrator role)")
        else:
            hint = "missing permission: grant the application permission this call needs, with admin consent"
    elif status == 404:
        hint = "the resource was not found: check the id, and that the API is offered in this cloud and api_version"
    elif status == 400:
        hint = "the service rejected the request: check the module's parameters against the message"
    elif status == 401:
        hint = "the access token was rejected: check the credentials and cloud_environment"
    return GraphError(message, status=status, code=code, request_id=request_id, client_request_id=cri, date=date,
                      method=method, url=url, required_permission=required, hint=hint)
