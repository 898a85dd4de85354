"""Tenant data as stored (schema shape) and the effects of writes on it."""

import copy
import ipaddress
import threading
import time

from .config import MATRICES
from .messages import iso_time, new_guid
from .seed import bulk_identity, check_identity

SA_READ_ONLY = ("id", "appId", "azureTenantId", "user", "status", "createdDateTime", "completedDateTime", "lastActionDateTime",
                "states", "errorInfo")
SA_WRITABLE = ("name", "actionReason", "clientContext", "parameters", "vendorInformation", "@odata.type")
VENDOR_FIELDS = ("vendor", "provider", "providerVersion", "subProvider", "@odata.type")


class StateError(Exception):
    """A refused write or unknown id; the Graph layer turns it into its error shape."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _bad(message, code="BadRequest"):
    return StateError(400, code, message)


class TenantStore:
    """Identities, legacy security actions and a history of executed invokeActions; one lock guards all."""

    def __init__(self, seed, extra_identities=0):
        self._seed = seed
        self._lock = threading.RLock()
        self._identities, self._bulk_ids, self._actions, self._invocations, self._pending = {}, [], {}, [], []
        # users.py imports StateError from this module, so it is imported here rather than at the top.
        from .users import UserStore  # pylint: disable=import-outside-toplevel

        self.users = UserStore(seed)  # Entra ID users behind the identities' entraID accounts
        self.reset(extra_identities)

    def reset(self, extra_identities=0):
        with self._lock:
            self._identities = {entry["id"]: copy.deepcopy(entry) for entry in self._seed["identities"]}
            self._bulk_ids = []
            self._actions = {}
            self._invocations = []
            self._pending = []  # (due time, identity id, account id, action): accepted toggles not yet visible
            self.users.reset(self._identities.values())
            self.set_extra_identities(extra_identities)

    def set_extra_identities(self, count):
        """Replace the bulk identities by ``count`` fresh ones (bulk-user-0001 ...)."""
        with self._lock:
            for identity_id in self._bulk_ids:
                self._identities.pop(identity_id, None)
            bulk = [bulk_identity(number) for number in range(1, count + 1)]
            self._bulk_ids = [entry["id"] for entry in bulk]
            self._identities.update((entry["id"], entry) for entry in bulk)
            self.users.add_from(bulk)

    # --- identity accounts -----------------------------------------------------------------------

    def identities(self):
        with self._lock:
            self._propagate()
            return copy.deepcopy(list(self._identities.values()))

    def identity(self, identity_id):
        with self._lock:
            self._propagate()
            return copy.deepcopy(self._identities.get(identity_id))

    def _propagate(self, now=None, everything=False):
        """Make accepted disable/enable visible once their propagation delay has passed."""
        now = time.time() if now is None else now
        due = [item for item in self._pending if everything or item[0] <= now]
        self._pending = [item for item in self._pending if item not in due]
        for _when, identity_id, account_id, action in sorted(due, key=lambda item: item[0]):
            identity = self._identities.get(identity_id)
            account = identity and next((item for item in identity["accounts"] if item["identifier"] == account_id), None)
            if account is None:
                continue  # replaced by put_identity or a bulk reset meanwhile
            _toggle(identity, account, action)

    def settle(self):
        """Let every pending change propagate now (admin API; for tests that inspect the end state)."""
        with self._lock:
            pending = len(self._pending)
            self._propagate(everything=True)
            return pending

    def directory_sync(self):
        """Entra Connect, simulated: synchronised users take accountEnabled from their identity's AD state now."""
        with self._lock:
            self._propagate()
            states = {}
            for identity in self._identities.values():
                entra = next((a["identifier"] for a in identity["accounts"] if a["identityProvider"] == "entraID"), None)
                if entra and any(a["identityProvider"] == "activeDirectory" for a in identity["accounts"]):
                    states[entra.lower()] = identity["isEnabled"]
            return self.users.sync_from_active_directory(states)

    def put_identity(self, entry):
        """Insert or replace one identity (seed format); it survives until the next reset."""
        check_identity(entry)
        with self._lock:
            self._identities[entry["id"]] = copy.deepcopy(entry)
            self.users.add_from([entry])  # its Entra ID user, when it has an entraID account
            return copy.deepcopy(entry)

    def invoke(self, identity_id, account_id, action, provider, matrix, app_id, propagation_delay_s=0, enforce_offered=True):
        """Run invokeAction against the stored identity; return the invokeActionResult (schema shape).
        A disable/enable becomes visible in isEnabled/actions only ``propagation_delay_s`` later. Without
        ``enforce_offered`` an action the account does not offer is accepted too (a repeat changes nothing)."""
        with self._lock:
            self._propagate()
            identity = self._identities.get(identity_id)
            if identity is None:
                raise StateError(404, "NotFound", f"Identity account '{identity_id}' was not found.")
            account = next((item for item in identity["accounts"] if item["identifier"] == account_id), None)
            if account is None:
                raise StateError(404, "NotFound", f"Account '{account_id}' was not found on identity account '{identity_id}'.")
            if account["identityProvider"] != provider:
                raise _bad(f"Account '{account_id}' belongs to identity provider '{account['identityProvider']}', not '{provider}'.")
            allowed = MATRICES[matrix][provider]
            if provider == "entraID" and not allowed:
                raise _bad("EntraID actions are not yet supported")
            if action not in allowed:
                raise _bad(f"Action '{action}' is not supported for identity provider '{provider}'.")
            if enforce_offered:
                self._check_available(account, action)
            if action in ("disable", "enable"):
                if propagation_delay_s:
                    self._pending.append((time.time() + propagation_delay_s, identity_id, account_id, action))
                else:
                    _toggle(identity, account, action)
            result = {"accountId": account_id, "action": action, "identityProvider": provider, "correlationId": new_guid()}
            self._invocations.append(dict(result, identityAccountId=identity_id, appId=app_id, dateTime=iso_time()))
            return result

    @staticmethod
    def _check_available(account, action):
        if action in account["actions"]:
            return
        if action == "disable" and "enable" in account["actions"]:
            raise _bad(f"Account '{account['identifier']}' is already disabled.")
        if action == "enable" and "disable" in account["actions"]:
            raise _bad(f"Account '{account['identifier']}' is already enabled.")
        raise _bad(f"Action '{action}' is not available for account '{account['identifier']}'; available actions: "
                   f"{', '.join(account['actions']) or 'none'}.")

    # --- legacy security actions -----------------------------------------------------------------

    def create_security_action(self, body, app_id, tenant_id, timing, failing_networks):
        """Validate a create body (400 on problems) and store the action; return it rendered."""
        fields = _check_security_action(body)
        address = _block_ip_address(fields)
        now = time.time()
        failure = None
        if any(address.version == net.version and address in net for net in failing_networks):
            failure = {"code": 400, "message": f"Cannot block IP address '{address}': private and reserved addresses cannot be blocked.",
                       "subcode": 1}
        vendor = {"provider": None, "providerVersion": None, "subProvider": None, "vendor": None}
        vendor.update({k: v for k, v in fields["vendorInformation"].items() if k != "@odata.type"})
        stored = {
            "id": new_guid(), "actionReason": fields.get("actionReason"), "appId": app_id, "azureTenantId": tenant_id,
            "clientContext": fields.get("clientContext"), "createdDateTime": iso_time(now), "name": fields["name"],
            "parameters": [{"name": p["name"], "value": p["value"]} for p in fields["parameters"]], "user": None,
            "vendorInformation": vendor,
            "_created": now, "_timing": dict(timing), "_failure": failure, "_cancelled": None,
        }
        with self._lock:
            self._actions[stored["id"]] = stored
            return _render(stored, now)

    def security_actions(self, tenant_id):
        now = time.time()
        with self._lock:
            return [_render(item, now) for item in self._actions.values() if item["azureTenantId"] == tenant_id]

    def security_action(self, action_id, tenant_id):
        with self._lock:
            stored = self._actions.get(action_id)
            if stored is None or stored["azureTenantId"] != tenant_id:
                raise StateError(404, "ResourceNotFound", f"Security action '{action_id}' was not found.")
            return _render(stored, time.time())

    def cancel_security_action(self, action_id, tenant_id, effect="none"):
        """Record a cancel. ``effect`` "none": the status follows its timeline as if nothing happened (the docs
        describe no resulting status); "failed": an unfinished action ends Failed, errorInfo null."""
        with self._lock:
            current = self.security_action(action_id, tenant_id)
            if current["status"] in ("Completed", "Failed"):
                raise _bad(f"Security action '{action_id}' cannot be canceled because it is already {current['status']}.")
            if effect == "failed":
                self._actions[action_id]["_cancelled"] = time.time()

    def snapshot(self):
        """The admin view: identities as they stand once every pending change has propagated (tests ask "did the
        write take effect"; Graph reads still see the delay), and how many changes are still pending."""
        now = time.time()
        with self._lock:
            self._propagate(now)
            identities = copy.deepcopy(self._identities)
            for _when, identity_id, account_id, action in sorted(self._pending, key=lambda item: item[0]):
                identity = identities.get(identity_id)
                account = identity and next((item for item in identity["accounts"] if item["identifier"] == account_id), None)
                if account is not None:
                    _toggle(identity, account, action)
            return {"identities": list(identities.values()),
                    "pending_changes": len(self._pending),
                    "security_actions": [_render(item, now) for item in self._actions.values()],
                    "invocations": copy.deepcopy(self._invocations), "users": self.users.snapshot()}


