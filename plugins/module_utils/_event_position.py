# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _timestamps, _token_cache (the private file rules) and the standard library. No Ansible imports.

"""Where the ``incidents`` event source stands: the watermark, what it has emitted, and the state file keeping both.

Decisions documented once, here (docs/eda.md, "Why it cannot loop"):

* **At least once.** The next poll asks for ``lastUpdateDateTime ge <watermark>``; an incident is recorded (and
  the state file saved) only after its event is queued, so a crash in between emits it again, never loses it.
* **Loop-proof.** An incident whose only change is the collection's own write (a new audit comment starting with
  :data:`OWN_COMMENT_PREFIX`, with the status and owner the runbook sets in the same task) is recorded, not emitted.
* **The state file** follows the token cache's rules (``_token_cache.ensure_private_directory``/``open_private``):
  a regular file of this user, mode 0600, in a 0700 directory; written atomically. A truncated or unreadable file
  is replaced, polling from its last save; a watermark in the future is refused.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import tempfile
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._timestamps import normalize_timestamp, parse_service_time
from ansible_collections.msgraph.security.plugins.module_utils._token_cache import ensure_private_directory, open_private

# The first line of every audit comment respond_to_incident writes (docs/eda.md, "Why it cannot loop").
OWN_COMMENT_PREFIX = "msgraph.security respond_to_incident"
# Incidents whose last emitted content is remembered (oldest update forgotten first): about 200 bytes each.
MAX_REMEMBERED = 10000
# How far ahead of this host's clock a stored watermark may be before it is refused (clock skew between hosts).
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
# Changed by the runbook's own write (the incident module PATCHes status/assignedTo in the task that posts the audit
# comment) and, in Defender, by an incident status change cascading to its alerts.
_WRITTEN_WITH_COMMENT = ("status", "assigned_to")
_ALERT_WRITTEN_WITH_COMMENT = ("status", "assigned_to", "resolved_date_time")
# Never a change of the incident's content: they move with every write, ours included.
_BOOKKEEPING = ("last_update_date_time", "last_modified_by")


def is_own_comment(comment: Any) -> bool:
    """A comment whose first line starts with the collection's audit marker (a parsed comment or its text)."""
    text = comment.get("comment") if isinstance(comment, dict) else comment
    return isinstance(text, str) and text.lstrip().startswith(OWN_COMMENT_PREFIX)


def _digest(value):
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def change_fingerprint(incident: Mapping[str, Any]) -> dict[str, Any]:
    """What tells a person's change from the collection's own write, for :meth:`Watermark.decide`.

    ``content``: a digest of everything but the bookkeeping times, the collection's own comments and what its
    runbook writes together with its comment (incident status/assignedTo and the alerts' status/assignedTo/
    resolvedDateTime, digested as ``written``, kept for diagnostics); ``own_comments``: how many of the
    collection's comments the incident (and its alerts) carry.
    """
    content, written, own = {}, {}, 0
    for key, value in incident.items():
        if key in _BOOKKEEPING:
            continue
        if key in _WRITTEN_WITH_COMMENT:
            written[key] = value
        elif key == "comments":
            own += sum(1 for item in value or [] if is_own_comment(item))
            content[key] = [item for item in value or [] if not is_own_comment(item)]
        elif key == "alerts":
            content[key], written[key] = [], []
            for alert in value or []:
                alert = alert if isinstance(alert, dict) else {"value": alert}
                comments = alert.get("comments") or []
                own += sum(1 for item in comments if is_own_comment(item))
                content[key].append(dict(((name, item) for name, item in alert.items()
                                          if name not in _ALERT_WRITTEN_WITH_COMMENT + _BOOKKEEPING + ("comments",)),
                                         comments=[item for item in comments if not is_own_comment(item)]))
                written[key].append([alert.get(name) for name in _ALERT_WRITTEN_WITH_COMMENT])
        else:
            content[key] = value
    return {"content": _digest(content), "written": _digest(written), "own_comments": own}


