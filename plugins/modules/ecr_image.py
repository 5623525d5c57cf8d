#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_image
short_description: Point tags at an image in a private Amazon ECR repository, byte-exact
version_added: 0.1.0
description:
  - The private ECR twin of M(seaport.registry.ecr_public_image), on the same code - same options, check mode, diff,
    results and errors. Puts an image manifest into a private ECR repository with PutImage, under one or more tags,
    or removes tags or images.
  - The manifest is sent exactly as given. Its digest is the SHA-256 of its bytes, so a retag keeps the image's
    digest.
  - Reads where the requested tags point first (one DescribeImages call for up to 1000 images), then puts only the
    tags that are missing or point at another digest. RV(ignore:changed) is true only when a tag moved, or an untagged
    image was new.
  - Tag immutability is honored before any write, in check mode too - when an existing tag would move, the module
    reads the repository's C(imageTagMutability) and exclusion filters and fails, as PutImage would, with the same
    message.
  - O(region) is resolved the standard AWS way (option, environment, profile); there is no default.
author:
  - seaport.registry maintainers (@seaport-registry)
notes:
  - ImageAlreadyExistsException (the tag already points at the digest) is success without change.
  - Throttling, C(LimitExceededException), C(ServerException) and connection errors are retried with jittered backoff.
  - The registry ID of private ECR is always a 12-digit account ID.
  - Private ECR can return a manifest itself (BatchGetImage); the P(seaport.registry.manifest#lookup) lookup reads it
    through the registry API with an ECR token instead, one request per manifest.
seealso:
  - module: seaport.registry.ecr_public_image
  - module: seaport.registry.ecr_image_info
extends_documentation_fragment:
  - seaport.registry.image
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The retag of the AWS CLI's example, byte-exact and idempotent
  seaport.registry.ecr_image:
    region: us-west-2
    repository_name: hello-world
    image_manifest_path: hello-world.manifest.json
    image_tag: "2019.08"

- name: Release a build as 1.4.2 and latest
  seaport.registry.ecr_image:
    repository_name: app
    image_manifest: "{{ build.manifest }}"
    image_digest: "{{ build.digest }}"
    image_tags: ["1.4.2", latest]
  vars:
    build: "{{ lookup('seaport.registry.manifest', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:sha-1f3c9e2') }}"

- name: Dry run (run the play with --check --diff)
  seaport.registry.ecr_image:
    repository_name: app
    image_manifest_path: manifest.json
    image_tag: prod
  check_mode: true
  diff: true

- name: Remove a tag
  seaport.registry.ecr_image:
    repository_name: app
    image_tag: 2.0.0-rc.1
    state: absent
"""

RETURN = r"""
digest:
  description: The image digest, C(sha256:) and the hex SHA-256 of the exact manifest bytes.
  returned: always
  type: str
  sample: sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7
image:
  description:
    - The image as PutImage reports it, in snake_case, for the first requested tag (no tag for an untagged put).
    - The same in check mode and when nothing moved.
  returned: when O(state=present)
  type: dict
  contains:
    registry_id:
      description: The AWS account ID of the registry.
      type: str
      sample: "123456789012"
    repository_name:
      description: The repository name.
      type: str
      sample: app
    image_id:
      description: The image's digest and tag.
      type: dict
      contains:
        image_digest:
          description: The image digest.
          type: str
          sample: sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7
        image_tag:
          description: The tag, absent for an untagged put.
          type: str
          returned: when a tag was requested
          sample: 1.4.2
    image_manifest:
      description: The manifest text, exactly as sent.
      type: str
      sample: '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", ...}'
    image_manifest_media_type:
      description: The manifest's media type.
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
images:
  description: One entry per requested tag (with O(state=absent) and only a digest, per tag the image had).
  returned: always
  type: list
  elements: dict
  contains:
    image_tag:
      description: The tag.
      type: str
      sample: latest
    image_digest:
      description: The digest the tag points at after the run, null when it does not exist.
      type: str
      sample: sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7
    previous_digest:
      description: The digest the tag pointed at before the run, null when it did not exist.
      type: str
      sample: sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d
    changed:
      description: Whether this tag moved (or was removed).
      type: bool
      sample: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.seaport.registry.plugins.module_utils import _image_module
from ansible_collections.seaport.registry.plugins.module_utils._image_tags import read_tag_immutability


def main():
    module = AnsibleAWSModule(
        argument_spec=_image_module.argument_spec(),
        mutually_exclusive=_image_module.MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    _image_module.run(module, "ecr", immutability=read_tag_immutability)


if __name__ == "__main__":
    main()
