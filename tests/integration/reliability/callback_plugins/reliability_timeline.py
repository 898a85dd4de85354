# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: when each task started and ended, as JSON lines in $MSGRAPH_TEST_TIMELINE.

The reliability suite matches the emulator's request log (arrival times) against these windows, so it can
tell which task of a playbook sent which request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: reliability_timeline
type: aggregate
short_description: Write task start and end times as JSON lines for the reliability tests
description:
  - Appends one JSON object per task start and per task result to the file named by E(MSGRAPH_TEST_TIMELINE).
options: {}
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "reliability_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, event, name):
        path = os.environ.get("MSGRAPH_TEST_TIMELINE")
        if path:
            with open(path, "a", encoding="utf-8") as stream:
                stream.write(json.dumps({"event": event, "name": name, "time": time.time()}) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write("start", task.get_name())

    def _end(self, result):
        self._write("end", result._task.get_name())  # pylint: disable=protected-access

    def v2_runner_on_ok(self, result):
        self._end(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result)

    def v2_runner_on_skipped(self, result):
        self._end(result)

    def v2_runner_on_unreachable(self, result):
        self._end(result)
