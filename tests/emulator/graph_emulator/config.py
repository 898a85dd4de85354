"""Constants (clouds, roles, enums, matrices) and the runtime configuration of the emulator."""

import copy
import ipaddress
import threading

# Graph roots per cloud (docs/service-contract.md row 23). The emulator serves every cloud from its own
# base URL; what changes is the audience it expects in bearer tokens and which APIs exist.
CLOUDS = {
    "global": "https://graph.microsoft.com",
    "usgov": "https://graph.microsoft.us",
    "usgov_dod": "https://dod-graph.microsoft.us",
    "china": "https://microsoftgraph.chinacloudapi.cn",
}

US_GOVERNMENT = ("usgov", "usgov_dod")
# identityAccounts in US Government clouds (docs/service-contract.md row 23a): never in v1.0 (the v1.0-Fairfax.csdl metadata
# has neither identityAccounts nor invokeAction); in beta Microsoft's sources disagree, so the emulator serves either:
# "offered" (the rendered beta pages), "absent" (404, as a missing segment) or "absent_400" (the same answered 400).
US_GOV_BETA_IDENTITY_ACCOUNTS = ("offered", "absent", "absent_400")
# A $filter joining values with "or" on incidents and alerts_v2: the list pages document only "{property} eq '{value}'".
FILTER_OR_MODES = ("answer", "refuse")

# Which API families each cloud offers (docs/service-contract.md rows 18 and 23).
API_CLOUDS = {
    "identity_accounts": {"global", "usgov", "usgov_dod"},
    "security_actions": {"global"},
    # users and revokeSignInSessions: every cloud (user-revokesigninsessions national cloud table); riskyUsers:
    # Entra ID Protection is not offered by 21Vianet.
    "entra_users": {"global", "usgov", "usgov_dod", "china"},
    "risky_users": {"global", "usgov", "usgov_dod"},
    # Defender XDR incidents and alerts_v2: global and US Government, not China (the pages' national-cloud include).
    "incidents": {"global", "usgov", "usgov_dod"},
    "alerts": {"global", "usgov", "usgov_dod"},
}

ROLE_ACCOUNT_READ = "SecurityIdentitiesAccount.Read.All"
ROLE_ACTIONS_WRITE = "SecurityIdentitiesActions.ReadWrite.All"
ROLE_SA_READ = "SecurityActions.Read.All"
ROLE_SA_WRITE = "SecurityActions.ReadWrite.All"
ROLE_USER_READ = "User.Read.All"
ROLE_USER_READWRITE = "User.ReadWrite.All"
ROLE_USER_ENABLE_DISABLE = "User.EnableDisableAccount.All"
ROLE_USER_REVOKE_SESSIONS = "User.RevokeSessions.All"
ROLE_DIRECTORY_READ = "Directory.Read.All"
ROLE_DIRECTORY_READWRITE = "Directory.ReadWrite.All"
ROLE_RISKY_USER_WRITE = "IdentityRiskyUser.ReadWrite.All"
ROLE_INCIDENT_READ = "SecurityIncident.Read.All"
ROLE_INCIDENT_WRITE = "SecurityIncident.ReadWrite.All"
ROLE_ALERT_READ = "SecurityAlert.Read.All"
ROLE_ALERT_WRITE = "SecurityAlert.ReadWrite.All"

# Schema enum members (camelCase, case-sensitive in requests). unknownFutureValue is a sentinel that
# is never accepted in a request.
ACTIONS = ("disable", "enable", "forcePasswordReset", "revokeAllSessions", "requireUserToSignInAgain", "markUserAsCompromised")
PROVIDERS = ("entraID", "activeDirectory", "okta")

# Provider x action matrices (docs/service-contract.md row 4). Version A also refuses every entraID action.
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

# Profiles: "schema" answers as the metadata describes; "docs" answers as Microsoft's published examples show
# (empty List actions, Get example 1's contradiction, the plain UPN filter refused on the abstract type, a
# propagation delay). A profile only sets start values; each knob below can still be changed on its own.
PROFILES = ("schema", "docs")
FILTER_MODES = ("answer", "refuse", "not_implemented", "ignore")
MEGAN_ID = "0104216-0539-4838-88b1-55baafdc296b"  # the id of the Get/invokeAction examples, also in the seed
PROFILE_DEFAULTS = {
    "schema": {"filter_support": {"cast": "answer", "plain": "answer"}, "propagation_delay_s": 0,
               "list_actions": "stored", "contradictory_identities": [], "enforce_offered_actions": True},
    "docs": {"filter_support": {"cast": "answer", "plain": "refuse"}, "propagation_delay_s": 1.0,
             "list_actions": "empty", "contradictory_identities": [MEGAN_ID], "enforce_offered_actions": False},
}
# What cancelSecurityAction does to the action's status; the docs say nothing (README "Choices").
CANCEL_EFFECTS = ("none", "failed")

