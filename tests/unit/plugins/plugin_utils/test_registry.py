# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json

import pytest

from ansible_collections.seaport.registry.plugins.plugin_utils import _registry


def write_config(tmp_path, auths):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": auths}))
    return str(path)


def test_docker_config_auth_field(tmp_path):
    path = write_config(tmp_path, {"registry.example.com:5000": {"auth": base64.b64encode(b"u:p:w").decode()}})
    assert _registry.docker_config_credentials("registry.example.com:5000", path) == ("u", "p:w")


def test_docker_config_url_keys_and_docker_hub(tmp_path):
    path = write_config(tmp_path, {
        "https://ghcr.io": {"username": "gh", "password": "tok"},
        "https://index.docker.io/v1/": {"auth": base64.b64encode(b"hub:pw").decode()},
    })
    assert _registry.docker_config_credentials("ghcr.io", path) == ("gh", "tok")
    assert _registry.docker_config_credentials("docker.io", path) == ("hub", "pw")
    assert _registry.docker_config_credentials("other.example.com", path) is None


@pytest.mark.parametrize("content", ["not json", "[]", '{"auths": {"h": {"auth": "!!!"}}}'])
def test_docker_config_unreadable_is_anonymous(tmp_path, content):
    path = tmp_path / "config.json"
    path.write_text(content)
    assert _registry.docker_config_credentials("h", str(path)) is None
    assert _registry.docker_config_credentials("h", str(tmp_path / "missing.json")) is None


class Plugin:
    """The few plugin methods the credential chain uses."""

    def __init__(self, **options):
        self.options = dict({"username": None, "password": None, "access_key": None, "secret_key": None,
                             "session_token": None, "profile": None, "region": None}, **options)
        self.clients = []

    def get_option(self, name):
        return self.options[name]

    def client(self, service, region=None):
        self.clients.append((service, region))
        return FakeEcr(service)


class FakeEcr:
    def __init__(self, service):
        self.service = service

    def get_authorization_token(self, **kwargs):
        token = base64.b64encode(b"AWS:aws-password").decode()
        if self.service == "ecr":
            assert kwargs == {"registryIds": ["123456789012"]}
            return {"authorizationData": [{"authorizationToken": token}]}
        return {"authorizationData": {"authorizationToken": token}}


@pytest.fixture(autouse=True)
def empty_caches(monkeypatch, tmp_path):
    monkeypatch.setattr(_registry, "AWS_PASSWORDS", {})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))


def test_explicit_credentials_come_first():
    creds = _registry.PluginCredentials(Plugin(username="u", password="p", access_key="AKIA"))
    assert creds("public.ecr.aws") == ("u", "p")


def test_ecr_public_token_when_aws_is_configured():
    plugin = Plugin(access_key="AKIA", secret_key="s")
    assert _registry.PluginCredentials(plugin)("public.ecr.aws") == ("AWS", "aws-password")
    assert plugin.clients == [("ecr-public", "us-east-1")]


def test_private_ecr_token_uses_the_registry_region():
    plugin = Plugin(profile="release")
    creds = _registry.PluginCredentials(plugin)
    assert creds("123456789012.dkr.ecr.eu-west-1.amazonaws.com") == ("AWS", "aws-password")
    assert creds("123456789012.dkr.ecr.eu-west-1.amazonaws.com") == ("AWS", "aws-password")
    assert plugin.clients == [("ecr", "eu-west-1")]


def test_other_registries_never_ask_aws(tmp_path, monkeypatch):
    plugin = Plugin(access_key="AKIA", secret_key="s")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    write_config(tmp_path, {"ghcr.io": {"username": "gh", "password": "tok"}})
    creds = _registry.PluginCredentials(plugin)
    assert creds("ghcr.io") == ("gh", "tok")
    assert creds("quay.io") is None
    assert plugin.clients == []


def test_private_ecr_through_batch_get_image():
    boto3 = pytest.importorskip("boto3")
    from botocore.stub import Stubber
    import hashlib
    from ansible_collections.seaport.registry.plugins.module_utils._reference import ImageReference
    from ansible_collections.seaport.registry.plugins.module_utils._registry_client import RegistryError

    manifest = '{\n  "schemaVersion": 2,\n  "mediaType": "application/vnd.oci.image.manifest.v1+json"\n}\n'
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    ref = ImageReference.parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.0")
    client = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    expected = {"registryId": "123456789012", "repositoryName": "team/app", "imageIds": [{"imageTag": "1.0"}],
                "acceptedMediaTypes": list(_registry.MEDIA_TYPES)}
    with Stubber(client) as stubber:
        stubber.add_response("batch_get_image", {"images": [{
            "registryId": "123456789012", "repositoryName": "team/app",
            "imageId": {"imageTag": "1.0", "imageDigest": digest}, "imageManifest": manifest,
            "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"}]}, expected)
        result = _registry.batch_get_manifest(client, ref)
        stubber.add_response("batch_get_image", {"images": [], "failures": [
            {"imageId": {"imageTag": "1.0"}, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"}]},
            expected)
        with pytest.raises(RegistryError) as excinfo:
            _registry.batch_get_manifest(client, ref)
    assert result["manifest"] == manifest
    assert result["digest"] == digest
    assert result["reference"] == str(ref) + "@" + digest
    assert excinfo.value.kind == "not_found"
    assert "Requested image not found" in excinfo.value.message


def test_the_default_credential_chain_is_asked_once(monkeypatch):
    boto3 = pytest.importorskip("boto3")
    asked = []

    class Session:
        def get_credentials(self):
            asked.append(1)
            return None

    monkeypatch.setattr(boto3.session, "Session", Session)
    creds = _registry.PluginCredentials(Plugin())
    assert creds("public.ecr.aws") is None
    assert creds("123456789012.dkr.ecr.eu-west-1.amazonaws.com") is None
    assert creds.aws_configured() is False
    assert asked == [1]
