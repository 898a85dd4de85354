# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one ``error`` RETURN block: held identical in every module, and held to what ``fail_on_error`` returns.

Ansible has no doc fragments for RETURN, so each module carries the block as text. ``ERROR_RETURN`` below is
the canonical copy: change it here, then paste it into the RETURN of every module in plugins/modules/.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib

import pytest
import yaml

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError, GraphOutcomeUnknownError
from ansible_collections.msgraph.security.tests.unit.plugins.modules.module_returns import MODULES, return_block


ERROR_RETURN = r"""
error:
  description:
    - The failed request, reported once. What Microsoft Graph (or the token service) said, the request ids to
      quote to Microsoft support, and what to do. C(msg) says the same in one line.
  returned: failure, for a Microsoft Graph or token service error
  type: dict
  contains:
    status:
      description: The HTTP status of the failed request, when there was one.
      returned: when known
      type: int
      sample: 403
    error_code:
      description:
        - Graph's C(error.code), the C(AADSTS) code when the token request failed, or the collection's own code for a
          failure it found itself (for example C(Timeout), C(RetriesExhausted) or C(UnsupportedCloud);
          M(msgraph.security.security_action) answers C(securityActionFailed) or C(waitTimeout) for an action that
          failed or did not finish in time).
      returned: when known
      type: str
      sample: Forbidden
    error_message:
      description: Graph's C(error.message), or what failed when Graph gave no message.
      returned: always
      type: str
    request_id:
      description: The C(request-id) of the failed request, for Microsoft support.
      returned: when known
      type: str
    client_request_id:
      description:
        - The C(client-request-id) of the failed request. For an unknown outcome, the one to look up where
          C(hint) says before running the task again.
      returned: when known
      type: str
    date:
      description: The date of the failed response.
      returned: when known
      type: str
    method:
      description: The HTTP method of the failed request.
      returned: when known
      type: str
    url:
      description: The URL of the failed request.
      returned: when known
      type: str
    required_permission:
      description: The Microsoft Graph permission (or permissions) the failed call needs; the module's notes list them.
      returned: on HTTP 403
      type: str
      sample: SecurityIncident.Read.All
    hint:
      description: What to do about the failure (for example the permission, license or directory role it needs).
      returned: when there is advice
      type: str
    outcome:
      description:
        - C(unknown) when the request was sent but whether Graph carried it out is not known (a time-out, an HTTP 5xx
          or a connection reset after sending) and reading the target again did not settle it. The request was not
          sent again; read the target before running the task again.
      returned: when the outcome of a write is unknown (a module that only reads never returns it)
      type: str
      sample: unknown
    request:
      description:
        - The write whose outcome is unknown, exactly as it was sent once - C(method), C(url) and C(body).
      returned: when the outcome of a write is unknown
      type: dict
""".strip("\n")

# Every field GraphError can hold, so that to_result() drops none of them.
FULL_ERROR = dict(message="m", status=403, code="Forbidden", request_id="r", client_request_id="c", date="d",
                  method="GET", url="https://graph.microsoft.com/v1.0/x", required_permission="P", hint="h")


def _canonical():
    return yaml.safe_load(ERROR_RETURN)["error"]


def test_every_module_is_checked():
    assert len(MODULES) >= 9 and "identity_account_action" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_module_carries_the_canonical_error_block(name):
    block = return_block(name, "error")
    diff = "\n".join(difflib.unified_diff(ERROR_RETURN.split("\n"), block.split("\n"), "ERROR_RETURN", name, lineterm=""))
    assert block == ERROR_RETURN, "copy ERROR_RETURN of %s into %s's RETURN:\n%s" % (__name__, name, diff)


def test_documented_fields_are_the_fields_fail_on_error_returns():
    unknown = GraphOutcomeUnknownError(**FULL_ERROR)
    unknown.request = {"method": "POST", "url": FULL_ERROR["url"], "body": None}  # as the write protocol sets it
    produced = set(unknown.to_result())
    assert set(_canonical()["contains"]) == produced
    assert set(GraphError(**FULL_ERROR).to_result()) == produced - {"outcome", "request"}


def test_returned_always_only_for_the_fields_every_error_has():
    bare = set(GraphError(None).to_result())
    always = set(name for name, field in _canonical()["contains"].items() if field["returned"] == "always")
    assert always == bare == {"error_message"}


def test_outcome_is_documented_with_the_value_the_code_returns():
    assert _canonical()["contains"]["outcome"]["sample"] == GraphOutcomeUnknownError("m").to_result()["outcome"]
