"""Graph realism: bearer checks, roles, onboarding, clouds, headers, and the identityAccounts read routes."""

import uuid

import pytest

from emulator_helpers import MEGAN_AD, MEGAN_ID

ACCOUNTS = "/beta/security/identities/identityAccounts"
NOT_ONBOARDED = "Tenant is not onboarded to Microsoft Defender for Identity."


def _error(response, status, code):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    inner = error["innerError"]
    assert inner["request-id"] == response.headers["request-id"] and inner["date"]
    assert inner["client-request-id"] == response.headers["client-request-id"]
    return error["message"]


def _all_pages(api, path, **params):
    token = api.token()
    response = api.get(path, token=token, params=params)
    pages = [response.json()]
    while "@odata.nextLink" in pages[-1]:
        link = pages[-1]["@odata.nextLink"]
        assert link.startswith(api.base + path + "?")
        pages.append(api.http.get(link, headers={"Authorization": "Bearer " + token}).json())
    return pages


# --- authentication and authorization ------------------------------------------------------------

def test_bearer_required(api):
    response = api.http.get(api.base + ACCOUNTS)
    assert _error(response, 401, "InvalidAuthenticationToken") == "Access token is empty."
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_malformed_token(api):
    assert "not well formed" in _error(api.get(ACCOUNTS, token="abc"), 401, "InvalidAuthenticationToken")


def test_token_signed_by_someone_else(api):
    token = api.token()
    header, payload = token.split(".")[:2]
    assert "signature" in _error(api.get(ACCOUNTS, token=f"{header}.{payload}.AAAA"), 401, "InvalidAuthenticationToken").lower()


def test_expired_token(api, mint):
    message = _error(api.get(ACCOUNTS, token=mint(lifetime=-5)), 401, "InvalidAuthenticationToken")
    assert message == "Lifetime validation failed, the token is expired."


def test_token_of_another_cloud_has_invalid_audience(api):
    token = api.token(scope="https://graph.microsoft.us/.default")
    assert "Invalid audience" in _error(api.get(ACCOUNTS, token=token), 401, "InvalidAuthenticationToken")


@pytest.mark.parametrize("cloud, root", [("usgov", "https://graph.microsoft.us"), ("usgov_dod", "https://dod-graph.microsoft.us")])
def test_us_gov_clouds_serve_identity_accounts(api, admin, cloud, root):
    admin.configure(cloud=cloud)
    assert api.get(ACCOUNTS, token=api.token(scope=root + "/.default")).status_code == 200
    assert api.get(ACCOUNTS).status_code == 401  # a global token is not interchangeable


