"""Registries with authentication (and one with TLS) in front of the local endpoint's storage,
for the lookup's tests.

- ``basic``: htpasswd (bcrypt) basic auth.
- ``token``: distribution's token auth, with a small token issuer that signs real ES256 JWTs
  (``x5c`` header, certificate in the registry's ``rootcertbundle``), as Docker Hub, GHCR and
  public.ecr.aws work. The issuer grants pull to the right credentials, nothing to anonymous
  callers, and refuses wrong credentials with 401; it counts the tokens it issues.

- ``tls``: HTTPS with a certificate for 127.0.0.1 signed by a CA of its own (``ca_path``).

All are read-only views of the same storage, so images pushed through the endpoint (or its
registry) are visible through them.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import bcrypt
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .registry import Registry

USERNAME = "releaser"
PASSWORD = "localecr-registry-password"  # nosec: a test double's fixed credential
SERVICE = "localecr-token"
ISSUER = "localecr-issuer"


def _signing_identity():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )
    return key, cert


def _tls_identity(workdir):
    """A CA and a server certificate for 127.0.0.1 it signed; return (ca, cert, key) file paths."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localecr test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(validity[0]).not_valid_after(validity[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          # Python 3.13 verifies strictly (VERIFY_X509_STRICT): key usage and key identifiers.
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(validity[0]).not_valid_after(validity[1])
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tuple(os.path.join(workdir, name) for name in ("tls-ca.pem", "tls-cert.pem", "tls-key.pem"))
    for path, data in zip(paths, (ca.public_bytes(serialization.Encoding.PEM),
                                  cert.public_bytes(serialization.Encoding.PEM),
                                  key.private_bytes(serialization.Encoding.PEM,
                                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                                    serialization.NoEncryption()))):
        with open(path, "wb") as handle:
            handle.write(data)
    return paths


class _Issuer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, key, cert):
        super().__init__(("127.0.0.1", 0), _IssuerHandler)
        self.key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        self.x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        self.issued = []


class _IssuerHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # pylint: disable=invalid-name
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/stats":
            return self._json(200, {"issued": self.server.issued})
        query = urllib.parse.parse_qs(url.query)
        header = self.headers.get("Authorization", "")
        authenticated = False
        if header.startswith("Basic "):
            user, _sep, password = base64.b64decode(header[6:]).decode().partition(":")
            if (user, password) != (USERNAME, PASSWORD):
                return self._json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
            authenticated = True
        access = []
        for scope in query.get("scope", []):
            kind, _sep, rest = scope.partition(":")
            name, _sep, actions = rest.rpartition(":")
            if kind == "repository" and authenticated:
                access.append({"type": "repository", "name": name,
                               "actions": [a for a in actions.split(",") if a == "pull"]})
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": USERNAME if authenticated else "", "aud": query.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        token = jwt.encode(claims, self.server.key_pem, algorithm="ES256", headers={"x5c": [self.server.x5c]})
        # The token too: tests search logs for it (a test double's short-lived token, on loopback).
        self.server.issued.append({"scope": query.get("scope", []), "authenticated": authenticated, "token": token})
        return self._json(200, {"token": token, "access_token": token, "expires_in": 300,
                                "issued_at": datetime.datetime.now(datetime.timezone.utc).isoformat()})


class AuthRegistries:
    """Start the basic-auth and token-auth registries over ``storage``; stop them on exit."""

    def __init__(self, storage, workdir):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        htpasswd = os.path.join(workdir, "htpasswd")
        with open(htpasswd, "wb") as handle:
            handle.write(USERNAME.encode() + b":" + bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)) + b"\n")
        key, cert = _signing_identity()
        bundle = os.path.join(workdir, "token-ca.pem")
        with open(bundle, "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        self.issuer = _Issuer(key, cert)
        self.issuer_url = "http://127.0.0.1:%d" % self.issuer.server_address[1]
        self.basic = Registry(workdir=os.path.join(workdir, "basic"), storage=storage, read_only=True,
                              extra_config={"auth": {"htpasswd": {"realm": "localecr-basic", "path": htpasswd}}})
        self.token = Registry(workdir=os.path.join(workdir, "token"), storage=storage, read_only=True,
                              extra_config={"auth": {"token": {"realm": self.issuer_url + "/token", "service": SERVICE,
                                                               "issuer": ISSUER, "rootcertbundle": bundle}}})
        self.ca_path, cert_path, key_path = _tls_identity(workdir)
        self.tls = Registry(workdir=os.path.join(workdir, "tls"), storage=storage, read_only=True,
                            extra_config={"http": {"tls": {"certificate": cert_path, "key": key_path}}},
                            scheme="https")
        for registry in (self.basic, self.token, self.tls):
            os.makedirs(registry.workdir, exist_ok=True)

    def start(self):
        threading.Thread(target=self.issuer.serve_forever, name="localecr-issuer", daemon=True).start()
        self.basic.start()
        self.token.start()
        self.tls.start()
        return self

    def stop(self):
        self.issuer.shutdown()
        self.issuer.server_close()
        self.basic.stop()
        self.token.stop()
        self.tls.stop()

    @property
    def info(self):
        return {
            "basic": {"address": self.basic.address, "username": USERNAME, "password": PASSWORD},
            "token": {"address": self.token.address, "username": USERNAME, "password": PASSWORD,
                      "issuer_stats_url": self.issuer_url + "/stats"},
            "tls": {"address": self.tls.address, "ca_path": self.ca_path},
        }
