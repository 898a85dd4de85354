"""The ``docs`` profile (Microsoft's example shapes) next to ``schema``, the OData type-cast route, the
filter_support modes, propagation delay and counting full-tenant scans."""

import time

import pytest

from emulator_helpers import MEGAN_AD, MEGAN_ID
from graph_emulator import Emulator
from graph_emulator.admin import AdminError
from graph_emulator.observe import full_scans

ACCOUNTS = "/{version}/security/identities/identityAccounts"
CAST = ACCOUNTS + "/microsoft.graph.security.user"
ADELE_ID = "5f1b7404-7297-5d35-bc70-9970e79f4775"
ADELE_AD = "43832e34-8ec6-5eb4-b8d8-7ca86e223a48"
USER_TYPE = "#microsoft.graph.security.user"


def _list(api, path, version="beta", **params):
    return api.get(path.format(version=version), params=params)


def test_profile_defaults_and_explicit_knobs_win():
    config = Emulator(profile="docs", propagation_delay_s=0.25).config
    assert config["filter_support"] == {"cast": "answer", "plain": "refuse"}
    assert config["propagation_delay_s"] == 0.25 and config["list_actions"] == "empty"
    assert config["contradictory_identities"] == [MEGAN_ID]
    schema = Emulator().config
    assert schema["profile"] == "schema" and schema["filter_support"] == {"cast": "answer", "plain": "answer"}
    assert schema["propagation_delay_s"] == 0 and schema["contradictory_identities"] == []


def test_admin_switches_profile_and_merges_filter_support(admin):
    snapshot = admin.configure(profile="docs")
    assert snapshot["filter_support"]["plain"] == "refuse" and snapshot["propagation_delay_s"] == 1.0
    snapshot = admin.configure(filter_support={"cast": "not_implemented"})
    assert snapshot["filter_support"] == {"cast": "not_implemented", "plain": "refuse"}
    assert admin.configure(profile="schema")["filter_support"] == {"cast": "answer", "plain": "answer"}
    for bad in ({"filter_support": {"plain": "maybe"}}, {"filter_support": {"other": "answer"}}, {"profile": "live"},
                {"propagation_delay_s": -1}, {"security_action_cancel": "canceled"}):
        with pytest.raises(AdminError, match="400"):
            admin.configure(**bad)


@pytest.mark.parametrize("version", ["beta", "v1.0"])
@pytest.mark.parametrize("profile", ["schema", "docs"])
def test_cast_route_filters_upn_and_email_with_or(api, admin, version, profile):
    admin.configure(profile=profile)
    flt = "userPrincipalName eq 'MEGANB@contoso.com' or emailAddress eq 'adelev@contoso.com'"
    body = _list(api, CAST, version, **{"$filter": flt, "$select": "id,userPrincipalName"}).json()
    assert sorted(item["id"] for item in body["value"]) == sorted([MEGAN_ID, ADELE_ID])
    assert all(item["@odata.type"] == USER_TYPE and set(item) == {"@odata.type", "id", "userPrincipalName"} for item in body["value"])
    assert body["@odata.context"].endswith(f"/{version}/$metadata#security/identities/identityAccounts/microsoft.graph.security.user")


def test_cast_route_pages_with_top(api):
    first = _list(api, CAST, **{"$top": "5"}).json()
    assert len(first["value"]) == 5 and "@odata.nextLink" in first
    second = api.http.get(first["@odata.nextLink"], headers={"Authorization": "Bearer " + api.token()}).json()
    assert not {item["id"] for item in first["value"]} & {item["id"] for item in second["value"]}


