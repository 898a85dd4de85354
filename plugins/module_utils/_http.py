# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: requests, the standard library, _errors and _options only. No Ansible imports.

"""The HTTP session shared by MSAL and the Graph client, and what a transport failure means (transient, TLS, provably
not sent). The retries are ``_retries``'.

requests' ``Session.merge_environment_settings()`` replaces ``verify=True``/``None`` *and* ``Session.verify``
with ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``. :class:`VerifyingSession` therefore passes ``verify`` explicitly
on every request, so ``ca_path`` wins over those variables. MSAL gets the same session (``http_client=``),
so token requests and Graph requests share one connection pool and one TLS policy.

The requests floor (:data:`REQUESTS_FLOOR`) is enforced at import: an older requests counts as missing, with the
same error. Forcing ``verify`` alone would not be enough: before 2.28 ``CURL_CA_BUNDLE=""`` turned verification off
inside requests (``merge_environment_settings``), and older releases also send ``.netrc`` credentials to the wrong
host (CVE-2024-47081) and leak ``Proxy-Authorization`` on redirects (CVE-2023-32681); no setting of ours undoes those.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import os
import re
import traceback
import warnings
from typing import TYPE_CHECKING, Any, Literal, Mapping, overload

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphAuthError, GraphError, InputError, one_line
from ansible_collections.msgraph.security.plugins.module_utils._options import COLLECTION_NAME, COLLECTION_VERSION

# The lowest requests the collection runs with (requirements.txt says why); older counts as missing.
REQUESTS_FLOOR = (2, 32, 4)
REQUESTS_REQUIREMENT = "requests>=2.32.4"


def version_tuple(text: str) -> tuple[int, ...]:
    """``"2.27.1"`` -> ``(2, 27, 1)``; a suffix such as ``rc1`` or ``.post1`` ends the numbers."""
    numbers = []
    for part in str(text).split(".")[:3]:
        digits = re.match(r"\d+", part)
        if not digits:
            break
        numbers.append(int(digits.group(0)))
    return tuple(numbers)


def requests_too_old(version: str) -> str | None:
    """Why requests ``version`` cannot be used (it is below :data:`REQUESTS_FLOOR`), or None when it can."""
    if version_tuple(version) >= REQUESTS_FLOOR:
        return None
    return (f"requests {version} is installed, but {REQUESTS_REQUIREMENT} is required: before 2.28 an empty CURL_CA_BUNDLE "
            "switches TLS verification off, and before 2.32.4 .netrc credentials can reach the wrong host (CVE-2024-47081); "
            f"install {REQUESTS_REQUIREMENT} on the host that runs the module")


REQUESTS_TOO_OLD = None  # why the installed requests is refused, when it imports but is below the floor
try:
    import requests
    from requests.exceptions import SSLError

    REQUESTS_TOO_OLD = requests_too_old(requests.__version__)
    if REQUESTS_TOO_OLD:
        raise ImportError(REQUESTS_TOO_OLD)
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
    _SessionBase = requests.Session
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    if not TYPE_CHECKING:  # run-time stand-ins without requests; mypy checks the code against requests itself
        requests = None
        _SessionBase = object

        class SSLError(Exception):
            """Stand-in so that ``except SSLError`` stays valid without requests."""

try:
    from urllib3.exceptions import InsecureRequestWarning
except ImportError:  # pragma: no cover - urllib3 comes with requests
    if not TYPE_CHECKING:  # mypy sees urllib3's class (it comes with requests)
        InsecureRequestWarning = None


_DEFAULT_POOL_SIZE = 10  # requests.adapters.DEFAULT_POOLSIZE

INSECURE_WARNING = (
    "validate_certs is false: the TLS certificates of Microsoft Graph and of the token endpoint are not verified, "
    "so credentials and tokens can be intercepted. Set ca_path to the CA bundle instead."
)
CA_PATH_IGNORED_WARNING = "ca_path is ignored because validate_certs is false."


def user_agent() -> str:
    """``msgraph.security/1.0.0 (ansible-collection) python-requests/2.x``."""
    agent = f"{COLLECTION_NAME}/{COLLECTION_VERSION} (ansible-collection)"
    if HAS_REQUESTS:
        agent += f" python-requests/{requests.__version__}"
    return agent


def validate_ca_path(path: str | None) -> None:
    """Raise :class:`InputError` unless ``path`` is a readable file or directory."""
    if not path:
        return
    if not os.path.exists(path):
        raise InputError("ca_path", f"the CA bundle {path} does not exist; give the path to a PEM file of trusted CAs")
    if not os.access(path, os.R_OK):
        raise InputError("ca_path", f"the CA bundle {path} is not readable by this user")


def verify_setting(validate_certs: bool = True, ca_path: str | None = None) -> tuple[bool | str, list[str]]:
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

    ``warnings``: messages for the module to show (``validate_certs: false``). ``pool_size``: connections kept per
    host (default 10), for callers sending from more threads than that.
    """

    def __init__(self, validate_certs: bool = True, ca_path: str | None = None, timeout: float | None = None, agent: str | None = None,
                 pool_size: int | None = None, environment_proxy: bool = True) -> None:
        if not HAS_REQUESTS:
            raise RuntimeError(f"the Python library requests is required: {REQUESTS_IMPORT_ERROR}")
        super().__init__()
        self._settings: dict[str, Any] = dict(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout, agent=agent,
                                              pool_size=pool_size)
        if not environment_proxy:
            # trust_env=False: requests reads no HTTP(S)_PROXY/ALL_PROXY and no .netrc (verify is forced anyway).
            self.trust_env = False
        # A session-wide auth that changes nothing: requests looks a .netrc entry up only when no auth is set, and
        # that entry would replace the bearer token (and the token request's headers) with Basic credentials.
        self.auth = keep_headers
        if pool_size and pool_size > _DEFAULT_POOL_SIZE:
            # requests keeps 10 connections per host; more threads would open and discard extra connections.
            adapter = requests.adapters.HTTPAdapter(pool_connections=_DEFAULT_POOL_SIZE, pool_maxsize=int(pool_size))
            self.mount("https://", adapter)
            self.mount("http://", adapter)
        self.forced_verify, self.warnings = verify_setting(validate_certs, ca_path)
        if self.forced_verify is False and InsecureRequestWarning is not None:
            # One warning per task (self.warnings) instead of one per request on stderr. Set once for the module's
            # process: warnings.catch_warnings() around each request is not thread-safe (bulk runs use threads).
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
        # Informational only: requests ignores it whenever REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE are set.
        self.verify = self.forced_verify
        self.default_timeout = timeout
        self.headers["User-Agent"] = agent or user_agent()

    def without_environment_proxy(self) -> VerifyingSession:
        """A session with the same TLS policy, timeout and agent that never goes through an environment proxy.

        Managed identity endpoints are local (IMDS, App Service): a proxy would see the identity request in clear
        text and could answer it with a forged token.
        """
        return VerifyingSession(environment_proxy=False, **self._settings)

    def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
        """On a redirect: drop the Authorization header when the host changes (as requests does), but never put
        .netrc credentials in its place (requests' own ``rebuild_auth`` reads .netrc whatever ``auth`` says)."""
        headers = prepared_request.headers
        if "Authorization" in headers and self.should_strip_auth(response.request.url, prepared_request.url):
            del headers["Authorization"]

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send as requests does, with the forced TLS verification and the default timeout."""
        kwargs["verify"] = self.forced_verify
        if kwargs.get("timeout") is None and self.default_timeout:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def keep_headers(request: Any) -> Any:
    """The session's ``auth``: leaves the request as it is (the Graph client sets the bearer token itself)."""
    return request


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header of a requests-like or plain mapping, case-insensitive; None when absent."""
    if not headers:
        return None
    getter = getattr(headers, "get", None)
    value = getter(name) if getter else None
    if value is None:
        lowered = name.lower()
        for key in headers:
            if key.lower() == lowered:
                return headers[key]
    return value


def is_transient_exception(exc: BaseException) -> bool:
    """A connection failure, timeout or truncated body (never a TLS failure): worth another try if nothing changed."""
    if requests is None or is_tls_error(exc):
        return False
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            requests.exceptions.ChunkedEncodingError))


def is_request_exception(exc: BaseException) -> bool:
    """Any failure requests raised while sending or receiving (as opposed to a bug or a library's own error)."""
    return requests is not None and isinstance(exc, requests.exceptions.RequestException)


def is_timeout(exc: BaseException) -> bool:
    """Whether the exception is a requests timeout (connect or read)."""
    return requests is not None and isinstance(exc, requests.exceptions.Timeout)


def is_connection_error(exc: BaseException) -> bool:
    """Could not connect, or the connection broke (TLS failures included: check :func:`is_tls_error` first)."""
    return requests is not None and isinstance(exc, requests.exceptions.ConnectionError)


def not_sent(exc: BaseException) -> bool:
    """True when the request provably never left this host (the connection could not be opened).

    A TLS handshake failure (certificate verification included) is not in this list on purpose: urllib3 raises the
    same ``SSLError`` for a TLS failure while the answer is read on a pooled connection, after the request was sent.
    """
    if requests is None:
        return False
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, SSLError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        name = type(reason).__name__
        return name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError")
    return False


# Frames of the TLS handshake (the connection being opened) and of reading an answer, in the standard library and
# urllib3 (1.26 and 2.x): where the original ssl error was raised says whether the request had been sent.
_HANDSHAKE_FRAMES = frozenset(["do_handshake", "_validate_conn", "_ssl_wrap_socket_and_match_hostname", "_match_hostname"])
_AFTER_SENDING_FRAMES = frozenset(["getresponse", "_send_output", "_send_request", "send_request"])


def _exception_chain(exc):
    """``exc`` and every exception it wraps (cause, context, args, urllib3's ``reason``), each once."""
    seen, stack, chain = set(), [exc], []
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        chain.append(current)
        stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None)] + list(current.args))
    return chain


