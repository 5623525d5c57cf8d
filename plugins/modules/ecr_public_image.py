#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_public_image
short_description: Point tags at an image in an Amazon ECR Public repository, byte-exact
version_added: 0.1.0
description:
  - Puts an image manifest into an Amazon ECR Public repository with the PutImage API, under one or more tags,
    or removes tags or images.
  - The manifest is sent exactly as given. Its digest is the SHA-256 of its bytes, so a retag keeps the image's
    digest. Use the manifest text a registry serves (the examples use the C(seaport.registry.manifest) lookup), or
    O(image_manifest_path) for a file.
  - Reads where the requested tags point first (one DescribeImages call for up to 1000 images), then puts only the
    tags that are missing or point at another digest. RV(ignore:changed) is true only when a tag moved, or an untagged
    image was new.
  - In check mode no write is sent, and the result, diff and failures are those the real run would have. A put that
    would fail because the repository lacks the image's layers (or an index's platform images) fails in check mode
    too, with the same message.
  - ECR Public's API is served from C(us-east-1); O(region) defaults to it.
author:
  - seaport.registry maintainers (@seaport-registry)
notes:
  - ImageAlreadyExistsException (the tag already points at the digest) is success without change.
  - Throttling, C(LimitExceededException), C(ServerException) and connection errors are retried with jittered backoff.
  - The manifest lookup needs ansible-core 2.19 or later to keep a manifest string intact between tasks.
extends_documentation_fragment:
  - seaport.registry.image
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Release build sha-1f3c9e2 as 1.4.2 (retag from the registry, digest unchanged)
  seaport.registry.ecr_public_image:
    repository_name: app
    image_manifest: "{{ source.manifest }}"
    image_digest: "{{ source.digest }}"
    image_tags: ["1.4.2", "1.4", "latest"]
  vars:
    source: "{{ lookup('seaport.registry.manifest', 'public.ecr.aws/acme/app:sha-1f3c9e2') }}"

- name: Tag an image from a manifest file saved byte for byte
  seaport.registry.ecr_public_image:
    repository_name: team/app
    registry_id: acme
    image_manifest_path: build/manifest.json
    image_tag: staging

- name: Dry run of a promotion (run the play with --check --diff to see which tags would move)
  seaport.registry.ecr_public_image:
    repository_name: app
    image_manifest: "{{ staging.manifest }}"
    image_digest: "{{ staging.digest }}"
    image_tag: prod
  vars:
    staging: "{{ lookup('seaport.registry.manifest', 'public.ecr.aws/acme/app:staging') }}"
  check_mode: true
  diff: true

- name: Remove the rc tags
  seaport.registry.ecr_public_image:
    repository_name: app
    image_tags: [2.0.0-rc.1, 2.0.0-rc.2]
    state: absent

- name: Remove an image and all its tags
  seaport.registry.ecr_public_image:
    repository_name: app
    image_digest: sha256:4b1ec8a2b5a6e0d4a4c8de8f2c3b6f7e1d0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c
    state: absent

- name: Against a local endpoint (the project's test double), with explicit credentials
  seaport.registry.ecr_public_image:
    endpoint_url: http://127.0.0.1:5000
    access_key: "{{ local_access_key }}"
    secret_key: "{{ local_secret_key }}"
    repository_name: app
    image_manifest_path: manifest.json
    image_tag: "1.0.0"
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


def main():
    module = AnsibleAWSModule(
        argument_spec=_image_module.argument_spec(),
        mutually_exclusive=_image_module.MUTUALLY_EXCLUSIVE,
        supports_check_mode=True,
    )
    _image_module.run(module, "ecr-public")


if __name__ == "__main__":
    main()
