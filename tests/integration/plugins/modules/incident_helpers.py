# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed's incidents as the incident, incident_info and alert_info tests use them, and their plays (as the
incident responder unless a test names another client)."""

from __future__ import annotations

import functools

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import play_tasks

CLIENT = "incident_responder"
IDENTITY_INCIDENT = "4711"
DOC_INCIDENT = "2972395"

play = functools.partial(play_tasks, client=CLIENT)


def stored(emulator, incident_id):
    """The incident as the emulator stores it (Graph's camelCase names)."""
    return next(item for item in emulator.admin.incidents()["incidents"] if item["id"] == incident_id)
