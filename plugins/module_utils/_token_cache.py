# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: msal, the standard library and _errors only. No Ansible imports.

"""The opt-in persistent MSAL token cache (``token_cache_dir``).

One JSON file per (authority, client id, auth method, credential fingerprint), named by the SHA-256 of the four,
mode ``0600`` in a directory of mode ``0700`` (parents created ``0700`` too, whatever the umask). The fingerprint is
a SHA-256 of the credential (never the credential itself): a rotated secret or certificate opens another file, so a
token obtained with the old one is never handed out again.

It holds what MSAL's public ``SerializableTokenCache.serialize()`` gives, nothing of MSAL's private in-memory
layout, and the token service's answers to MSAL's discovery GETs (:class:`DiscoveryAnswers`: URL, status, body,
headers, kept 24 hours as MSAL keeps them in memory), so K tasks make one discovery request. They are stored by the
HTTP client MSAL is given (``_retries.RetryingHttpClient``), not through MSAL's ``http_cache``: that mapping holds
MSAL's own response objects and index, which only ``pickle`` persists. A file that is valid JSON of another shape
counts as empty, with a warning, and is replaced at the next write.

Parallel processes (forks, several playbooks) share a file safely: every read and every read-modify-write
happens under ``fcntl.flock`` on a lock file next to it, and writes go to a temporary file that replaces the
cache file atomically. The file is written back only when MSAL changed something. A symlink planted at the file
or the lock, or a file or directory of another user or with group/other bits, is refused with a clear error.

The format is JSON on purpose: loading a pickle from a shared directory would execute code, JSON cannot.
Why not ``msal-extensions``: see docs/architecture.md ("Token cache").
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError

try:
    import msal

    _CacheBase: Any = msal.SerializableTokenCache  # Any: msal has no type hints, and the fallback is object
except ImportError:  # the module reports the missing library before it gets here
    msal = None
    _CacheBase = object

OPTION = "token_cache_dir"
FORMAT_VERSION = 2  # 1 also stored MSAL's http_cache layout; such files are replaced
_LOOSE_BITS = stat.S_IRWXG | stat.S_IRWXO
_FINGERPRINT_CONTEXT = b"msgraph.security token cache credential v1\0"
DISCOVERY_SECONDS = 24 * 3600  # MSAL keeps a discovery answer this long in memory (ThrottledHttpClient)


def credential_fingerprint(credential: str | bytes | None) -> str:
    """A SHA-256 of the credential (text or bytes) for the cache key; '' for none. Never the credential itself."""
    if credential is None or credential == "":
        return ""
    data = credential if isinstance(credential, bytes) else str(credential).encode("utf-8")
    return hashlib.sha256(_FINGERPRINT_CONTEXT + data).hexdigest()


def cache_file_name(authority: str, client_id: str, auth_method: str, fingerprint: str = "") -> str:
    """``<sha256>.json``: one file per authority, client, auth method and credential, named without revealing them."""
    identity = "\n".join(str(part or "").lower() for part in (authority, client_id, auth_method, fingerprint))
    return hashlib.sha256(identity.encode("utf-8")).hexdigest() + ".json"


# --- permissions ---------------------------------------------------------------------------------

def _refuse(path, problem, fix, option=OPTION):
    return InputError(option, f"refusing to use {path}: {problem}; {fix}")


def _check_private(path, info, kind, option=OPTION):
    """Owned by this user and not accessible to group or others (tokens are bearer credentials)."""
    if info.st_uid != os.geteuid():
        raise _refuse(path, f"the {kind} is owned by uid {info.st_uid}, not by this user (uid {os.geteuid()})",
                      f"give the module a {kind} of its own", option)
    if stat.S_IMODE(info.st_mode) & _LOOSE_BITS:
        mode = "0700" if kind == "directory" else "0600"
        raise _refuse(path, f"the {kind} is accessible by group or others (mode {stat.S_IMODE(info.st_mode):04o})",
                      f"run chmod {mode} {path}", option)


def _make_private_directories(path):
    """Create ``path`` and its missing parents, each exactly 0700: ``os.makedirs`` applies its mode to the leaf only,
    and the umask to every directory."""
    missing = []
    current = path
    while not os.path.exists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except OSError as exc:
            if exc.errno != errno.EEXIST:  # another process may have created it meanwhile
                raise
            continue
        os.chmod(directory, 0o700)


def ensure_private_directory(path: str, option: str = OPTION) -> str:
    """Create ``path`` with mode 0700 if missing; refuse one that is not a private directory of this user.
    ``option``: the option named in errors (the event source's ``state_file`` shares these rules)."""
    if not path or not str(path).strip():
        raise InputError(option, "must be a directory path")
    path = os.path.abspath(os.path.expanduser(str(path)))
    try:
        _make_private_directories(path)
    except OSError as exc:
        raise InputError(option, f"cannot create the directory {path}: {exc.strerror or exc}")
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise _refuse(path, "it is a symbolic link", f"point {option} at the real directory", option)
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse(path, "it is not a directory", f"point {option} at a directory", option)
    _check_private(path, info, "directory", option)
    return path


def open_private(path: str, flags: int, option: str = OPTION) -> int:
    """Open without following symlinks, create with 0600, and check what was opened.

    :class:`InputError` for a symlink, a non-regular file, or a file of another user or with loose permissions;
    ``OSError`` (e.g. ENOENT) otherwise.
    """
    try:
        fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) or os.path.islink(path):
            raise _refuse(path, "it is a symbolic link (possibly planted to redirect the file)", "remove it", option)
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _refuse(path, "it is not a regular file", "remove it", option)
        _check_private(path, info, "file", option)
    except Exception:
        os.close(fd)
        raise
    return fd


