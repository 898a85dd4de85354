# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Who is protected: the protected_accounts entries and protected_account_patterns, in one home.

Layer 2 (see docs/architecture.md): no Ansible imports, no requests. The modules that act on an account
(identity_account_action, one target or a bulk task, and the Entra ID user actions) refuse with
ProtectedAccounts.check; the runbooks' containment planner (_containment) skips with ProtectedAccounts.reason, which
also applies the patterns. Both compare only keys an account cannot change about itself (ids, user principal name,
e-mail address, SIDs, account identifiers), never its display name.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from typing import Any, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import match_key, require_text


def _identity_keys(identity):
    """What protected_accounts entries and patterns are compared with: ids, UPN, e-mail address, SIDs and account
    identifiers; an account cannot set any of them itself (its display name it may, so never that)."""
    keys = [
        identity.get("id"),
        identity.get("user_principal_name"),
        identity.get("email_address"),
        identity.get("on_premises_security_identifier"),
        identity.get("cloud_security_identifier"),
    ]
    keys.extend(account.get("identifier") for account in identity.get("accounts") or [])
    return [key for key in keys if isinstance(key, str) and key]


# No compared key contains a space or a backslash: such an entry (a display name, DOMAIN\sam) can never match.
_NEVER_A_KEY = re.compile(r"[\s\\]")


def _compile_patterns(patterns, option):
    """Regular expressions, as a list or one per line (a comma may be part of a pattern, so lines only)."""
    if isinstance(patterns, str):
        patterns = patterns.split("\n")
    compiled = []
    for pattern in patterns or []:
        pattern = str(pattern).strip() if pattern is not None else ""
        if not pattern:
            continue
        try:
            compiled.append((pattern, re.compile(pattern, re.IGNORECASE)))
        except re.error as error:
            raise InputError(option, f"'{pattern}' is not a valid regular expression: {error}")
    return compiled


class ProtectedAccounts:
    """The one home of "who is protected": the protected_accounts entries and patterns, compared only with keys an
    account cannot change about itself (see _identity_keys), never with its display name."""

    def __init__(self, entries: Iterable[str] | None = None, option: str = "protected_accounts",
                 patterns: Iterable[str] | str | None = None, patterns_option: str = "protected_account_patterns") -> None:
        self.option = option
        self.entries = [require_text(entry, option, "each protected_accounts entry") for entry in entries or []]
        self._by_key = dict((match_key(entry), entry) for entry in self.entries)
        self.patterns_option = patterns_option
        self.patterns = _compile_patterns(patterns, patterns_option)

    def unmatchable(self) -> list[str]:
        """Entries that no compared key can ever equal, so they protect nothing."""
        return [entry for entry in self.entries if _NEVER_A_KEY.search(entry)]

    def warnings(self) -> list[str]:
        """What in the entries or patterns can protect nothing (a display name, a DOMAIN\\sam name, a space)."""
        found = []
        unmatchable = self.unmatchable()
        if unmatchable:
            listed = ", ".join(f"'{entry}'" for entry in unmatchable)
            found.append(f"protected_accounts entries {listed} can never match: entries are compared whole with identity and account ids, "
                         "user principal names, e-mail addresses and SIDs, never with display names or DOMAIN\\sam names; list the "
                         "UPN or SID instead")
        spaced = [pattern for pattern, _regex in self.patterns if " " in pattern]
        if spaced:
            listed = ", ".join(f"'{pattern}'" for pattern in spaced)
            found.append(f"{self.patterns_option} {listed} contain a space, which no compared key has: patterns are searched in "
                         "ids, user principal names, e-mail addresses and SIDs only, never in display names (an account can rename itself)")
        return found

    def entry_matching(self, identity: Mapping[str, Any]) -> str | None:
        """The entry that protects ``identity``, or None."""
        for key in _identity_keys(identity):
            entry = self._by_key.get(match_key(key))
            if entry is not None:
                return entry
        return None

    def reason(self, identity: Mapping[str, Any]) -> str | None:
        """Why ``identity`` is protected (an entry, or a pattern found in one of its keys), or None."""
        entry = self.entry_matching(identity)
        if entry is not None:
            return f"it is in {self.option} ('{entry}')"
        for pattern, regex in self.patterns:
            for key in _identity_keys(identity):
                if regex.search(key):
                    return f"'{key}' matches the {self.patterns_option} entry '{pattern}'"
        return None

    def check(self, identity: Mapping[str, Any]) -> None:
        """Refuse (InputError) an identity that an entry protects."""
        entry = self.entry_matching(identity)
        if entry is not None:
            raise InputError(
                self.option,
                f"refusing to act on identity {identity.get('id')} ({identity.get('user_principal_name') or identity.get('display_name')}): it matches the"
                f" protected_accounts entry '{entry}'",
            )
