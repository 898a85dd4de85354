# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 5, shared by all (docs/architecture.md): the standard library and _errors only, no Ansible imports.

"""ISO 8601 times in, UTC out: what a playbook, a rulebook, a state file or the service gives as a time.

Accepted: ``2026-05-01T08:00:00Z``, a ``+02:00``/``-0500`` offset, a space instead of ``T``, minutes without
seconds, a bare date (midnight UTC), and any number of fraction digits (Graph sends seven; six are kept).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError

_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)
_UTC = datetime.timezone.utc


def _utc_datetime(value, option):
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_UTC)
        return moment.astimezone(_UTC)
    text = str(value or "").strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        text += "T00:00:00Z"
    found = _TIMESTAMP.match(text)
    if not found:
        raise InputError(option, f"{value!r} is not an ISO 8601 time; use e.g. 2026-05-01T08:00:00Z")
    day, clock, fraction, zone = found.groups()
    if len(clock) == 5:
        clock += ":00"
    zone = (zone or "Z").upper().replace(":", "")
    offset = datetime.timedelta(0)
    if zone != "Z":
        offset = datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (1 if zone[0] == "+" else -1)
    micro = int(((fraction or ".")[1:] + "000000")[:6])
    try:
        moment = datetime.datetime.strptime(day + "T" + clock, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise InputError(option, f"{value!r} is not a valid time")
    # The offset's zone is made after the date is checked: an invalid date is reported as such, whatever its offset.
    return moment.replace(microsecond=micro, tzinfo=datetime.timezone(offset)).astimezone(_UTC)


def normalize_timestamp(value: str | datetime.datetime, option: str) -> str:
    """An ISO 8601 time (``2026-05-01T08:00:00Z``, an offset, or a date) -> UTC ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    utc = _utc_datetime(value, option)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += (f".{utc.microsecond:06d}").rstrip("0")
    return text + "Z"


def parse_service_time(value: str | datetime.datetime | None) -> datetime.datetime | None:
    """A service timestamp (up to 7 fraction digits) as an aware UTC datetime, or None."""
    try:
        return _utc_datetime(value, "time")
    except InputError:
        return None
