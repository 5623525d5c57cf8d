# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This is a private module: its API may change at any time, also in a patch release.

"""Image manifests as exact bytes: digests, media types, the blobs and children they reference,
and validation of tags, digests and repository names, with messages that say what to do.

Nothing here imports Ansible or boto3, so modules, lookups and tests all use it as is.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

MAX_MANIFEST_BYTES = 4 * 1024 * 1024

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_MEDIA_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
MEDIA_TYPES = (DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX)

TAG_PATTERN = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")
DIGEST_PATTERN = re.compile(r"^sha256:[a-f0-9]{64}$")
REPOSITORY_PATTERN = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")


class ManifestError(ValueError):
    """Input that cannot be sent as given; the message names the problem and the fix."""


def sha256_digest(data):
    """The digest of exact bytes, as registries and ECR compute it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def validate_tag(tag):
    if not isinstance(tag, str) or not TAG_PATTERN.match(tag):
        raise ManifestError(
            "Invalid image tag %r: a tag is 1 to 128 characters of letters, digits, '_', '.' and '-', "
            "and does not start with '.' or '-' (pattern [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127})." % (tag,)
        )
    return tag


def validate_digest(digest, name="image_digest"):
    if not isinstance(digest, str) or not DIGEST_PATTERN.match(digest):
        raise ManifestError(
            "Invalid %s %r: expected 'sha256:' followed by 64 lowercase hexadecimal characters." % (name, digest)
        )
    return digest


def validate_repository_name(name):
    if not isinstance(name, str) or not 2 <= len(name) <= 205 or not REPOSITORY_PATTERN.match(name):
        raise ManifestError(
            "Invalid repository name %r: use 2 to 205 lowercase letters, digits and single '.', '_' or '-' "
            "separators, with '/' between path components (for example 'team/app'), without the registry "
            "host or alias." % (name,)
        )
    return name


ACCOUNT_ID_PATTERN = re.compile(r"^[0-9]{12}$")
# ECR Public's RegistryAliasName (its API model): 2 to 50 characters, starting with a letter.
REGISTRY_ALIAS_PATTERN = re.compile(r"^[a-z][a-z0-9]+(?:[._-][a-z0-9]+)*$")


def validate_registry_id(registry_id, aliases=True):
    """A 12-digit account ID, or with ``aliases`` (ECR Public) also a registry alias."""
    if registry_id is None or ACCOUNT_ID_PATTERN.match(registry_id):
        return registry_id
    if aliases and len(registry_id) <= 50 and REGISTRY_ALIAS_PATTERN.match(registry_id):
        return registry_id
    raise ManifestError(
        "Invalid registry_id %r: use the registry's 12-digit AWS account ID%s." % (
            registry_id, ", or its registry alias (2 to 50 lowercase letters, digits and single '.', '_' or '-' "
                         "separators, starting with a letter)" if aliases else "")
    )


class Manifest:
    """One manifest's exact text, with what was read from it (never re-serialized)."""

    def __init__(self, text, media_type, digest, blobs, children):
        self.text = text
        self.media_type = media_type
        self.digest = digest
        self.blobs = blobs  # config and layer digests (an image manifest)
        self.children = children  # child manifest digests (an index or manifest list)

    @property
    def size(self):
        return len(self.text.encode("utf-8"))

    @property
    def is_index(self):
        return self.media_type in INDEX_MEDIA_TYPES


def _digest_hint(text, parsed):
    """Map the digests of the usual rewrites' originals to what the rewrite was (first match wins)."""
    reserialized = "the JSON was re-serialized (whitespace changed)"
    variants = [
        ("a trailing newline was added", text.rstrip("\r\n")),
        ("its trailing newline was removed (the file lookup strips it)", text + "\n"),
        ("line endings were changed to CRLF", text.replace("\r\n", "\n")),
        (reserialized, json.dumps(parsed, separators=(",", ":"))),
        (reserialized, json.dumps(parsed)),
        (reserialized, json.dumps(parsed, indent=3)),
        (reserialized, json.dumps(parsed, indent=2)),
    ]
    hints = {}
    for cause, variant in variants:
        if variant != text:
            hints.setdefault(sha256_digest(variant.encode("utf-8")), cause)
    return hints


