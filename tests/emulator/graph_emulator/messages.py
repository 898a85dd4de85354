"""Request/response objects and the error bodies of Graph and Entra ID."""

import datetime
import email.utils
import json
import uuid
from urllib.parse import parse_qsl

GRAPH_CONTENT_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
ENTRA_CONTENT_TYPE = "application/json; charset=utf-8"

# Route families decide the error shape, the counters and which faults apply.
GRAPH = "graph"
ENTRA = "entra"
MSI = "msi"


def new_guid():
    return str(uuid.uuid4())


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso_time(when=None, digits=7):
    """Graph style UTC timestamp (``2024-05-01T10:11:12.1234567Z``); ``digits=0`` drops fractions."""
    when = when or utc_now()
    if isinstance(when, (int, float)):
        when = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{when.microsecond:06d}0"[:digits]
    return text + "Z"


def http_date(epoch=None):
    return email.utils.formatdate(epoch, usegmt=True)


class Request:
    """One parsed HTTP request; handlers read it and annotate it for the request log."""

    def __init__(self, method, path, query, headers, body, base_url):
        self.method = method
        self.path = path
        self.query = query  # dict: name -> last value
        self.headers = headers  # email.message.Message: case-insensitive get()
        self.body = body  # bytes
        self.base_url = base_url
        self.request_id = new_guid()
        self.client_request_id = headers.get("client-request-id") or headers.get("x-ms-client-request-id")
        self.route = None
        self.family = None
        self.params = {}
        self.client_id = None  # set by token routes, for counters
        self.force_expired = False  # set by the expire_token fault
        self.full_scan = False  # set by identityAccounts listings that answered with the whole (unfiltered) collection

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        """Parsed JSON body; raises ValueError on an empty or invalid body."""
        return json.loads(self.body.decode("utf-8"))

    def form(self):
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))


class Response:
    """What the server writes. ``transport`` asks for a broken answer (drop, reset, truncate)."""

    def __init__(self, status, body=b"", headers=None, transport=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.transport = transport

    @classmethod
    def json(cls, status, payload, content_type=ENTRA_CONTENT_TYPE, headers=None):
        merged = {"Content-Type": content_type}
        merged.update(headers or {})
        return cls(status, json.dumps(payload).encode("utf-8"), merged)

    @classmethod
    def graph(cls, status, payload, headers=None):
        return cls.json(status, payload, GRAPH_CONTENT_TYPE, headers)

    @classmethod
    def empty(cls, status=200):
        return cls(status, b"")


class HttpError(Exception):
    """Raised by handlers to answer early with a prepared response."""

    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def graph_error_body(req, code, message):
    return {"error": {"code": code, "message": message, "innerError": {
        "date": iso_time(digits=0),
        "request-id": req.request_id,
        "client-request-id": req.client_request_id or req.request_id,
    }}}


def graph_error(req, status, code, message, headers=None):
    return HttpError(Response.graph(status, graph_error_body(req, code, message), headers))


def entra_error_body(req, error, code, description):
    """Entra ID error: the description starts with the AADSTS code and ends with the trace data."""
    stamp = utc_now().strftime("%Y-%m-%d %H:%M:%SZ")
    trace_id = req.request_id
    correlation_id = req.client_request_id or new_guid()
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {stamp}",
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{req.base_url}/error?code={code}",
    }


def entra_error(req, status, error, code, description):
    return HttpError(Response.json(status, entra_error_body(req, error, code, description)))


GRAPH_STATUS_CODES = {
    400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
    409: "Conflict", 429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

GRAPH_STATUS_MESSAGES = {
    429: "Too many requests. Please retry after the time given in the Retry-After header.",
    503: "The service is temporarily unavailable. Please retry later.",
    504: "The gateway timed out waiting for the service.",
}


def status_error(req, family, status, code=None, message=None, headers=None):
    """A generic error of the given status in the shape of the route family (used by faults)."""
    if family == GRAPH:
        code = code if code is not None else GRAPH_STATUS_CODES.get(status, "UnknownError")
        message = message if message is not None else GRAPH_STATUS_MESSAGES.get(status, f"Injected HTTP {status}.")
        return Response.graph(status, graph_error_body(req, code, message), headers)
    if family == MSI:
        return Response.json(status, {"statusCode": status, "message": message or f"Injected HTTP {status}.",
                                      "correlationId": req.request_id}, headers=headers)
    error = code or ("temporarily_unavailable" if status >= 429 else "invalid_request")
    body = entra_error_body(req, error, 90033 if status >= 429 else 90000, message or "A transient error has occurred. Please try again.")
    return Response.json(status, body, headers=headers)
