# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Environment variables that point msgraph.security's modules at a running emulator.

The modules read the same variables AWX and azure-identity use, so a rehearsal needs no change to
a playbook: export these and run it.  Used by the integration tests, ``make demo`` and
``python -m graph_emulator env``.
"""

from __future__ import annotations

AUTH_METHODS = ("secret", "certificate", "encrypted_certificate", "federated", "none")


def module_environment(info: dict, client: str = "responder", auth: str = "secret") -> dict:
    """Connection settings for one app registration of the emulator and one auth method."""
    env = {
        "AZURE_AUTHORITY_HOST": info["authority_host"],
        "MSGRAPH_ENDPOINT": info["graph_endpoint"],
        "MSGRAPH_CA_PATH": info["ca_path"],
        # The emulator is not a Microsoft host: the modules refuse to send it credentials without this opt-in.
        "MSGRAPH_ALLOW_CUSTOM_ENDPOINTS": "true",
    }
    if auth in (None, "none"):
        return env
    if auth == "federated":
        federated = info["federated"]
        env.update(AZURE_TENANT_ID=info["tenant_id"], AZURE_CLIENT_ID=federated["client_id"],
                   AZURE_FEDERATED_TOKEN_FILE=federated["token_file"])
        return env
    app = info["clients"][client]
    env.update(AZURE_TENANT_ID=app.get("tenant_id") or info["tenant_id"], AZURE_CLIENT_ID=app["client_id"])
    if auth == "secret":
        env["AZURE_CLIENT_SECRET"] = app["client_secret"]
    elif auth == "certificate":
        env["AZURE_CLIENT_CERTIFICATE_PATH"] = app["certificate_path"]
    elif auth == "encrypted_certificate":
        env.update(AZURE_CLIENT_CERTIFICATE_PATH=app["encrypted_certificate_path"],
                   AZURE_CLIENT_CERTIFICATE_PASSWORD=app["certificate_password"])
    else:
        raise ValueError(f"unknown auth method {auth!r}; expected one of {', '.join(AUTH_METHODS)}")
    return env


def shell_exports(env: dict) -> str:
    """``export NAME='value'`` lines for ``eval "$(python -m graph_emulator env ...)"``."""
    return "\n".join(f"export {name}='{value}'" for name, value in sorted(env.items()))
