# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: requests, the standard library, _errors and _options only. No Ansible imports.

"""The HTTP session shared by MSAL and the Graph client.

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

import dataclasses
import email.utils
import json
import os
import random
import re
import threading
import time
import traceback
import warnings
from typing import Any, Callable, Mapping

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
        self._settings = dict(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout, agent=agent,
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

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
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


# Answers worth another try: throttled, or a transient server or gateway failure. The token service's answers are
# retried on all of them; Graph's on those it documents as transient (_graph_client.GRAPH_RETRIED_STATUSES); a
# caller polling for hours waits out any of them (the event source).
TRANSIENT_STATUSES = frozenset([429, 500, 502, 503, 504])


@dataclasses.dataclass(frozen=True)
class RetryStop:
    """Why :meth:`RetryPolicy.wait_before_retry` did not wait: ``budget`` True when the time budget ran out (``delay``
    is the wait it would have needed), False when the request used up ``max_retries``."""

    budget: bool
    delay: float | None = None


class RetryPolicy:
    """How long requests may keep trying: the one backoff, ``Retry-After`` parser and time budget of a task.

    One instance is shared by the token service client (:class:`RetryingHttpClient`) and the Graph client, so a
    task never waits longer than ``budget_seconds`` in total, whichever service throttles.

    ``max_retries``: retries per request (attempts = max_retries + 1); ``budget_seconds``: total time all
    requests of the client may spend waiting before retries; ``base_delay``/``max_delay``: the capped
    exponential backoff used when the service gives no ``Retry-After``. ``sleep``, ``clock`` (monotonic),
    ``now`` (wall clock, for HTTP dates) and ``jitter`` (returns [0, 1)) are injectable for tests.

    The policy is also the client's shared gate: a wait (e.g. a 429's ``Retry-After``) pauses every thread
    using the client until the same instant, because Graph throttles the application, not one request.
    The budget counts the gate's closed time once, however many threads wait behind it.
    """

    def __init__(self, max_retries: int = 5, budget_seconds: float = 120, base_delay: float = 1.0, max_delay: float = 30.0,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] | None = None,
                 now: Callable[[], float] | None = None, jitter: Callable[[], float] | None = None) -> None:
        self.max_retries = max(0, int(max_retries))
        self.budget_seconds = max(0.0, float(budget_seconds))
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.sleep = sleep or time.sleep
        self.clock = clock or time.monotonic
        self.now = now or time.time
        self.jitter = jitter or random.random
        self.waited = 0.0  # total seconds the gate was closed, across requests and threads
        self.pauses = 0  # how many waits closed (or extended) the gate
        self._resume_at = None  # clock() value when the gate opens again
        self._lock = threading.Lock()

    def hold(self, delay: float) -> bool:
        """Close the gate until ``delay`` seconds from now (or leave it closed longer); False if the extra
        closed time would exceed the budget, in which case nothing changes."""
        with self._lock:
            now = self.clock()
            until = now + delay
            opens = now if self._resume_at is None else max(self._resume_at, now)
            extra = max(0.0, until - opens)
            if extra > self.remaining:
                return False
            self._resume_at = max(opens, until)
            self.waited += extra
            self.pauses += 1
            return True

    def wait_until_open(self) -> None:
        """Sleep while the gate is closed (returns at once when it is open)."""
        while True:
            with self._lock:
                remaining = 0.0 if self._resume_at is None else self._resume_at - self.clock()
            if remaining <= 0:
                return
            self.sleep(remaining)

    def backoff(self, retry_number: int) -> float:
        """Capped exponential backoff with jitter for the n-th retry (1-based), in [delay/2, delay]."""
        delay = min(self.max_delay, self.base_delay * (2 ** max(0, retry_number - 1)))
        return delay / 2.0 + (delay / 2.0) * self.jitter()

    def retry_after(self, headers: Mapping[str, str] | None) -> float | None:
        """Seconds from a ``Retry-After`` header (seconds or HTTP date), or None."""
        value = header_value(headers, "Retry-After")
        if value is None:
            return None
        value = str(value).strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        reference = None
        date_header = header_value(headers, "Date")
        if date_header:
            try:
                reference = email.utils.parsedate_to_datetime(date_header).timestamp()
            except (TypeError, ValueError, IndexError, AttributeError):
                reference = None
        if reference is None:
            reference = self.now()
        return max(0.0, when.timestamp() - reference)

    @property
    def remaining(self) -> float:
        return max(0.0, self.budget_seconds - self.waited)

    def wait_before_retry(self, retries: int, headers: Mapping[str, str] | None,
                          announce: Callable[[float, str], None]) -> RetryStop | None:
        """The one wait step before retry number ``retries + 1``, for the token service and Graph alike.

        The delay is the answer's ``Retry-After`` (``headers``; None for a transport failure), else :meth:`backoff`;
        the shared gate is held for it, ``announce(delay, source)`` is called (``source``: "Retry-After" or
        "backoff") and the caller sleeps until the gate opens. Returns None after waiting, or a :class:`RetryStop`
        when ``max_retries`` or the time budget allow no further retry (nothing is held then).
        """
        if retries >= self.max_retries:
            return RetryStop(budget=False)
        delay = self.retry_after(headers) if headers is not None else None
        source = "Retry-After"
        if delay is None:
            delay = self.backoff(retries + 1)
            source = "backoff"
        if not self.hold(delay):
            return RetryStop(budget=True, delay=delay)
        announce(delay, source)
        self.wait_until_open()
        return None




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


class CachedResponse:
    """A stored 2xx answer to a GET, with what MSAL reads of an http_client's response."""

    def __init__(self, status_code: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        self.text = text
        self.headers = dict(headers or {})

    @property
    def content(self) -> bytes:
        return self.text.encode("utf-8")

    def json(self) -> Any:
        return json.loads(self.text)

    def raise_for_status(self) -> None:
        """Only 2xx answers are stored: nothing to raise."""


class RetryingHttpClient:
    """The HTTP client MSAL's confidential client gets: the shared session, with transient failures retried.

    MSAL leaves retries to the HTTP client it is given ("it will be your http_client's duty to decide whether to
    perform retry"). Token and discovery requests change nothing on the server, so a 429/5xx answer, a connection
    error or a timeout is tried again, by the task's one :class:`RetryPolicy`: the same ``Retry-After`` handling,
    backoff, ``max_retries`` per request and time budget as Graph requests, and ``on_retry(message)`` before each
    retry (modules turn it into a warning). TLS failures are never retried. Anything else is delegated to the session.

    ``stored_answers``: where 2xx answers to GETs (MSAL's discovery requests) are kept between runs, an object with
    ``stored_answer(url, params)`` -> ``(status, text, headers)`` or None, and ``store_answer(url, params, response)``
    (``_token_cache.DiscoveryAnswers``), or None.
    """

    def __init__(self, session: VerifyingSession, policy: RetryPolicy | None = None, on_retry: Callable[[str], None] | None = None,
                 stored_answers: Any = None) -> None:
        self.session = session
        self.policy = policy or RetryPolicy()
        self.on_retry = on_retry
        self.stored_answers = stored_answers

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("POST", self.session.post, url, kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response | CachedResponse:
        store = self.stored_answers
        if store is not None:
            stored = store.stored_answer(url, kwargs.get("params"))
            if stored is not None:
                return CachedResponse(*stored)
        response = self._send("GET", self.session.get, url, kwargs)
        if store is not None and 200 <= response.status_code < 300:
            store.store_answer(url, kwargs.get("params"), response)
        return response

    def close(self) -> None:
        return self.session.close()

    def _send(self, method, send, url, kwargs):
        retries = 0
        while True:
            self.policy.wait_until_open()
            try:
                response = send(url, **kwargs)
            except Exception as exc:  # only transport errors are retried, and never a TLS failure
                if not is_transient_exception(exc):
                    raise
                if self._wait_before_retry(method, url, retries, None, type(exc).__name__) is not None:
                    raise  # no retry left: the failure as it is
            else:
                if response.status_code not in TRANSIENT_STATUSES:
                    return response
                if self._wait_before_retry(method, url, retries, response.headers, f"HTTP {response.status_code}") is not None:
                    return response  # no retry left: the caller reads the answer
            retries += 1

    def _wait_before_retry(self, method, url, retries, headers, what):
        """The policy's wait step, announced as the token service's; a :class:`RetryStop` when no retry is left."""
        def announce(delay, source):
            if self.on_retry is not None:
                self.on_retry(f"token service {method} {url.split('?', 1)[0]}: {what}; retrying in {delay:.1f}s ({source}, retry {retries + 1} of"
                              f" {self.policy.max_retries})")
        return self.policy.wait_before_retry(retries, headers, announce)


def is_tls_error(exc: BaseException) -> bool:
    """True for a TLS handshake / certificate verification failure."""
    if isinstance(exc, SSLError):
        return True
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text


_VERIFY_REASON_RE = re.compile(r"certificate verify failed: ([^()'\"\]]+)")


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
