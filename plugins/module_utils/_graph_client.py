# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 3: the standard library, _errors, _http (the transport: all that knows requests), _retries and, for connect(),
# _credentials' token providers and _connection's settings only. No Ansible imports.

"""Microsoft Graph client: request ids, retries within a time budget, token refresh, paging, errors.

* every request carries a ``client-request-id`` GUID, ``Accept: application/json`` and a timeout;
* 429/503/504 are retried (GET) honouring ``Retry-After`` (seconds or HTTP date), else capped exponential
  backoff with jitter, bounded by ``RetryPolicy.max_retries`` and the total ``RetryPolicy.budget_seconds``;
  GETs are also retried on connection errors, timeouts and truncated bodies;
* a POST is retried only on 429 (the service rejected it) or when the connection could not be opened;
  after a timeout, a connection reset after sending, or any 5xx it raises
  :class:`GraphOutcomeUnknownError` and is never replayed: the caller reads the state to reconcile;
* a 401 re-acquires the token once (``force_refresh``) and sends the request again.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import json
import re
import threading
import uuid
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, unquote, urlencode, urlsplit

from ansible_collections.msgraph.security.plugins.module_utils._connection import ConnectionSettings
from ansible_collections.msgraph.security.plugins.module_utils._credentials import TokenProvider, build_token_provider
from ansible_collections.msgraph.security.plugins.module_utils._errors import (
    GraphError,
    GraphOutcomeUnknownError,
    InputError,
    one_line,
    redact,
)
from ansible_collections.msgraph.security.plugins.module_utils._graph_answers import GraphResponse, error_from_response, parse_body
from ansible_collections.msgraph.security.plugins.module_utils._http import (
    VerifyingSession,
    header_value as _header,
    is_request_exception,
    is_timeout,
    is_tls_error,
    is_transient_exception,
    not_sent,
    tls_error,
    tls_failed_before_sending,
)
from ansible_collections.msgraph.security.plugins.module_utils._retries import TRANSIENT_STATUSES, RetryPolicy

# The transient answers Graph documents as worth retrying (docs/service-contract.md row 20); a 500 or 502 from Graph
# is reported at once.
GRAPH_RETRIED_STATUSES = TRANSIENT_STATUSES - frozenset([500, 502])
_QUERY_SAFE = "$',():@/"
# Evolvable enums: without this preference Graph returns members added after unknownFutureValue as
# unknownFutureValue (e.g. incident status awaitingAction, alert serviceSource microsoftSentinel), so a filter on
# them finds nothing. Sent to the resources that have such members (docs/service-contract.md, "Evolvable enums").
PREFER_UNKNOWN_ENUM_MEMBERS = "include-unknown-enum-members"
EVOLVABLE_ENUM_PATHS = ("/security/incidents", "/security/alerts_v2")


def unwrap_entity(body: Any) -> dict[str, Any]:
    """``{"value": {...}}`` -> ``{...}``; a bare object is returned unchanged; ``None`` -> ``{}``.

    A ``value`` that is a list is a collection page and is left alone. A body that is not an object (a JSON
    string, number or list where an entity belongs) is no entity either: ``{}``, so callers never crash on it.
    """
    if not isinstance(body, dict):
        return {}
    if isinstance(body, dict) and isinstance(body.get("value"), dict):
        return body["value"]
    return body


# Characters that would end or change a URL path segment, and control characters.
_PATH_UNSAFE = re.compile(r"[/?#\\\s\x00-\x1f\x7f]")


def validate_path_id(value: Any, option: str, what: str, fix: str | None = None) -> str:
    """An id that goes into a URL path, stripped; :class:`InputError` naming ``option`` for anything that could change
    the path or query.

    Refused: '/', '?', '#', '\\', whitespace and control characters, also percent-encoded, and the dot segments ``.`` and
    ``..``, which a URL library or proxy collapses (``identityAccounts/..`` would address ``/security/identities/``).
    """
    if not isinstance(value, str) or not value.strip():
        raise InputError(option, f"{what} must be a non-empty string")
    value = value.strip()
    decoded = unquote(value)
    suffix = f"; {fix}" if fix else ""
    if _PATH_UNSAFE.search(value) or _PATH_UNSAFE.search(decoded):
        raise InputError(option, f"{what} {value!r} must not contain '/', '?', '#', '\\', spaces or control characters, not even percent-encoded{suffix}")
    if not decoded.strip("."):
        raise InputError(option, f"{what} {value!r} is a dot segment ('.' or '..'); it would change the request path, so nothing was sent{suffix}")
    return value


_DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_of(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of a URL, lower case, the scheme's default port filled in (``https://h`` and
    ``https://h:443`` are one origin); None for a URL that does not parse."""
    try:
        parsed = urlsplit(url)
        port = parsed.port
    except ValueError:
        return None
    scheme = parsed.scheme.lower()
    return scheme, (parsed.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)


