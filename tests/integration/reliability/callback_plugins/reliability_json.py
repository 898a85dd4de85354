# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only stdout callback: the whole run as one JSON document (ansible-core ships no JSON stdout callback).

Like the json callbacks of other collections it prints every task's full result, including the keys the
default callback hides (``invocation``, ``exception``, ``module_stderr``), so the reliability suite can check
that no secret reaches that output either.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: reliability_json
type: stdout
short_description: Print the whole run as one JSON document, for the reliability tests
description:
  - Collects every task result and prints them, with the play recap, as one JSON document at the end.
options: {}
"""

import json

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "reliability_json"

    def __init__(self):
        super(CallbackModule, self).__init__()
        self.results = []

    def _add(self, result, status):
        self.results.append({
            "task": result._task.get_name(),  # pylint: disable=protected-access
            "host": result._host.get_name(),  # pylint: disable=protected-access
            "status": status,
            "result": result._result,  # pylint: disable=protected-access
        })

    def v2_runner_on_ok(self, result):
        self._add(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._add(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._add(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        summary = dict((host, stats.summarize(host)) for host in sorted(stats.processed))
        self._display.display(json.dumps({"tasks": self.results, "stats": summary}, indent=2, sort_keys=True, default=str))
