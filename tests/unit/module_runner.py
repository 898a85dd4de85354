# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a module's ``main()`` in a unit test, on ansible-core 2.16 and 2.19+.

* ``module_args(args)``: a context manager exposing ``args`` to ``AnsibleModule`` instances created inside it,
  on ansible-core 2.19+ (``ansible.module_utils.testing.patch_module_args``) and on 2.16-2.18 (the old
  ``basic._ANSIBLE_ARGS`` JSON pattern).
* ``run_module(main, args) -> dict``: runs a module's ``main()`` with ``args`` as its parameters and returns the
  parsed JSON result (``failed: True`` for ``fail_json``).
* ``documented_return_keys(module)``, ``undocumented_keys(module, result)``: RETURN against a real result.
* ``warning_messages(result)``: warning texts, whatever form the ansible-core version gives them.
* ``isolate_module_run(monkeypatch)``: no connection settings from the shell, no warnings left by earlier runs;
  ``CREDENTIALS``: client-secret settings for a module run; ``assert_deprecation_warned(result)``: the legacy
  securityActions warning, given once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import io
import json

import yaml

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16 - 2.18
    patch_module_args = None

from ansible_collections.msgraph.security.plugins.module_utils import _security_actions as sa

CREDENTIALS = {"tenant_id": "contoso.onmicrosoft.com", "client_id": "11111111-2222-3333-4444-555555555555",
               "client_secret": "not-a-real-secret"}
# Keys every module result may carry without documenting them in RETURN.
STANDARD_RESULT_KEYS = frozenset(["changed", "failed", "msg", "warnings", "deprecations", "diff", "invocation", "skipped"])


@contextlib.contextmanager
def module_args(args):
    """Expose ``args`` as the module parameters to AnsibleModule instances created in the block."""
    args = dict(args or {})
    if patch_module_args is not None:
        with patch_module_args(args):
            yield
        return
    previous = basic._ANSIBLE_ARGS
    basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    try:
        yield
    finally:
        basic._ANSIBLE_ARGS = previous


def run_module(main, args, check_mode=False, diff=False):
    """Run ``main()`` with ``args`` and return the module's JSON result as a dict."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    stdout = io.StringIO()
    with module_args(args), contextlib.redirect_stdout(stdout):
        try:
            main()
        except SystemExit:
            pass
        else:
            raise AssertionError("the module returned without calling exit_json or fail_json")
    output = stdout.getvalue()
    try:
        return json.loads(output)
    except ValueError:
        raise AssertionError("the module printed no JSON result: {0!r}".format(output))


def warning_messages(result):
    """The warning texts of a result: plain strings on ansible-core < 2.19, WarningSummary objects on 2.19+."""
    messages = []
    for warning in result.get("warnings") or []:
        if isinstance(warning, dict):
            warning = (warning.get("event") or {}).get("msg") or warning.get("msg")
        messages.append(warning)
    return messages


def documented_return_keys(module):
    """Top-level keys of ``module.RETURN`` (YAML)."""
    return set((yaml.safe_load(module.RETURN) or {}).keys())


def undocumented_keys(module, result):
    """The keys of ``result`` that neither RETURN documents nor every module may carry."""
    return sorted(set(result) - STANDARD_RESULT_KEYS - documented_return_keys(module))


def isolate_module_run(monkeypatch):
    """No connection settings from the developer's shell; no warnings left over from earlier module runs."""
    monkeypatch.setattr(ansible_warnings, "_global_warnings", type(ansible_warnings._global_warnings)())
    for name in ("AZURE_TENANT_ID", "AZURE_TENANT", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SECRET",
                 "AZURE_CLOUD_ENVIRONMENT", "MSGRAPH_ACCESS_TOKEN", "MSGRAPH_AUTH_METHOD", "MSGRAPH_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)


def assert_deprecation_warned(result):
    """The legacy securityActions deprecation is warned exactly once, and names the API to move to."""
    assert warning_messages(result).count(sa.DEPRECATION_WARNING) == 1
    assert "https://api.securitycenter.microsoft.com/api/indicators" in sa.DEPRECATION_WARNING