def validate_server_id(value: Any, what: str, response: GraphResponse | None = None) -> str:
    """An id the service returned, checked like an input id before it goes into a URL path: a :class:`GraphError`
    (the service's answer is wrong, not the task's input) for anything that could change the path; nothing is sent."""
    try:
        return validate_path_id(value, "id", what)
    except InputError as error:
        raise GraphError(f"The service returned {what} that cannot be used in a request path ({error.message}); nothing more was sent",
                         code="UnsafeServerId", status=getattr(response, "status", None),
                         request_id=getattr(response, "request_id", None),
                         client_request_id=getattr(response, "client_request_id", None),
                         method=getattr(response, "method", None), url=getattr(response, "url", None),
                         hint="the answer does not look like Microsoft Graph's; check graph_endpoint and what is between this host and it")


def path_segment(value: str) -> str:
    """Percent-encode one path segment (an id) for use in a Graph path."""
    return quote(str(value), safe="")


class _RequestProgress:
    """How far one request got: attempts, retries, and the last answer's status and request ids."""

    def __init__(self):
        self.attempts = 0
        self.retries = 0
        self.last_status = None
        self.last_request_id = None
        self.last_client_request_id = None


def connect(settings: ConnectionSettings, token_cache: Any = None, pool_size: int | None = None,
            warn: Callable[[str], None] | None = None) -> GraphClient:
    """A GraphClient for validated ConnectionSettings, the way every module and the event source connect.

    One verifying session (TLS policy, connection pool) for the token service and Graph, and one RetryPolicy for
    both: one backoff, one gate, one ``retry_budget``. ``warn(message)`` gets the session's TLS warnings and every
    retry (token-service messages redacted). Raises InputError / GraphError; the caller reports them.
    """
    warn = warn or (lambda message: None)
    session = VerifyingSession(validate_certs=settings.validate_certs, ca_path=settings.ca_path, timeout=settings.timeout,
                               pool_size=pool_size)
    for message in session.warnings:
        warn(message)
    retry = RetryPolicy(max_retries=settings.max_retries, budget_seconds=settings.retry_budget)
    provider = build_token_provider(settings, session, token_cache=token_cache, retry=retry,
                                    on_retry=lambda message: warn(redact(message)))
    return GraphClient(settings.graph_endpoint_url, settings.api_version, provider, session, timeout=settings.timeout,
                       retry=retry, on_retry=warn)


