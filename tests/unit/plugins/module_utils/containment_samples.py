# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The identities the planner's and the audit comment's unit tests share (test__containment, test__audit_comment),
and a plan of them with test defaults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.msgraph.security.plugins.module_utils import _containment as c
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import parse_identity
from ansible_collections.msgraph.security.tests.unit.fakes import account_body, identity_body

HYBRID = parse_identity(identity_body("h-1", "Hybrid", upn="hybrid@contoso.com", sid="S-1-5-21-1-2-3-1001", accounts=[
    account_body("ad-h", "activeDirectory", []), account_body("entra-h", "entraID", []), account_body("okta-h", "okta", [])]))
AD_ONLY = parse_identity(identity_body("a-2", "Ad Only", upn="ad@contoso.com", sid="S-1-5-21-1-2-3-1002",
                                       accounts=[account_body("ad-a", "activeDirectory", ["enable"])]))
GLASS = parse_identity(identity_body("g-3", "Break Glass", upn="breakglass@contoso.com",
                                     accounts=[account_body("ad-g", "activeDirectory", ["disable"])]))
CLOUD_ONLY = parse_identity(identity_body("c-4", "Cloud Only", upn="cloud@contoso.com", accounts=[
    account_body("entra-c", "entraID", [])]))
CONTAIN = ("disable", "revokeAllSessions", "forcePasswordReset", "requireUserToSignInAgain", "markUserAsCompromised")


def plan(identities, actions=CONTAIN, done=None, **kwargs):
    return c.plan_containment(identities, c.ContainmentOptions(actions, **kwargs), done)