# Certificate checks run only in the handshake: such a failure proves by itself that nothing was sent.
_CERTIFICATE_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname mismatch", "doesn't match")


def tls_failed_before_sending(exc: BaseException) -> bool:
    """True for a TLS failure that provably happened while the connection was opened: nothing was sent.

    A certificate failure is proof enough. For any other failure the message cannot tell: a plaintext answer read
    after the request was sent gives the same ``WRONG_VERSION_NUMBER`` as a plaintext server met in the handshake.
    The traceback of the original error can: the handshake runs in ``do_handshake`` (urllib3 ``_validate_conn``),
    an answer is read in ``getresponse``. Without that proof, a write's outcome is unknown.
    """
    if any(marker in str(exc) for marker in _CERTIFICATE_MARKERS):
        return True
    handshake = False
    for error in _exception_chain(exc):
        frames = set(frame.f_code.co_name for frame, _line in traceback.walk_tb(error.__traceback__))
        if frames & _AFTER_SENDING_FRAMES:
            return False
        handshake = handshake or bool(frames & _HANDSHAKE_FRAMES)
    return handshake


def is_tls_error(exc: BaseException) -> bool:
    """True for a TLS handshake / certificate verification failure."""
    if isinstance(exc, SSLError):
        return True
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text


_VERIFY_REASON_RE = re.compile(r"certificate verify failed: ([^()'\"\]]+)")


