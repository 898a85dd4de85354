# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _graph_apis and the standard library only. No Ansible imports, no requests.

"""What a legacy Microsoft Graph ``securityActions`` request is, before anything is sent, and how an action reads.

The input checks, the client context, the create body, the token check, and the snake_case form of an action.
``_security_actions`` sends and reads with them. Decisions documented once, here:

* **Client context.** ``clientContext`` identifies an action for idempotency. Without one, it is
  derived: ``msgraph.security:v1:`` followed by the SHA-256 hex digest of the canonical JSON
  (sorted keys, no spaces, UTF-8) of ``{"name", "parameters", "provider", "vendor"}`` where the
  name, the parameter names, the vendor and the provider are lower-cased (the service echoes
  ``BlockIp`` as ``blockIp``) and ``parameters`` is the sorted list of ``[name, value]`` pairs.
  Parameter values are kept as given. ``action_reason``, ``sub_provider`` and
  ``provider_version`` are not part of it: changing the reason does not make a new action.
  The result is 84 characters, well below the 256-character limit.
* **Application tokens only.** A user-supplied ``access_token`` whose payload (decoded without
  checking the signature) has an ``scp`` claim is delegated and refused before any request.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import json
from typing import Any, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import SECURITY_ACTIONS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import validate_path_id

WRITE_PERMISSION = SECURITY_ACTIONS.permissions["write"]
CLIENT_CONTEXT_MAX_LENGTH = 256
DERIVED_CONTEXT_PREFIX = "msgraph.security:v1:"

# Properties the service sets itself (some from the caller's token); never accepted as input.
READ_ONLY_FIELDS = (
    "id", "appId", "azureTenantId", "user", "status", "states", "errorInfo",
    "createdDateTime", "completedDateTime", "lastActionDateTime",
)
_READ_ONLY_LOWER = dict((field.lower(), field) for field in READ_ONLY_FIELDS)

VENDOR_FIELDS = (
    ("vendor", "vendor", True),
    ("provider", "provider", True),
    ("sub_provider", "subProvider", False),
    ("provider_version", "providerVersion", False),
)

_STATUS_SPELLING = {
    "notstarted": "NotStarted",
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
}


# ---------------------------------------------------------------------------------------------
# Input normalization (no requests)
# ---------------------------------------------------------------------------------------------

def normalize_status(status: str | None) -> str | None:
    """The documented spelling of a status (``notStarted`` -> ``NotStarted``); unknown as given."""
    if not isinstance(status, str):
        return status
    return _STATUS_SPELLING.get(status.lower(), status)


def _refuse_read_only(key, option):
    field = _READ_ONLY_LOWER.get(str(key).lower())
    if field:
        raise InputError(option, f"'{field}' is a read-only securityAction property the service sets itself "
                                 "(appId, azureTenantId and user come from the token); remove it")


def _stringify(value, option, name):
    """keyValuePair.value is a String: scalars are converted, nested structures refused."""
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    raise InputError(option, f"value of parameter '{name}' must be a string, number or boolean, got {'null' if value is None else type(value).__name__}")


def _parameter_pairs(parameters):
    """(name, value) pairs from a dict or a list of {name, value} dicts, in the order given."""
    if isinstance(parameters, dict):
        return list(parameters.items())
    if not isinstance(parameters, (list, tuple)):
        raise InputError("parameters", "must be a list of {name, value} dicts or a dict of name: value")
    pairs = []
    for index, item in enumerate(parameters):
        if not isinstance(item, dict) or set(item) != {"name", "value"}:
            raise InputError("parameters", f"item {index} must be a dict with exactly the keys name and value, "
                                           f"got {item!r}")
        pairs.append((item["name"], item["value"]))
    return pairs


def normalize_parameters(parameters: dict[str, Any] | list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """Graph keyValuePair list ``[{"name": str, "value": str}]``; at least one pair (Required)."""
    if not parameters:
        raise InputError("parameters", "at least one parameter is required, e.g. {IP: 192.0.2.10} for BlockIp")
    normalized = []
    for name, value in _parameter_pairs(parameters):
        if not isinstance(name, str) or not name.strip():
            raise InputError("parameters", f"parameter names must be non-empty strings, got {name!r}")
        _refuse_read_only(name, "parameters")
        normalized.append({"name": name, "value": _stringify(value, "parameters", name)})
    return normalized


def normalize_vendor_information(vendor_information: dict[str, Any]) -> dict[str, str]:
    """snake_case vendor_information -> Graph securityVendorInformation (camelCase, unset dropped)."""
    if not isinstance(vendor_information, dict):
        raise InputError("vendor_information", "must be a dict with at least vendor and provider")
    allowed = [option for option, _camel, _required in VENDOR_FIELDS]
    for key in vendor_information:
        _refuse_read_only(key, "vendor_information")
        if key not in allowed:
            raise InputError("vendor_information", f"unknown key '{key}'; allowed: {', '.join(allowed)}")
    vendor = {}
    for option, camel, required in VENDOR_FIELDS:
        value = vendor_information.get(option)
        if value is None or value == "":
            if required:
                raise InputError("vendor_information", f"'{option}' is required (e.g. vendor: Microsoft, "
                                                       "provider: Windows Defender ATP)")
            continue
        if not isinstance(value, str):
            raise InputError("vendor_information", f"'{option}' must be a string")
        vendor[camel] = value
    return vendor


def validate_client_context(client_context: Any) -> str:
    """``client_context`` as given, when it is a non-empty string within Graph's length limit; :class:`InputError` otherwise."""
    if not isinstance(client_context, str) or not client_context:
        raise InputError("client_context", "must be a non-empty string")
    if len(client_context) > CLIENT_CONTEXT_MAX_LENGTH:
        raise InputError("client_context", f"is {len(client_context)} characters long; Graph allows at most {CLIENT_CONTEXT_MAX_LENGTH}")
    return client_context


