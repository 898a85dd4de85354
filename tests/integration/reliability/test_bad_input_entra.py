# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""entra_user and entra_user_action: bad input is refused naming the option, before any request; what only the
user can tell (unknown, protected) is refused after reading it, with zero writes."""

from __future__ import annotations

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import playbook
from reliability_helpers import play, record_refusals, task

UPN = "meganb@contoso.com"
MEGAN_ENTRA = "3086863e-1807-524b-8a62-ef7649a1d776"
MEGAN_CLOUD_SID = "S-1-12-1-814122558-1380653063-1995399818-1993843017"
MICROSOFT_EXAMPLE_SID = "S-1-12-4-2492432728-1225839317-3974870967-847981844"  # security-identityaccounts-get.md

COMMON_CASES = [
    ("no target", "neither user_id nor user_principal_name", {"user_principal_name": None}, ["user_id", "user_principal_name"]),
    ("two targets", "user_id and user_principal_name together", {"user_id": MEGAN_ENTRA}, ["user_id", "mutually exclusive"]),
    ("user_id not a GUID", "user_id: meganb", {"user_principal_name": None, "user_id": "meganb"}, ["user_id", "object id"]),
    ("user_id with a path", "user_id: ../groups/x", {"user_principal_name": None, "user_id": "../groups/x"},
     ["user_id", "object id"]),
    ("on-premises SID as user_id", "user_id: an S-1-5-21 SID",
     {"user_principal_name": None, "user_id": "S-1-5-21-1004336348-1177238915-682003330-1103"}, ["user_id", "object id"]),
    ("S-1-12-4 cloud SID as user_id", "user_id: the S-1-12-4 cloudSecurityIdentifier of Microsoft's example",
     {"user_principal_name": None, "user_id": MICROSOFT_EXAMPLE_SID}, ["user_id", "S-1-12-1"]),
    ("malformed UPN", "user_principal_name: bob", {"user_principal_name": "bob"}, ["user_principal_name", "@"]),
    ("empty UPN", "user_principal_name: ''", {"user_principal_name": ""}, ["user_principal_name", "non-empty"]),
    ("blank protected entry", "protected_accounts: ['']", {"protected_accounts": [""]}, ["protected_accounts", "non-empty"]),
]

MODULE_CASES = {
    "entra_user": ({"user_principal_name": UPN, "account_enabled": False}, COMMON_CASES + [
        ("no account_enabled", "account_enabled left out", {"account_enabled": None}, ["account_enabled"]),
        ("account_enabled not a bool", "account_enabled: maybe", {"account_enabled": "maybe"}, ["account_enabled", "bool"]),
    ]),
    "entra_user_action": ({"user_principal_name": UPN, "action": "revoke_sign_in_sessions"}, COMMON_CASES + [
        ("unknown action", "action: disable", {"action": "disable"}, ["action", "revoke_sign_in_sessions"]),
        ("no action", "action left out", {"action": None}, ["action"]),
        ("risk action in China", "confirm_compromised with cloud_environment china (no riskyUsers there)",
         {"action": "confirm_compromised", "cloud_environment": "china"}, ["cloud_environment", "risky_users"]),
        ("targets over max_targets", "targets: 3 users with max_targets: 2",
         {"user_principal_name": None, "action": "confirm_compromised", "targets": [{"user_id": MEGAN_ENTRA}] * 3, "max_targets": 2},
         ["max_targets", "nothing was sent"]),
        ("targets with revoke", "targets with action revoke_sign_in_sessions (its request names one user)",
         {"user_principal_name": None, "targets": [{"user_id": MEGAN_ENTRA}]}, ["targets", "loop the task"]),
        ("target not a GUID", "targets: [{user_id: meganb}]",
         {"user_principal_name": None, "action": "dismiss_risk", "targets": [{"user_id": "meganb"}]}, ["targets[0].user_id", "object id"]),
        ("targets and a UPN", "targets together with user_principal_name",
         {"action": "dismiss_risk", "targets": [{"user_id": MEGAN_ENTRA}]}, ["targets", "mutually exclusive"]),
    ]),
}


def merged(base, changes):
    args = dict(base, **changes)
    return {key: value for key, value in args.items() if value is not None}


@pytest.mark.parametrize("module", sorted(MODULE_CASES))
def test_entra_bad_input_is_refused_before_any_request(ansible, emulator, reliability, module):
    base, cases = MODULE_CASES[module]
    played = play(ansible, playbook(*[task(name, module, merged(base, args)) for name, description, args, words in cases]))
    logged = emulator.admin.requests()
    record_refusals(reliability, played, logged, [(module, name, description, words) for name, description, args, words in cases])
    reliability.verify()


def test_entra_targets_refused_after_reading_send_no_write(ansible, emulator, reliability):
    cases = [
        ("entra_user", "protected by cloud SID", "user listed in protected_accounts by its S-1-12-1 SID",
         {"user_id": MEGAN_ENTRA, "account_enabled": False, "protected_accounts": [MEGAN_CLOUD_SID]}, ["protected_accounts", "refusing"]),
        ("entra_user_action", "protected by UPN", "user listed in protected_accounts by its UPN (other case)",
         {"user_id": MEGAN_ENTRA, "action": "revoke_sign_in_sessions", "protected_accounts": [UPN.upper()]},
         ["protected_accounts", "refusing"]),
        ("entra_user", "unknown object id", "user_id that is no user",
         {"user_id": "00000000-0000-4000-8000-000000000000", "account_enabled": False}, ["user_id", "no Entra ID user matches"]),
        ("entra_user_action", "unknown UPN", "user_principal_name that is no user",
         {"user_principal_name": "nobody-here@contoso.com", "action": "confirm_compromised"},
         ["user_principal_name", "no Entra ID user matches"]),
    ]
    played = play(ansible, playbook(*[task(name, module, args) for module, name, description, args, words in cases]))
    logged = emulator.admin.requests()
    record_refusals(reliability, played, logged, [(module, name, description, words) for module, name, description, args, words in cases],
                    read_first="the user")
    reliability.verify()
