# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sample tenant the identity unit tests share (test__identity_vocabulary, _lookup, _actions and
test__protected_accounts): its identities, a fake tenant of them, and an ActionRequest with test defaults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import ActionRequest
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import IDENTITY_ACCOUNTS_PATH
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import Selector
from ansible_collections.msgraph.security.tests.unit.fakes import (
    FakeIdentityTenant,
    account_body,
    identity_body,
)

COLLECTION = IDENTITY_ACCOUNTS_PATH
SHAPES = ("schema", "example")

ALICE = identity_body(
    "a1a1a1a1-0000-4000-8000-000000000001",
    "Alice Adams",
    upn="alice@contoso.com",
    sid="S-1-5-21-1004336348-1177238915-682003330-1101",
    accounts=[
        account_body("ad-alice", "activeDirectory", ["disable", "forcePasswordReset"]),
        account_body("okta-alice", "okta", ["disable", "revokeAllSessions"]),
        account_body("entra-alice", "entraID", ["disable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"]),
    ],
)
BOB_DISABLED = identity_body(
    "b0b0b0b0-0000-4000-8000-000000000002",
    "Bob Brown",
    upn="bob@contoso.com",
    sid="S-1-5-21-1004336348-1177238915-682003330-1102",
    is_enabled=False,
    accounts=[account_body("ad-bob", "activeDirectory", ["enable", "forcePasswordReset"])],
)
CHRIS_ONE = identity_body("c1c1c1c1-0000-4000-8000-000000000003", "Chris Smith", upn="chris.smith@contoso.com",
                          accounts=[account_body("ad-chris1", "activeDirectory", ["disable"])])
CHRIS_TWO = identity_body("c2c2c2c2-0000-4000-8000-000000000004", "Chris Smith", upn="chris.smith@fabrikam.com",
                          accounts=[account_body("ad-chris2", "activeDirectory", ["disable"])])
DANA_NO_ACTIONS = identity_body("d4d4d4d4-0000-4000-8000-000000000005", "Dana O'Brien", upn="dana.o'brien@contoso.com",
                                is_enabled=True, accounts=[account_body("okta-dana", "okta")])
BREAK_GLASS = identity_body("e5e5e5e5-0000-4000-8000-000000000006", "Break Glass", upn="breakglass@contoso.com",
                            sid="S-1-5-21-1004336348-1177238915-682003330-500",
                            accounts=[account_body("ad-breakglass", "activeDirectory", ["disable"])])
EVE_TWO_AD = identity_body("f6f6f6f6-0000-4000-8000-000000000007", "Eve Twice", upn="eve@contoso.com",
                           accounts=[account_body("ad-eve-1", "activeDirectory", ["disable"]),
                                     account_body("ad-eve-2", "activeDirectory", ["disable"])])
NO_ACCOUNTS = identity_body("a7a7a7a7-0000-4000-8000-000000000008", "Nobody", upn="nobody@contoso.com", accounts=[])
TENANT = [ALICE, BOB_DISABLED, CHRIS_ONE, CHRIS_TWO, DANA_NO_ACTIONS, BREAK_GLASS, EVE_TWO_AD, NO_ACCOUNTS]


def make_tenant(shape="schema", identities=None, **kwargs):
    return FakeIdentityTenant(identities or TENANT, shape=shape, **kwargs)


def action_request(selector_kind="user_principal_name", value="alice@contoso.com", provider="activeDirectory",
                   action="disable", **kwargs):
    option = kwargs.pop("option", None)
    return ActionRequest(Selector(selector_kind, value, option), provider, action, **kwargs)


# --- enumerations ---------------------------------------------------------------------------------
