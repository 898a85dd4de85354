# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: incidents
short_description: Event-Driven Ansible source of Microsoft Defender XDR incidents
description:
  - Polls C(GET /security/incidents) for incidents updated since a watermark and puts one event per new or changed
    incident on the queue; the event's key C(incident) holds the incident as M(msgraph.security.incident_info)
    returns it (with its alerts and evidence when O(include_alerts=true)).
  - Loop-proof. An incident whose only change is the collection's own write (an audit comment whose first line
    starts with C(msgraph.security respond_to_incident), with the status and owner the runbook sets in the same
    task) is recorded and not emitted again, so an automated response never runs again because of its own comment.
    Any other change (a new alert or evidence, a person's comment, severity, tags, a status change without a new
    audit comment) is emitted. See docs/eda.md, "Why it cannot loop".
  - At least once. The watermark is saved in O(state_file) after the event is queued; a crash in between emits the
    incident again after the restart (the runbook is idempotent), it never loses it.
  - Keeps running. Throttling and outages of Graph or the token service (429, 5xx, timeouts, after the retries of
    one poll) are logged and waited out with a doubling pause up to O(max_interval); every poll gets a fresh
    O(retry_budget). A malformed incident is skipped with a warning naming its id. Configuration errors (bad
    credentials, a missing permission, the China cloud) stop the source before or at the first poll.
  - Polls run on a fixed period (monotonic clock, poll k at start + k * O(interval)), whatever a poll takes.
  - Authenticates like the modules, with the same option names and environment variables, the same TLS and cloud
    rules and the same retries. Every connection option below can be given as an argument or, better, as its
    environment variable (an EDA controller credential injects them, docs/eda.md).
options:
  severity:
    description:
      - Only incidents of these severities (server filter, re-checked locally).
    type: list
    elements: str
    choices: [unknown, informational, low, medium, high]
  status:
    description:
      - Only incidents in these statuses (V(awaitingAction) is found: the source asks for evolvable enum members).
    type: list
    elements: str
    choices: [active, resolved, inProgress, redirected, awaitingAction]
  service_source:
    description:
      - Only incidents with an alert from one of these services, for example V(microsoftDefenderForIdentity) or
        V(microsoftSentinel). Implies O(include_alerts).
    type: list
    elements: str
  include_alerts:
    description:
      - Put the incident's alerts and evidence in the event (C($expand=alerts)).
    type: bool
    default: true
  updated_since:
    description:
      - Start watermark (ISO 8601) when no state file holds one. Default is the time the source starts.
    type: str
  state_file:
    description:
      - A JSON file keeping the watermark and what was emitted between restarts. Checked like the token cache,
        it must be a regular file (no symlink) of this user with mode 0600, in a directory of this user with mode 0700
        (created so). A truncated or unreadable file is replaced, polling from its last save; a watermark in the future
        is refused with a warning.
    type: path
  interval:
    description:
      - Seconds between polls (the period of a fixed schedule).
    type: int
    default: 60
  max_interval:
    description:
      - Longest wait between polls while Graph or the token service throttles or fails.
    type: int
    default: 900
  tenant_id:
    description:
      - The Microsoft Entra tenant (directory) id. Falls back to C(AZURE_TENANT_ID), C(AZURE_TENANT).
    type: str
  client_id:
    description:
      - The application (client) id of the app registration. Falls back to C(AZURE_CLIENT_ID).
    type: str
  client_secret:
    description:
      - The client secret (auth_method client_secret). Prefer the environment variable. Falls back to
        C(AZURE_CLIENT_SECRET), C(AZURE_SECRET).
    type: str
  client_certificate_path:
    description:
      - A PEM file with the certificate and its private key (auth_method certificate). Falls back to
        C(AZURE_CLIENT_CERTIFICATE_PATH).
    type: path
  client_certificate_password:
    description:
      - The password of the certificate's private key. Falls back to C(AZURE_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  federated_token_file:
    description:
      - A file holding a federated (workload identity) token (auth_method federated). Falls back to
        C(AZURE_FEDERATED_TOKEN_FILE).
    type: path
  access_token:
    description:
      - A ready access token for Microsoft Graph (auth_method access_token); it is not refreshed. Falls back to
        C(MSGRAPH_ACCESS_TOKEN).
    type: str
  auth_method:
    description:
      - How to authenticate; V(auto) picks from the options given. Falls back to C(MSGRAPH_AUTH_METHOD).
    type: str
    choices: [auto, client_secret, certificate, federated, managed_identity, access_token]
    default: auto
  managed_identity_client_id:
    description:
      - The client id of a user-assigned managed identity (auth_method managed_identity).
    type: str
  cloud_environment:
    description:
      - The national cloud (V(global), V(usgov), V(usgovdod), V(china); AWX names such as V(AzureCloud) are taken).
        The China cloud does not offer the incidents API. Falls back to C(AZURE_CLOUD_ENVIRONMENT).
    type: str
    default: global
  authority_host:
    description:
      - The token service host, for emulators and sovereign clouds (an official host of the cloud unless
        O(allow_custom_endpoints)). Falls back to C(AZURE_AUTHORITY_HOST).
    type: str
  graph_endpoint:
    description:
      - The Microsoft Graph endpoint (an official host of the cloud unless O(allow_custom_endpoints)). Falls back to
        C(MSGRAPH_ENDPOINT).
    type: str
  allow_custom_endpoints:
    description:
      - Allow O(authority_host) and O(graph_endpoint) outside the cloud's official hosts (they receive credentials).
        Falls back to C(MSGRAPH_ALLOW_CUSTOM_ENDPOINTS).
    type: bool
    default: false
  api_version:
    description:
      - The Graph API version. The source uses V(v1.0) unless set.
    type: str
    choices: [beta, v1.0]
    default: v1.0
  validate_certs:
    description:
      - Verify TLS certificates.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle used for every request (C(REQUESTS_CA_BUNDLE) cannot override it). Falls back to
        C(MSGRAPH_CA_PATH).
    type: path
  timeout:
    description:
      - Seconds to wait for one HTTP response.
    type: int
    default: 30
  max_retries:
    description:
      - Retries of one request (429 honours C(Retry-After); 5xx and connection errors back off).
    type: int
    default: 5
  retry_budget:
    description:
      - Seconds all retries of one poll may wait in total; every poll gets a fresh budget.
    type: int
    default: 120
  token_cache_dir:
    description:
      - A private directory (0700) for a persistent MSAL token cache. Falls back to C(MSGRAPH_TOKEN_CACHE_DIR).
    type: path
