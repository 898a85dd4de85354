# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of every unit test (the fakes they inject are in tests/unit/fakes.py).

* autouse ``_hermetic_environment``: removes the connection variables (AZURE_*, MSGRAPH_*) and the managed
  identity variables a developer shell or CI may carry, so fallbacks are tested deterministically.
  REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are left alone (tests set them explicitly where they matter).
* autouse ``_empty_secret_registry``: every test starts with no registered secret.
* ``module_args``: the context manager of tests/unit/module_runner.py, as a fixture.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.msgraph.security.tests.unit.module_runner import module_args


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


@pytest.fixture(name="module_args")
def _module_args_fixture():
    """The :func:`module_args` context manager, as a fixture."""
    return module_args
