"""(a) Microsoft's published example payloads (tests/contract/payloads, pinned revisions) through the models of
Microsoft's generated beta SDK. Where an example disagrees with the metadata, the exact disagreement is asserted
here and listed in docs/service-contract.md; it is never filtered away."""

import importlib.util
import inspect
import json
import uuid

import pytest
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter

from conftest import PAYLOADS, manifest, payload
from sdk_contract import findings, parse

ENTRIES = [entry for entry in manifest() if entry["file"]]
IDS = [entry["file"] for entry in ENTRIES]

# docs/service-contract.md row 9: the examples use "provider" for the schema's "identityProvider", PascalCase enum
# values, and wrap single objects in "value". Everything else must match the models exactly.
PROVIDER_KEYS = {
    "identityaccounts-list": ["value[0].accounts[0].provider", "value[0].accounts[1].provider", "value[0].accounts[2].provider",
                              "value[1].accounts[0].provider"],
    "identityaccounts-list-filtered": ["value[0].accounts[0].provider", "value[0].accounts[1].provider", "value[0].accounts[2].provider"],
}
EXPECTED = {
    "invokeaction-request": [],
    "invokeaction-response": ["value: unknown property"],
    "identityaccounts-get": ["value: unknown property"],
    "identityaccounts-get-select": ["value: unknown property"],
    "securityactions-create-request": [],
    # the create example answers camelCase "notStarted"; operationStatus members are PascalCase
    "securityactions-create-response": ["status: enum 'notStarted' is not the schema value 'NotStarted'"],
}
EXPECTED.update({name: [f"{key}: unknown property" for key in keys] for name, keys in PROVIDER_KEYS.items()})
# payloads/entra: the Entra ID directory pages (v1.0) and the identityAccounts Get example at the revision entra_user relies on.
EXPECTED.update({
    "entra/identityaccounts-get-example": ["value: unknown property"],
    "entra/revokesigninsessions-response-200": [],
    "entra/riskyuser-confirmcompromised-request": [],
    "entra/riskyuser-dismiss-request": [],
    "entra/user-update-request": [],  # placeholders the string properties accept: test_the_user_update_example_is_placeholders
})
# payloads/incidents: the Defender XDR incidents and alerts_v2 pages (v1.0). PascalCase incident enums in the get and update
# examples (the members are camelCase), the incident examples' comments with createdBy/createdTime where alertComment has
# createdByDisplayName/createdDateTime, "tags" for "customTags" in the $expand=alerts example, comments wrapped in "value".
INCIDENT_COMMENT = ["comments[0].createdBy: unknown property", "comments[0].createdTime: unknown property"]
EXPECTED.update({
    "incidents/incident-get-response": sorted(INCIDENT_COMMENT + [
        "classification: enum 'TruePositive' is not the schema value 'truePositive'",
        "determination: enum 'MultiStagedAttack' is not the schema value 'multiStagedAttack'",
        "severity: enum 'Medium' is not the schema value 'medium'", "status: enum 'Active' is not the schema value 'active'"]),
    "incidents/incident-update-request": ["classification: enum 'TruePositive' is not the schema value 'truePositive'",
                                          "determination: enum 'MultiStagedAttack' is not the schema value 'multiStagedAttack'"],
    "incidents/incidents-list-expand-alerts-response": sorted([f"value[0].{item}" for item in INCIDENT_COMMENT]
                                                              + ["value[0].tags: unknown property"]),
    "incidents/incident-post-comment-request": [],
    "incidents/incident-post-comment-response": ["value: unknown property"],
    "incidents/alert-get-response": [],
})
# Inside the "value" wrapper of the single-object examples.
UNWRAPPED = {
    "invokeaction-response": ("InvokeActionResult", ["provider: unknown property"]),
    "identityaccounts-get": ("IdentityAccounts", ["accounts[0].actions[0]: enum 'Enable' is not the schema value 'enable'",
                                                  "accounts[0].provider: unknown property", "accounts[1].provider: unknown property",
                                                  "accounts[2].provider: unknown property"]),
    "identityaccounts-get-select": ("IdentityAccounts", ["accounts[0].provider: unknown property", "accounts[1].provider: unknown property",
                                                         "accounts[2].provider: unknown property"]),
    # the comment list inside the post-comments response's "value": every item an exact alertComment
    "incidents/incident-post-comment-response": ("AlertComment", []),
}
UNWRAPPED["entra/identityaccounts-get-example"] = UNWRAPPED["identityaccounts-get"]
# The securityActions list/get pages show placeholders ("datetime-value") the DateTimeOffset properties cannot hold;
# the userEvidence resource page shows "String (timestamp)" (test_the_userevidence_representation_is_placeholders_throughout).
UNREADABLE = {"securityactions-list": "datetime-value", "securityactions-get": "datetime-value",
              "incidents/userevidence-resource": r"String \(timestamp\)"}


