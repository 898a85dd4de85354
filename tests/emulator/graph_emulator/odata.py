"""The small OData subset the emulated collections support: $filter (eq/ne, and/or, parentheses), $select,
$top and server-driven paging with $skiptoken."""

import base64
import datetime
import json
import re
from urllib.parse import quote, urlencode

SUPPORTED_OPTIONS = ("$filter", "$select", "$top", "$skiptoken")
SKIPTOKEN_PREFIX = "RFNwdAIAAQAAA"  # makes the token look opaque, like the service's

_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<open>\()|(?P<close>\))"
                    r"|(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))|(?P<number>-?\d+(?:\.\d+)?)(?![\w.])"
                    r"|(?P<word>[A-Za-z_$@][\w/.@]*))")


class ODataError(ValueError):
    """A query the service would refuse with 400 BadRequest; the message is the Graph message."""


class Resource:
    """What a collection allows: filterable properties (name -> 'string'|'bool') and selectable ones."""

    def __init__(self, type_name, filterable, selectable):
        self.type_name = type_name
        self.filterable = filterable
        self.selectable = selectable


def _tokens(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        found = _TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise ODataError(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        kind = found.lastgroup
        value = found.group(kind)
        out.append((kind, value))
        pos = found.end()
    return out


class _Parser:
    def __init__(self, text, resource):
        self.text = text
        self.resource = resource
        self.tokens = _tokens(text)
        self.pos = 0

    def _peek_word(self):
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "word":
            return self.tokens[self.pos][1]
        return None

    def _take(self, kind=None):
        if self.pos >= len(self.tokens):
            raise ODataError(f"Invalid filter clause: unexpected end of '{self.text}'.")
        token = self.tokens[self.pos]
        if kind and token[0] != kind:
            raise ODataError(f"Invalid filter clause: unexpected '{token[1]}' in '{self.text}'.")
        self.pos += 1
        return token

    def parse(self):
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise ODataError(f"Invalid filter clause: unexpected '{self.tokens[self.pos][1]}' in '{self.text}'.")
        return predicate

    def _or(self):
        parts = [self._and()]
        while self._peek_word() == "or":
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda item: any(part(item) for part in parts))

    def _and(self):
        parts = [self._factor()]
        while self._peek_word() == "and":
            self.pos += 1
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else (lambda item: all(part(item) for part in parts))

    def _factor(self):
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "open":
            self.pos += 1
            inner = self._or()
            self._take("close")
            return inner
        return self._comparison()

    def _comparison(self):
        name = self._take("word")[1]
        if name not in self.resource.filterable:
            raise ODataError(f"Invalid filter clause: Could not find a property named '{name}' on type '{self.resource.type_name}' "
                             "or the property is not supported in $filter.")
        operator = self._take("word")[1]
        ordered = self.resource.filterable[name] == "datetime"
        if operator not in ("eq", "ne") + (tuple(_ORDER) if ordered else ()):
            raise ODataError(f"Invalid filter clause: the operator '{operator}' is not supported; use eq or ne"
                             + (", gt, ge, lt or le." if ordered else "."))
        literal = self._literal(name)
        if ordered:
            return _time_matcher(name, literal, operator)
        matches = _matcher(name, literal)
        return matches if operator == "eq" else (lambda item: not matches(item))

    def _literal(self, name):
        kind, value = self._take()
        expected = self.resource.filterable[name]
        if kind == "word" and value == "null":
            return None
        if expected == "bool" and kind == "word" and value in ("true", "false"):
            return value == "true"
        if expected == "string" and kind == "string":
            return value[1:-1].replace("''", "'")
        if expected == "datetime" and kind == "datetime":
            return parse_time(value)
        raise ODataError(f"Invalid filter clause: the value {value} is not a valid {expected} literal for '{name}'.")


_DATETIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_ORDER = {"eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b,
          "lt": lambda a, b: a < b, "le": lambda a, b: a <= b}


def parse_time(text):
    """An OData DateTimeOffset (``2021-09-30T09:35:45.1133333Z``, up to 7 fraction digits) as an aware datetime."""
    found = _DATETIME.fullmatch(text.strip())
    if not found:
        raise ODataError(f"The value '{text}' is not a valid DateTimeOffset.")
    main, fraction, zone = found.group(1), (found.group(2) or "")[1:], found.group(3)
    if len(main) == 16:
        main += ":00"
    zone = "+00:00" if zone == "Z" else zone
    return datetime.datetime.fromisoformat(f"{main}.{(fraction + '000000')[:6]}{zone}")


def _time_matcher(name, literal, operator):
    compare = _ORDER[operator]

    def matches(item):
        value = item.get(name)
        if value is None or literal is None:
            return compare(value, literal) if operator in ("eq", "ne") else False
        return compare(parse_time(value), literal)
    return matches


def _matcher(name, literal):
    """Strings compare case-insensitively (as directory filters do)."""
    if isinstance(literal, str):
        lowered = literal.lower()
        return lambda item: isinstance(item.get(name), str) and item[name].lower() == lowered
    return lambda item: item.get(name) == literal


def parse_filter(text, resource):
    if not text or not text.strip():
        return lambda item: True
    return _Parser(text, resource).parse()


def filter_names(text):
    """The bare words of a $filter (property names, operators, keywords): enough to tell which properties it names."""
    return {value for kind, value in _tokens(text) if kind == "word"} if text else set()


def parse_select(text, resource):
    if not text:
        return None
    names = [part.strip() for part in text.split(",")]
    for name in names:
        if name not in resource.selectable:
            raise ODataError(f"Could not find a property named '{name}' on type '{resource.type_name}'.")
    return names


def apply_select(entity, names):
    if names is None:
        return entity
    return {key: value for key, value in entity.items() if key in names or key.startswith("@odata.")}


def encode_skiptoken(offset):
    raw = json.dumps({"offset": offset, "v": 1}).encode("ascii")
    return SKIPTOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_skiptoken(token):
    try:
        if not token.startswith(SKIPTOKEN_PREFIX):
            raise ValueError
        raw = token[len(SKIPTOKEN_PREFIX):]
        offset = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError):
        raise ODataError("Invalid $skiptoken value.") from None


