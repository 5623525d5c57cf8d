# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The registry client against a scripted transport: auth challenges, verification, errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import io
import json
import ssl
from email.message import Message
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.seaport.registry.plugins.module_utils._reference import ImageReference
from ansible_collections.seaport.registry.plugins.module_utils._registry_client import (
    RegistryClient,
    RegistryError,
    parse_challenge,
)

OCI = "application/vnd.oci.image.manifest.v1+json"
BODY = json.dumps({"schemaVersion": 2, "mediaType": OCI, "layers": []}, indent=3).encode()
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()
SECRET = "s3cret-value"


def headers(**values):
    message = Message()
    for key, value in values.items():
        message[key.replace("_", "-")] = value
    return message


class Response:
    def __init__(self, body, **hdrs):
        self._body = io.BytesIO(body)
        self.headers = headers(**hdrs)

    def read(self, size=-1):
        return self._body.read(size)


def http_error(url, code, **hdrs):
    return HTTPError(url, code, "status %d" % code, headers(**hdrs), io.BytesIO(b"{}"))


class Transport:
    """Answers requests from a list of (predicate, answer) rules; records every request."""

    def __init__(self, *rules):
        self.rules = list(rules)
        self.requests = []

    def __call__(self, url, hdrs, url_username=None, url_password=None):
        self.requests.append({"url": url, "headers": dict(hdrs), "user": url_username, "password": url_password})
        for predicate, answer in self.rules:
            if predicate(url, hdrs, url_username, url_password):
                result = answer(url) if callable(answer) else answer
                if isinstance(result, BaseException):
                    raise result
                return result
        raise AssertionError("unexpected request %s" % url)


def client_with(transport, **kwargs):
    client = RegistryClient(**kwargs)
    client._open = transport  # pylint: disable=protected-access
    return client


def manifest_ok(url):
    return Response(BODY, Content_Type=OCI, Docker_Content_Digest=DIGEST)


REF = ImageReference.parse("registry.example.com/team/app:1.0")


def test_anonymous_fetch_returns_exact_bytes():
    transport = Transport((lambda u, h, *a: "/manifests/1.0" in u, manifest_ok))
    result = client_with(transport).get_manifest(REF)
    assert result == {"manifest": BODY.decode(), "media_type": OCI, "digest": DIGEST, "size": len(BODY),
                      "reference": "registry.example.com/team/app:1.0@" + DIGEST}
    assert transport.requests[0]["url"] == "https://registry.example.com/v2/team/app/manifests/1.0"
    accept = transport.requests[0]["headers"]["Accept"]
    for media_type in (OCI, "application/vnd.oci.image.index.v1+json",
                       "application/vnd.docker.distribution.manifest.v2+json",
                       "application/vnd.docker.distribution.manifest.list.v2+json"):
        assert media_type in accept


def test_bearer_challenge_is_followed_and_the_token_cached():
    challenge = 'Bearer realm="https://auth.example.com/token",service="reg",scope="repository:team/app:pull"'
    cache = {}
    transport = Transport(
        (lambda u, h, *a: "auth.example.com" in u, Response(json.dumps({"token": "T0KEN", "expires_in": 300}).encode())),
        (lambda u, h, *a: h.get("Authorization") == "Bearer T0KEN", manifest_ok),
        (lambda u, h, *a: "/manifests/" in u, lambda u: http_error(u, 401, WWW_Authenticate=challenge)),
    )
    client = client_with(transport, credentials=lambda registry: ("user", SECRET), token_cache=cache)
    assert client.get_manifest(REF)["digest"] == DIGEST
    assert client.get_manifest(REF)["digest"] == DIGEST
    token_requests = [r for r in transport.requests if "auth.example.com" in r["url"]]
    assert len(token_requests) == 1
    assert "scope=repository%3Ateam%2Fapp%3Apull" in token_requests[0]["url"]
    assert "account=user" in token_requests[0]["url"]
    assert (token_requests[0]["user"], token_requests[0]["password"]) == ("user", SECRET)
    assert len(transport.requests) == 4  # 401, token, 200, then 200 straight from the cache


def test_basic_challenge_is_answered_with_credentials():
    transport = Transport(
        (lambda u, h, *a: h.get("Authorization", "").startswith("Basic "), manifest_ok),
        (lambda u, h, *a: True, lambda u: http_error(u, 401, WWW_Authenticate='Basic realm="r"')),
    )
    client = client_with(transport, credentials=lambda registry: ("user", SECRET))
    assert client.get_manifest(REF)["digest"] == DIGEST
    sent = transport.requests[-1]["headers"]["Authorization"]
    assert base64.b64decode(sent[6:]).decode() == "user:" + SECRET


@pytest.mark.parametrize("code, kind, fragment", [
    (401, "unauthorized", "Authentication failed"),
    (403, "forbidden", "denied"),
    (404, "not_found", "was not found"),
    (500, "connection", "HTTP 500"),
])
def test_http_errors(code, kind, fragment):
    transport = Transport((lambda u, h, *a: True, lambda u: http_error(u, code)))
    with pytest.raises(RegistryError) as excinfo:
        client_with(transport, credentials=lambda r: ("user", SECRET)).get_manifest(REF)
    assert excinfo.value.kind == kind
    assert fragment in excinfo.value.message
    assert str(REF) in excinfo.value.message
    assert SECRET not in excinfo.value.message