"""

EXAMPLES = r"""
- name: Respond to high-severity identity incidents
  hosts: all
  sources:
    - msgraph.security.incidents:
        severity: [high]
        service_source: [microsoftDefenderForIdentity]
        state_file: /var/lib/eda/msgraph-incidents/state.json
        interval: 60
  rules:
    - name: Contain (dry run)
      condition: event.incident.severity == "high"
      action:
        run_playbook:
          name: msgraph.security.respond_to_incident
          extra_vars:
            incident_id: "{{ event.incident.id }}"

- name: Sentinel incidents awaiting action, credentials from the environment (an EDA controller credential)
  hosts: all
  sources:
    - msgraph.security.incidents:
        status: [active, awaitingAction]
        service_source: [microsoftSentinel]
        include_alerts: true
        interval: 120
        max_interval: 900
        retry_budget: 60
  rules:
    - name: Print the incident
      condition: event.incident is defined
      action:
        debug:
          msg: "{{ event.incident.id }} {{ event.incident.display_name }}"
"""

import asyncio
import datetime
import json
import logging
import math
import os
import sys
import time
from typing import Any, Awaitable, Callable, Mapping, Protocol, Sequence


def _collections_root() -> str | None:
    """The directory holding ansible_collections/, so the collection's module_utils import by their full name."""
    here = os.path.abspath(__file__)
    collection = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(here)))))
    parts = collection.split(os.sep)
    if len(parts) >= 3 and parts[-3] == "ansible_collections":
        return os.sep.join(parts[:-3]) or os.sep
    return None


