# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    """The options and attributes that ecr_public_image and ecr_image share."""

    DOCUMENTATION = r"""
options:
  repository_name:
    description:
      - Name of the repository, without the registry alias, for example V(app) or V(team/app).
    type: str
    required: true
  registry_id:
    description:
      - The registry's AWS account ID (for ECR Public, also its registry alias).
      - Defaults to the registry of the account whose credentials are used.
      - An ECR Public alias is sent to PutImage and BatchCheckLayerAvailability only; reads, which accept only an
        account ID, then use the caller's own registry, the only one it can write to.
    type: str
  image_manifest:
    description:
      - The image manifest, as text. It is sent byte for byte; its SHA-256 is the image digest.
      - A manifest written as a YAML mapping (not a string) is refused, because its original bytes are already lost.
      - Mutually exclusive with O(image_manifest_path). Required with O(state=present) unless
        O(image_manifest_path) is given.
    type: raw
  image_manifest_path:
    description:
      - Read the manifest from this file on the managed node, as exact bytes (UTF-8).
      - Prefer this to the C(file) lookup, which strips trailing whitespace and so changes the digest.
    type: path
  image_manifest_media_type:
    description:
      - Media type of the manifest. Needed when the manifest has no C(mediaType) field; when it has one, both must
        agree.
    type: str
    choices:
      - application/vnd.docker.distribution.manifest.v2+json
      - application/vnd.docker.distribution.manifest.list.v2+json
      - application/vnd.oci.image.manifest.v1+json
      - application/vnd.oci.image.index.v1+json
  image_tag:
    description:
      - One tag to point at the image. Mutually exclusive with O(image_tags).
      - With neither, O(state=present) puts the image untagged.
    type: str
  image_tags:
    description:
      - Several tags to point at the image, in one task.
    type: list
    elements: str
  image_digest:
    description:
      - The digest the manifest must have, C(sha256:) and 64 hexadecimal characters. The module fails before any call
        when the manifest's bytes give another digest (for example after re-serialization).
      - With O(state=absent) and no tags, the image to remove (with all its tags). With tags, only tags that point
        at this digest are removed.
    type: str
  state:
    description:
      - V(present) points the tags at the image.
      - V(absent) removes the given tags; ECR removes an image together with its last tag. With O(image_digest) and
        no tags, removes that image and all its tags.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: No write is sent; the result, diff and failures match the real run.
  diff_mode:
    support: full
    description: Shows, for each requested tag, the digest it points at before and after.
  idempotent:
    support: full
    description: A second run with the same arguments reports no change.
"""
