# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: cryptography (imported on first use), the standard library and _errors only. No Ansible imports.

"""Certificate credentials: a PEM file with the certificate and its private key, read with cryptography."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
from typing import Any

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError, register_secret

# cryptography is imported on first use (certificate auth only): it costs ~50 ms of start-up on every run. It is a
# dependency of msal (and in requirements.txt), so the import cannot fail where the modules can run at all.
# Any: each is None or a cryptography module until load_cryptography() has run.
x509: Any = None
serialization: Any = None
rsa: Any = None
hashes: Any = None
UnsupportedAlgorithm: type[Exception] = ValueError


def load_cryptography() -> None:
    """Import cryptography's certificate and key modules into this module, once."""
    global x509, serialization, rsa, hashes, UnsupportedAlgorithm
    if x509 is None:
        from cryptography import x509
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa


# Only to find the private key's PEM block, which MSAL takes as text; cryptography parses every block.
_KEY_BLOCK_RE = re.compile(r"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.*?-----END \1-----", re.S)


class CertificateCredential:
    """A PEM certificate + private key read from ``client_certificate_path``, ready for MSAL."""

    def __init__(self, private_key_pem: str, certificates_pem: list[str], thumbprint: str, passphrase: str | None = None) -> None:
        self.private_key_pem = private_key_pem
        self.certificates_pem = certificates_pem  # leaf first
        self.thumbprint = thumbprint  # SHA-1 of the leaf certificate's DER, upper-case hex
        self.passphrase = passphrase

    def msal_credential(self) -> dict[str, str]:
        """The ``client_credential`` MSAL takes: key, thumbprint, certificate chain (x5c) and the passphrase if any."""
        credential = {
            "private_key": self.private_key_pem,
            "thumbprint": self.thumbprint,
            # Sent as x5c so that Subject Name/Issuer authentication works too.
            "public_certificate": "\n".join(self.certificates_pem),
        }
        if self.passphrase:
            credential["passphrase"] = self.passphrase
        return credential

    @property
    def sensitive_values(self) -> list[str]:
        """What the module hides from its output (``no_log_values``): the private key."""
        return [self.private_key_pem]


def load_certificate(path: str, password: str | None = None) -> CertificateCredential:
    """Read a PEM file holding a certificate and its private key. :class:`InputError` names the option at fault.

    cryptography parses the certificates and the key; the thumbprint is its SHA-1 fingerprint of the leaf (the
    certificate whose public key matches the private key). Messages never include key material.
    """
    load_cryptography()
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise InputError("client_certificate_path", f"cannot read the certificate file {path}: {exc.strerror or exc}")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("client_certificate_path", f"{path} is not a PEM file (binary content; a .pfx/.p12 file can be "
                         "converted with: openssl pkcs12 -in file.pfx -out file.pem -nodes)")
    keys = [match.group(0) for match in _KEY_BLOCK_RE.finditer(text)]
    for key_pem in keys:
        register_secret(key_pem)
    if password and isinstance(password, str):
        register_secret(password)
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InputError("client_certificate_path", f"no certificate (-----BEGIN CERTIFICATE-----) found in {path}; give a PEM "
                         "file holding the certificate and its private key")
    try:
        certificates = x509.load_pem_x509_certificates(raw)
    except ValueError:
        raise InputError("client_certificate_path", f"a certificate in {path} is malformed")
    if not keys:
        raise InputError("client_certificate_path", f"no private key (-----BEGIN PRIVATE KEY-----) found in {path}; give a PEM "
                         "file holding the certificate and its private key")
    if len(keys) > 1:
        raise InputError("client_certificate_path", f"{path} holds {len(keys)} private keys; keep only the key of the certificate")
    key_pem = keys[0]
    encrypted = "ENCRYPTED" in key_pem.split("\n", 1)[0] or "Proc-Type: 4,ENCRYPTED" in key_pem
    key = _load_private_key(path, key_pem, password, encrypted)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError("client_certificate_path", f"the private key in {path} is not an RSA key; Microsoft Entra ID certificate credentials need an RSA key")
    ordered = _leaf_first(path, key, certificates)
    thumbprint = ordered[0].fingerprint(hashes.SHA1()).hex().upper()  # nosec - Entra ID's x5t thumbprint is SHA-1
    pems = [cert.public_bytes(serialization.Encoding.PEM).decode("ascii").strip() for cert in ordered]
    return CertificateCredential(key_pem, pems, thumbprint, passphrase=password if encrypted and password else None)


def _load_private_key(path, key_pem, password, encrypted):
    secret = password.encode("utf-8") if password and encrypted else None
    try:
        return serialization.load_pem_private_key(key_pem.encode("ascii"), password=secret)
    except TypeError:
        # cryptography: "Password was not given but private key is encrypted".
        raise InputError("client_certificate_password", f"the private key in {path} is encrypted; set client_certificate_password "
                         "(or AZURE_CLIENT_CERTIFICATE_PASSWORD)")
    except (ValueError, UnsupportedAlgorithm):
        if encrypted:
            raise InputError("client_certificate_password", f"cannot decrypt the private key in {path}: client_certificate_password is wrong")
        raise InputError("client_certificate_path", f"the private key in {path} is malformed or in an unsupported format")


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _leaf_first(path, key, certificates):
    """The certificates with the one matching ``key`` first."""
    wanted = _public_der(key.public_key())
    for index, cert in enumerate(certificates):
        if _public_der(cert.public_key()) == wanted:
            return [cert] + certificates[:index] + certificates[index + 1:]
    raise InputError("client_certificate_path", f"the private key in {path} does not belong to any certificate in the file")