_ROOT = _collections_root()
if _ROOT and _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from ansible_collections.msgraph.security.plugins.module_utils import _incidents as incidents  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._clouds import require_api  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._connection import (  # noqa: E402
    ConnectionSettings,
    select_auth_method,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, InputError, redact  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._event_position import (  # noqa: E402
    load_state,
    plan_emission,
    save_state,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import INCIDENTS  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient, connect  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._retries import TRANSIENT_STATUSES  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._options import resolve_unset_options  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._timestamps import normalize_timestamp  # noqa: E402

LOGGER = logging.getLogger(__name__)
DEFAULT_API_VERSION = INCIDENTS.default_version
# The source's own arguments (the connection options are _options.CONNECTION_OPTIONS): name -> (type, default).
SOURCE_OPTIONS = {
    "severity": ("list", None),
    "status": ("list", None),
    "service_source": ("list", None),
    "include_alerts": ("bool", True),
    "updated_since": ("str", None),
    "state_file": ("path", None),
    "interval": ("int", 60),
    "max_interval": ("int", 900),
}
# Failures worth waiting out (after the client's own retries): throttling and outages of Graph or the token service
# (_retries.TRANSIENT_STATUSES, the one transient set), and these codes.
# AADSTS90033: "A transient error has occurred"; temporarily_unavailable: RFC 6749 section 5.2.
TRANSIENT_CODES = ("RetriesExhausted", "RetryBudgetExhausted", "Timeout", "ConnectionError", "AADSTS90033",
                   "temporarily_unavailable")


def is_transient(error: GraphError) -> bool:
    """Throttling or an outage (of Graph or the token service) that outlasted one poll's retries."""
    return error.status in TRANSIENT_STATUSES or error.code in TRANSIENT_CODES


def connection_params(args: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The connection options from the source's arguments, else their environment variables (blank counts as
    unset), else the defaults (``api_version`` v1.0): the modules' own resolution, ``_options.resolve_unset_options``."""
    params, _secrets = resolve_unset_options(args, os.environ if environ is None else environ, {"api_version": DEFAULT_API_VERSION})
    return params


def build_client(args: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> GraphClient:
    """The Graph client of the source's arguments, checked like a module's connection (nothing is sent here)."""
    settings = ConnectionSettings.from_params(connection_params(args, environ)).validate()
    require_api(settings.cloud, "incidents")
    select_auth_method(settings)
    # The modules' own connection: one session, one retry policy for the token service and Graph (one budget).
    return connect(settings, warn=LOGGER.warning)


def renew_retry_budget(client: Any) -> None:
    """Give the next poll the whole ``retry_budget``: the budget bounds one poll's waiting, not the process's life."""
    policy = getattr(client, "retry", None)
    if policy is not None:
        policy.waited = 0.0


def _as_bool(value: Any, option: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise InputError(option, f"{value!r} is not a boolean; use true or false")


def _as_int(value: Any, option: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise InputError(option, f"{value!r} is not a whole number of seconds")


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class EventQueue(Protocol):
    """Where events go: ansible-rulebook's asyncio.Queue, or anything with an awaitable ``put``."""

    async def put(self, item: Any) -> None:
        """Queue one event."""


class IncidentsSource:
    """One activation's poll loop. ``client``, ``sleep``, ``clock`` (monotonic) and ``now`` (UTC) are injectable."""

    def __init__(self, queue: EventQueue, args: Mapping[str, Any], client: Any = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime.datetime] = _utc_now) -> None:
        self.queue = queue
        self.severities = incidents.normalize_enum_list("severity", args.get("severity"), "severity") or None
        self.statuses = incidents.normalize_enum_list("status", args.get("status"), "status") or None
        self.service_sources = incidents.normalize_enum_list("service_source", args.get("service_source"), "service_source") or None
        self.include_alerts = _as_bool(args.get("include_alerts", True), "include_alerts") or bool(self.service_sources)
        self.interval = _as_int(args.get("interval", 60), "interval")
        self.max_interval = _as_int(args.get("max_interval", 900), "max_interval")
        if self.interval < 1 or self.max_interval < self.interval:
            raise InputError(["interval", "max_interval"], "interval must be >= 1 and max_interval >= interval")
        self.state_file = args.get("state_file") or None
        self.sleep, self.clock, self.now = sleep, clock, now
        start = args.get("updated_since") or normalize_timestamp(now(), "updated_since")
        self.watermark = load_state(self.state_file, start, LOGGER.warning, now=now())
        self.client = client or build_client(args)

    def poll(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """One poll (blocking): ``(emit, absorb)``, see ``_event_position.plan_emission``."""
        renew_retry_budget(self.client)
        found = incidents.list_incidents(self.client, severities=self.severities, statuses=self.statuses,
                                         updated_since=self.watermark.since, expand_alerts=self.include_alerts,
                                         malformed=lambda message: LOGGER.warning("msgraph.security.incidents: %s", message))
        return plan_emission(found, self.watermark, self.service_sources)

    async def emit(self, chosen: list[dict[str, Any]], absorbed: Sequence[dict[str, Any]] = ()) -> None:
        """Remember the absorbed incidents (only our own write changed them), then queue each chosen one and save the
        position after it (at least once)."""
        for incident in absorbed:  # only our own write changed it: remembered, not emitted
            self.watermark.mark(incident)
        if absorbed:
            save_state(self.state_file, self.watermark)
        for incident in chosen:
            await self.queue.put({"incident": incident})
            # Saved after queueing: a crash in between emits the incident again after a restart, never loses it.
            self.watermark.mark(incident)
            save_state(self.state_file, self.watermark)

    async def run(self, polls: int | None = None) -> None:
        """Poll on a fixed period, ``polls`` times or until stopped."""
        delay = self.interval
        due = self.clock()
        done = 0
        while polls is None or done < polls:
            done += 1
            try:
                chosen, absorbed = await asyncio.get_running_loop().run_in_executor(None, self.poll)
            except GraphError as error:
                if not is_transient(error):
                    raise
                delay = min(delay * 2, self.max_interval)
                LOGGER.warning("msgraph.security.incidents: %s; next poll in %ss", redact(str(error)), delay)
            else:
                delay = self.interval
                await self.emit(chosen, absorbed)
            if polls is None or done < polls:
                due = self.next_due(due, delay)
                await self.sleep(max(0.0, due - self.clock()))

    def next_due(self, due: float, delay: float) -> float:
        """The next poll on the fixed grid (start + k * interval): ``delay`` after the last due time, or the next
        grid point if the poll overran it (no drift, no burst of catch-up polls)."""
        due += delay
        now = self.clock()
        if due < now:
            due += math.ceil((now - due) / self.interval) * self.interval
        return due


async def main(queue: EventQueue, args: dict[str, Any]) -> None:
    """ansible-rulebook's entry point."""
    source = IncidentsSource(queue, args)
    await source.run()


if __name__ == "__main__":
    # A manual run prints the events: python incidents.py '{"severity": ["high"]}'
    class _PrintQueue:
        async def put(self, item: Any) -> None:
            print(json.dumps(item))

    asyncio.run(main(_PrintQueue(), json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
