# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only callback: append every task result as one JSON line to $MSGRAPH_TEST_RESULTS."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: msgraph_results
type: aggregate
short_description: Write task results as JSON lines for the integration tests
description:
  - Appends one JSON object per task result to the file named by E(MSGRAPH_TEST_RESULTS).
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "msgraph_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("MSGRAPH_TEST_RESULTS")
        if not path:
            return
        task = result._task  # pylint: disable=protected-access
        entry = {
            "name": task.get_name(),
            "action": task.action,
            "status": status,
            "result": result._result,  # pylint: disable=protected-access
        }
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result._result.get("changed") else "ok")  # pylint: disable=protected-access

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")