@overload
def tls_error(exc: BaseException, method: str | None = None, url: str | None = None, verify: bool | str = True, *,
              auth: Literal[True]) -> GraphAuthError:
    ...


@overload
def tls_error(exc: BaseException, method: str | None = None, url: str | None = None, verify: bool | str = True, auth: bool = False) -> GraphError:
    ...


def tls_error(exc: BaseException, method: str | None = None, url: str | None = None, verify: bool | str = True, auth: bool = False) -> GraphError:
    """A :class:`GraphError` (or :class:`GraphAuthError` for token endpoints) explaining a TLS failure."""
    detail = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate verify failed" in detail.lower():
        summary = "TLS certificate verification failed"
    else:
        summary = "TLS connection failed"
    target = "the token endpoint" if auth else "Microsoft Graph"
    if isinstance(verify, str):
        hint = (
            f"the endpoint's certificate is not trusted by the CA bundle in ca_path ({verify}); set ca_path to the CA bundle "
            f"that issued the certificate of {target}"
        )
    else:
        hint = (
            f"the endpoint's certificate is not trusted; set ca_path to the CA bundle that issued the certificate of {target} "
            "(for example a TLS-inspecting proxy's CA), or add that CA to the system trust store"
        )
    message = f"{summary} for {target}: {one_line(detail)}"
    reason = _VERIFY_REASON_RE.search(detail)
    if reason:
        # OpenSSL's reason ("self-signed certificate", "unable to get local issuer certificate", ...) comes last in
        # requests' text, after the URL: put it first so that shortening cannot cut it off.
        message = f"{summary} for {target} ({reason.group(1).strip().rstrip('.')}): {one_line(detail)}"
    error_class = GraphAuthError if auth else GraphError
    return error_class(message, method=method, url=url, hint=hint)
