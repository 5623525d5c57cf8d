#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_image_info
short_description: List the images and tags of a private Amazon ECR repository, and its tag mutability
version_added: 0.1.0
description:
  - Lists a repository's images with DescribeImages, following pages (1000 images per call), with their tags,
    digests, media types, sizes and push times, and where each tag points.
  - Filters by tags or digests are applied to that listing, so a tag or digest that does not exist is simply not
    in the result (DescribeImages itself fails the whole call for one missing image ID).
  - Also reports the repository's tag mutability and exclusion filters (RV(repository)).
  - O(region) is resolved the standard AWS way (option, environment, profile); there is no default.
author:
  - seaport.registry maintainers (@seaport-registry)
extends_documentation_fragment:
  - seaport.registry.image_info
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Where do the release tags point?
  seaport.registry.ecr_image_info:
    repository_name: app
    image_tags: [latest, "1.4", prod]
  register: app_tags

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.key }} -> {{ item.value }}"
  loop: "{{ app_tags.tags | dict2items }}"

- name: Every image of the repository, newest last
  seaport.registry.ecr_image_info:
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
repository:
  description: The repository's URI and tag mutability.
  returned: always
  type: dict
  contains:
    repository_uri:
      description: The repository's URI.
      type: str
      sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app
    image_tag_mutability:
      description: C(MUTABLE), C(IMMUTABLE), C(IMMUTABLE_WITH_EXCLUSION) or C(MUTABLE_WITH_EXCLUSION).
      type: str
      sample: IMMUTABLE
    image_tag_mutability_exclusion_filters:
      description: Wildcard filters of tags for which the mutability setting is inverted.
      type: list
      elements: dict
      sample: [{"filter_type": "WILDCARD", "filter": "latest*"}]
tags:
  description: Where each tag points, tag to digest.
  returned: always
  type: dict
  sample: {"latest": "sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.seaport.registry.plugins.module_utils import _image_module


def main():
    module = AnsibleAWSModule(argument_spec=_image_module.INFO_ARGUMENT_SPEC, supports_check_mode=True)
    _image_module.run_info(module, "ecr")


if __name__ == "__main__":
    main()
