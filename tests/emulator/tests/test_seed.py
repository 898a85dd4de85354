"""The bundled seed data and the bulk generator."""

import collections
import json

import pytest

from graph_emulator.config import MATRICES
from graph_emulator.seed import SeedError, bulk_identity, cloud_sid, load


@pytest.fixture(scope="module")
def data():
    return load()


def test_seed_has_the_documented_variety(data):
    identities = data["identities"]
    assert len(identities) >= 40
    names = collections.Counter(item["displayName"] for item in identities)
    assert sum(1 for count in names.values() if count >= 2) >= 2
    providers = [{acc["identityProvider"] for acc in item["accounts"]} for item in identities]
    assert {"okta"} in providers and {"entraID"} in providers and {"activeDirectory"} in providers
    assert any(len(p) == 3 for p in providers)
    assert sum(1 for item in identities if not item["isEnabled"]) >= 5
    glass = [item for item in identities if item["userPrincipalName"] == "breakglass@contoso.com"]
    assert len(glass) == 1 and glass[0]["isEnabled"]


def test_account_actions_fit_the_version_b_matrix(data):
    for item in data["identities"]:
        for account in item["accounts"]:
            allowed = MATRICES["B"][account["identityProvider"]]
            assert set(account["actions"]) <= allowed, (item["id"], account)


def test_registrations(data):
    clients = {app["name"]: app for app in data["applications"]}
    assert {"responder", "reader", "no_roles", "legacy_actions", "legacy_reader", "not_onboarded", "federated", "system_assigned",
            "user_assigned"} <= set(clients)
    assert clients["no_roles"]["roles"] == [] and clients["not_onboarded"]["tenant"] != clients["responder"]["tenant"]
    assert [tenant["onboarded"] for tenant in data["tenants"]] == [True, False]


def test_bulk_identities_are_deterministic():
    first, again = bulk_identity(7), bulk_identity(7)
    assert first == again and first["userPrincipalName"] == "bulk-user-0007@contoso.com"
    assert bulk_identity(10)["isEnabled"] is False and len(bulk_identity(9)["accounts"]) == 3
    assert bulk_identity(1)["id"] != bulk_identity(2)["id"]


def test_cloud_sid_format():
    assert cloud_sid("00000000-0000-0000-0000-000000000001") == "S-1-12-1-0-0-0-16777216"


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("identities"), "identities"),
    (lambda d: d["identities"].append(dict(d["identities"][0])), "unique"),
    (lambda d: d["identities"][0].update(isEnabled=False), "isEnabled"),
    (lambda d: d["identities"][0].update(colour="red"), "unknown"),
    (lambda d: d["identities"][0]["accounts"][0].update(identityProvider="google"), "bad provider"),
    (lambda d: d.update(applications=[a for a in d["applications"] if a.get("kind") != "federated"]), "federated"),
])
def test_bad_data_files_are_refused(tmp_path, data, mutate, message):
    broken = json.loads(json.dumps(data))
    mutate(broken)
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(SeedError, match=message):
        load(str(path))