def test_china_does_not_offer_identity_accounts(api, admin):
    admin.configure(cloud="china")
    token = api.token(scope="https://microsoftgraph.chinacloudapi.cn/.default")
    message = _error(api.post(f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", {}, token=token), 404, "BadRequest")
    assert message == "Resource not found for the segment 'identities'."
    assert admin.state()["invocations"] == []


def test_reader_cannot_invoke_mdi_style_403(api):
    body = {"accountId": MEGAN_AD, "action": "disable", "identityProvider": "activeDirectory"}
    assert _error(api.post(f"{ACCOUNTS}/{MEGAN_ID}/invokeAction", body, client="reader"), 403, "UnknownError") == ""


def test_forbidden_style_is_switchable(api, admin):
    admin.configure(identity_forbidden_style="graph")
    message = _error(api.get(ACCOUNTS, client="no_roles"), 403, "Authorization_RequestDenied")
    assert message == "Insufficient privileges to complete the operation."


@pytest.mark.parametrize("client", ["legacy_actions", "no_roles"])
def test_list_needs_an_identity_role(api, client):
    _error(api.get(ACCOUNTS, client=client), 403, "UnknownError")


def test_actions_role_alone_may_read(api, mint):
    assert api.get(ACCOUNTS, token=mint(roles=["SecurityIdentitiesActions.ReadWrite.All"])).status_code == 200


def test_not_onboarded_tenant(api):
    assert _error(api.get(ACCOUNTS, client="not_onboarded"), 403, "Forbidden").startswith(NOT_ONBOARDED)


def test_onboarding_is_configurable(api, admin):
    admin.configure(onboarded=False)
    assert _error(api.get(f"{ACCOUNTS}/{MEGAN_ID}"), 403, "Forbidden").startswith(NOT_ONBOARDED)


# --- headers and generic errors ------------------------------------------------------------------

def test_response_headers(api):
    client_request_id = str(uuid.uuid4())
    response = api.get(ACCOUNTS, headers={"client-request-id": client_request_id})
    assert response.headers["client-request-id"] == client_request_id
    assert uuid.UUID(response.headers["request-id"]) and response.headers["Date"].endswith("GMT")
    assert "ServerInfo" in response.headers["x-ms-ags-diagnostic"]
    assert response.headers["Content-Type"].startswith("application/json")
    other = api.get(ACCOUNTS)
    assert other.headers["request-id"] != response.headers["request-id"]


def test_unknown_segment_and_method(api):
    assert _error(api.get("/beta/security/nonsense"), 400, "BadRequest") == "Resource not found for the segment 'nonsense'."
    _error(api.call("DELETE", f"{ACCOUNTS}/{MEGAN_ID}"), 405, "MethodNotAllowed")


# --- list / get ------------------------------------------------------------------------------------

def test_list_pages_with_absolute_next_links(api, emulator):
    pages = _all_pages(api, ACCOUNTS)
    items = [item for page in pages for item in page["value"]]
    assert len(pages) == 3 and [len(page["value"]) for page in pages] == [20, 20, 6]
    assert len({item["id"] for item in items}) == len(items) == len(emulator.store.identities())
    assert all(item["@odata.type"] == "#microsoft.graph.security.user" for item in items)


def test_page_size_and_top(api, admin):
    admin.configure(page_size=10)
    assert len(_all_pages(api, ACCOUNTS)) == 5
    pages = _all_pages(api, ACCOUNTS, **{"$top": "25"})
    assert [len(page["value"]) for page in pages] == [25, 21]


def test_max_page_size_caps_top(api, admin):
    admin.configure(extra_identities=1200)
    page = api.get(ACCOUNTS, params={"$top": "5000"}).json()
    assert len(page["value"]) == 999 and "@odata.nextLink" in page


@pytest.mark.parametrize("query, expected", [
    ("onPremisesSecurityIdentifier eq 'S-1-5-21-1004336348-1177238915-682003330-1103'", {"meganb@contoso.com"}),
    ("displayName eq 'Alex Johnson'", {"alex.johnson@contoso.com", "alex.johnson2@contoso.com"}),
    ("userPrincipalName eq 'BREAKGLASS@contoso.com'", {"breakglass@contoso.com"}),
    (f"id eq '{MEGAN_ID}'", {"meganb@contoso.com"}),
    ("emailAddress eq 'riya.patel@contractors.contoso.com'", {"riya.patel@contractors.contoso.com"}),
    ("displayName eq 'Maria Garcia' and isEnabled eq false", {"maria.garcia2@contoso.com"}),
    ("(userPrincipalName eq 'gradya@contoso.com' or userPrincipalName eq 'isaiahl@contoso.com') and isEnabled eq false",
     {"gradya@contoso.com", "isaiahl@contoso.com"}),
    ("displayName eq 'Nobody'", set()),
])
def test_filters(api, query, expected):
    found = {item["userPrincipalName"] for page in _all_pages(api, ACCOUNTS, **{"$filter": query}) for item in page["value"]}
    assert found == expected


def test_filter_on_cloud_sid(api):
    megan = api.get(f"{ACCOUNTS}/{MEGAN_ID}").json()
    result = api.get(ACCOUNTS, params={"$filter": f"cloudSecurityIdentifier eq '{megan['cloudSecurityIdentifier']}'"}).json()
    assert [item["id"] for item in result["value"]] == [MEGAN_ID]


@pytest.mark.parametrize("params", [
    {"$filter": "startswith(displayName,'A')"},
    {"$filter": "accounts/any(a: a/identifier eq 'x')"},
    {"$filter": "displayName gt 'A'"},
    {"$filter": "displayName eq"},
    {"$orderby": "displayName"},
    {"$top": "zero"},
    {"$skiptoken": "garbage"},
    {"$select": "displayName,password"},
])
def test_unsupported_queries_are_400(api, params):
    _error(api.get(ACCOUNTS, params=params), 400, "BadRequest")


def test_invalid_filter_message(api):
    assert _error(api.get(ACCOUNTS, params={"$filter": "foo eq 'x'"}), 400, "BadRequest").startswith("Invalid filter clause")


def test_select(api):
    page = api.get(ACCOUNTS, params={"$select": "id,displayName", "$top": "3"}).json()
    assert all(set(item) == {"@odata.type", "id", "displayName"} for item in page["value"])
    assert "%24select=id%2CdisplayName" in page["@odata.nextLink"] or "$select=id,displayName" in page["@odata.nextLink"]


def test_get_schema_shape(api):
    body = api.get(f"{ACCOUNTS}/{MEGAN_ID}").json()
    assert body["id"] == MEGAN_ID and body["isEnabled"] is True and "value" not in body
    ad = next(acc for acc in body["accounts"] if acc["identityProvider"] == "activeDirectory")
    assert ad == {"identifier": MEGAN_AD, "identityProvider": "activeDirectory", "actions": ["disable", "forcePasswordReset"]}


def test_get_example_shape(api, admin):
    admin.configure(shape="example")
    body = api.get(f"{ACCOUNTS}/{MEGAN_ID}").json()
    entity = body["value"]
    assert entity["id"] == MEGAN_ID
    ad = entity["accounts"][0]
    assert ad["provider"] == "ActiveDirectory" and ad["actions"] == ["Disable", "ForcePasswordReset"] and "identityProvider" not in ad
    listed = api.get(ACCOUNTS, params={"$top": "1"}).json()["value"]
    assert isinstance(listed, list) and listed[0]["accounts"][0]["provider"] == "ActiveDirectory"


def test_get_select_and_unknown(api):
    assert set(api.get(f"{ACCOUNTS}/{MEGAN_ID}", params={"$select": "isEnabled"}).json()) == {"@odata.context", "@odata.type", "isEnabled"}
    assert "was not found" in _error(api.get(f"{ACCOUNTS}/does-not-exist"), 404, "NotFound")


def test_v1_route_also_answers(api):
    body = api.get(f"/v1.0/security/identities/identityAccounts/{MEGAN_ID}").json()
    assert body["id"] == MEGAN_ID and "/v1.0/$metadata" in body["@odata.context"]


@pytest.mark.parametrize("cloud, root", [("usgov", "https://graph.microsoft.us"), ("usgov_dod", "https://dod-graph.microsoft.us")])
def test_us_gov_clouds_never_serve_identity_accounts_in_v1(api, admin, cloud, root):
    admin.configure(cloud=cloud)
    token = api.token(scope=root + "/.default")
    v1 = ACCOUNTS.replace("/beta/", "/v1.0/")
    assert _error(api.get(v1, token=token), 404, "BadRequest") == "Resource not found for the segment 'identityAccounts'."
    _error(api.post(f"{v1}/{MEGAN_ID}/invokeAction", {}, token=token), 404, "BadRequest")
    assert admin.state()["invocations"] == []


@pytest.mark.parametrize("mode, status", [("absent", 404), ("absent_400", 400)])
def test_us_gov_beta_identity_accounts_can_be_absent(api, admin, mode, status):
    admin.configure(cloud="usgov", us_gov_beta_identity_accounts=mode)
    token = api.token(scope="https://graph.microsoft.us/.default")
    assert _error(api.get(ACCOUNTS, token=token), status, "BadRequest") == "Resource not found for the segment 'identityAccounts'."
    admin.configure(cloud="global")
    assert api.get(ACCOUNTS).status_code == 200  # the knob is about US Government clouds only
