# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: msal, the standard library and _errors only. No Ansible imports.

"""The opt-in persistent MSAL token cache (``token_cache_dir``).

One JSON file per (authority, client id, auth method), named by the SHA-256 of the three, mode ``0600`` in a
directory of mode ``0700``. It holds MSAL's ``SerializableTokenCache`` and the successful discovery responses
of MSAL's ``http_cache``, so a new process with a valid token makes no request to the token service at all.

Parallel processes (forks, several playbooks) share a file safely: every read and every read-modify-write
happens under ``fcntl.flock`` on a lock file next to it, and writes go to a temporary file that replaces the
cache file atomically. The file is written back only when MSAL changed something.

The format is JSON on purpose: loading a pickle from a shared directory would execute code, JSON cannot.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError

try:
    import msal

    _CacheBase = msal.SerializableTokenCache
except ImportError:  # the module reports the missing library before it gets here
    msal = None
    _CacheBase = object

OPTION = "token_cache_dir"
FORMAT_VERSION = 1
# msal's _ExpiringMapping keeps (heap of [expires_at, created_at, key], {key: [expires_at, created_at]})
# under this key of the http_cache mapping; the file stores plain entries and rebuilds it.
_HTTP_INDEX = "_index_"
_LOOSE_BITS = stat.S_IRWXG | stat.S_IRWXO


def cache_file_name(authority, client_id, auth_method):
    """``<sha256>.json``: one file per authority, client and auth method, named without revealing them."""
    identity = "\n".join(str(part or "").lower() for part in (authority, client_id, auth_method))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest() + ".json"


# --- permissions ---------------------------------------------------------------------------------

def _refuse(path, problem, fix):
    return InputError(OPTION, "refusing to use %s: %s; %s" % (path, problem, fix))


def _check_private(path, info, kind):
    """Owned by this user and not accessible to group or others (tokens are bearer credentials)."""
    if info.st_uid != os.geteuid():
        raise _refuse(path, "the %s is owned by uid %d, not by this user (uid %d)" % (kind, info.st_uid, os.geteuid()),
                      "give the module a %s of its own" % kind)
    if stat.S_IMODE(info.st_mode) & _LOOSE_BITS:
        mode = "0700" if kind == "directory" else "0600"
        raise _refuse(path, "the %s is accessible by group or others (mode %04o)" % (kind, stat.S_IMODE(info.st_mode)),
                      "run chmod %s %s" % (mode, path))


def ensure_private_directory(path):
    """Create ``path`` with mode 0700 if missing; refuse one that is not a private directory of this user."""
    if not path or not str(path).strip():
        raise InputError(OPTION, "must be a directory path")
    path = os.path.abspath(os.path.expanduser(str(path)))
    if not os.path.exists(path):
        try:
            os.makedirs(path, 0o700)
            os.chmod(path, 0o700)  # makedirs' mode is filtered by the umask: set it exactly
        except OSError as exc:
            if not os.path.isdir(path):  # another process may have created it meanwhile
                raise InputError(OPTION, "cannot create the token cache directory %s: %s" % (path, exc.strerror or exc))
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(path, "it is not a directory", "point token_cache_dir at a directory")
    _check_private(path, info, "directory")
    return path


def _open_private(path, flags):
    """Open without following symlinks, create with 0600, and check what was opened."""
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, "it is not a regular file", "remove it")
        _check_private(path, info, "file")
    except Exception:
        os.close(fd)
        raise
    return fd


# --- msal's http_cache ---------------------------------------------------------------------------

class _StoredResponse(object):
    """The fields MSAL reads from a cached discovery response."""

    def __init__(self, status_code, text, headers):
        self.status_code = status_code
        self.text = text
        self.headers = headers

    def raise_for_status(self):
        if self.status_code >= 400:
            raise ValueError("HTTP Error: %s" % self.status_code)


class HttpCache(dict):
    """The ``http_cache`` mapping given to MSAL; remembers whether MSAL wrote to it.

    Only successful GETs (tenant and instance discovery) are persisted: cached token errors and throttling
    answers stay in memory, so fixing a credential takes effect on the next run.
    """

    def __init__(self, *args, **kwargs):
        super(HttpCache, self).__init__(*args, **kwargs)
        self.changed = False

    def __setitem__(self, key, value):
        super(HttpCache, self).__setitem__(key, value)
        self.changed = True

    def __delitem__(self, key):
        super(HttpCache, self).__delitem__(key)
        self.changed = True

    def pop(self, key, *default):
        self.changed = self.changed or key in self
        return super(HttpCache, self).pop(key, *default)

    def to_entries(self, now=None):
        """JSON-safe entries: successful, unexpired GET responses with their expiry."""
        now = int(time.time()) if now is None else now
        index = self.get(_HTTP_INDEX)
        timestamps = index[1] if isinstance(index, (list, tuple)) and len(index) == 2 else {}
        entries = []
        for key, times in timestamps.items():
            response = self.get(key)
            expires_at, created_at = times
            if not str(key).startswith("GET ") or response is None or expires_at <= now:
                continue
            status = getattr(response, "status_code", 0)
            if not 200 <= status < 300:
                continue
            entries.append({"key": key, "expires_at": int(expires_at), "created_at": int(created_at), "status_code": status,
                            "text": response.text, "headers": dict(getattr(response, "headers", None) or {})})
        return entries

    @classmethod
    def from_entries(cls, entries, now=None):
        """The mapping MSAL expects, rebuilt from :meth:`to_entries` (expired entries dropped)."""
        now = int(time.time()) if now is None else now
        cache = cls()
        sequence, timestamps = [], {}
        for entry in entries or []:
            try:
                key, expires_at, created_at = entry["key"], int(entry["expires_at"]), int(entry["created_at"])
                response = _StoredResponse(int(entry["status_code"]), entry["text"], dict(entry.get("headers") or {}))
            except (KeyError, TypeError, ValueError):
                continue
            if not str(key).startswith("GET ") or not created_at <= now < expires_at:
                continue
            dict.__setitem__(cache, key, response)
            sequence.append([expires_at, created_at, key])
            timestamps[key] = [expires_at, created_at]
        if timestamps:
            sequence.sort()  # a sorted list is a valid heap
            dict.__setitem__(cache, _HTTP_INDEX, (sequence, timestamps))
        return cache

    def merge_entries(self, stored, now=None):
        """Entries for the file: those on disk, overlaid with ours (ours are at least as fresh)."""
        merged = dict((entry["key"], entry) for entry in stored or [] if isinstance(entry, dict) and "key" in entry)
        for entry in self.to_entries(now):
            merged[entry["key"]] = entry
        now = int(time.time()) if now is None else now
        return [entry for entry in merged.values() if int(entry.get("expires_at", 0)) > now]


# --- the token cache -----------------------------------------------------------------------------

class PersistentTokenCache(_CacheBase):
    """An ``msal.SerializableTokenCache`` backed by one file; :meth:`load` it, MSAL uses it, then
    :meth:`save_if_changed`. ``http_cache`` is the mapping to give MSAL as ``http_cache=``.
    ``warn(message)``: where problems that do not stop the task go (an unreadable file, a failed write).
    """

    def __init__(self, directory, authority, client_id, auth_method, warn=None):
        if msal is None:
            raise RuntimeError("the Python library msal is required for token_cache_dir")
        super(PersistentTokenCache, self).__init__()
        self.directory = ensure_private_directory(directory)
        self.path = os.path.join(self.directory, cache_file_name(authority, client_id, auth_method))
        self.lock_path = self.path + ".lock"
        self.http_cache = HttpCache()
        self.warn = warn
        self.writes = 0  # how many times this process wrote the file (tests, diagnostics)
        self._base = {}  # the sections as last read or written: what "we changed" is measured against

    # file access ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, exclusive):
        fd = _open_private(self.lock_path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self):
        """The file's content as a dict; {} when there is none or it cannot be understood."""
        try:
            fd = _open_private(self.path, os.O_RDONLY)
        except OSError as exc:
            if not os.path.exists(self.path):
                return {}
            raise InputError(OPTION, "cannot read the token cache file %s: %s" % (self.path, exc.strerror or exc))
        with os.fdopen(fd, "r") as handle:
            text = handle.read()
        try:
            content = json.loads(text) if text.strip() else {}
        except ValueError:
            content = None
        if not isinstance(content, dict) or content.get("version", FORMAT_VERSION) != FORMAT_VERSION:
            self._warn("the token cache file %s is not in a format this collection reads; it will be replaced" % self.path)
            return {}
        return content

    def _write(self, content):
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")  # created 0600
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(content, handle, separators=(",", ":"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)  # readers see the old file or the new one, never half of one
        except Exception:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        self.writes += 1

    def _warn(self, message):
        if self.warn is not None:
            self.warn(message)

    # public -----------------------------------------------------------------------------------
    def load(self):
        """Read the file (under a shared lock) into this cache and its http_cache."""
        with self._locked(exclusive=False):
            content = self._read()
        sections = content.get("token_cache") if isinstance(content.get("token_cache"), dict) else {}
        self.deserialize(json.dumps(sections))
        self._base = sections
        self.http_cache = HttpCache.from_entries(content.get("http_cache"))
        return self

    @property
    def changed(self):
        return bool(self.has_state_changed or self.http_cache.changed)

    def save_if_changed(self):
        """Write back (read-modify-write under an exclusive lock) only when MSAL changed the cache."""
        if not self.changed:
            return False
        try:
            with self._locked(exclusive=True):
                stored = self._read()
                ours = json.loads(self.serialize())  # serialize() also clears has_state_changed
                content = {
                    "version": FORMAT_VERSION,
                    "token_cache": _merge_sections(stored.get("token_cache"), ours, self._base),
                    "http_cache": self.http_cache.merge_entries(stored.get("http_cache")),
                }
                self._write(content)
        except (IOError, OSError) as exc:
            # The action matters more than the cache: carry on, the next run asks for a token again.
            self._warn("could not write the token cache file %s: %s" % (self.path, getattr(exc, "strerror", None) or exc))
            return False
        self.http_cache.changed = False
        # Our own state is the new base. Not the merged file: entries only another process has are not ours to
        # remove on a later save.
        self._base = ours
        return True


def _merge_sections(stored, ours, base):
    """A three-way merge of MSAL's cache sections (``base``: what this process read).

    Only what this process changed is applied to the file's current content: entries it added or modified
    win, entries it removed go (unless another process changed them meanwhile), everything else on disk stays.
    Overlaying all of ``ours`` would put back tokens another process has replaced since we read the file.
    """
    merged = dict((name, dict(entries)) for name, entries in (stored or {}).items() if isinstance(entries, dict))
    for name in set(ours) | set(base):
        mine, before = ours.get(name) or {}, base.get(name) or {}
        section = merged.setdefault(name, {})
        for key, value in mine.items():
            if before.get(key) != value:
                section[key] = value
        for key, value in before.items():
            if key not in mine and section.get(key) == value:
                section.pop(key)  # e.g. a token MSAL dropped after Graph rejected it
    return merged


def open_token_cache(directory, authority, client_id, auth_method, warn=None):
    """A loaded :class:`PersistentTokenCache`. :class:`InputError` (``token_cache_dir``) for unsafe permissions."""
    return PersistentTokenCache(directory, authority, client_id, auth_method, warn=warn).load()
