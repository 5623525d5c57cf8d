# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: manifest
short_description: Fetch an image manifest, byte-exact, from any OCI registry
version_added: 0.1.0
author:
  - seaport.registry maintainers (@seaport-registry)
description:
  - Fetches an image's manifest over the registry HTTP API (the OCI distribution API) from any registry, Amazon ECR
    Public (C(public.ecr.aws)) and private ECR included, and returns its exact text with its media type and digest.
  - The ECR Public API cannot return a manifest (it has no BatchGetImage), so this is how to retag or promote an image
    with M(seaport.registry.ecr_public_image) without changing its digest.
  - The digest is the SHA-256 of the exact bytes received. It must equal the registry's C(Docker-Content-Digest) header
    when one is sent, and the C(@sha256:) digest of the reference when one is given; otherwise the lookup fails.
  - "Credentials, in this order: O(username) and O(password); for C(public.ecr.aws) and
    C(<account>.dkr.ecr.<region>.amazonaws.com), a token from AWS GetAuthorizationToken when AWS credentials are
    configured (options, environment, profile or instance role; ECR Public pulls are anonymous otherwise);
    the C(auths) of C(~/.docker/config.json) (or C($DOCKER_CONFIG/config.json)); anonymous."
  - For private ECR (C(<account>.dkr.ecr.<region>.amazonaws.com)) with AWS credentials configured, the manifest is
    read with ECR's BatchGetImage instead of the registry API - one AWS call instead of a token call and a registry
    request - and verified the same way. Give O(username) and O(password) to use the registry API instead.
  - Bearer-token challenges (C(WWW-Authenticate)) are followed; tokens are cached per registry and scope for the run.
    Credentials and tokens never appear in results, warnings or errors.
options:
  _terms:
    description:
      - Image references, C([registry[:port]/]repository[:tag][@sha256:digest]).
      - Without a registry, Docker Hub (C(docker.io)), with C(library/) for one-component names, as docker resolves
        them. Without tag or digest, C(latest).
    type: list
    elements: str
    required: true
  username:
    description: User name for the registry (for ECR, V(AWS) and O(password) from GetAuthorizationToken).
    type: str
  password:
    description: Password or token for the registry. Never shown.
    type: str
  platform:
    description:
      - When the reference is an index (multi-platform image), return the manifest of this platform's image instead,
        C(os/architecture[/variant]), for example V(linux/arm64).
      - Without it, an index is returned as is.
    type: str
  insecure:
    description:
      - Allow plain HTTP and skip TLS verification, for registries on loopback or a private network.
      - HTTPS is tried first, then HTTP, as docker does for insecure registries.
    type: bool
    default: false
  validate_certs:
    description: Verify TLS certificates. Ignored with O(insecure=true).
    type: bool
    default: true
  ca_path:
    description: A PEM file of CA certificates to verify the registry's TLS certificate with.
    type: path
  timeout:
    description: Seconds to wait for each registry request.
    type: int
    default: 30
  on_missing:
    description:
      - What to do when the image, tag, digest or platform does not exist.
      - V(error) fails; V(skip) returns V(null) for that term; V(warn) returns V(null) and warns.
      - Authentication, TLS and connection failures are always errors.
    type: str
    choices: [error, warn, skip]
    default: error
notes:
  - Docker credential helpers (C(credHelpers), C(credsStore)) are not used; give O(username) and O(password), or use
    AWS credentials for ECR.
  - Requires ansible-core 2.19 or later to pass the manifest text on unchanged between tasks.
  - boto3 is needed only for AWS tokens for ECR registries.
seealso:
  - module: seaport.registry.ecr_public_image
extends_documentation_fragment:
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: Release the image built as sha-1f3c9e2 under 1.4.2, digest unchanged
  seaport.registry.ecr_public_image:
    repository_name: app
    image_manifest: "{{ build.manifest }}"
    image_digest: "{{ build.digest }}"
    image_tag: 1.4.2
  vars:
    build: "{{ lookup('seaport.registry.manifest', 'public.ecr.aws/acme/app:sha-1f3c9e2') }}"

- name: Pin by digest (the lookup fails if the bytes do not match)
  ansible.builtin.debug:
    msg: "{{ lookup('seaport.registry.manifest', 'public.ecr.aws/acme/app@sha256:' ~ app_sha).media_type }}"

- name: The arm64 image of a multi-platform tag, from Docker Hub
  ansible.builtin.debug:
    msg: "{{ lookup('seaport.registry.manifest', 'python:3.12', platform='linux/arm64').digest }}"

- name: A private registry with credentials; a missing tag gives null instead of failing
  ansible.builtin.set_fact:
    candidate: >-
      {{ lookup('seaport.registry.manifest', 'registry.example.com:5000/team/app:rc', username=registry_user,
         password=registry_password, on_missing='skip') }}

- name: Several images at once (one result per term)
  ansible.builtin.set_fact:
    digests: "{{ query('seaport.registry.manifest', 'alpine:3.20', 'busybox:1.36') | map(attribute='digest') }}"
"""

RETURN = r"""
_raw:
  description: One result per term (V(null) for a missing image with O(on_missing=skip) or O(on_missing=warn)).
  type: list
  elements: dict
  contains:
    manifest:
      description: The manifest text, exactly as the registry sent it.
      type: str
    media_type:
      description: The manifest's media type (Docker v2, Docker manifest list, OCI manifest or OCI index).
      type: str
      sample: application/vnd.oci.image.index.v1+json
    digest:
      description: C(sha256:) and the hex SHA-256 of the exact manifest bytes.
      type: str
      sample: sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7
    size:
      description: The manifest's size in bytes.
      type: int
      sample: 1609
    reference:
      description: The canonical reference fetched, pinned to the digest (with O(platform), the platform's image).
      type: str
      sample: public.ecr.aws/acme/app:1.4.2@sha256:0f5a0b9e3c1d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.amazon.aws.plugins.plugin_utils.base import AWSPluginBase

from ansible_collections.seaport.registry.plugins.module_utils._reference import ImageReference, InvalidReference
from ansible_collections.seaport.registry.plugins.module_utils._registry_client import RegistryError, parse_platform
from ansible_collections.seaport.registry.plugins.plugin_utils._registry import fetch_manifest, plugin_registry_client

display = Display()


class LookupModule(AWSPluginBase, LookupBase):
    def _do_fail(self, message):
        raise AnsibleLookupError(message)

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        on_missing = self.get_option("on_missing")
        try:
            references = [ImageReference.parse(term) for term in terms]
            if self.get_option("platform"):
                parse_platform(self.get_option("platform"))  # refused even when no term is an index
        except InvalidReference as exc:
            raise AnsibleLookupError(str(exc))
        except RegistryError as exc:
            raise AnsibleLookupError(exc.message)
        client = plugin_registry_client(self)
        results = []
        for ref in references:
            try:
                results.append(fetch_manifest(self, client, ref, self.get_option("platform")))
            except RegistryError as exc:
                if exc.kind != "not_found" or on_missing == "error":
                    raise AnsibleLookupError(exc.message)
                if on_missing == "warn":
                    display.warning(exc.message)
                results.append(None)
        return results
