# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's Entra ID users, as the entra_user and entra_user_action tests pick them (derived from the seed
identities' entraID accounts)."""

from __future__ import annotations

USER_MODULE = "msgraph.security.entra_user"
ACTION_MODULE = "msgraph.security.entra_user_action"
SEED_SESSIONS_VALID_FROM = "2026-01-05T08:00:00Z"


def users(emulator):
    return emulator.admin.state()["users"]


def user(emulator, user_id):
    return next(entry for entry in users(emulator) if entry["id"] == user_id)


def pick(emulator, hybrid, privileged=False, guest=False):
    for entry in users(emulator):
        if (bool(entry["onPremisesSyncEnabled"]) is hybrid and bool(entry["directoryRoles"]) is privileged
                and (entry["userType"] == "Guest") is guest and entry["accountEnabled"]):
            return entry
    raise AssertionError("the emulator seed has no such user")


def identity_of(emulator, user_id):
    return next(i for i in emulator.admin.state()["identities"]
                if any(a["identifier"] == user_id and a["identityProvider"] == "entraID" for a in i["accounts"]))
