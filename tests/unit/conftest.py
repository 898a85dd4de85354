# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by every unit test.

* autouse ``_hermetic_environment``: removes the connection variables (AZURE_*, MSGRAPH_*) and the managed
  identity variables a developer shell or CI may carry, so fallbacks are tested deterministically.
  REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are left alone (tests set them explicitly where they matter).
* autouse ``_empty_secret_registry``: every test starts with no registered secret.
* ``FakeClock``: injected as ``sleep`` and ``clock`` (and ``now``); sleeping advances time, nothing really waits.
* ``module_args(args)``: a context manager exposing ``args`` to ``AnsibleModule`` instances created inside it,
  on ansible-core 2.19+ (``ansible.module_utils.testing.patch_module_args``) and on 2.16-2.18 (the old
  ``basic._ANSIBLE_ARGS`` JSON pattern).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import os

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:  # ansible-core >= 2.19
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core 2.16 - 2.18
    patch_module_args = None

_SCRUBBED_PREFIXES = ("AZURE_", "MSGRAPH_", "IDENTITY_", "MSI_", "IMDS_")


@pytest.fixture(autouse=True)
def _hermetic_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(_SCRUBBED_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _empty_secret_registry(monkeypatch):
    """The process-wide registry of secrets to redact starts empty in every test, so no test relies on another's."""
    from ansible_collections.msgraph.security.plugins.module_utils import _errors

    monkeypatch.setattr(_errors, "_SECRETS", set())


class FakeClock:
    """Injected as ``sleep`` and ``clock``: sleeping advances time, nothing really waits; ``sleeps`` records each pause."""

    def __init__(self, now=1000.0):
        self.now = now
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


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


@pytest.fixture(name="module_args")
def _module_args_fixture():
    """The :func:`module_args` context manager, as a fixture."""
    return module_args


def ssl_error_raised_in(function_name, message="[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:2580)"):
    """A requests ``SSLError`` wrapping an ssl error raised inside a function of that name (``do_handshake`` or
    ``getresponse``, as urllib3 and the ssl module name them): where it happened is all that tells the two apart."""
    import ssl

    import requests

    def raiser():
        raise ssl.SSLError(1, message)

    namespace = {}
    exec(f"def {function_name}(inner):\n    inner()\n", namespace)  # pylint: disable=exec-used
    try:
        namespace[function_name](raiser)
    except ssl.SSLError as original:
        try:
            raise requests.exceptions.SSLError(original) from original
        except requests.exceptions.SSLError as wrapped:
            return wrapped
    raise AssertionError("nothing was raised")