@pytest.mark.parametrize("prop", ["userPrincipalName", "emailAddress"])
def test_docs_refuses_plain_user_filter_on_the_abstract_type(api, admin, prop):
    admin.configure(profile="docs")
    response = _list(api, ACCOUNTS, **{"$filter": f"{prop} eq 'meganb@contoso.com'"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    assert error["message"] == f"Could not find a property named '{prop}' on type 'microsoft.graph.security.identityAccounts'."
    assert admin.writes() == []


@pytest.mark.parametrize("profile", ["schema", "docs"])
def test_sid_and_display_name_filters_work_in_both_profiles(api, admin, profile):
    admin.configure(profile=profile)
    sid = _list(api, ACCOUNTS, **{"$filter": "onPremisesSecurityIdentifier eq 'S-1-5-21-1004336348-1177238915-682003330-1103'"})
    assert [item["id"] for item in sid.json()["value"]] == [MEGAN_ID]
    name = _list(api, ACCOUNTS, **{"$filter": "displayName eq 'Adele Vance'"})
    assert [item["id"] for item in name.json()["value"]] == [ADELE_ID]


@pytest.mark.parametrize("route, knob", [(ACCOUNTS, "plain"), (CAST, "cast")])
def test_filter_support_modes(api, admin, route, knob):
    flt = {"$filter": "userPrincipalName eq 'meganb@contoso.com'"}
    admin.configure(filter_support={knob: "not_implemented"})
    response = _list(api, route, **flt)
    assert response.status_code == 501 and response.json()["error"]["code"] == "NotImplemented"
    admin.configure(filter_support={knob: "refuse"})
    assert _list(api, route, **flt).status_code == 400
    admin.configure(filter_support={knob: "ignore"})
    ignored = _list(api, route, **dict(flt, **{"$top": "999"})).json()["value"]
    assert len(ignored) > 1 and MEGAN_ID in {item["id"] for item in ignored}  # the whole collection, silently
    admin.configure(filter_support={knob: "answer"})
    assert [item["id"] for item in _list(api, route, **flt).json()["value"]] == [MEGAN_ID]


def test_docs_list_shows_empty_actions_and_get_shows_the_contradiction(api, admin):
    admin.configure(profile="docs")
    listed = _list(api, ACCOUNTS, **{"$top": "999"}).json()["value"]
    assert listed and all(account["actions"] == [] for item in listed for account in item["accounts"])
    assert all(item["@odata.type"] == USER_TYPE for item in listed)
    megan = api.get(f"{ACCOUNTS.format(version='beta')}/{MEGAN_ID}").json()
    by_provider = {account["identityProvider"]: account["actions"] for account in megan["accounts"]}
    assert megan["isEnabled"] is True and by_provider == {"activeDirectory": ["enable"], "entraID": []}  # Get example 1
    adele = api.get(f"{ACCOUNTS.format(version='beta')}/{ADELE_ID}").json()
    assert adele["accounts"][0]["actions"] == ["disable", "forcePasswordReset"]  # other identities: as stored


def test_docs_contradictory_identity_still_accepts_disable(api, admin):
    """The picture contradicts itself; the tenant's real state (enabled) decides, so disable is executed."""
    admin.configure(profile="docs", propagation_delay_s=0)
    body = {"accountId": MEGAN_AD, "action": "disable", "identityProvider": "activeDirectory"}
    response = api.post(f"{ACCOUNTS.format(version='v1.0')}/{MEGAN_ID}/invokeAction", body)
    assert response.status_code == 200 and response.json()["action"] == "disable"
    assert api.get(f"{ACCOUNTS.format(version='beta')}/{MEGAN_ID}").json()["isEnabled"] is False


def test_state_changes_only_after_the_propagation_delay(api, admin):
    admin.configure(propagation_delay_s=0.4)
    path = f"{ACCOUNTS.format(version='beta')}/{ADELE_ID}"
    body = {"accountId": ADELE_AD, "action": "disable", "identityProvider": "activeDirectory"}
    assert api.post(path + "/invokeAction", body).status_code == 200
    assert api.get(path).json()["isEnabled"] is True  # accepted, not yet visible
    assert api.post(path + "/invokeAction", body).status_code == 200  # a repeat inside the window is accepted too
    state = admin.state()
    assert state["pending_changes"] == 2
    assert next(i for i in state["identities"] if i["id"] == ADELE_ID)["isEnabled"] is False  # the admin view is the end state
    time.sleep(0.5)
    account = api.get(path).json()
    assert account["isEnabled"] is False and account["accounts"][0]["actions"] == ["enable", "forcePasswordReset"]


def test_settle_applies_pending_changes_now(api, admin):
    admin.configure(propagation_delay_s=60)
    path = f"{ACCOUNTS.format(version='beta')}/{ADELE_ID}"
    api.post(path + "/invokeAction", {"accountId": ADELE_AD, "action": "disable", "identityProvider": "activeDirectory"})
    assert api.get(path).json()["isEnabled"] is True
    assert admin.settle() == 1 and api.get(path).json()["isEnabled"] is False


def test_full_scans_are_counted_from_counters_and_log(api, admin):
    admin.configure(page_size=10)
    count = len(admin.state()["identities"])
    pages, link = 0, f"{api.base}{ACCOUNTS.format(version='beta')}"
    while link:
        body = api.http.get(link, headers={"Authorization": "Bearer " + api.token()}).json()
        link, pages = body.get("@odata.nextLink"), pages + 1
    assert pages == -(-count // 10) > 1
    _list(api, ACCOUNTS, **{"$filter": "displayName eq 'Adele Vance'"})  # filtered: not a scan
    _list(api, CAST, **{"$filter": "userPrincipalName eq 'meganb@contoso.com'"})
    admin.configure(filter_support={"cast": "ignore"})
    _list(api, CAST, **{"$filter": "userPrincipalName eq 'meganb@contoso.com'"})  # ignored filter: a scan
    assert admin.full_scans() == {"scans": 2, "pages": pages + 1}
    assert full_scans(admin.requests()) == (2, pages + 1)


@pytest.mark.parametrize("profile, expected", [("schema", 400), ("docs", 200)])
def test_an_action_the_account_does_not_offer(api, admin, profile, expected):
    """schema: refused ("already enabled"); docs: accepted and changes nothing, as nothing documents that refusal."""
    admin.configure(profile=profile, propagation_delay_s=0)
    path = f"{ACCOUNTS.format(version='beta')}/{ADELE_ID}"
    response = api.post(path + "/invokeAction", {"accountId": ADELE_AD, "action": "enable", "identityProvider": "activeDirectory"})
    assert response.status_code == expected
    stored = next(i for i in admin.state()["identities"] if i["id"] == ADELE_ID)
    assert stored["isEnabled"] is True and stored["accounts"][0]["actions"] == ["disable", "forcePasswordReset"]
