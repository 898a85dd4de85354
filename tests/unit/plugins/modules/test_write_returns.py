# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The result keys of the one write protocol, documented alike in every writing module.

Every module that writes returns ``outcome`` and, once a write was sent, ``request_ids``. The modules that send
one write per task carry the same ``request_ids`` block; ``REQUEST_IDS_RETURN`` is its canonical copy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.msgraph.security.plugins.module_utils._writes import OUTCOME_CHECK_MODE, OUTCOME_RECONCILED, OUTCOME_SENT, OUTCOME_UNCHANGED
from ansible_collections.msgraph.security.tests.unit.plugins.modules.module_returns import return_block, return_text

ONE_WRITE_MODULES = ("entra_user", "entra_user_action", "identity_account_action", "security_action")
WRITING_MODULES = ONE_WRITE_MODULES + ("incident",)

REQUEST_IDS_RETURN = r"""
request_ids:
  description:
    - The ids of the write, to quote to Microsoft support or to look up in the service's audit trail.
    - For V(reconciled), the C(request_id) is that of the answer that left the outcome unknown, when there was one.
  returned: when the write was sent (RV(outcome) is V(sent) or V(reconciled))
  type: dict
  contains:
    request_id:
      description: The service's C(request-id).
      type: str
      sample: 5e3fa1b2-7c44-4d0e-9f1a-2b6c8d9e0f11
    client_request_id:
      description: The C(client-request-id) the module generated and sent with the write.
      type: str
      sample: 0d6f3c1e-9a2b-4c7d-8e5f-1a2b3c4d5e6f
""".strip("\n")


@pytest.mark.parametrize("name", ONE_WRITE_MODULES)
def test_a_one_write_module_carries_the_canonical_request_ids_block(name):
    assert return_block(name, "request_ids") == REQUEST_IDS_RETURN, f"copy REQUEST_IDS_RETURN of {__name__} into {name}'s RETURN"


@pytest.mark.parametrize("name", WRITING_MODULES)
def test_every_writing_module_documents_the_outcomes_the_protocol_returns(name):
    outcome = yaml.safe_load(return_text(name))["outcome"]
    said = " ".join(outcome["description"])
    # entra_user_action's commands have no state to compare, so it is never unchanged.
    expected = [OUTCOME_SENT, OUTCOME_CHECK_MODE, OUTCOME_RECONCILED] + ([] if name == "entra_user_action" else [OUTCOME_UNCHANGED])
    for value in expected:
        assert f"V({value})" in said, f"{name} does not document outcome {value}"
    assert "request_ids" in yaml.safe_load(return_text(name))
