"""Seed data: loading and checking ``data/tenant.json`` and generating deterministic bulk identities."""

import json
import os
import uuid

from .config import ACTIONS, PROVIDERS

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tenant.json")
BULK_NAMESPACE = uuid.UUID("7d0c6f0e-4b8f-4e59-9d55-5f3c2f0a1b01")
BULK_SID_PREFIX = "S-1-5-21-1004336348-1177238915-682003330"

# What each provider offers on an enabled account; a disabled one shows "enable" instead of "disable".
# entraID lists the Version B actions although the default matrix (A) refuses all of them.
PROVIDER_ACTIONS = {
    "activeDirectory": ["disable", "forcePasswordReset"],
    "entraID": ["disable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"],
    "okta": ["disable", "revokeAllSessions"],
}
IDENTITY_FIELDS = ("id", "displayName", "domain", "cloudSecurityIdentifier", "onPremisesSecurityIdentifier", "isEnabled",
                   "emailAddress", "userPrincipalName", "accounts")


class SeedError(ValueError):
    """The data file is not usable; the message names the offending entry."""


def account_actions(provider, enabled):
    return [("disable" if enabled else "enable") if action == "disable" else action for action in PROVIDER_ACTIONS[provider]]


def cloud_sid(object_id):
    """Entra ID's cloud SID: S-1-12-1 followed by the object id as four little-endian uint32."""
    raw = uuid.UUID(object_id).bytes_le
    parts = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, 16, 4)]
    return "S-1-12-1-" + "-".join(str(part) for part in parts)


def check_identity(entry):
    if not isinstance(entry, dict):
        raise SeedError("an identity must be a JSON object")
    name = entry.get("id", "?")
    missing = [key for key in ("id", "displayName", "isEnabled", "accounts") if key not in entry]
    unknown = sorted(set(entry) - set(IDENTITY_FIELDS))
    if missing or unknown:
        raise SeedError(f"identity {name}: missing {missing} / unknown {unknown}")
    for account in entry["accounts"]:
        if set(account) != {"identifier", "identityProvider", "actions"}:
            raise SeedError(f"identity {name}: accounts need exactly identifier, identityProvider, actions")
        if account["identityProvider"] not in PROVIDERS or not set(account["actions"]) <= set(ACTIONS):
            raise SeedError(f"identity {name}: bad provider or action in account {account['identifier']}")
    disabled = any("enable" in account["actions"] for account in entry["accounts"])
    if entry["isEnabled"] == disabled:
        raise SeedError(f"identity {name}: isEnabled must be false exactly when an account offers 'enable'")


def load(path=None):
    """Read and check a data file; return the parsed dict."""
    with open(path or DEFAULT_DATA, encoding="utf-8") as handle:
        data = json.load(handle)
    for key in ("tenants", "applications", "identities"):
        if not isinstance(data.get(key), list):
            raise SeedError(f"data file needs a '{key}' list")
    ids = [entry.get("id") for entry in data["identities"]]
    if len(ids) != len(set(ids)):
        raise SeedError("identity ids must be unique")
    for entry in data["identities"]:
        check_identity(entry)
    kinds = [app.get("kind", "client") for app in data["applications"]]
    if "federated" not in kinds:
        raise SeedError("applications need one entry of kind 'federated'")
    names = {app["name"] for app in data["applications"] if app.get("kind") == "managed_identity"}
    if not {"system_assigned", "user_assigned"} <= names:
        raise SeedError("applications need managed identities named system_assigned and user_assigned")
    return data


def bulk_identity(number, domain="contoso.com"):
    """Identity ``number`` (1-based) of the deterministic bulk set: AD + Entra ID, every third with Okta,
    every tenth disabled."""
    tag = f"{number:04d}"
    enabled = number % 10 != 0
    entra_id = str(uuid.uuid5(BULK_NAMESPACE, f"entra-{tag}"))
    upn = f"bulk-user-{tag}@{domain}"
    accounts = [
        {"identifier": str(uuid.uuid5(BULK_NAMESPACE, f"ad-{tag}")), "identityProvider": "activeDirectory",
         "actions": account_actions("activeDirectory", enabled)},
        {"identifier": entra_id, "identityProvider": "entraID", "actions": account_actions("entraID", enabled)},
    ]
    if number % 3 == 0:
        accounts.append({"identifier": "00ub" + uuid.uuid5(BULK_NAMESPACE, f"okta-{tag}").hex[:16], "identityProvider": "okta",
                         "actions": account_actions("okta", enabled)})
    return {
        "id": str(uuid.uuid5(BULK_NAMESPACE, f"identity-{tag}")),
        "displayName": f"Bulk User {tag}",
        "domain": domain,
        "cloudSecurityIdentifier": cloud_sid(entra_id),
        "onPremisesSecurityIdentifier": f"{BULK_SID_PREFIX}-{100000 + number}",
        "isEnabled": enabled,
        "emailAddress": upn,
        "userPrincipalName": upn,
        "accounts": accounts,
    }
