# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 4: cryptography (imported on first use), the standard library and _errors only. No Ansible imports.

"""Certificate credentials: a PEM file with the certificate and its private key, read with cryptography."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError, register_secret

# cryptography is imported on first use (certificate auth only): it costs ~50 ms of start-up on every run.
x509 = serialization = rsa = hashes = None
UnsupportedAlgorithm = ValueError
HAS_CRYPTOGRAPHY = None  # None: not tried yet; see load_cryptography()
CRYPTOGRAPHY_IMPORT_ERROR = None


def load_cryptography():
    """Import cryptography once, when a certificate is read; returns HAS_CRYPTOGRAPHY."""
    global x509, serialization, rsa, hashes, UnsupportedAlgorithm, HAS_CRYPTOGRAPHY, CRYPTOGRAPHY_IMPORT_ERROR
    if HAS_CRYPTOGRAPHY is None:
        try:
            from cryptography import x509
            from cryptography.exceptions import UnsupportedAlgorithm
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import rsa

            HAS_CRYPTOGRAPHY = True
        except ImportError:
            HAS_CRYPTOGRAPHY = False
            CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
    return HAS_CRYPTOGRAPHY


# Only to find the private key's PEM block, which MSAL takes as text; cryptography parses every block.
_KEY_BLOCK_RE = re.compile(r"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.*?-----END \1-----", re.S)


class CertificateCredential:
    """A PEM certificate + private key read from ``client_certificate_path``, ready for MSAL."""

    def __init__(self, private_key_pem, certificates_pem, thumbprint, passphrase=None):
        self.private_key_pem = private_key_pem
        self.certificates_pem = certificates_pem  # leaf first
        self.thumbprint = thumbprint  # SHA-1 of the leaf certificate's DER, upper-case hex
        self.passphrase = passphrase

    def msal_credential(self):
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
    def sensitive_values(self):
        return [self.private_key_pem]


def load_certificate(path, password=None):
    """Read a PEM file holding a certificate and its private key. :class:`InputError` names the option at fault.

    cryptography parses the certificates and the key; the thumbprint is its SHA-1 fingerprint of the leaf (the
    certificate whose public key matches the private key). Messages never include key material.
    """
    if not load_cryptography():
        raise InputError("client_certificate_path", "the Python library cryptography is required to read the certificate")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise InputError("client_certificate_path", "cannot read the certificate file %s: %s" % (path, exc.strerror or exc))
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise InputError("client_certificate_path", "%s is not a PEM file (binary content; a .pfx/.p12 file can be "
                         "converted with: openssl pkcs12 -in file.pfx -out file.pem -nodes)" % path)
    keys = [match.group(0) for match in _KEY_BLOCK_RE.finditer(text)]
    for key_pem in keys:
        register_secret(key_pem)
    if password and isinstance(password, str):
        register_secret(password)
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InputError("client_certificate_path", "no certificate (-----BEGIN CERTIFICATE-----) found in %s; give a PEM "
                         "file holding the certificate and its private key" % path)
    try:
        certificates = x509.load_pem_x509_certificates(raw)
    except ValueError:
        raise InputError("client_certificate_path", "a certificate in %s is malformed" % path)
    if not keys:
        raise InputError("client_certificate_path", "no private key (-----BEGIN PRIVATE KEY-----) found in %s; give a PEM "
                         "file holding the certificate and its private key" % path)
    if len(keys) > 1:
        raise InputError("client_certificate_path", "%s holds %d private keys; keep only the key of the certificate"
                         % (path, len(keys)))
    key_pem = keys[0]
    encrypted = "ENCRYPTED" in key_pem.split("\n", 1)[0] or "Proc-Type: 4,ENCRYPTED" in key_pem
    key = _load_private_key(path, key_pem, password, encrypted)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError("client_certificate_path", "the private key in %s is not an RSA key; Microsoft Entra ID "
                         "certificate credentials need an RSA key" % path)
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
        raise InputError("client_certificate_password", "the private key in %s is encrypted; set client_certificate_password "
                         "(or AZURE_CLIENT_CERTIFICATE_PASSWORD)" % path)
    except (ValueError, UnsupportedAlgorithm):
        if encrypted:
            raise InputError("client_certificate_password", "cannot decrypt the private key in %s: "
                             "client_certificate_password is wrong" % path)
        raise InputError("client_certificate_path", "the private key in %s is malformed or in an unsupported format" % path)


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _leaf_first(path, key, certificates):
    """The certificates with the one matching ``key`` first."""
    wanted = _public_der(key.public_key())
    for index, cert in enumerate(certificates):
        if _public_der(cert.public_key()) == wanted:
            return [cert] + certificates[:index] + certificates[index + 1:]
    raise InputError("client_certificate_path", "the private key in %s does not belong to any certificate in the file" % path)
