"""Deserialize a JSON payload through Microsoft's generated beta models (msgraph-beta-sdk, kiota's JSON parse
node) and list every way it departs from them: properties the model does not have, values the model could not
read (an enum member or a date it does not know), and enum values that only match with another case.

``findings(model, payload)`` returns sorted strings such as ``"value: unknown property"``,
``"accounts[0].provider: unknown property"`` or ``"accounts[0].actions[0]: enum 'Enable' is not the schema value 'enable'"``.
An empty list means the payload is exactly what the metadata describes.

``version="v1.0"`` reads the payload with Microsoft's v1.0 SDK (msgraph-sdk, generated from the v1.0 metadata)
instead, so a beta-only property on a v1.0 answer is an unknown property. ``missing_non_nullable(model, payload)``
lists the properties the v1.0 metadata marks ``Nullable="false"`` that a full representation lacks
(non_nullable.v1.0.json); ``ODataError`` reads error bodies.
"""

import enum
import importlib
import json
import re
from pathlib import Path

from kiota_abstractions.serialization import Parsable
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph_beta.generated.models.security.identity_accounts import IdentityAccounts
from msgraph_beta.generated.models.security.identity_accounts_collection_response import IdentityAccountsCollectionResponse
from msgraph_beta.generated.models.security.invoke_action_result import InvokeActionResult
from msgraph_beta.generated.models.security_action import SecurityAction
from msgraph_beta.generated.models.security_action_collection_response import SecurityActionCollectionResponse
from msgraph_beta.generated.security.identities.identity_accounts.item.microsoft_graph_security_invoke_action.invoke_action_post_request_body \
    import InvokeActionPostRequestBody
# Entra ID directory (payloads/entra): microsoft.graph.user and the bodies the request builders generate.
from msgraph_beta.generated.identity_protection.risky_users.confirm_compromised.confirm_compromised_post_request_body \
    import ConfirmCompromisedPostRequestBody
from msgraph_beta.generated.identity_protection.risky_users.dismiss.dismiss_post_request_body import DismissPostRequestBody
from msgraph_beta.generated.models.user import User
from msgraph_beta.generated.users.item.revoke_sign_in_sessions.revoke_sign_in_sessions_post_response import RevokeSignInSessionsPostResponse
# Defender XDR incidents and alerts_v2 (payloads/incidents): the microsoft.graph.security types. "Alert" is the
# security namespace's alert (alerts_v2), not the legacy microsoft.graph.alert; "User" is microsoft.graph.user,
# not microsoft.graph.security.user (that one is only reached through IdentityAccounts' discriminator).
from msgraph_beta.generated.models.security.alert import Alert
from msgraph_beta.generated.models.security.alert_collection_response import AlertCollectionResponse
from msgraph_beta.generated.models.security.alert_comment import AlertComment
from msgraph_beta.generated.models.security.incident import Incident
from msgraph_beta.generated.models.security.incident_collection_response import IncidentCollectionResponse
from msgraph_beta.generated.models.security.user_evidence import UserEvidence
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError

_CLASSES = (IdentityAccounts, IdentityAccountsCollectionResponse, InvokeActionResult, SecurityAction, SecurityActionCollectionResponse,
            InvokeActionPostRequestBody, ConfirmCompromisedPostRequestBody, DismissPostRequestBody, User, RevokeSignInSessionsPostResponse,
            Alert, AlertCollectionResponse, AlertComment, Incident, IncidentCollectionResponse, UserEvidence, ODataError)
MODELS = {model.__name__: model for model in _CLASSES}
assert len(MODELS) == len(_CLASSES), "two models share a class name: give one a qualified key"
# OData control information on the top-level object of a response: metadata about the payload, not a property of
# any type (OData JSON Format 4.01, section 4.5 "Control Information"), so no generated model declares it.
RESPONSE_ANNOTATIONS = frozenset({"@odata.context"})
NON_NULLABLE = json.loads((Path(__file__).resolve().parent / "non_nullable.v1.0.json").read_text(encoding="utf-8"))["types"]
COLLECTIONS = {"IncidentCollectionResponse": "Incident", "AlertCollectionResponse": "Alert"}