def _toggle(identity, account, action):
    """disable/enable: the account now offers the opposite toggle; isEnabled follows the accounts."""
    opposite = "enable" if action == "disable" else "disable"
    account["actions"] = [opposite if item == action else item for item in account["actions"]]
    identity["isEnabled"] = not any("enable" in item["actions"] for item in identity["accounts"])


def _check_security_action(body):
    if not isinstance(body, dict):
        raise _bad("The request body must be a securityAction JSON object.")
    for key in body:
        if key in SA_READ_ONLY:
            raise _bad(f"The property '{key}' is read-only and cannot be set by the caller.")
        if key not in SA_WRITABLE:
            raise _bad(f"The property '{key}' does not exist on type 'microsoft.graph.securityAction'. Make sure to only use property "
                       "names that are defined by the type.")
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise _bad("The property 'name' is required.")
    params = body.get("parameters")
    if not isinstance(params, list) or not params or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("value"), str) for p in params):
        raise _bad("The property 'parameters' is required and must be a list of {name, value} string pairs.")
    vendor = body.get("vendorInformation")
    if not isinstance(vendor, dict) or set(vendor) - set(VENDOR_FIELDS):
        raise _bad("The property 'vendorInformation' is required and may only hold vendor, provider, providerVersion, subProvider.")
    for key in ("vendor", "provider"):
        if not isinstance(vendor.get(key), str) or not vendor[key].strip():
            raise _bad(f"The property 'vendorInformation.{key}' is required.")
    context = body.get("clientContext")
    if context is not None and (not isinstance(context, str) or len(context) > 256):
        raise _bad("The property 'clientContext' must be a string of at most 256 characters.")
    if body.get("actionReason") is not None and not isinstance(body["actionReason"], str):
        raise _bad("The property 'actionReason' must be a string.")
    return body


