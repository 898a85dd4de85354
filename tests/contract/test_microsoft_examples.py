"""(a) Microsoft's published example payloads (tests/contract/payloads, pinned revisions) through the models of
Microsoft's generated beta SDK. Where an example disagrees with the metadata, the exact disagreement is asserted
here and listed in docs/service-contract.md; it is never filtered away."""

import json

import pytest
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter

from conftest import manifest, payload
from sdk_contract import findings, parse

ENTRIES = [entry for entry in manifest() if entry["file"]]
IDS = [entry["file"] for entry in ENTRIES]

# graph-api.md section 5: the examples use "provider" for the schema's "identityProvider", PascalCase enum
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
# Inside the "value" wrapper of the single-object examples.
UNWRAPPED = {
    "invokeaction-response": ("InvokeActionResult", ["provider: unknown property"]),
    "identityaccounts-get": ("IdentityAccounts", ["accounts[0].actions[0]: enum 'Enable' is not the schema value 'enable'",
                                                  "accounts[0].provider: unknown property", "accounts[1].provider: unknown property",
                                                  "accounts[2].provider: unknown property"]),
    "identityaccounts-get-select": ("IdentityAccounts", ["accounts[0].provider: unknown property", "accounts[1].provider: unknown property",
                                                         "accounts[2].provider: unknown property"]),
}
# The securityActions list/get pages show placeholders ("datetime-value") the DateTimeOffset properties cannot hold.
UNREADABLE = {"securityactions-list", "securityactions-get"}


def _name(entry):
    return entry["file"].split(".")[0]


def test_manifest_pins_every_payload_to_a_revision():
    assert len(ENTRIES) == 16
    for entry in manifest():
        assert entry["repository"] == "microsoftgraph/microsoft-graph-docs-contrib"
        assert len(entry["commit"]) == 40 and entry["path"].startswith("api-reference/")
    versions = {entry["http"].split()[1].split("/")[1] for entry in ENTRIES if "identityAccounts" in entry["http"]}
    assert versions == {"beta", "v1.0"}


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_example_deserializes_with_exactly_the_documented_disagreements(entry):
    name = _name(entry)
    if name in UNREADABLE:
        with pytest.raises(ValueError, match="datetime-value"):
            findings(entry["model"], payload(entry["file"]))
        return
    assert findings(entry["model"], payload(entry["file"])) == EXPECTED[name]
    if name in UNWRAPPED:
        model, expected = UNWRAPPED[name]
        assert findings(model, payload(entry["file"])["value"], allowed=()) == expected


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
