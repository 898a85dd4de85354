"""Constants and HTTP helpers of the emulator's own tests (their fixtures are conftest.py)."""

import requests

GLOBAL_SCOPE = "https://graph.microsoft.com/.default"
FAST_TIMING = {"running_after_s": 0.05, "terminal_after_s": 0.6}
MEGAN_ID = "0104216-0539-4838-88b1-55baafdc296b"
MEGAN_AD = "256db173-930a-4991-9061-0d51a9a93ba5"


class CaSession(requests.Session):
    """Passes verify=<emulator CA> on every request, so REQUESTS_CA_BUNDLE cannot override it (requests lets it win over Session.verify).
    Records every request's form data so tests can look at what msal sent."""

    def __init__(self, ca_path):
        super().__init__()
        self.ca_path = ca_path
        self.sent = []

    def request(self, method, url, *args, **kwargs):  # pylint: disable=arguments-differ
        kwargs["verify"] = self.ca_path
        kwargs.setdefault("timeout", 10)
        self.sent.append({"method": method, "url": url, "data": kwargs.get("data"), "headers": kwargs.get("headers")})
        return super().request(method, url, *args, **kwargs)


class Api:
    """Thin helpers to get tokens and call Graph through the emulator."""

    def __init__(self, info, http):
        self.info = info
        self.http = http
        self.base = info["base_url"]

    def token_response(self, client="responder", scope=GLOBAL_SCOPE, tenant=None, **form):
        entry = self.info["clients"].get(client, {})
        data = {"grant_type": "client_credentials", "client_id": entry.get("client_id"), "client_secret": entry.get("client_secret"),
                "scope": scope}
        data.update(form)
        data = {key: value for key, value in data.items() if value is not None}
        tenant = tenant or entry.get("tenant_id") or self.info["tenant_id"]
        return self.http.post(f"{self.base}/{tenant}/oauth2/v2.0/token", data=data)

    def token(self, client="responder", scope=GLOBAL_SCOPE):
        response = self.token_response(client, scope)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def call(self, method, path, client="responder", token=None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        headers.setdefault("Authorization", "Bearer " + (token or self.token(client)))
        return self.http.request(method, self.base + path, headers=headers, **kwargs)

    def get(self, path, client="responder", **kwargs):
        return self.call("GET", path, client, **kwargs)

    def post(self, path, body=None, client="responder", **kwargs):
        return self.call("POST", path, client, json=body, **kwargs)