# --- the token cache -----------------------------------------------------------------------------

class PersistentTokenCache(_CacheBase):
    """An ``msal.SerializableTokenCache`` backed by one file; :meth:`load` it, MSAL uses it, then
    :meth:`save_if_changed`. ``fingerprint``: :func:`credential_fingerprint` of the credential in use.
    ``warn(message)``: where problems that do not stop the task go (an unreadable file, a failed write).
    """

    def __init__(self, directory: str, authority: str, client_id: str, auth_method: str, warn: Callable[[str], None] | None = None,
                 fingerprint: str = "") -> None:
        if msal is None:
            raise RuntimeError("the Python library msal is required for token_cache_dir")
        super().__init__()
        self.directory = ensure_private_directory(directory)
        self.path = os.path.join(self.directory, cache_file_name(authority, client_id, auth_method, fingerprint))
        self.lock_path = self.path + ".lock"
        self.warn = warn
        self.writes = 0  # how many times this process wrote the file (tests, diagnostics)
        self._base: dict[str, Any] = {}  # the sections as last read or written: what "we changed" is measured against
        self.discovery = DiscoveryAnswers()

    # file access ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, exclusive):
        fd = open_private(self.lock_path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read(self, quiet=False):
        """The file's content as a dict; {} when there is none or it cannot be understood (with a warning unless
        ``quiet``: the write-back reads the file again, and one warning per task is enough)."""
        warn = (lambda message: None) if quiet else self._warn
        try:
            fd = open_private(self.path, os.O_RDONLY)
        except OSError as exc:
            if not os.path.exists(self.path):
                return {}
            raise InputError(OPTION, f"cannot read the token cache file {self.path}: {exc.strerror or exc}")
        with os.fdopen(fd, "r") as handle:
            text = handle.read()
        try:
            content = json.loads(text) if text.strip() else {}
        except ValueError:
            content = None
        if not isinstance(content, dict) or content.get("version") != FORMAT_VERSION:
            warn(f"the token cache file {self.path} is not in a format this collection reads; it will be replaced")
            return {}
        problem = _shape_problem(content)
        if problem:
            warn(f"the token cache file {self.path} is valid JSON but not in the shape this collection writes ({problem}); "
                 "it is treated as empty and will be replaced")
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
    def load(self) -> PersistentTokenCache:
        """Read the file (under a shared lock) into this cache."""
        with self._locked(exclusive=False):
            content = self._read()
        sections = content.get("token_cache") if isinstance(content.get("token_cache"), dict) else {}
        self.deserialize(json.dumps(sections))
        self._base = sections
        self.discovery = DiscoveryAnswers(content.get("discovery"))
        return self

    @property
    def changed(self) -> bool:
        """Whether MSAL's tokens or the stored discovery answers changed since the file was read."""
        return bool(self.has_state_changed) or self.discovery.changed

    def save_if_changed(self) -> bool:
        """Write back (read-modify-write under an exclusive lock) only when MSAL changed the cache."""
        if not self.changed:
            return False
        try:
            with self._locked(exclusive=True):
                stored = self._read(quiet=True)
                ours = json.loads(self.serialize())  # serialize() also clears has_state_changed
                content = {
                    "version": FORMAT_VERSION,
                    "token_cache": _merge_sections(stored.get("token_cache"), ours, self._base),
                    "discovery": self.discovery.merged_into(stored.get("discovery")),
                }
                self._write(content)
                self.discovery.changed = False
        except (IOError, OSError) as exc:
            # The action matters more than the cache: carry on, the next run asks for a token again.
            self._warn(f"could not write the token cache file {self.path}: {getattr(exc, 'strerror', None) or exc}")
            return False
        # Our own state is the new base. Not the merged file: entries only another process has are not ours to
        # remove on a later save.
        self._base = ours
        return True


class DiscoveryAnswers:
    """The token service's 2xx answers to GETs (MSAL's discovery), by URL and query, until they expire.

    ``stored_answer``/``store_answer`` are what ``_retries.RetryingHttpClient`` calls; ``entries`` is what the file keeps.
    """

    def __init__(self, entries: Mapping[str, Any] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.entries = dict(entries or {})
        self.clock = clock
        self.changed = False

    @staticmethod
    def key(url: str, params: Mapping[str, Any] | None) -> str:
        """The stored answer's key: the URL with its query parameters in sorted order."""
        return url if not params else f"{url}?{urlencode(sorted(dict(params).items()))}"

    def stored_answer(self, url: str, params: Mapping[str, Any] | None = None) -> tuple[int, str, dict[str, str]] | None:
        """``(status, text, headers)`` of the stored answer, or None when there is none or it expired."""
        entry = self.entries.get(self.key(url, params))
        if entry is None or entry["expires_at"] <= self.clock():
            return None
        return entry["status"], entry["text"], entry["headers"]

    def store_answer(self, url: str, params: Mapping[str, Any] | None, response: Any) -> None:
        """Keep ``response`` (status, text, headers) for ``url`` and ``params`` until it expires."""
        self.entries[self.key(url, params)] = {"status": int(response.status_code), "text": response.text,
                                               "headers": dict((str(k), str(v)) for k, v in dict(response.headers).items()),
                                               "expires_at": self.clock() + DISCOVERY_SECONDS}
        self.changed = True

    def merged_into(self, stored: Mapping[str, Any] | None) -> dict[str, Any]:
        """The file's answers that are still fresh, with ours on top."""
        now = self.clock()
        merged = dict((key, entry) for key, entry in (stored or {}).items() if entry["expires_at"] > now)
        merged.update(self.entries)
        return merged


def _shape_problem(content):
    """What is wrong with the shape of a parsed cache file of the right version, or None."""
    sections = content.get("token_cache", {})
    if not isinstance(sections, dict):
        return "token_cache is not an object"
    for name, entries in sections.items():
        if not isinstance(entries, dict) or not all(isinstance(entry, dict) for entry in entries.values()):
            return f"token_cache.{name} is not an object of objects"
    answers = content.get("discovery", {})
    if not isinstance(answers, dict):
        return "discovery is not an object"
    for key, entry in answers.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("status"), int) and isinstance(entry.get("text"), str)
                and isinstance(entry.get("headers"), dict) and isinstance(entry.get("expires_at"), (int, float))):
            return f"discovery entry {key!r} is not a stored answer"
    return None


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


def open_token_cache(directory: str, authority: str, client_id: str, auth_method: str, warn: Callable[[str], None] | None = None,
                     fingerprint: str = "") -> PersistentTokenCache:
    """A loaded :class:`PersistentTokenCache`. :class:`InputError` (``token_cache_dir``) for unsafe permissions."""
    return PersistentTokenCache(directory, authority, client_id, auth_method, warn=warn, fingerprint=fingerprint).load()
