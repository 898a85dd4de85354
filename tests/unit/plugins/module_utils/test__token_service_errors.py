# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Token-service transport failures keep their HTTP status, so a long-running caller can tell an outage from a
configuration error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._token_service_errors import authority_error, transport_error


class MsalServiceError(Exception):
    """As msal raises for an error answer without an OAuth body (NormalizedResponse.raise_for_status)."""


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_an_msal_http_error_keeps_its_status(status):
    error = transport_error(MsalServiceError(f"HTTP Error: {status}"), "client_secret", "https://login.example/t", True)
    assert error.status == status and "HTTP Error" in str(error)


def test_another_failure_has_no_status():
    assert transport_error(ValueError("something else"), "client_secret", "https://login.example/t", True).status is None


def test_tenant_discovery_with_an_aadsts_code_without_a_hint_still_explains_itself():
    # AADSTS12345 has no entry in AADSTS_HINTS: the message was built from a None hint (TypeError) before the fix.
    cause = ValueError("Unable to get authority configuration for https://login.example/t: AADSTS12345: unknown tenant")
    error = authority_error(cause, "client_secret", "https://login.example/t")
    assert error.code == "AADSTS12345" and "Tenant discovery failed for https://login.example/t" in str(error)
    assert error.hint == "with authority_host overridden, check that it points at the token service"


def test_tenant_discovery_with_a_known_code_keeps_its_hint_first():
    cause = ValueError("Unable to get authority configuration for https://login.example/t")
    hint = authority_error(cause, "client_secret", "https://login.example/t").hint
    assert hint.endswith("; with authority_host overridden, check that it points at the token service")
    assert not hint.startswith(";")
