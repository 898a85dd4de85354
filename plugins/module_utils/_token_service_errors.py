# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: the standard library, _errors and _http (which knows requests) only. No Ansible imports.

"""The token service's (Microsoft Entra ID sign-in) failures as :class:`GraphAuthError`: AADSTS codes, OAuth errors,
transport errors. Graph's own error answers are read by ``_graph_answers.error_from_response``.

Each common AADSTS code maps to one sentence telling the operator what to fix
(https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from typing import Any, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphAuthError, one_line
from ansible_collections.msgraph.security.plugins.module_utils._http import (
    is_connection_error,
    is_timeout,
    is_tls_error,
    tls_error,
)


# One sentence per common AADSTS code: what to fix.
AADSTS_HINTS = {
    "7000215": "the client secret is wrong: check client_secret (AZURE_CLIENT_SECRET) is the secret's value, not its ID, "
               "or rotate the secret in the app registration",
    "7000222": "the client secret has expired: create a new secret in the app registration and update client_secret",
    "700016": "the application (client_id) was not found in the tenant: check client_id and tenant_id, and that the app "
              "is registered or consented in that tenant",
    "90002": "the tenant was not found: check tenant_id and cloud_environment (a tenant lives in exactly one cloud)",
    "900023": "tenant_id is not a valid tenant GUID or domain name: check tenant_id",
    "900021": "tenant_id is not a valid tenant GUID or domain name: check tenant_id",
    "700027": "the certificate is not registered on the app registration: upload the certificate (public part) to the "
              "app registration, or point client_certificate_path at the registered certificate",
    "700024": "the federated assertion has expired or is not yet valid: refresh the federated token file "
              "(federated_token_file / AZURE_FEDERATED_TOKEN_FILE) before running the task",
    "700213": "no federated identity credential matches the assertion: check the issuer and subject of the federated "
              "credential on the app registration",
    "70021": "no federated identity credential matches the assertion: check the issuer, subject and audience of the "
             "federated credential on the app registration",
    "1002012": "the requested scope is invalid: check cloud_environment (the Graph scope follows the cloud)",
    "70011": "the requested scope is invalid: check cloud_environment (the Graph scope follows the cloud)",
    "500011": "the Microsoft Graph resource was not found in the tenant: check cloud_environment matches the tenant's cloud",
    "7000229": "the application has no service principal in the tenant: grant admin consent for the app in that tenant",
    "7000112": "the application is disabled: enable the app (or its service principal) in the tenant",
    "53003": "access was blocked by Conditional Access: ask the tenant administrator to exclude this workload identity",
    "50049": "the authority is unknown or invalid: check authority_host and cloud_environment",
}

# Hints for OAuth error strings without an AADSTS code (managed identity endpoints, emulators).
ERROR_HINTS = {
    "invalid_client": "the client credential was rejected: check client_id and the secret, certificate or federated token",
    "unauthorized_client": "the application is not known in this tenant: check client_id and tenant_id",
    "invalid_tenant": "the tenant was not found: check tenant_id and cloud_environment",
    "invalid_scope": "the requested scope is invalid: check cloud_environment",
    "invalid_resource": "the requested resource is invalid: check cloud_environment",
    "invalid_request": "the token request was rejected: check tenant_id, client_id and the credential",
}


def parse_token_error(result: Mapping[str, Any] | None) -> tuple[str, str, str | None, str | None, str | None, str | None]:
    """``(code, message, trace_id, correlation_id, timestamp, number)`` from an MSAL error dict."""
    result = result or {}
    error = result.get("error") or ""
    description = result.get("error_description") or ""
    if not isinstance(description, str):
        description = str(description)
    number = None
    match = re.search(r"AADSTS(\d+)", description)
    if match:
        number = match.group(1)
    elif result.get("error_codes"):
        try:
            number = str(int(result["error_codes"][0]))
        except (TypeError, ValueError, IndexError):
            number = None
    first_line = ""
    for line in description.splitlines():
        if line.strip():
            first_line = line.strip()
            break
    first_line = re.sub(r"^AADSTS\d+:\s*", "", first_line)
    trace_id = result.get("trace_id") or _search(r"Trace ID:\s*([0-9A-Fa-f-]+)", description)
    correlation_id = result.get("correlation_id") or _search(r"Correlation ID:\s*([0-9A-Fa-f-]+)", description)
    timestamp = result.get("timestamp") or _search(r"Timestamp:\s*([0-9T:\-. Z]+?)\s*$", description, re.M)
    code = f"AADSTS{number}" if number else (error or "TokenRequestFailed")
    message = first_line or error or "no error description"
    return code, message, trace_id, correlation_id, timestamp, number


def _search(pattern, text, flags=0):
    match = re.search(pattern, text, flags)
    return match.group(1).strip() if match else None


def auth_error_from_result(result: Mapping[str, Any] | None, auth_method: str, authority: str | None = None) -> GraphAuthError:
    """A :class:`GraphAuthError` for an MSAL error dict: AADSTS code, one-line message and what to fix."""
    code, message, trace_id, correlation_id, timestamp, number = parse_token_error(result)
    error = (result or {}).get("error")
    hint = AADSTS_HINTS.get(number or "") or ERROR_HINTS.get(error or "")
    if not hint:
        hint = f"check tenant_id, client_id, the credential for auth_method {auth_method}, and cloud_environment"
    where = f" from {authority}" if authority else ""
    text = f"Could not get a token for Microsoft Graph (auth_method {auth_method}){where}: {message}"
    if error and error not in message and not code.startswith(error):
        text += f" [{error}]"
    return GraphAuthError(text, code=code, request_id=trace_id, client_request_id=correlation_id, date=timestamp,
                          hint=hint)


def transport_error(exc: BaseException, auth_method: str, url: str | None, verify: bool | str, target: str | None = None) -> GraphAuthError:
    """Map an exception raised while talking to the token endpoint to a :class:`GraphAuthError`."""
    target = target or f"the token endpoint {url}"
    if is_tls_error(exc):
        return tls_error(exc, url=url, verify=verify, auth=True)
    if is_timeout(exc):
        return GraphAuthError(f"Timed out waiting for {target} (auth_method {auth_method})",
                              code="Timeout", url=url,
                              hint="check network access to the token endpoint (proxy, firewall), or raise timeout")
    if is_connection_error(exc):
        return GraphAuthError(f"Could not connect to {target} (auth_method {auth_method}): {one_line(exc)}",
                              code="ConnectionError", url=url,
                              hint="check authority_host and cloud_environment, DNS, and proxy settings (HTTPS_PROXY)")
    # MSAL raises MsalServiceError("HTTP Error: 503") for an error answer without an OAuth body: keep its status,
    # so a caller can tell a token-service outage (429/5xx) from a configuration error.
    status = _search(r"HTTP Error: (\d{3})\b", str(exc))
    return GraphAuthError(f"Could not get a token for Microsoft Graph (auth_method {auth_method}): {type(exc).__name__}: {one_line(exc)}", url=url,
                          status=int(status) if status else None, hint=f"check the connection options for auth_method {auth_method}")


def _cause_text(exc):
    texts = [str(exc)]
    context = getattr(exc, "__context__", None)
    if context is not None:
        texts.append(str(context))
    return " ".join(texts)


def authority_error(exc: BaseException, auth_method: str, authority: str) -> GraphAuthError:
    """MSAL raises ValueError from the app constructor when tenant discovery fails (unknown tenant)."""
    text = _cause_text(exc)
    number = _search(r"AADSTS(\d+)", text)
    if "authority configuration" in text or "OIDC Discovery" in text or "invalid_instance" in text or number:
        hint = AADSTS_HINTS.get(number or "90002")
        return GraphAuthError(
            f"Tenant discovery failed for {authority} (auth_method {auth_method}): the tenant was not found or the authority did not answer "
            "with an OpenID configuration",
            code=f"AADSTS{number}" if number else "TenantDiscoveryFailed", url=authority,
            # An AADSTS code without an entry in AADSTS_HINTS has no hint of its own: only the override note.
            hint="; ".join(part for part in (hint, "with authority_host overridden, check that it points at the token service") if part),
        )
    return GraphAuthError(f"MSAL rejected the configuration for auth_method {auth_method}: {one_line(exc)}",
                          url=authority, hint="check tenant_id, client_id and the credential options")