def parse_manifest(text, media_type=None, expected_digest=None):
    """Check a manifest without changing it; return a Manifest.

    ``text`` must be the exact manifest text; ``media_type`` the imageManifestMediaType
    parameter, if any; ``expected_digest`` the digest the caller pinned, if any.
    """
    if isinstance(text, (dict, list)):
        raise ManifestError(
            "image_manifest arrived as a %s, not as text: its exact bytes, and so its digest, are already lost. "
            "Pass the manifest as a string (for example the 'manifest' of the seaport.registry.manifest lookup), "
            "or read it from a file with image_manifest_path." % ("mapping" if isinstance(text, dict) else "list")
        )
    if not isinstance(text, str):
        raise ManifestError("image_manifest must be the manifest's JSON text, got %s." % type(text).__name__)
    data = text.encode("utf-8")
    if not data:
        raise ManifestError("The image manifest is empty.")
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            "The image manifest is %d bytes, more than the %d bytes (4 MiB) the PutImage API accepts."
            % (len(data), MAX_MANIFEST_BYTES)
        )
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise ManifestError("The image manifest is not valid JSON (%s). Pass the registry's manifest text unchanged."
                            % exc)
    if not isinstance(parsed, dict):
        raise ManifestError("The image manifest must be a JSON object, got a JSON %s." % type(parsed).__name__)

    if parsed.get("schemaVersion") != 2:
        raise ManifestError(
            "The image manifest has %s: PutImage here takes schema 2 manifests and indexes only (OCI, or Docker "
            "v2 schema 2). Pass an image manifest, or convert the image first (for example skopeo copy --format "
            "v2s2)." % ("schemaVersion %r" % parsed["schemaVersion"] if "schemaVersion" in parsed
                        else "no schemaVersion, so it is not an image manifest")
        )
    declared = parsed.get("mediaType")
    if media_type and declared and media_type != declared:
        raise ManifestError(
            "image_manifest_media_type is %r but the manifest's mediaType is %r. Leave the option out, or make "
            "it match the manifest." % (media_type, declared)
        )
    media_type = media_type or declared
    if not media_type:
        raise ManifestError(
            "The manifest has no mediaType field, so set image_manifest_media_type (one of: %s)."
            % ", ".join(MEDIA_TYPES)
        )
    if media_type not in MEDIA_TYPES:
        raise ManifestError("Unsupported manifest media type %r; supported: %s." % (media_type, ", ".join(MEDIA_TYPES)))

    digest = sha256_digest(data)
    if expected_digest is not None:
        validate_digest(expected_digest)
        if expected_digest != digest:
            cause = _digest_hint(text, parsed).get(expected_digest)
            raise ManifestError(
                "The manifest's digest is %s, not image_digest %s: the bytes differ from the ones that digest was "
                "computed from%s. Pass the manifest exactly as the registry serves it (the seaport.registry.manifest "
                "lookup, or image_manifest_path) instead of a copy that was rewritten."
                % (digest, expected_digest, " (%s)" % cause if cause else "")
            )

    blobs, children = [], []
    if media_type in INDEX_MEDIA_TYPES:
        children = _descriptor_digests(parsed.get("manifests"), "manifests")
    else:
        config = parsed.get("config")
        blobs = _descriptor_digests([config] if config is not None else [], "config")
        blobs += _descriptor_digests(parsed.get("layers"), "layers")
    return Manifest(text, media_type, digest, _unique(blobs), _unique(children))


def _descriptor_digests(descriptors, field):
    if descriptors is None:
        return []
    if not isinstance(descriptors, list) or not all(isinstance(d, dict) for d in descriptors):
        raise ManifestError("The manifest's %r must be a list of descriptors." % field)
    digests = []
    for descriptor in descriptors:
        digest = descriptor.get("digest")
        if not isinstance(digest, str) or not DIGEST_PATTERN.match(digest):
            raise ManifestError("The manifest's %r holds an invalid digest %r." % (field, digest))
        digests.append(digest)
    return digests


def _unique(items):
    seen = set()
    return [item for item in items if not (item in seen or seen.add(item))]