class GraphClient:
    """Talks to Microsoft Graph. ``http``: a requests-like session (``request(method, url, **kwargs)``).

    ``on_retry(message)`` is called before each retry (modules turn it into a warning).
    """

    def __init__(self, graph_endpoint: str, api_version: str, token_provider: TokenProvider, http: VerifyingSession, timeout: float = 30,
                 retry: RetryPolicy | None = None, on_retry: Callable[[str], None] | None = None) -> None:
        self.graph_endpoint = graph_endpoint.rstrip("/")
        self.api_version = api_version.strip("/")
        self.token_provider = token_provider
        self.http = http
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.on_retry = on_retry
        self._origin = origin_of(self.graph_endpoint)
        # Threads share one token: one acquisition at a time, and one refresh per rejected token.
        self._token_lock = threading.Lock()
        self._current_token: str | None = None

    @staticmethod
    def new_client_request_id() -> str:
        """A fresh client-request-id (one per write, so Graph's logs can find the request)."""
        return str(uuid.uuid4())

    def ensure_token(self) -> None:
        """Acquire the token now (raises GraphAuthError): a batch fails once, before its first request."""
        self._token()

    # --- URLs ---------------------------------------------------------------------------
    def url_for(self, path: str, params: dict[str, Any] | Iterable[tuple[str, Any]] | None = None) -> str:
        """The exact URL a request for ``path`` (relative to ``<endpoint>/<api_version>``) goes to."""
        if path.startswith("https://") or path.startswith("http://"):
            url = path
        else:
            url = f"{self.graph_endpoint}/{self.api_version}/{path.lstrip('/')}"
        if params:
            items = [(key, value) for key, value in _param_items(params) if value is not None]
            if items:
                url += ("&" if "?" in url else "?") + urlencode(items, quote_via=quote, safe=_QUERY_SAFE)
        return url

    def _has_evolvable_enums(self, url):
        base = f"{self.graph_endpoint}/{self.api_version}"
        path = url[len(base):].split("?", 1)[0] if url.startswith(base) else ""
        return any(path == prefix or path.startswith(prefix + "/") for prefix in EVOLVABLE_ENUM_PATHS)

    def _same_origin(self, url):
        return origin_of(url) == self._origin

    # --- public verbs -------------------------------------------------------------------
    def get(self, path: str, params: dict[str, Any] | Iterable[tuple[str, Any]] | None = None, permission: str | None = None,
            client_request_id: str | None = None) -> GraphResponse:
        """GET; retried on 429/503/504, connection errors, timeouts and truncated bodies."""
        return self._request("GET", self.url_for(path, params), permission=permission, client_request_id=client_request_id)

    def post(self, path: str, body: Any = None, client_request_id: str | None = None, permission: str | None = None) -> GraphResponse:
        """POST; retried only on 429 (rejected) or when the connection could not be opened.

        Timeout, connection reset after sending, any 5xx, or an unreadable 2xx body raise
        :class:`GraphOutcomeUnknownError` carrying the ``client-request-id``; the request is never replayed.
        """
        return self._request("POST", self.url_for(path), body=body, permission=permission,
                             client_request_id=client_request_id)

    def patch(self, path: str, body: Any = None, client_request_id: str | None = None, permission: str | None = None) -> GraphResponse:
        """PATCH: a write, retried and never replayed exactly like :meth:`post` (every non-GET is)."""
        return self._request("PATCH", self.url_for(path), body=body, permission=permission,
                             client_request_id=client_request_id)

    def get_all(self, path: str, params: dict[str, Any] | Iterable[tuple[str, Any]] | None = None, max_items: int | None = None,
                permission: str | None = None) -> list[Any]:
        """Every item of a collection, following ``@odata.nextLink`` to the end or ``max_items``."""
        items: list[Any] = []
        url = self.url_for(path, params)
        seen = set()
        while url:
            if max_items is not None and len(items) >= max_items:
                break
            seen.add(url)
            response = self._request("GET", url, permission=permission)
            body = response.body
            page = []
            next_link = None
            if isinstance(body, dict):
                value = body.get("value")
                if isinstance(value, list):
                    page = value
                elif isinstance(value, dict):
                    page = [value]
                next_link = body.get("@odata.nextLink")
            elif isinstance(body, list):
                page = body
            items.extend(page)
            if not next_link:
                break
            if not isinstance(next_link, str) or not self._same_origin(next_link):
                raise GraphError(
                    f"Refusing to follow @odata.nextLink to {next_link}: it is not on {self.graph_endpoint}",
                    code="ForeignNextLink", status=response.status, method="GET", url=response.url,
                    request_id=response.request_id, client_request_id=response.client_request_id,
                    hint="check graph_endpoint; paging links must stay on the Graph endpoint",
                )
            if next_link in seen:
                raise GraphError(f"@odata.nextLink repeats {next_link}; stopping to avoid an endless loop",
                                 code="PagingLoop", status=response.status, method="GET", url=response.url,
                                 request_id=response.request_id, client_request_id=response.client_request_id)
            url = next_link
        if max_items is not None:
            items = items[:max_items]
        return items

    # --- core ---------------------------------------------------------------------------
    def _token(self, rejected=None):
        """The shared token; after a 401 a new one, unless another thread already replaced ``rejected``."""
        with self._token_lock:
            if rejected is None:
                self._current_token = self.token_provider.get_token(force_refresh=False)
            elif self._current_token in (None, rejected):
                self._current_token = self.token_provider.get_token(force_refresh=True)
            return self._current_token

    def _announce_retry(self, message):
        if self.on_retry is not None:
            self.on_retry(redact(message))

    def _headers(self, token, client_request_id, has_body):
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "client-request-id": client_request_id,
            "return-client-request-id": "true",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _request(self, method, url, body=None, permission=None, client_request_id=None):
        client_request_id = client_request_id or self.new_client_request_id()
        is_get = method == "GET"
        state = _RequestProgress()
        refreshed = False
        fresh_token = None
        data = json.dumps(body).encode("utf-8") if body is not None else None
        while True:
            self.retry.wait_until_open()  # another thread may have been throttled: pause with it
            token = fresh_token or self._token()
            fresh_token = None
            headers = self._headers(token, client_request_id, data is not None)
            if self._has_evolvable_enums(url):
                headers["Prefer"] = PREFER_UNKNOWN_ENUM_MEMBERS
            state.attempts += 1
            try:
                raw = self.http.request(method, url, data=data, headers=headers, timeout=self.timeout,
                                        allow_redirects=False)
            except Exception as exc:  # transport errors: decide between retry, unknown outcome and failure
                self._handle_transport_error(exc, method, url, client_request_id, state, permission)
                continue
            status = raw.status_code
            state.last_status = status
            state.last_request_id = _header(raw.headers, "request-id")
            state.last_client_request_id = _header(raw.headers, "client-request-id") or client_request_id

            if status == 401 and not refreshed and getattr(self.token_provider, "refreshable", True):
                # The token was rejected before anything was processed: get a new one and send again (once).
                fresh_token = self._token(rejected=token)
                refreshed = True
                continue

            if status in GRAPH_RETRIED_STATUSES and (is_get or status == 429):
                self._wait_before_retry(method, url, state, raw.headers, f"HTTP {status}", raw=raw,
                                        permission=permission, client_request_id=client_request_id)
                continue

            if 200 <= status < 300:
                parsed, ok = parse_body(raw)
                if ok:
                    return GraphResponse(status, parsed, raw.headers, request_id=state.last_request_id,
                                         client_request_id=state.last_client_request_id,
                                         date=_header(raw.headers, "Date"), method=method, url=url)
                if is_get:
                    self._wait_before_retry(method, url, state, raw.headers, "an unreadable (truncated or "
                                            "non-JSON) body", raw=raw, permission=permission,
                                            client_request_id=client_request_id)
                    continue
                raise GraphOutcomeUnknownError(
                    f"The {method} returned HTTP {status} with an unreadable (truncated or non-JSON) body; the action may or may not have been carried out",
                    status=status, code="UnreadableResponse", request_id=state.last_request_id,
                    client_request_id=client_request_id, date=_header(raw.headers, "Date"), method=method, url=url,
                    hint=_OUTCOME_HINT,
                )

            error = error_from_response(raw, method, url, permission=permission, client_request_id=client_request_id)
            if not is_get and status >= 500:
                raise GraphOutcomeUnknownError(
                    f"The {method} returned HTTP {status} ({error.code}: {error.message}); the action may or may not have been carried out",
                    status=status, code=error.code, request_id=error.request_id, client_request_id=client_request_id,
                    date=error.date, method=method, url=url, hint=_OUTCOME_HINT,
                )
            if status == 401 and refreshed:
                error.hint = ("the token was rejected even after it was acquired again: check that cloud_environment and "
                              "graph_endpoint match the tenant's cloud, and that the app registration is enabled")
            elif status == 401:
                error.hint = ("the access token was rejected (expired, or issued for another audience or cloud): "
                              f"give a fresh access_token for {self.graph_endpoint}")
            raise error

    def _handle_transport_error(self, exc, method, url, client_request_id, state, permission):
        """Retry, or raise: a write that may have reached the service is an unknown outcome, never a plain failure."""
        if isinstance(exc, GraphError):
            raise exc
        if is_tls_error(exc):
            if method != "GET" and not tls_failed_before_sending(exc):
                # Not a handshake failure: the TLS session broke while the request or its answer was on the wire.
                raise GraphOutcomeUnknownError(
                    f"The {method} met a TLS failure after the request may have been sent ({one_line(exc)}); the action may or may not "
                    "have been carried out",
                    code="TlsErrorAfterSending", client_request_id=client_request_id, method=method, url=url,
                    hint=_OUTCOME_HINT,
                )
            raise tls_error(exc, method=method, url=url, verify=getattr(self.http, "forced_verify", True))
        if not is_request_exception(exc):
            raise exc
        kind = "timed out" if is_timeout(exc) else "connection failed"
        if method != "GET" and not not_sent(exc):
            raise GraphOutcomeUnknownError(
                f"The {method} {kind} after the request was sent ({one_line(exc)}); the action may or may not have been carried out",
                code="Timeout" if is_timeout(exc) else "ConnectionError",
                client_request_id=client_request_id, method=method, url=url, hint=_OUTCOME_HINT,
            )
        # A truncated body (ChunkedEncodingError) is as transient as a reset.
        if not is_transient_exception(exc):
            raise GraphError(f"The request failed: {one_line(exc)}", method=method, url=url,
                             client_request_id=client_request_id,
                             hint="check graph_endpoint and the network path to it")
        self._wait_before_retry(method, url, state, None, f"{kind} ({type(exc).__name__})",
                                permission=permission, client_request_id=client_request_id, exc=exc)

    def _wait_before_retry(self, method, url, state, headers, what, raw=None, permission=None,
                           client_request_id=None, exc=None):
        """The policy's wait step before the next attempt; raises when retries or the time budget are exhausted."""
        policy = self.retry

        def announce(delay, source):
            self._announce_retry(f"Microsoft Graph {method} {url}: {what}; retrying in {delay:.1f}s ({source}, retry {state.retries + 1} of"
                                 f" {policy.max_retries}, client-request-id {client_request_id})")

        stop = policy.wait_before_retry(state.retries, headers, announce)
        if stop is not None and not stop.budget:
            raise self._gave_up(f"gave up after {state.attempts} attempt(s) (max_retries {policy.max_retries})",
                                method, url, state, raw, permission, client_request_id, exc)
        if stop is not None:
            raise self._gave_up(
                f"retry budget of {_seconds_text(policy.budget_seconds)}s exhausted after {state.attempts} attempt(s) ({policy.waited:.1f}s "
                f"already waited; the next wait would be {stop.delay:.1f}s)",
                method, url, state, raw, permission, client_request_id, exc, budget=True)
        state.retries += 1

    def _gave_up(self, reason, method, url, state, raw, permission, client_request_id, exc, budget=False):
        """The error of a request given up on (``max_retries`` or, with ``budget``, the retry budget used up)."""
        last = f"last status HTTP {state.last_status}" if state.last_status is not None else "no response"
        if exc is not None:
            last = f"last error {one_line(exc)}"
        ids = f"last request-id {state.last_request_id or 'none'}"
        hint = ("the service kept throttling or failing; run the task again later" +
                (", or raise retry_budget" if budget else ", or raise max_retries"))
        if raw is not None and state.last_status is not None and state.last_status >= 400:
            inner = error_from_response(raw, method, url, permission=permission, client_request_id=client_request_id)
            detail = "" if inner.message.startswith("HTTP ") else f" (service said: {inner.message})"
            return GraphError(f"{reason}; {last}, {ids}{detail}",
                              status=inner.status, code=inner.code, request_id=inner.request_id,
                              client_request_id=inner.client_request_id, date=inner.date, method=method, url=url,
                              required_permission=inner.required_permission, hint=hint)
        return GraphError(f"{reason}; {last}, {ids}", status=state.last_status,
                          code="RetryBudgetExhausted" if budget else "RetriesExhausted",
                          request_id=state.last_request_id, client_request_id=client_request_id, method=method,
                          url=url, hint=hint if exc is None else hint + "; check graph_endpoint and the network path")


