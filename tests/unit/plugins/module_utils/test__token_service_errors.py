# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Token-service transport failures keep their HTTP status, so a long-running caller can tell an outage from a
configuration error."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.msgraph.security.plugins.module_utils._token_service_errors import transport_error


class MsalServiceError(Exception):
    """As msal raises for an error answer without an OAuth body (NormalizedResponse.raise_for_status)."""


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_an_msal_http_error_keeps_its_status(status):
    error = transport_error(MsalServiceError(f"HTTP Error: {status}"), "client_secret", "https://login.example/t", True)
    assert error.status == status and "HTTP Error" in str(error)


def test_another_failure_has_no_status():
    assert transport_error(ValueError("something else"), "client_secret", "https://login.example/t", True).status is None