# Private, loopback, link-local, CGNAT, multicast and reserved ranges: BlockIp on these ends Failed.
DEFAULT_FAILING_RANGES = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::1/128", "fc00::/7", "fe80::/10",
]

DEFAULTS = {
    "profile": "schema",
    **PROFILE_DEFAULTS["schema"],
    "security_action_cancel": "none",
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
    "revoke_sessions_response": "value",  # "value": 200 {"value": true}; "no_content": 204 (both documented)
    "entra_id_p2": True,  # false: riskyUsers actions answer 403 "not licensed"
    "us_gov_beta_identity_accounts": "offered",
    "incident_filter_or": "answer",  # "refuse": 400 to a $filter using "or" on incidents and alerts_v2
    # A PATCH of accountEnabled on a user mastered on-premises (onPremisesSyncEnabled true); no Microsoft page says which
    # happens: "accept" (it stays until the admin API's directory_sync, which puts AD's value back) or "refuse" (400).
    "synced_account_enabled": "accept",
    # What happens to the target right after a write to it (PATCH or revokeSignInSessions), for read-back tests:
    # "none"; "renamed" (its UPN changes); "upn_moved" (renamed, and its old UPN given to another, disabled user).
    "user_after_write": "none",
    # Identity Protection allows about 1 request a second per tenant and answers 429 without Retry-After (Graph
    # throttling limits page); 0 turns the limit off (the default, so unrelated tests never wait).
    "identity_protection_rps": 0,
    # How GET /users/{userPrincipalName} compares UPNs: "lower" (A-Z and the rest lower-cased) or "casefold" (also
    # U+FB01 'ﬁ' == 'fi'), for the look-alike test: a client must not trust the service's folding.
    "upn_fold": "lower",
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


def _filter_support(name, value):
    if not isinstance(value, dict) or not value or set(value) - {"cast", "plain"}:
        raise ConfigError(f"{name} must be an object with cast and/or plain")
    for key, mode in value.items():
        _choice(f"{name}.{key}", mode, FILTER_MODES)
    return dict(value)


def _id_list(name, value):
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError(f"{name} must be a list of identity ids")
    return list(value)


def _boolean(name, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false")
    return value


VALIDATORS = {
    "profile": lambda n, v: _choice(n, v, PROFILES),
    "filter_support": _filter_support,
    "propagation_delay_s": _number,
    "list_actions": lambda n, v: _choice(n, v, ("stored", "empty")),
    "contradictory_identities": _id_list,
    "enforce_offered_actions": _boolean,
    "security_action_cancel": lambda n, v: _choice(n, v, CANCEL_EFFECTS),
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
    "revoke_sessions_response": lambda n, v: _choice(n, v, ("value", "no_content")),
    "entra_id_p2": _boolean,
    "us_gov_beta_identity_accounts": lambda n, v: _choice(n, v, US_GOV_BETA_IDENTITY_ACCOUNTS),
    "incident_filter_or": lambda n, v: _choice(n, v, FILTER_OR_MODES),
    "synced_account_enabled": lambda n, v: _choice(n, v, ("accept", "refuse")),
    "user_after_write": lambda n, v: _choice(n, v, ("none", "renamed", "upn_moved")),
    "identity_protection_rps": _number,
    "upn_fold": lambda n, v: _choice(n, v, ("lower", "casefold")),
}


def validate(changes):
    """Return a validated copy of ``changes``; raise ConfigError naming the first bad key."""
    if not isinstance(changes, dict):
        raise ConfigError("configuration must be a JSON object")
    unknown = sorted(set(changes) - set(VALIDATORS))
    if unknown:
        raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}; known: {', '.join(sorted(VALIDATORS))}")
    return {key: VALIDATORS[key](key, value) for key, value in changes.items()}


def _apply(values, checked):
    """Merge validated changes: a new profile first resets its knobs, then explicit values win;
    filter_support may name only one of cast/plain."""
    if "profile" in checked:
        values.update(copy.deepcopy(PROFILE_DEFAULTS[checked["profile"]]))
    for key, value in checked.items():
        if key == "filter_support":
            values[key] = dict(values[key], **value)
        else:
            values[key] = value


class Config:
    """Thread-safe live configuration; ``reset()`` returns to the values given at start."""

    def __init__(self, **overrides):
        self._lock = threading.Lock()
        self._start = copy.deepcopy(DEFAULTS)
        _apply(self._start, validate(overrides))
        self._values = copy.deepcopy(self._start)

    def __getitem__(self, key):
        with self._lock:
            return self._values[key]

    def update(self, changes):
        checked = validate(changes)
        with self._lock:
            _apply(self._values, checked)
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