_OUTCOME_HINT = ("do not resend blindly: read the target's current state to find out whether the action took effect "
                 "(quote the client-request-id to Microsoft support if needed)")


def _seconds_text(seconds):
    return f"{seconds:.0f}" if float(seconds).is_integer() else f"{seconds:.1f}"


def _param_items(params):
    if isinstance(params, dict):
        return list(params.items())
    return list(params)


def read_one(client: GraphClient, path: str, params: dict[str, Any] | None = None, permission: str | None = None,
             missing: Callable[[GraphError], Exception] | None = None) -> GraphResponse | None:
    """GET one entity; the one place where Graph's 404 is read as "it does not exist".

    Returns None for a 404, or, when ``missing`` is given, raises what ``missing(error)`` makes of Graph's error
    (its code and request ids kept). Every other failure is raised as it is.
    """
    try:
        return client.get(path, params=params, permission=permission)
    except GraphError as error:
        if error.status != 404:
            raise
        if missing is None:
            return None
        replacement = missing(error)
        if replacement is error:
            raise
        raise replacement from error


def first_present(raw: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of ``keys`` that ``raw`` holds and is not None: one property under the names that
    Microsoft's schema and its documentation examples give it (docs/service-contract.md row 9)."""
    for key in keys:
        if raw.get(key) is not None:
            return raw[key]
    return None


def odata_string(value: str) -> str:
    """An OData string literal: single quotes doubled, so input cannot end the literal early."""
    return "'" + value.replace("'", "''") + "'"
