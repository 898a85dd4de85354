"""A tiny regex router: routes have a stable name (used by the log, counters and faults) and a family."""

import re
from urllib.parse import unquote


class Route:
    def __init__(self, name, family, method, pattern, handler):
        self.name = name
        self.family = family
        self.method = method
        self.regex = re.compile(pattern + r"\Z")
        self.handler = handler


class Router:
    def __init__(self, routes):
        self.routes = list(routes)

    def match(self, method, path):
        """Return (route, params) for a match, (None, family-of-path-match) when only the method differs."""
        path_matched = None
        for route in self.routes:
            found = route.regex.match(path)
            if not found:
                continue
            if route.method == method:
                return route, {key: unquote(value) for key, value in found.groupdict().items() if value is not None}
            path_matched = path_matched or route
        return None, path_matched

    def names(self):
        return sorted({route.name for route in self.routes})
