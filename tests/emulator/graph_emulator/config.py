"""Constants (clouds, roles, enums, matrices) and the runtime configuration of the emulator."""

import copy
import ipaddress
import threading

# Graph roots per cloud (graph-api.md section 12). The emulator serves every cloud from its own
# base URL; what changes is the audience it expects in bearer tokens and which APIs exist.
CLOUDS = {
    "global": "https://graph.microsoft.com",
    "usgov": "https://graph.microsoft.us",
    "usgov_dod": "https://dod-graph.microsoft.us",
    "china": "https://microsoftgraph.chinacloudapi.cn",
}

# Which API families each cloud offers (graph-api.md section 12.2, current beta pages).
API_CLOUDS = {
    "identity_accounts": {"global", "usgov", "usgov_dod"},
    "security_actions": {"global"},
    # Defender XDR incidents and alerts_v2: global and US Government, not China (the pages' national-cloud include).
    "incidents": {"global", "usgov", "usgov_dod"},
    "alerts": {"global", "usgov", "usgov_dod"},
}

ROLE_ACCOUNT_READ = "SecurityIdentitiesAccount.Read.All"
ROLE_ACTIONS_WRITE = "SecurityIdentitiesActions.ReadWrite.All"
ROLE_SA_READ = "SecurityActions.Read.All"
ROLE_SA_WRITE = "SecurityActions.ReadWrite.All"
ROLE_INCIDENT_READ = "SecurityIncident.Read.All"
ROLE_INCIDENT_WRITE = "SecurityIncident.ReadWrite.All"
ROLE_ALERT_READ = "SecurityAlert.Read.All"
ROLE_ALERT_WRITE = "SecurityAlert.ReadWrite.All"

# Schema enum members (camelCase, case-sensitive in requests). unknownFutureValue is a sentinel that
# is never accepted in a request.
ACTIONS = ("disable", "enable", "forcePasswordReset", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised")
PROVIDERS = ("entraID", "activeDirectory", "okta")

# Provider x action matrices (graph-api.md section 4). Version A also refuses every entraID action.
MATRICES = {
    "A": {
        "activeDirectory": {"disable", "enable", "forcePasswordReset"},
        "okta": {"disable", "enable", "revokeAllSessions"},
        "entraID": set(),
    },
    "B": {
        "activeDirectory": {"disable", "enable", "forcePasswordReset"},
        "okta": {"disable", "enable", "revokeAllSessions"},
        "entraID": {"disable", "enable", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised"},
    },
}

SHAPES = ("schema", "example")

# Private, loopback, link-local, CGNAT, multicast and reserved ranges: BlockIp on these ends Failed.
DEFAULT_FAILING_RANGES = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::1/128", "fc00::/7", "fe80::/10",
]

DEFAULTS = {
    "shape": "schema",
    "cloud": "global",
    "matrix": "A",
    "page_size": 20,
    "max_page_size": 999,
    "graph_latency_ms": 0,
    "token_latency_ms": 0,
    "token_lifetime_s": 3599,
    "security_action_timing": {"running_after_s": 0.2, "terminal_after_s": 1.0},
    "failing_ip_ranges": DEFAULT_FAILING_RANGES,
    "extra_identities": 0,
    "onboarded": True,
    "identity_forbidden_style": "mdi",
}


class ConfigError(ValueError):
    """A configuration value the emulator cannot use (answered as 400 by the admin API)."""


def _number(name, value, minimum=0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ConfigError(f"{name} must be a number >= {minimum}")
    return value


def _integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}")
    return value


def _choice(name, value, choices):
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}")
    return value


def _timing(name, value):
    if not isinstance(value, dict) or set(value) - {"running_after_s", "terminal_after_s"}:
        raise ConfigError(f"{name} must be an object with running_after_s and terminal_after_s")
    merged = dict(DEFAULTS["security_action_timing"], **value)
    running = _number(f"{name}.running_after_s", merged["running_after_s"])
    terminal = _number(f"{name}.terminal_after_s", merged["terminal_after_s"])
    if terminal < running:
        raise ConfigError(f"{name}.terminal_after_s must be >= running_after_s")
    return {"running_after_s": running, "terminal_after_s": terminal}


def _ranges(name, value):
    if not isinstance(value, list):
        raise ConfigError(f"{name} must be a list of CIDR ranges")
    try:
        return [str(ipaddress.ip_network(item, strict=False)) for item in value]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _boolean(name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false")
    return value


VALIDATORS = {
    "shape": lambda n, v: _choice(n, v, SHAPES),
    "cloud": lambda n, v: _choice(n, v, tuple(CLOUDS)),
    "matrix": lambda n, v: _choice(n, v, tuple(MATRICES)),
    "page_size": lambda n, v: _integer(n, v, 1),
    "max_page_size": lambda n, v: _integer(n, v, 1),
    "graph_latency_ms": _number,
    "token_latency_ms": _number,
    "token_lifetime_s": lambda n, v: _integer(n, v, 1),
    "security_action_timing": _timing,
    "failing_ip_ranges": _ranges,
    "extra_identities": lambda n, v: _integer(n, v, 0),
    "onboarded": _boolean,
    "identity_forbidden_style": lambda n, v: _choice(n, v, ("mdi", "graph")),
}


def validate(changes):
    """Return a validated copy of ``changes``; raise ConfigError naming the first bad key."""
    if not isinstance(changes, dict):
        raise ConfigError("configuration must be a JSON object")
    unknown = sorted(set(changes) - set(VALIDATORS))
    if unknown:
        raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}; known: {', '.join(sorted(VALIDATORS))}")
    return {key: VALIDATORS[key](key, value) for key, value in changes.items()}


class Config:
    """Thread-safe live configuration; ``reset()`` returns to the values given at start."""

    def __init__(self, **overrides):
        self._lock = threading.Lock()
        self._start = copy.deepcopy(DEFAULTS)
        self._start.update(validate(overrides))
        self._values = copy.deepcopy(self._start)

    def __getitem__(self, key):
        with self._lock:
            return self._values[key]

    def update(self, changes):
        checked = validate(changes)
        with self._lock:
            self._values.update(checked)
            return copy.deepcopy(self._values)

    def reset(self):
        with self._lock:
            self._values = copy.deepcopy(self._start)

    def snapshot(self):
        with self._lock:
            return copy.deepcopy(self._values)

    def graph_root(self):
        return CLOUDS[self["cloud"]]

    def failing_networks(self):
        return [ipaddress.ip_network(item) for item in self["failing_ip_ranges"]]
