#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_public_image_info
short_description: List the images and tags of an Amazon ECR Public repository
version_added: 0.1.0
description:
  - Lists a repository's images with DescribeImages, following pages (1000 images per call), with their tags,
    digests, media types, sizes and push times, and where each tag points.
  - Filters by tags or digests are applied to that listing, so a tag or digest that does not exist is simply not
    in the result (DescribeImages itself fails the whole call for one missing image ID).
  - ECR Public's API is served from C(us-east-1); O(region) defaults to it.
author:
  - seaport.registry maintainers (@seaport-registry)
options:
  repository_name:
    description: Name of the repository, without the registry alias.
    type: str
    required: true
  registry_id:
    description:
      - The AWS account ID of the registry. Defaults to the caller's registry.
      - A registry alias is not accepted by DescribeImages; with one, the caller's registry is read.
    type: str
  image_tags:
    description: Only images that carry at least one of these tags; RV(tags) lists only these tags.
    type: list
    elements: str
  image_digests:
    description: Only images with these digests.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
  idempotent:
    support: full
    description: Reads only.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Where do the release tags point?
  seaport.registry.ecr_public_image_info:
    repository_name: app
    image_tags: [latest, "1.4", prod]
  register: app_tags

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.key }} -> {{ item.value }}"
  loop: "{{ app_tags.tags | dict2items }}"

- name: Every image of the repository, newest last
  seaport.registry.ecr_public_image_info:
    repository_name: team/app
  register: all_images
"""

RETURN = r"""
images:
  description: The images, oldest push first.
  returned: always
  type: list
  elements: dict
  contains:
    registry_id:
      description: The AWS account ID of the registry.
      type: str
      sample: "123456789012"
    repository_name:
      description: The repository.
      type: str
      sample: app
    image_digest:
      description: The image digest.
      type: str
      sample: sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7
    image_tags:
      description: The image's tags, sorted; empty for an untagged image.
      type: list
      elements: str
      sample: ["1.4", "1.4.2", latest]
    image_size_in_bytes:
      description: The image's size as ECR reports it.
      type: int
      sample: 3402418
    image_pushed_at:
      description: When the image was pushed, ISO 8601.
      type: str
      sample: "2026-11-23T20:52:44.647000+00:00"
    image_manifest_media_type:
      description: The manifest's media type.
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
    artifact_media_type:
      description: The config's media type, when ECR reports one.
      type: str
      returned: when known
      sample: application/vnd.oci.image.config.v1+json
tags:
  description: Where each tag points, tag to digest.
  returned: always
  type: dict
  sample: {"latest": "sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"}
"""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.seaport.registry.plugins.module_utils import _image_module
from ansible_collections.seaport.registry.plugins.module_utils._image_tags import describe_images
from ansible_collections.seaport.registry.plugins.module_utils._manifest import (
    ManifestError,
    validate_digest,
    validate_repository_name,
    validate_tag,
)

SERVICE = "ecr-public"
DEFAULT_REGION = "us-east-1"


def image_info(image):
    """DescribeImages' imageDetail in snake_case, times as ISO 8601."""
    info = {
        "registry_id": image.get("registryId"),
        "repository_name": image.get("repositoryName"),
        "image_digest": image["imageDigest"],
        "image_tags": sorted(image.get("imageTags", [])),
        "image_size_in_bytes": image.get("imageSizeInBytes"),
        "image_pushed_at": image["imagePushedAt"].isoformat() if image.get("imagePushedAt") else None,
        "image_manifest_media_type": image.get("imageManifestMediaType"),
    }
    if image.get("artifactMediaType"):
        info["artifact_media_type"] = image["artifactMediaType"]
    return info


def list_images(client, repository, registry_id, tags=None, digests=None):
    """The repository's images (filtered) and where the tags point."""
    images = sorted((image_info(i) for i in describe_images(client, repository, registry_id)),
                    key=lambda i: (i["image_pushed_at"] or "", i["image_digest"]))
    if tags is not None:
        images = [i for i in images if set(i["image_tags"]) & set(tags)]
    if digests is not None:
        images = [i for i in images if i["image_digest"] in digests]
    tag_map = dict((tag, i["image_digest"]) for i in images for tag in i["image_tags"]
                   if tags is None or tag in tags)
    return images, tag_map


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            repository_name=dict(type="str", required=True),
            registry_id=dict(type="str"),
            image_tags=dict(type="list", elements="str"),
            image_digests=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        validate_repository_name(params["repository_name"])
        for tag in params["image_tags"] or []:
            validate_tag(tag)
        for digest in params["image_digests"] or []:
            validate_digest(digest, "image_digests entry")
    except ManifestError as exc:
        module.fail_json(msg=str(exc))
    client = module.client(SERVICE, region=params["region"] or DEFAULT_REGION,
                           retry_decorator=AWSRetry.jittered_backoff(**_image_module.RETRY))
    try:
        images, tags = list_images(client, params["repository_name"], params["registry_id"],
                                   params["image_tags"], params["image_digests"])
    except (BotoCoreError, ClientError) as exc:
        message = _image_module.describe_aws_error(exc, params["repository_name"], params["registry_id"])
        module.fail_json_aws(exc, msg=message or "Could not list the images of repository '%s'"
                             % params["repository_name"])
    module.exit_json(changed=False, images=images, tags=tags)


if __name__ == "__main__":
    main()
