"""The Entra directory: tenants, app registrations and the credential files handed to clients."""

import os
import secrets
import time

from .tokens import Credential

FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
FEDERATED_TOKEN_LIFETIME_S = 24 * 3600  # long enough for a CI run; AKS would rotate the file


class Tenant:
    def __init__(self, spec):
        self.id = spec["id"]
        self.display_name = spec.get("display_name", self.id)
        self.domains = [d.lower() for d in spec.get("domains", [])]
        self.onboarded = bool(spec.get("onboarded", True))


class App:
    """One application (client, federated workload or managed identity) and its credentials."""

    def __init__(self, spec):
        self.name = spec["name"]
        self.kind = spec.get("kind", "client")
        self.client_id = spec["client_id"]
        self.object_id = spec["object_id"]
        self.tenant_id = spec["tenant"]
        self.display_name = spec.get("display_name", self.name)
        self.roles = list(spec.get("roles", []))
        self.subject = spec.get("subject")
        self.secret = None
        self.credentials = []  # registered certificates

    def find_certificate(self, x5t=None, x5t_s256=None):
        # msal sends padded base64url thumbprints, others unpadded: compare without padding.
        x5t, x5t_s256 = (value.rstrip("=") if isinstance(value, str) else None for value in (x5t, x5t_s256))
        for cred in self.credentials:
            if (x5t and x5t == cred.x5t) or (x5t_s256 and x5t_s256 == cred.x5t_s256):
                return cred
        return None


class Directory:
    """Builds every app's secrets and certificates at start and writes them under ``workdir``."""

    def __init__(self, seed, workdir, base_url):
        self.tenants = [Tenant(spec) for spec in seed["tenants"]]
        self.tenant_id = next(t.id for t in self.tenants if t.onboarded)
        self.not_onboarded_tenant_id = next((t.id for t in self.tenants if not t.onboarded), None)
        self.apps = [App(spec) for spec in seed["applications"]]
        self.workdir = workdir
        self.federated_issuer = f"{base_url}/federation"
        self.federated_key = Credential("graph-emulator federated issuer")
        self.identity_header = secrets.token_urlsafe(24)
        self.msi_secret = secrets.token_urlsafe(24)
        self._files = {}
        os.makedirs(os.path.join(workdir, "clients"), exist_ok=True)
        self.unregistered = Credential("graph-emulator unregistered certificate")
        self.unregistered_path = self.unregistered.write_pem(os.path.join(workdir, "clients", "unregistered.pem"))
        for app in self.apps:
            if app.kind == "client":
                self._register_client(app)
        self.federated_paths = self._write_federated_tokens()

    def _register_client(self, app):
        app.secret = secrets.token_urlsafe(30)
        cred = Credential(f"{app.name}.graph-emulator.invalid")
        app.credentials.append(cred)
        password = secrets.token_urlsafe(12)
        base = os.path.join(self.workdir, "clients", app.name)
        self._files[app.name] = {
            "certificate_path": cred.write_pem(base + ".pem"),
            "encrypted_certificate_path": cred.write_pem(base + "-encrypted.pem", password),
            "certificate_password": password,
            "certificate_thumbprint": cred.sha1_hex,
        }

    def federated_app(self):
        return next(app for app in self.apps if app.kind == "federated")

    def managed_identity(self, which):
        return next(app for app in self.apps if app.kind == "managed_identity" and app.name == which)

    def federated_token(self, lifetime_s=FEDERATED_TOKEN_LIFETIME_S, subject=None, audience=FEDERATED_AUDIENCE, issued_at=None):
        """A workload token as a Kubernetes or CI issuer would project it into a file."""
        now = int(issued_at if issued_at is not None else time.time())
        claims = {"iss": self.federated_issuer, "sub": subject or self.federated_app().subject, "aud": [audience],
                  "iat": now, "nbf": now, "exp": now + lifetime_s}
        return self.federated_key.sign(claims)

    def _write_federated_tokens(self):
        folder = os.path.join(self.workdir, "federated")
        os.makedirs(folder, exist_ok=True)
        paths = {"token_file": os.path.join(folder, "token.jwt"), "expired_token_file": os.path.join(folder, "expired.jwt")}
        tokens = {"token_file": self.federated_token(), "expired_token_file": self.federated_token(3600, issued_at=time.time() - 7200)}
        for key, path in paths.items():
            with open(path, "w", encoding="ascii") as handle:
                handle.write(tokens[key])
        return paths

    def tenant(self, segment):
        """Resolve a tenant path segment (GUID or verified domain) to a Tenant, or None."""
        lowered = (segment or "").lower()
        return next((t for t in self.tenants if lowered == t.id or lowered in t.domains), None)

    def app(self, client_id, tenant_id=None):
        return next((a for a in self.apps if a.client_id == client_id and (tenant_id is None or a.tenant_id == tenant_id)), None)

    def info(self, base_url):
        """The client-facing part of the info file."""
        clients = {}
        for app in self.apps:
            if app.kind == "client":
                entry = {"client_id": app.client_id, "client_secret": app.secret, "roles": list(app.roles), "tenant_id": app.tenant_id,
                         "unregistered_certificate_path": self.unregistered_path}
                entry.update(self._files[app.name])
                clients[app.name] = entry
        federated = self.federated_app()
        system = self.managed_identity("system_assigned")
        user = self.managed_identity("user_assigned")
        return {
            "tenant_id": self.tenant_id,
            "not_onboarded_tenant_id": self.not_onboarded_tenant_id,
            "clients": clients,
            "federated": {"client_id": federated.client_id, "issuer": self.federated_issuer, "subject": federated.subject,
                          "audience": FEDERATED_AUDIENCE, "roles": list(federated.roles), **self.federated_paths},
            "managed_identity": {
                "identity_endpoint": f"{base_url}/msi/token", "identity_header": self.identity_header,
                "msi_endpoint": f"{base_url}/msi-ml/token", "msi_secret": self.msi_secret,
                "imds_authority_host": base_url,
                "system_assigned_client_id": system.client_id, "user_assigned_client_id": user.client_id,
                "roles": list(system.roles),
            },
        }