def _name(entry):
    return entry["file"].split(".")[0]


def test_manifest_pins_every_payload_to_a_revision():
    assert len(ENTRIES) == 28
    assert sorted(entry["model"] for entry in ENTRIES if "/" in entry["file"]) == sorted([
        "IdentityAccounts", "RevokeSignInSessionsPostResponse", "ConfirmCompromisedPostRequestBody", "DismissPostRequestBody", "User",
        "Incident", "IncidentCollectionResponse", "Incident", "AlertComment", "AlertComment", "Alert", "UserEvidence"])
    for entry in manifest():
        assert entry["repository"] == "microsoftgraph/microsoft-graph-docs-contrib"
        assert len(entry["commit"]) == 40 and entry["path"].startswith("api-reference/")
    versions = {entry["http"].split()[1].split("/")[1] for entry in ENTRIES if "identityAccounts" in (entry["http"] or "")}
    assert versions == {"beta", "v1.0"}
    vendored = {str(path.relative_to(PAYLOADS)) for path in PAYLOADS.rglob("*.json")} - {"manifest.json"}
    assert vendored == {entry["file"] for entry in ENTRIES}  # nothing vendored outside the manifest
    # only a resource page's JSON representation has no HTTP call
    assert [entry["file"] for entry in ENTRIES if entry["http"] is None] == ["incidents/userevidence-resource.json"]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_example_deserializes_with_exactly_the_documented_disagreements(entry):
    name = _name(entry)
    if name in UNREADABLE:
        with pytest.raises(ValueError, match=UNREADABLE[name]):
            findings(entry["model"], payload(entry["file"]))
        return
    assert findings(entry["model"], payload(entry["file"])) == EXPECTED[name]
    if name in UNWRAPPED:
        model, expected = UNWRAPPED[name]
        inner = payload(entry["file"])["value"]
        for item in inner if isinstance(inner, list) else [inner]:
            assert findings(model, item, allowed=()) == expected


def test_beta_and_v1_examples_are_the_same_payloads():
    for entry in ENTRIES:
        if ".beta." in entry["file"]:
            assert payload(entry["file"]) == payload(entry["file"].replace(".beta.", ".v1.0."))


def test_get_example_1_contradicts_itself_and_the_list_example_offers_nothing():
    """The two facts the collection must not act on blindly (issue 11): isEnabled true while the AD account offers
    only Enable, and every List account with an empty actions list."""
    get = payload("identityaccounts-get.beta.json")["value"]
    assert get["isEnabled"] is True and get["accounts"][0]["actions"] == ["Enable"]
    listed = payload("identityaccounts-list.beta.json")["value"]
    assert all(account["actions"] == [] for item in listed for account in item["accounts"])


def test_the_invokeaction_request_example_is_exactly_what_the_sdk_serializes():
    body = payload("invokeaction-request.beta.json")
    writer = JsonSerializationWriter()
    writer.write_object_value(None, parse("InvokeActionPostRequestBody", body))
    assert json.loads(writer.get_serialized_content()) == body


def test_the_entra_revision_of_get_example_1_is_unchanged_and_its_cloud_sid_is_not_the_entra_account():
    """payloads/entra pins Get example 1 at the revision entra_user relies on: the same payload as the vendored one, so the
    same disagreements; its cloudSecurityIdentifier, read as S-1-12-x plus the object id's four little-endian uint32,
    is neither the identity id nor the EntraID account's identifier (docs/service-contract.md, Entra ID directory actions)."""
    example = payload("entra/identityaccounts-get-example.json")
    assert example == payload("identityaccounts-get.beta.json")
    value = example["value"]
    sid = value["cloudSecurityIdentifier"]
    assert sid.startswith("S-1-12-4-")
    decoded = str(uuid.UUID(bytes_le=b"".join(int(part).to_bytes(4, "little") for part in sid.split("-")[4:])))
    entra = [account["identifier"] for account in value["accounts"] if account["provider"] == "EntraID"]
    assert decoded.startswith("948f8158-") and decoded not in entra + [value["id"]]