def test_wrong_credentials_at_the_token_service():
    challenge = 'Bearer realm="https://auth.example.com/token",service="reg"'
    transport = Transport(
        (lambda u, h, *a: "auth.example.com" in u, lambda u: http_error(u, 401)),
        (lambda u, h, *a: True, lambda u: http_error(u, 401, WWW_Authenticate=challenge)),
    )
    with pytest.raises(RegistryError) as excinfo:
        client_with(transport, credentials=lambda r: ("user", SECRET)).get_manifest(REF)
    assert excinfo.value.kind == "unauthorized"
    assert "refused the credentials" in excinfo.value.message
    assert SECRET not in excinfo.value.message


def test_digest_header_mismatch_is_refused():
    transport = Transport((lambda u, h, *a: True, Response(BODY, Content_Type=OCI,
                                                           Docker_Content_Digest="sha256:" + "0" * 64)))
    with pytest.raises(RegistryError, match="does not match the digest the registry sent"):
        client_with(transport).get_manifest(REF)


def test_pinned_digest_mismatch_is_refused():
    transport = Transport((lambda u, h, *a: True, Response(BODY, Content_Type=OCI)))
    with pytest.raises(RegistryError, match="not the pinned"):
        client_with(transport).get_manifest(REF.with_digest("sha256:" + "0" * 64))


def test_oversize_answer_is_refused():
    transport = Transport((lambda u, h, *a: True, Response(b" " * (4 * 1024 * 1024 + 1), Content_Type=OCI)))
    with pytest.raises(RegistryError, match="larger than 4194304 bytes"):
        client_with(transport).get_manifest(REF)


@pytest.mark.parametrize("body, content_type, fragment", [
    (b"<html>", "text/html", "not a JSON manifest"),
    (b"[]", OCI, "not a JSON manifest"),
    (b'{"schemaVersion": 1}', "application/json", "not an image manifest or index"),
])
def test_answers_that_are_not_manifests(body, content_type, fragment):
    transport = Transport((lambda u, h, *a: True, Response(body, Content_Type=content_type)))
    with pytest.raises(RegistryError, match=fragment):
        client_with(transport).get_manifest(REF)


def test_tls_failure_says_what_to_do():
    error = URLError(ssl.SSLCertVerificationError("certificate verify failed"))
    transport = Transport((lambda u, h, *a: True, lambda u: error))
    with pytest.raises(RegistryError) as excinfo:
        client_with(transport).get_manifest(REF)
    assert excinfo.value.kind == "tls"
    assert "ca_path" in excinfo.value.message


def test_insecure_falls_back_to_plain_http_and_remembers():
    transport = Transport(
        (lambda u, h, *a: u.startswith("https://"), lambda u: URLError(ConnectionResetError("reset"))),
        (lambda u, h, *a: u.startswith("http://"), manifest_ok),
    )
    client = client_with(transport, insecure=True)
    client.get_manifest(REF)
    client.get_manifest(REF)
    assert [r["url"].split(":")[0] for r in transport.requests] == ["https", "http", "http"]


def test_secure_client_never_tries_plain_http():
    transport = Transport((lambda u, h, *a: True, lambda u: URLError(ConnectionRefusedError("refused"))))
    with pytest.raises(RegistryError, match="Cannot reach registry registry.example.com"):
        client_with(transport).get_manifest(REF)
    assert len(transport.requests) == 1


def test_platform_resolution_fetches_the_child_by_digest():
    child = json.dumps({"schemaVersion": 2, "mediaType": OCI, "layers": []}).encode()
    child_digest = "sha256:" + hashlib.sha256(child).hexdigest()
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": OCI, "digest": "sha256:" + "1" * 64, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": OCI, "digest": child_digest, "size": 1,
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    ]}).encode()
    transport = Transport(
        (lambda u, h, *a: u.endswith(child_digest), lambda u: Response(child, Content_Type=OCI)),
        (lambda u, h, *a: True, lambda u: Response(index, Content_Type="application/vnd.oci.image.index.v1+json")),
    )
    result = client_with(transport).get_manifest(REF, platform="linux/arm64")
    assert result["digest"] == child_digest
    assert result["reference"] == "registry.example.com/team/app:1.0@" + child_digest
    with pytest.raises(RegistryError, match="it has: linux/amd64, linux/arm64/v8"):
        client_with(transport).get_manifest(REF, platform="linux/arm64/v7")
    with pytest.raises(RegistryError, match="Invalid platform"):
        client_with(transport).get_manifest(REF, platform="arm64")


@pytest.mark.parametrize("header, expected", [
    ('Bearer realm="https://a/token",service="s",scope="repository:x:pull"',
     ("bearer", {"realm": "https://a/token", "service": "s", "scope": "repository:x:pull"})),
    ('Basic realm="Registry Realm"', ("basic", {"realm": "Registry Realm"})),
    ("", ("", {})),
    (None, ("", {})),
])
def test_parse_challenge(header, expected):
    assert parse_challenge(header) == expected