def check_options(req, allowed):
    unsupported = sorted(key for key in req.query if key.startswith("$") and key not in allowed)
    if unsupported:
        raise ODataError(f"Query option '{unsupported[0]}' is not supported by this API.")


def query_page(req, items, resource, default_size, max_size, ignore_filter=False):
    """Filter and page ``items`` per the request query; return (page, select_names, next_link or None).
    ``ignore_filter`` answers as a service that silently drops $filter: the unfiltered collection."""
    check_options(req, SUPPORTED_OPTIONS)
    predicate = parse_filter(None if ignore_filter else req.query.get("$filter"), resource)
    select = parse_select(req.query.get("$select"), resource)
    size = default_size
    if "$top" in req.query:
        try:
            size = int(req.query["$top"])
        except ValueError:
            raise ODataError(f"Invalid value '{req.query['$top']}' for query option $top.") from None
        if size < 1:
            raise ODataError(f"Invalid value '{req.query['$top']}' for query option $top.")
        size = min(size, max_size)
    offset = decode_skiptoken(req.query["$skiptoken"]) if "$skiptoken" in req.query else 0
    matching = [item for item in items if predicate(item)]
    page = matching[offset:offset + size]
    next_link = None
    if offset + size < len(matching):
        params = {key: value for key, value in req.query.items() if key != "$skiptoken"}
        params["$skiptoken"] = encode_skiptoken(offset + size)
        next_link = f"{req.base_url}{req.path}?{urlencode(params, quote_via=quote, safe='$,()')}"
    return page, select, next_link
