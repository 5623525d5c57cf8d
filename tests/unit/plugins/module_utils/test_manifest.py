# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

import pytest

from ansible_collections.seaport.registry.plugins.module_utils._manifest import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    ManifestError,
    parse_manifest,
    validate_digest,
    validate_registry_id,
    validate_repository_name,
    validate_tag,
)

CONFIG = "sha256:" + "c" * 64
LAYER = "sha256:" + "1" * 64
MANIFEST = json.dumps(
    {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": CONFIG},
     "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 3, "digest": LAYER}]},
    indent=3,
)
DIGEST = "sha256:" + hashlib.sha256(MANIFEST.encode()).hexdigest()


def test_digest_is_sha256_of_the_exact_bytes_and_text_is_kept():
    manifest = parse_manifest(MANIFEST, expected_digest=DIGEST)
    assert manifest.digest == DIGEST
    assert manifest.text is MANIFEST
    assert manifest.media_type == OCI_MANIFEST
    assert manifest.blobs == [CONFIG, LAYER]
    assert manifest.children == []
    assert manifest.size == len(MANIFEST.encode())
    assert not manifest.is_index


def test_non_ascii_text_is_hashed_as_utf8():
    text = MANIFEST.replace('"schemaVersion"', '"annotations": {"a": "café"}, "schemaVersion"')
    assert parse_manifest(text).digest == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_index_children():
    child = "sha256:" + "a" * 64
    text = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                       "manifests": [{"mediaType": OCI_MANIFEST, "size": 1, "digest": child}] * 2})
    manifest = parse_manifest(text)
    assert manifest.is_index
    assert manifest.children == [child]
    assert manifest.blobs == []


def test_media_type_from_parameter_when_manifest_has_none():
    text = json.dumps({"schemaVersion": 2, "layers": []})
    assert parse_manifest(text, media_type=OCI_MANIFEST).media_type == OCI_MANIFEST


@pytest.mark.parametrize(
    "text, media_type, fragment",
    [
        ("", None, "empty"),
        ("{not json", None, "not valid JSON"),
        ("[1]", None, "must be a JSON object"),
        ('{"schemaVersion": 2}', None, "set image_manifest_media_type"),
        (MANIFEST, DOCKER_MANIFEST, "but the manifest's mediaType is"),
        ('{"schemaVersion": 2, "mediaType": "text/plain"}', None, "Unsupported manifest media type"),
        ('{"hello": "world"}', None, "no schemaVersion, so it is not an image manifest"),
        ('{"schemaVersion": 1, "fsLayers": []}', None, "schemaVersion 1: PutImage here takes schema 2"),
        ("{" + " " * (4 * 1024 * 1024) + "}", OCI_MANIFEST, "more than the 4194304 bytes"),
        ({"schemaVersion": 2}, None, "arrived as a mapping"),
        ([1], None, "arrived as a list"),
        (42, None, "must be the manifest's JSON text"),
        ('{"schemaVersion": 2, "mediaType": "%s", "layers": [{"digest": "md5:x"}]}' % OCI_MANIFEST, None,
         "invalid digest"),
        ('{"schemaVersion": 2, "mediaType": "%s", "layers": {}}' % OCI_MANIFEST, None, "must be a list of descriptors"),
    ],
)
def test_bad_manifests(text, media_type, fragment):
    with pytest.raises(ManifestError, match=None) as excinfo:
        parse_manifest(text, media_type=media_type)
    assert fragment in str(excinfo.value)


@pytest.mark.parametrize(
    "rewrite, hint",
    [
        (lambda text: text + "\n", "a trailing newline was added"),
        (lambda text: text.rstrip("}") + "}\n", "a trailing newline was added"),
        (lambda text: text.replace("\n", "\r\n"), "line endings were changed to CRLF"),
        (lambda text: json.dumps(json.loads(text)), "the JSON was re-serialized"),
        (lambda text: json.dumps(json.loads(text), separators=(",", ":")), "the JSON was re-serialized"),
    ],
)
def test_digest_mismatch_says_what_changed(rewrite, hint):
    with pytest.raises(ManifestError) as excinfo:
        parse_manifest(rewrite(MANIFEST), expected_digest=DIGEST)
    assert hint in str(excinfo.value)
    assert DIGEST in str(excinfo.value)


def test_digest_mismatch_after_newline_was_stripped():
    original = MANIFEST + "\n"
    digest = "sha256:" + hashlib.sha256(original.encode()).hexdigest()
    with pytest.raises(ManifestError, match="trailing newline was removed"):
        parse_manifest(MANIFEST, expected_digest=digest)


def test_digest_mismatch_without_a_known_cause():
    with pytest.raises(ManifestError) as excinfo:
        parse_manifest(MANIFEST, expected_digest="sha256:" + "0" * 64)
    assert "the bytes differ" in str(excinfo.value)
    assert "(" not in str(excinfo.value).split("computed from")[1].split(".")[0]


@pytest.mark.parametrize("tag", ["latest", "1.4.2", "v1.4.2", "2.0.0-rc.1", "_x", "A" * 128, "sha-1f3c9e2"])
def test_good_tags(tag):
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", "-x", ".x", "a b", "a/b", "a:b", "é", "A" * 129, None, 1])
def test_bad_tags(tag):
    with pytest.raises(ManifestError, match="Invalid image tag"):
        validate_tag(tag)


@pytest.mark.parametrize("name", ["app", "team/app", "a.b-c_d/e", "ab"])
def test_good_repository_names(name):
    assert validate_repository_name(name) == name


@pytest.mark.parametrize("name", ["a", "App", "team//app", "/app", "app/", "a--b", "public.ecr.aws/acme/app:1", "x" * 206])
def test_bad_repository_names(name):
    with pytest.raises(ManifestError, match="Invalid repository name"):
        validate_repository_name(name)


@pytest.mark.parametrize("digest", ["sha256:abc", "sha512:" + "a" * 128, "sha256:" + "A" * 64, "a" * 64, None])
def test_bad_digests(digest):
    with pytest.raises(ManifestError, match="Invalid image_digest"):
        validate_digest(digest)


@pytest.mark.parametrize("registry_id, aliases", [("123456789012", False), ("123456789012", True), ("acme", True),
                                                  ("my-org.images", True), (None, False)])
def test_registry_ids_accepted(registry_id, aliases):
    assert validate_registry_id(registry_id, aliases) == registry_id


@pytest.mark.parametrize("registry_id, aliases, fragment", [
    ("12345", True, "12-digit AWS account ID, or its registry alias"),
    ("acme", False, "use the registry's 12-digit AWS account ID."),
    ("Acme Corp", True, "registry alias"),
    ("a", True, "registry alias"),
    ("a" * 51, True, "registry alias"),
])
def test_registry_ids_refused(registry_id, aliases, fragment):
    with pytest.raises(ManifestError) as excinfo:
        validate_registry_id(registry_id, aliases)
    assert fragment in str(excinfo.value)