def validate_action_id(action_id: Any, option: str = "id") -> str:
    """A security action id, safe to put in the URL path (see ``validate_path_id``)."""
    return validate_path_id(action_id, option, "the id of a security action")


def derive_client_context(name: str, parameters: list[dict[str, str]], vendor_information: Mapping[str, str]) -> str:
    """Deterministic client context from already normalized name, parameters and vendor (see module doc)."""
    canonical = {
        "name": name.lower(),
        "parameters": sorted([p["name"].lower(), p["value"]] for p in parameters),
        "provider": vendor_information["provider"].lower(),
        "vendor": vendor_information["vendor"].lower(),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return DERIVED_CONTEXT_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_create_body(name: str | None, parameters: dict[str, Any] | list[dict[str, Any]] | None, vendor_information: dict[str, Any],
                      client_context: str | None = None, action_reason: str | None = None) -> dict[str, Any]:
    """The POST body for a new action; raises InputError before any request."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("name", "is required, e.g. BlockIp")
    pairs = normalize_parameters(parameters)
    vendor = normalize_vendor_information(vendor_information)
    if client_context is None or client_context == "":
        client_context = derive_client_context(name, pairs, vendor)
    body = {
        "name": name,
        "parameters": pairs,
        "vendorInformation": vendor,
        "clientContext": validate_client_context(client_context),
    }
    if action_reason:
        body["actionReason"] = action_reason
    return body


def _jwt_payload(token):
    """The decoded payload of a JWT, or None for anything else (opaque or encrypted tokens)."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        return None
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(segment.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


def refuse_delegated_token(access_token: str | None, auth_method: str) -> None:
    """Refuse a user-supplied delegated token before any request.

    ``auth_method`` is the method actually used (never ``auto``). securityActions only accept
    application permissions, and every auth method of the collection except a user-supplied
    ``access_token`` is app-only. The payload is decoded without checking the signature (the
    service does that): an ``scp`` claim means delegated. A token that is not a readable JWT is
    passed on unchanged and the service decides.
    """
    if auth_method != "access_token" or not access_token:
        return
    payload = _jwt_payload(access_token)
    if payload is not None and "scp" in payload:
        raise InputError("access_token", "is a delegated token (it has an 'scp' claim); securityActions "
                                         "accept application permissions only: use an app-only token with "
                                         f"the {WRITE_PERMISSION} role, or client credentials")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def _vendor_to_snake(vendor):
    if not isinstance(vendor, dict):
        return vendor
    return dict((option, vendor.get(camel)) for option, camel, _required in VENDOR_FIELDS)


def _error_info_to_snake(info):
    if not isinstance(info, dict):
        return info
    return {"code": info.get("code"), "message": info.get("message"), "subcode": info.get("subcode")}


def _state_to_snake(state):
    return {
        "app_id": state.get("appId"),
        "status": normalize_status(state.get("status")),
        "updated_date_time": state.get("updatedDateTime"),
        "user": state.get("user"),
    }


def parameters_to_snake(parameters: Any) -> list[dict[str, Any]]:
    """Graph keyValuePairs -> ``[{name, value}]``; anything that is not a pair is dropped."""
    return [{"name": p.get("name"), "value": p.get("value")} for p in parameters or [] if isinstance(p, dict)]


def action_to_snake(action: Mapping[str, Any]) -> dict[str, Any]:
    """Graph securityAction (camelCase, either response shape) -> the documented snake_case dict."""
    return {
        "id": action.get("id"),
        "name": action.get("name"),
        "status": normalize_status(action.get("status")),
        "states": [_state_to_snake(s) for s in action.get("states") or [] if isinstance(s, dict)],
        "error_info": _error_info_to_snake(action.get("errorInfo")),
        "parameters": parameters_to_snake(action.get("parameters")),
        "vendor_information": _vendor_to_snake(action.get("vendorInformation")),
        "client_context": action.get("clientContext"),
        "action_reason": action.get("actionReason"),
        "app_id": action.get("appId"),
        "azure_tenant_id": action.get("azureTenantId"),
        "user": action.get("user"),
        "created_date_time": action.get("createdDateTime"),
        "completed_date_time": action.get("completedDateTime"),
        "last_action_date_time": action.get("lastActionDateTime"),
    }


def projected_action(body: Mapping[str, Any]) -> dict[str, Any]:
    """What a created action would look like, for check-mode diffs (service fields unknown)."""
    projected = action_to_snake(body)
    projected["status"] = "NotStarted"
    return projected


def request_key(action: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two actions the same request: name, parameters, vendor and provider (folded)."""
    vendor = action.get("vendorInformation") or {}
    return (
        (action.get("name") or "").lower(),
        sorted([(p.get("name") or "").lower(), p.get("value")] for p in action.get("parameters") or []),
        (vendor.get("vendor") or "").lower(),
        (vendor.get("provider") or "").lower(),
    )
