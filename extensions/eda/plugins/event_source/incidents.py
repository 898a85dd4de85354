# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
module: incidents
short_description: Event-Driven Ansible source of Microsoft Defender XDR incidents
description:
  - Polls C(GET /security/incidents) for incidents updated since a watermark and puts one event per new or changed
    incident on the queue, C({"incident": {...}}) with the incident as M(msgraph.security.incident_info) returns it
    (with its alerts and evidence when O(include_alerts=true)).
  - An incident update (its id and C(lastUpdateDateTime)) is emitted once. With O(state_file) the watermark survives a
    restart, so nothing is emitted twice; the file is written before the event is queued.
  - Authenticates like the modules, with the same option names and environment variables (C(AZURE_TENANT_ID),
    C(AZURE_CLIENT_ID), C(AZURE_CLIENT_SECRET), C(AZURE_CLIENT_CERTIFICATE_PATH), C(MSGRAPH_ENDPOINT),
    C(MSGRAPH_CA_PATH), ...), the same TLS and cloud rules, and the same retries (429 honours C(Retry-After)).
    When the retries of one poll are exhausted by throttling or an outage, the next poll waits twice as long, up to
    O(max_interval).
options:
  severity:
    description: Only incidents of these severities (server filter, re-checked locally).
    type: list
    elements: str
  status:
    description: Only incidents in these statuses.
    type: list
    elements: str
  service_source:
    description:
      - Only incidents with an alert from one of these services, for example V(microsoftDefenderForIdentity).
        Implies O(include_alerts).
    type: list
    elements: str
  include_alerts:
    description: Put the incident's alerts and evidence in the event (C($expand=alerts)).
    type: bool
    default: true
  updated_since:
    description: Start watermark (ISO 8601) when no state file holds one. Default is the time the source starts.
    type: str
  state_file:
    description: A JSON file keeping the watermark between restarts (created, mode 0600).
    type: path
  interval:
    description: Seconds between polls.
    type: int
    default: 60
  max_interval:
    description: Longest wait between polls while the service throttles or fails.
    type: int
    default: 900
  tenant_id:
    description: As the modules' O(msgraph.security.incident_info#module:tenant_id); every connection option of the
      modules is accepted under its name.
    type: str
"""

EXAMPLES = r"""
- name: Respond to high-severity identity incidents
  hosts: localhost
  sources:
    - msgraph.security.incidents:
        severity: [high]
        service_source: [microsoftDefenderForIdentity]
        state_file: /var/lib/eda/msgraph-incidents.json
        interval: 60
  rules:
    - name: Contain (dry run)
      condition: event.incident.severity == "high"
      action:
        run_playbook:
          name: msgraph.security.respond_to_incident
"""

import asyncio
import datetime
import json
import logging
import os
import sys
import tempfile


def _collections_root():
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
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import connect  # noqa: E402
from ansible_collections.msgraph.security.plugins.module_utils._options import (  # noqa: E402
    CONNECTION_OPTIONS,
    env_names,
    first_env_value,
    is_unset,
)

LOGGER = logging.getLogger(__name__)
DEFAULT_API_VERSION = "v1.0"
# Failures worth waiting out: throttling and outages (after the client's own retries).
TRANSIENT_STATUSES = (429, 500, 502, 503, 504)
TRANSIENT_CODES = ("RetriesExhausted", "RetryBudgetExhausted", "Timeout", "ConnectionError")


def connection_params(args, environ=None):
    """The connection options from the source's arguments, else their environment variables (blank counts as unset)."""
    environ = os.environ if environ is None else environ
    params = {}
    for name in CONNECTION_OPTIONS:
        value = args.get(name)
        params[name] = first_env_value(env_names(name), environ) if is_unset(value) else value
    if not params.get("api_version"):
        params["api_version"] = DEFAULT_API_VERSION
    return params


def build_client(args, environ=None):
    settings = ConnectionSettings.from_params(connection_params(args, environ)).validate()
    require_api(settings.cloud, "incidents")
    select_auth_method(settings)
    # The modules' own connection: one session, one retry policy for the token service and Graph (one budget).
    return connect(settings, warn=LOGGER.warning)


def load_state(path, default_since):
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return incidents.Watermark.from_dict(json.load(handle), default_since)
    return incidents.Watermark(default_since)


def save_state(path, watermark):
    """Atomically (temp file + rename), mode 0600."""
    if not path:
        return
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".msgraph-incidents-")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(watermark.to_dict(), stream)
    os.chmod(temp, 0o600)
    os.replace(temp, path)


class IncidentsSource:
    def __init__(self, queue, args, client=None, sleep=asyncio.sleep):
        self.queue = queue
        self.severities = incidents.normalize_enum_list("severity", args.get("severity"), "severity") or None
        self.statuses = incidents.normalize_enum_list("status", args.get("status"), "status") or None
        self.service_sources = incidents.normalize_enum_list("service_source", args.get("service_source"), "service_source") or None
        self.include_alerts = bool(args.get("include_alerts", True)) or bool(self.service_sources)
        self.interval = int(args.get("interval", 60))
        self.max_interval = int(args.get("max_interval", 900))
        if self.interval < 1 or self.max_interval < self.interval:
            raise InputError(["interval", "max_interval"], "interval must be >= 1 and max_interval >= interval")
        self.state_file = args.get("state_file")
        start = args.get("updated_since") or incidents.normalize_timestamp(_utc_now(), "updated_since")
        self.watermark = load_state(self.state_file, start)
        self.client = client or build_client(args)
        self.sleep = sleep

    def poll(self):
        """One poll (blocking): the incidents to emit, oldest update first."""
        found = incidents.list_incidents(self.client, severities=self.severities, statuses=self.statuses,
                                         updated_since=self.watermark.since, expand_alerts=self.include_alerts)
        return incidents.incidents_to_emit(found, self.watermark, self.service_sources)

    async def emit(self, chosen):
        for incident in chosen:
            self.watermark.mark(incident)
            save_state(self.state_file, self.watermark)  # before queueing: a restart never emits it again
            await self.queue.put({"incident": incident})

    async def run(self, polls=None):
        delay = self.interval
        done = 0
        while polls is None or done < polls:
            done += 1
            try:
                chosen = await asyncio.get_running_loop().run_in_executor(None, self.poll)
            except GraphError as error:
                if error.status not in TRANSIENT_STATUSES and error.code not in TRANSIENT_CODES:
                    raise
                delay = min(delay * 2, self.max_interval)
                LOGGER.warning("msgraph.security.incidents: %s; next poll in %ss", redact(str(error)), delay)
            else:
                delay = self.interval
                await self.emit(chosen)
            if polls is None or done < polls:
                await self.sleep(delay)


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


async def main(queue, args):
    """ansible-rulebook's entry point."""
    source = IncidentsSource(queue, args)
    await source.run()


if __name__ == "__main__":
    # A manual run prints the events: python incidents.py '{"severity": ["high"]}'
    class _PrintQueue:
        async def put(self, event):
            print(json.dumps(event))

    asyncio.run(main(_PrintQueue(), json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