def v1_model(name):
    """The v1.0 SDK's class of the beta model ``name`` (same generated module path under ``msgraph``), or None when
    v1.0 has no such type."""
    beta = MODELS[name]
    try:
        module = importlib.import_module(beta.__module__.replace("msgraph_beta.", "msgraph.", 1))
    except ImportError:
        return None
    return getattr(module, beta.__name__, None)


def parse(model, payload, version="beta"):
    """The model instance kiota builds from ``payload`` (a dict), via the model's discriminator factory."""
    if version == "v1.0":
        name = model if isinstance(model, str) else model.__name__
        model = v1_model(name)
        if model is None:
            raise LookupError(f"the v1.0 SDK has no {name}")
    model = MODELS[model] if isinstance(model, str) else model
    node = JsonParseNodeFactory().get_root_parse_node("application/json", json.dumps(payload).encode("utf-8"))
    return node.get_object_value(model)


def _attribute(key):
    name = key.lstrip("@").replace(".", "_").replace("-", "_")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _walk(parsed, raw, path, out, allowed=frozenset()):
    if isinstance(parsed, Parsable):
        if not isinstance(raw, dict):
            out.append(f"{path or '$'}: expected an object")
            return
        extra = set(getattr(parsed, "additional_data", None) or {}) - allowed
        out.extend(f"{path + '.' if path else ''}{key}: unknown property" for key in extra)
        known = parsed.get_field_deserializers()
        for key, value in raw.items():
            if key in known and value is not None:
                _walk(getattr(parsed, _attribute(key)), value, f"{path + '.' if path else ''}{key}", out)
    elif isinstance(raw, list):
        if not isinstance(parsed, list) or len(parsed) != len(raw):
            out.append(f"{path}: not read as a list")
            return
        for index, (item, value) in enumerate(zip(parsed, raw)):
            _walk(item, value, f"{path}[{index}]", out)
    elif parsed is None:
        out.append(f"{path}: value {raw!r} not readable by the model")
    elif isinstance(parsed, enum.Enum) and parsed.value != raw:
        out.append(f"{path}: enum {raw!r} is not the schema value {parsed.value!r}")


def findings(model, payload, allowed=RESPONSE_ANNOTATIONS, version="beta"):
    """Sorted departures of ``payload`` from ``model`` (a class or a name from MODELS); ``allowed`` top-level extras.
    ``version``: "beta" (msgraph-beta-sdk) or "v1.0" (msgraph-sdk)."""
    out = []
    _walk(parse(model, payload, version), payload, "", out, frozenset(allowed))
    return sorted(out)


def missing_non_nullable(model, payload):
    """``path: non-nullable property missing`` (or null) for each Nullable="false" property a full representation
    of ``model`` (or each item of its collection response) lacks."""
    items = [("", payload)]
    if model in COLLECTIONS:
        model = COLLECTIONS[model]
        items = [(f"value[{index}].", item) for index, item in enumerate(payload.get("value") or [])]
    out = []
    for prefix, item in items:
        out += [f"{prefix}{name}: non-nullable property missing" for name in NON_NULLABLE.get(model, ())
                if not isinstance(item, dict) or item.get(name) is None]
        if model == "Incident" and isinstance(item, dict):
            for index, alert in enumerate(item.get("alerts") or []):
                out += [f"{prefix}alerts[{index}].{entry}" for entry in missing_non_nullable("Alert", alert)]
    return sorted(out)


def response_findings(model, payload, version):
    """Everything the contract holds a response to: the beta models, the v1.0 models on v1.0, non-nullables."""
    out = findings(model, payload)
    if version == "v1.0":
        out += [f"v1.0 {item}" for item in findings(model, payload, version="v1.0")]
        out += missing_non_nullable(model, payload)
    return sorted(set(out))