class Watermark:
    """What the event source has emitted: the newest ``lastUpdateDateTime`` and, per incident, the update and
    content last seen.

    The next poll asks for ``lastUpdateDateTime ge <watermark>`` (``ge``, not ``gt``: two incidents may share the
    newest time and one of them may arrive after the poll). :meth:`decide` tells a new or changed incident from
    one already emitted and from one whose only change is the collection's own write. ``to_dict``/``from_dict``
    persist it between restarts (version 1 files, without content, are read: their incidents count as changed).
    """

    def __init__(self, since: str | datetime.datetime, emitted: Mapping[str, Any] | None = None) -> None:
        self.since = normalize_timestamp(since, "updated_since")
        self.emitted = {}  # incident id -> {"updated", "content", "written", "own_comments"}
        for key, record in (emitted or {}).items():
            record = {"updated": record} if isinstance(record, str) else record
            if isinstance(record, dict) and isinstance(record.get("updated"), str):
                self.emitted[str(key)] = dict(record)

    @classmethod
    def from_dict(cls, data: Any, default_since: str | datetime.datetime) -> Watermark:
        """A watermark from a state file's content; without one (or without ``since``) it starts at ``default_since``."""
        if not isinstance(data, dict) or not data.get("since"):
            return cls(default_since)
        emitted = data.get("emitted")
        return cls(data["since"], emitted if isinstance(emitted, dict) else None)

    def to_dict(self) -> dict[str, Any]:
        """The state file's content (version 2)."""
        return {"version": 2, "since": self.since, "emitted": dict(self.emitted)}

    def decide(self, incident: Mapping[str, Any]) -> str:
        """``new`` (never emitted, or a change a person or Defender made), ``seen`` (this update was already
        handled) or ``own_write`` (a new audit comment of the collection is the only change, besides the status
        and owner its runbook sets in the same task)."""
        record = self.emitted.get(str(incident.get("id")))
        if record is None:
            return "new"
        if parse_service_time(record["updated"]) == parse_service_time(incident.get("last_update_date_time")):
            return "seen"
        if "content" not in record:
            return "new"
        now = change_fingerprint(incident)
        if now["content"] != record["content"]:
            return "new"
        # Our write always shows as a new audit comment; without one, a status/owner change (or a change nothing
        # shows) is someone else's and is emitted.
        return "own_write" if now["own_comments"] > int(record.get("own_comments") or 0) else "new"

    def is_new(self, incident: Mapping[str, Any]) -> bool:
        """Whether :meth:`decide` says ``new``."""
        return self.decide(incident) == "new"

    def mark(self, incident: Mapping[str, Any]) -> None:
        """Record ``incident`` as handled (emitted, or absorbed as our own write) and move the watermark up."""
        updated = incident.get("last_update_date_time")
        moment = parse_service_time(updated)
        if moment is None:
            return
        incident_id = str(incident.get("id"))
        self.emitted.pop(incident_id, None)
        self.emitted[incident_id] = dict(change_fingerprint(incident), updated=updated)
        since = parse_service_time(self.since)  # self.since is always a normalized time: never None
        if since is None or moment > since:
            self.since = normalize_timestamp(moment, "since")
        if len(self.emitted) > MAX_REMEMBERED:
            oldest = sorted(self.emitted, key=lambda key: parse_service_time(self.emitted[key]["updated"]) or moment)
            for key in oldest[:len(self.emitted) - MAX_REMEMBERED]:
                del self.emitted[key]

    def refuse_future(self, now: datetime.datetime, fallback: str | datetime.datetime) -> str | None:
        """A watermark later than ``now`` (beyond clock skew) would hide every incident until then: it is replaced
        by ``fallback`` (the time of the file's last save, or the start time) and the warning is returned."""
        since = parse_service_time(self.since)
        if since is None or since <= now + FUTURE_TOLERANCE:
            return None
        planted = self.since
        self.since = normalize_timestamp(fallback, "since")
        return (f"the state file's watermark {planted} is in the future (this host's clock says {normalize_timestamp(now, 'now')}); "
                f"it was refused and polling starts from {self.since}")


def plan_emission(incidents: Iterable[dict[str, Any]], watermark: Watermark,
                  service_sources: list[str] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(emit, absorb)``: the new or changed incidents (optionally only those with an alert from
    ``service_sources``) and those whose only change is the collection's own write (recorded, never emitted);
    each oldest update first."""
    emit, absorb = [], []
    for incident in incidents:
        verdict = watermark.decide(incident)
        if verdict == "own_write":
            absorb.append(incident)
        elif verdict == "new" and not (service_sources and not any(
                alert.get("service_source") in service_sources for alert in incident.get("alerts") or [])):
            emit.append(incident)
    return _oldest_first(emit), _oldest_first(absorb)


def incidents_to_emit(incidents: Iterable[dict[str, Any]], watermark: Watermark, service_sources: list[str] | None = None) -> list[dict[str, Any]]:
    """The new or changed incidents, oldest update first (see :func:`plan_emission`)."""
    return plan_emission(incidents, watermark, service_sources)[0]


def _oldest_first(items):
    return sorted(items, key=lambda item: (parse_service_time(item.get("last_update_date_time")) or parse_service_time("1970-01-01"),
                                           str(item.get("id"))))


# ---------------------------------------------------------------------------------------------
# The state file (the token cache's rules: _token_cache.ensure_private_directory / open_private)
# ---------------------------------------------------------------------------------------------

# The event source's argument that names the state file, for the errors of the private file checks.
STATE_OPTION = "state_file"


def load_state(path: str | None, default_since: str, warn: Callable[[str], None], now: datetime.datetime | None = None) -> Watermark:
    """The saved watermark, or one at ``default_since``. Refuses (InputError) a symlink, another user's file or one
    with loose permissions, and such a directory. A truncated or unreadable file, or a watermark in the future, is
    replaced with a warning: polling starts at the file's last save (no later update is lost)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if not path:
        return Watermark(default_since)
    path = os.path.abspath(os.path.expanduser(path))
    ensure_private_directory(os.path.dirname(path), option=STATE_OPTION)
    try:
        fd = open_private(path, os.O_RDONLY, option=STATE_OPTION)
    except FileNotFoundError:
        return Watermark(default_since)
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as handle:
        saved_at = datetime.datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, datetime.timezone.utc)
        text = handle.read()
    last_save = min(saved_at, now)
    try:
        data = json.loads(text)
        watermark = Watermark(data["since"], data.get("emitted") if isinstance(data.get("emitted"), dict) else None)
    except (ValueError, TypeError, KeyError, InputError) as exc:
        watermark = Watermark(last_save)
        warn(f"msgraph.security.incidents: the state file {path} is unreadable ({type(exc).__name__}: {str(exc)[:120]}); "
             f"polling starts from its last save, {watermark.since} (an incident may be emitted again, none is lost)")
        return watermark
    refused = watermark.refuse_future(now, last_save)
    if refused:
        message = f"msgraph.security.incidents: {path}: {refused}"
        warn(message)
    return watermark


def save_state(path: str | None, watermark: Watermark) -> None:
    """Atomically (a 0600 temporary file in the 0700 directory, renamed over the file; a symlink there is replaced,
    never followed)."""
    if not path:
        return
    path = os.path.abspath(os.path.expanduser(path))
    folder = ensure_private_directory(os.path.dirname(path), option=STATE_OPTION)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".msgraph-incidents-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(watermark.to_dict(), stream, separators=(",", ":"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