def test_the_user_update_example_is_placeholders():
    """The string properties accept the page's placeholders, so the model finds nothing: only accountEnabled, the one
    property entra_user sends, is a real value."""
    body = payload("entra/user-update-request.json")
    assert body == {"accountEnabled": True, "businessPhones": ["businessPhones-value"], "city": "city-value"}
    assert parse("User", body).account_enabled is True


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's own request builders
def test_the_sdk_request_builders_agree_with_the_entra_pages():
    """revokeSignInSessions answers a RevokeSignInSessionsPostResponse (the 200 example's {"value": true}; the older
    revision's 204 has no body to check); confirmCompromised and dismiss answer nothing (204)."""
    from msgraph_beta.generated.identity_protection.risky_users.confirm_compromised.confirm_compromised_request_builder import \
        ConfirmCompromisedRequestBuilder
    from msgraph_beta.generated.identity_protection.risky_users.dismiss.dismiss_request_builder import DismissRequestBuilder
    from msgraph_beta.generated.users.item.revoke_sign_in_sessions.revoke_sign_in_sessions_request_builder import \
        RevokeSignInSessionsRequestBuilder
    assert inspect.signature(RevokeSignInSessionsRequestBuilder.post).return_annotation == "Optional[RevokeSignInSessionsPostResponse]"
    assert parse("RevokeSignInSessionsPostResponse", payload("entra/revokesigninsessions-response-200.json")).value is True
    for builder in (ConfirmCompromisedRequestBuilder, DismissRequestBuilder):
        assert inspect.signature(builder.post).return_annotation == "None"


def test_the_incident_examples_name_the_type_two_ways():
    """@odata.type is a plain string property, so the model cannot flag it: asserted here."""
    assert payload("incidents/incident-get-response.json")["@odata.type"] == "#microsoft.graph.incident"
    listed = payload("incidents/incidents-list-expand-alerts-response.json")["value"][0]
    assert listed["@odata.type"] == "#microsoft.graph.security.incident"
    assert [listed[name] for name in ("classification", "determination", "status", "severity")] == \
        ["truePositive", "multiStagedAttack", "active", "medium"]  # camelCase here, PascalCase in the get example


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's own request builders
def test_the_post_comments_example_has_no_sdk_counterpart():
    """The SDK generates no /security/incidents/{id}/comments route; its alerts_v2 (and incident alert) comments route
    posts and answers a bare list of alertComment, while the page posts one object without '#' in @odata.type and
    answers the list in "value", under an @odata.context naming an alerts_v2 alert."""
    assert importlib.util.find_spec("msgraph_beta.generated.security.incidents.item.comments") is None
    from msgraph_beta.generated.security.alerts_v2.item.comments.comments_request_builder import CommentsRequestBuilder
    post = inspect.signature(CommentsRequestBuilder.post)
    assert post.parameters["body"].annotation == "list[AlertComment]" and post.return_annotation == "Optional[list[AlertComment]]"
    request = payload("incidents/incident-post-comment-request.json")
    assert isinstance(request, dict) and request["@odata.type"] == "microsoft.graph.security.alertComment"
    response = payload("incidents/incident-post-comment-response.json")
    assert isinstance(response["value"], list) and "/alerts_v2('" in response["@odata.context"]


def test_the_userevidence_representation_is_placeholders_throughout():
    """The resource page's JSON representation: "String (timestamp)" stops the model at createdDateTime (asserted in
    the parametrized test); without that one key the remaining placeholders are exactly these."""
    body = payload("incidents/userevidence-resource.json")
    assert body["createdDateTime"] == "String (timestamp)"
    rest = {key: value for key, value in body.items() if key != "createdDateTime"}
    assert findings("UserEvidence", rest) == ["remediationStatus: value 'String' not readable by the model",
                                              "roles[0]: value 'String' not readable by the model",
                                              "verdict: value 'String' not readable by the model"]