def _block_ip_address(body):
    """Only BlockIp on Windows Defender ATP ever executed; anything else gets the observed empty-code 400."""
    if body["name"].lower() != "blockip" or body["vendorInformation"]["provider"].lower() != "windows defender atp":
        raise _bad("Cannot find a provider for this request", code="")
    value = next((p["value"] for p in body["parameters"] if p["name"].lower() == "ip"), None)
    if value is None:
        raise _bad("BlockIp requires a parameter named 'IP'.")
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        raise _bad(f"'{value}' is not a valid IP address.") from None


def _render(stored, now):
    """The action as Graph returns it at time ``now``: status, states and dates follow the timeline."""
    created, timing, cancelled = stored["_created"], stored["_timing"], stored["_cancelled"]
    end = created + timing["terminal_after_s"]
    events = [("NotStarted", created)]
    running_at = created + timing["running_after_s"]
    if running_at <= now and (cancelled is None or running_at < cancelled):
        events.append(("Running", running_at))
    error = None
    if cancelled is not None and cancelled < end:
        events.append(("Failed", cancelled))
    elif end <= now:
        events.append(("Failed" if stored["_failure"] else "Completed", end))
        error = stored["_failure"]
    status, last = events[-1]
    public = {key: copy.deepcopy(value) for key, value in stored.items() if not key.startswith("_")}
    public.update({
        "status": status,
        "lastActionDateTime": iso_time(last),
        "completedDateTime": iso_time(last) if status in ("Completed", "Failed") else None,
        "errorInfo": copy.deepcopy(error),
        "states": [{"appId": stored["appId"], "status": name, "updatedDateTime": iso_time(when), "user": None} for name, when in events],
    })
    return public
