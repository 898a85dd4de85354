"""Keys, certificates and JWTs: the emulator's signing key, client certificates, access tokens."""

import base64
import datetime
import hashlib
import os
import time
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_uint(number):
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed_cert(key, common_name, days=365):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))


class Credential:
    """A private key with its self-signed certificate, as a client would hold it."""

    def __init__(self, common_name):
        self.key = new_key()
        self.cert = self_signed_cert(self.key, common_name)
        der = self.cert.public_bytes(serialization.Encoding.DER)
        self.sha1_hex = hashlib.sha1(der).hexdigest().upper()  # what msal calls the thumbprint
        self.x5t = b64url(hashlib.sha1(der).digest())
        self.x5t_s256 = b64url(hashlib.sha256(der).digest())

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, password=None):
        encryption = (serialization.BestAvailableEncryption(password.encode("utf-8")) if password
                      else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)

    def write_pem(self, path, password=None):
        """Write certificate + key to one PEM file readable by the owner only."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.cert_pem() + self.key_pem(password))
        return path

    def jwk(self):
        numbers = self.key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "kid": self.x5t, "x5t": self.x5t, "n": _b64url_uint(numbers.n),
                "e": _b64url_uint(numbers.e), "x5c": [base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode("ascii")]}

    def sign(self, claims, headers=None):
        merged = {"kid": self.x5t, "x5t": self.x5t}
        merged.update(headers or {})
        return jwt.encode(claims, self.key, algorithm="RS256", headers=merged)


class TokenSigner:
    """Issues the RS256 access tokens Graph accepts and verifies them on the way back in."""

    def __init__(self):
        self.credential = Credential("graph-emulator token signing")

    def jwks(self, issuer):
        key = self.credential.jwk()
        key["issuer"] = issuer
        return {"keys": [key]}

    def issue(self, app, tenant_id, audience, lifetime_s, auth_method="1"):
        now = int(time.time())
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "idp": f"https://sts.windows.net/{tenant_id}/",
            "iat": now, "nbf": now, "exp": now + lifetime_s,
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": auth_method,
            "idtyp": "app",
            "oid": app.object_id, "sub": app.object_id,
            "roles": list(app.roles),
            "tid": tenant_id,
            "uti": b64url(uuid.uuid4().bytes),
            "ver": "1.0",
        }
        return self.credential.sign(claims), claims

    def decode(self, token):
        """Verify the signature only; expiry and audience are checked by the caller (own messages)."""
        return jwt.decode(token, self.credential.key.public_key(), algorithms=["RS256"],
                          options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False})
