# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of who is protected (protected_accounts), as identity_account_action applies it, against a fake Graph
client (no network). The planner's use, with protected_account_patterns, is tested in test__containment.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._identity_actions import run_identity_action
from ansible_collections.msgraph.security.tests.unit.plugins.module_utils.identity_samples import (
    BREAK_GLASS,
    action_request,
    make_tenant,
)
from ansible_collections.msgraph.security.tests.unit.fakes import (
    account_body,
    identity_body,
)


# --- protected accounts ---------------------------------------------------------------------------

def test_blank_protected_accounts_entry_is_refused():
    with pytest.raises(InputError) as caught:
        action_request(protected_accounts=["ok@contoso.com", " "])
    assert caught.value.option == "protected_accounts"


@pytest.mark.parametrize("entry", [
    "BreakGlass@Contoso.com",  # UPN, case-insensitive
    BREAK_GLASS["id"].upper(),  # identity id
    "s-1-5-21-1004336348-1177238915-682003330-500",  # on-premises SID
    BREAK_GLASS["cloudSecurityIdentifier"],  # cloud SID
    "AD-BREAKGLASS",  # provider account identifier
])
def test_protected_accounts_are_refused_whatever_identifier_names_them(entry):
    tenant = make_tenant()
    request = action_request(value="breakglass@contoso.com", protected_accounts=["someone@contoso.com", entry])
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, request, check_mode=True)
    assert caught.value.option == "protected_accounts"
    assert entry in caught.value.message
    assert tenant.client.posts == []


@pytest.mark.parametrize("entry", ["Break Glass", "CONTOSO\\breakglass"])
def test_protected_entries_that_can_never_match_are_named_in_a_warning(entry):
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request(protected_accounts=[entry, "x@contoso.com"]), check_mode=True)
    assert any("'{0}'".format(entry) in warning and "never match" in warning for warning in result["warnings"])
    assert not any("x@contoso.com" in warning for warning in result["warnings"])


def test_protected_entries_are_compared_after_nfc_normalization():
    decomposed = identity_body("9b9b9b9b-0000-4000-8000-00000000000a", "Jose", upn="Jose\u0301@contoso.com",
                               accounts=[account_body("ad-jose", "activeDirectory", ["disable"])])
    tenant = make_tenant(identities=[decomposed])
    with pytest.raises(InputError) as caught:
        run_identity_action(tenant.client, action_request(value="Jose\u0301@contoso.com", protected_accounts=["jos\u00e9@CONTOSO.com"]))
    assert caught.value.option == "protected_accounts"


def test_unprotected_identity_passes_the_guard():
    tenant = make_tenant()
    result = run_identity_action(tenant.client, action_request(protected_accounts=["breakglass@contoso.com"]), check_mode=True)
    assert result["changed"] is True
