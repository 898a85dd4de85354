# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: the standard library and _http (the transport) only. No Ansible imports.

"""The one retry engine of a task: which answers are transient, ``Retry-After``, backoff, the time budget, and the
one wait step before a retry (:meth:`RetryPolicy.wait_before_retry`), shared by the token service's HTTP client
(:class:`RetryingHttpClient`, here) and the Graph client (``_graph_client.GraphClient``)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import dataclasses
import email.utils
import json
import random
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._http import VerifyingSession, header_value, is_transient_exception

if TYPE_CHECKING:  # pragma: no cover - requests may be missing at run time (_http reports it)
    import requests

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
        self._resume_at: float | None = None  # clock() value when the gate opens again
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
        """Seconds of the retry budget not yet spent waiting."""
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


class CachedResponse:
    """A stored 2xx answer to a GET, with what MSAL reads of an http_client's response."""

    def __init__(self, status_code: int, text: str, headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        self.text = text
        self.headers = dict(headers or {})

    @property
    def content(self) -> bytes:
        """The stored body as bytes, as requests.Response.content."""
        return self.text.encode("utf-8")

    def json(self) -> Any:
        """The stored body parsed as JSON, as requests.Response.json()."""
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
        """POST to the token service: a transient answer or transport failure is retried within the budget (a token
        request changes nothing, so sending it again is safe)."""
        return self._send("POST", self.session.post, url, kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response | CachedResponse:
        """GET with the retry policy, answered from the stored answers when they hold this URL."""
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
        """Close the underlying session."""
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
