# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 3: requests, the standard library, _errors and _options only. No Ansible imports.

"""The HTTP session shared by MSAL and the Graph client.

requests' ``Session.merge_environment_settings()`` replaces ``verify=True``/``None`` *and* ``Session.verify``
with ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``. :class:`VerifyingSession` therefore passes ``verify`` explicitly
on every request, so ``ca_path`` wins over those variables. MSAL gets the same session (``http_client=``),
so token requests and Graph requests share one connection pool and one TLS policy.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import traceback
import warnings

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphAuthError, GraphError, InputError
from ansible_collections.msgraph.security.plugins.module_utils._options import COLLECTION_NAME, COLLECTION_VERSION

try:
    import requests
    from requests.exceptions import SSLError

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
    _SessionBase = requests.Session
except ImportError:
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    _SessionBase = object

    class SSLError(Exception):
        """Stand-in so that ``except SSLError`` stays valid without requests."""

try:
    from urllib3.exceptions import InsecureRequestWarning
except ImportError:  # pragma: no cover - urllib3 comes with requests
    InsecureRequestWarning = None


INSECURE_WARNING = (
    "validate_certs is false: the TLS certificates of Microsoft Graph and of the token endpoint are not verified, "
    "so credentials and tokens can be intercepted. Set ca_path to the CA bundle instead."
)
CA_PATH_IGNORED_WARNING = "ca_path is ignored because validate_certs is false."


def user_agent():
    """``msgraph.security/1.0.0 (ansible-collection) python-requests/2.x``."""
    agent = "%s/%s (ansible-collection)" % (COLLECTION_NAME, COLLECTION_VERSION)
    if HAS_REQUESTS:
        agent += " python-requests/%s" % requests.__version__
    return agent


def validate_ca_path(path):
    """Raise :class:`InputError` unless ``path`` is a readable file or directory."""
    if not path:
        return
    if not os.path.exists(path):
        raise InputError("ca_path", "the CA bundle %s does not exist; give the path to a PEM file of trusted CAs" % path)
    if not os.access(path, os.R_OK):
        raise InputError("ca_path", "the CA bundle %s is not readable by this user" % path)


def verify_setting(validate_certs=True, ca_path=None):
    """The value passed as ``verify=`` on every request, and the warnings it implies."""
    messages = []
    if not validate_certs:
        messages.append(INSECURE_WARNING)
        if ca_path:
            messages.append(CA_PATH_IGNORED_WARNING)
        return False, messages
    if ca_path:
        return ca_path, messages
    return True, messages


class VerifyingSession(_SessionBase):
    """A ``requests.Session`` that forces ``verify`` and a default timeout on every request.

    ``warnings``: messages for the module to show (``validate_certs: false``).
    """

    def __init__(self, validate_certs=True, ca_path=None, timeout=None, agent=None):
        if not HAS_REQUESTS:
            raise RuntimeError("the Python library requests is required: %s" % REQUESTS_IMPORT_ERROR)
        super(VerifyingSession, self).__init__()
        self.forced_verify, self.warnings = verify_setting(validate_certs, ca_path)
        # Informational only: requests ignores it whenever REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE are set.
        self.verify = self.forced_verify
        self.default_timeout = timeout
        self.headers["User-Agent"] = agent or user_agent()

    def request(self, method, url, *args, **kwargs):
        kwargs["verify"] = self.forced_verify
        if kwargs.get("timeout") is None and self.default_timeout:
            kwargs["timeout"] = self.default_timeout
        if self.forced_verify is False and InsecureRequestWarning is not None:
            # One warning per task (self.warnings) instead of one per request on stderr.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureRequestWarning)
                return super(VerifyingSession, self).request(method, url, *args, **kwargs)
        return super(VerifyingSession, self).request(method, url, *args, **kwargs)


def is_tls_error(exc):
    """True for a TLS handshake / certificate verification failure."""
    if isinstance(exc, SSLError):
        return True
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text


def tls_error(exc, method=None, url=None, verify=True, auth=False):
    """A :class:`GraphError` (or :class:`GraphAuthError` for token endpoints) explaining a TLS failure."""
    detail = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate verify failed" in detail.lower():
        summary = "TLS certificate verification failed"
    else:
        summary = "TLS connection failed"
    target = "the token endpoint" if auth else "Microsoft Graph"
    if isinstance(verify, str):
        hint = (
            "the endpoint's certificate is not trusted by the CA bundle in ca_path (%s); set ca_path to the CA bundle "
            "that issued the certificate of %s" % (verify, target)
        )
    else:
        hint = (
            "the endpoint's certificate is not trusted; set ca_path to the CA bundle that issued the certificate of %s "
            "(for example a TLS-inspecting proxy's CA), or add that CA to the system trust store" % target
        )
    message = "%s for %s: %s" % (summary, target, _short(detail))
    error_class = GraphAuthError if auth else GraphError
    return error_class(message, method=method, url=url, hint=hint)


def _short(text, limit=300):
    text = " ".join(str(text).split())
    if len(text) > limit:
        return text[:limit] + "..."
    return text
