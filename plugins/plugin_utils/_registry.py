# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This is a private module: its API may change at any time, also in a patch release.

"""The registry client for controller-side plugins: options read with ``get_option``, the
credential chain (explicit, AWS for ECR registries, ~/.docker/config.json, anonymous), and
tokens cached for the whole run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os

try:
    import boto3
    import botocore.exceptions
except ImportError:
    boto3 = None

from ansible.module_utils.common.text.converters import to_native
from ansible.utils.display import Display

from ansible_collections.seaport.registry.plugins.module_utils._manifest import INDEX_MEDIA_TYPES, MEDIA_TYPES
from ansible_collections.seaport.registry.plugins.module_utils._reference import DOCKER_HUB, ECR_PUBLIC, PRIVATE_ECR
from ansible_collections.seaport.registry.plugins.module_utils._registry_client import (
    RegistryClient,
    RegistryError,
    parse_platform,
    select_platform,
    verified_manifest,
)

display = Display()

# One cache per controller process, that is per playbook run: registry tokens by registry and
# scope, AWS registry passwords by (service, account, region).
TOKEN_CACHE = {}
AWS_PASSWORDS = {}
DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
AWS_OPTIONS = ("access_key", "secret_key", "session_token", "profile")


def docker_config_credentials(registry, path=None):
    """(username, password) for a registry from a docker config file's ``auths``, or None."""
    path = path or os.path.join(os.environ.get("DOCKER_CONFIG") or os.path.expanduser("~/.docker"), "config.json")
    try:
        with open(path, "rb") as handle:
            auths = json.loads(handle.read().decode("utf-8")).get("auths") or {}
    except (IOError, OSError, ValueError, AttributeError):
        return None
    keys = DOCKER_HUB_KEYS if registry == DOCKER_HUB else (registry, "https://" + registry, "http://" + registry)
    for key in keys:
        entry = auths.get(key) or auths.get(key.rstrip("/"))
        if not isinstance(entry, dict):
            continue
        if entry.get("username") and entry.get("password"):
            return entry["username"], entry["password"]
        if entry.get("auth"):
            try:
                user, _sep, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                continue
            if user:
                return user, password
    return None


class PluginCredentials:
    """The credential chain for one lookup call, as a callable: registry -> (user, password)."""

    def __init__(self, plugin):
        self.plugin = plugin
        self._resolved = {}
        self._aws_configured = None

    def aws_configured(self):
        """Whether AWS credentials are at hand; asked once per lookup call, because the default
        chain may end in an instance-metadata request that takes seconds off EC2."""
        if self._aws_configured is None:
            self._aws_configured = self._find_aws_credentials()
        return self._aws_configured

    def _find_aws_credentials(self):
        if boto3 is None:
            return False
        if any(self.plugin.get_option(name) for name in AWS_OPTIONS):
            return True
        try:
            return boto3.session.Session().get_credentials() is not None
        except botocore.exceptions.BotoCoreError:
            return False

    def _aws_password(self, registry):
        """The password of AWS's GetAuthorizationToken for an ECR registry (user 'AWS')."""
        private = PRIVATE_ECR.match(registry)
        key = ("ecr", private.group("account"), private.group("region")) if private else ("ecr-public", None, None)
        if key in AWS_PASSWORDS:
            return AWS_PASSWORDS[key]
        try:
            if private:
                client = self.plugin.client("ecr", region=private.group("region"))
                data = client.get_authorization_token(registryIds=[key[1]])["authorizationData"][0]
            else:
                # ECR Public's API, and so its tokens, live in us-east-1.
                client = self.plugin.client("ecr-public", region=self.plugin.get_option("region") or "us-east-1")
                data = client.get_authorization_token()["authorizationData"]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            raise RegistryError("Could not get an authorization token for %s from AWS (GetAuthorizationToken): %s"
                                % (registry, to_native(exc)), "unauthorized")
        user, _sep, password = base64.b64decode(data["authorizationToken"]).decode("utf-8").partition(":")
        AWS_PASSWORDS[key] = (user, password)
        return AWS_PASSWORDS[key]

    def __call__(self, registry):
        if registry not in self._resolved:
            self._resolved[registry] = self._resolve(registry)
        return self._resolved[registry]

    def _resolve(self, registry):
        username, password = self.plugin.get_option("username"), self.plugin.get_option("password")
        if username:
            return username, password or ""
        if (registry == ECR_PUBLIC or PRIVATE_ECR.match(registry)) and self.aws_configured():
            return self._aws_password(registry)
        return docker_config_credentials(registry)


def batch_get_manifest(client, ref, platform=None):
    """A private ECR manifest through BatchGetImage: one AWS call, where the registry API needs a
    token call and a GET. Verified like a registry answer (ECR's imageDigest is the sent digest)."""
    account, _region = ref.private_ecr
    image_id = {"imageDigest": ref.digest} if ref.digest else {"imageTag": ref.tag}
    try:
        answer = client.batch_get_image(registryId=account, repositoryName=ref.repository, imageIds=[image_id],
                                        acceptedMediaTypes=list(MEDIA_TYPES))
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        kinds = {"RepositoryNotFoundException": "not_found", "AccessDeniedException": "forbidden"}
        kind = kinds.get(code, "connection")
        raise RegistryError("BatchGetImage failed for %s: %s" % (ref, to_native(exc)), kind)
    except botocore.exceptions.BotoCoreError as exc:
        raise RegistryError("BatchGetImage failed for %s: %s" % (ref, to_native(exc)), "connection")
    if not answer.get("images"):
        failure = (answer.get("failures") or [{}])[0]
        raise RegistryError("%s was not found (BatchGetImage: %s)." % (ref, failure.get("failureReason")
                                                                       or failure.get("failureCode")), "not_found")
    image = answer["images"][0]
    result, parsed = verified_manifest(ref, image["imageManifest"].encode("utf-8"),
                                       image.get("imageManifestMediaType"), image.get("imageId", {}).get("imageDigest"))
    if platform and result["media_type"] in INDEX_MEDIA_TYPES:
        child = select_platform(parsed, parse_platform(platform), str(ref))
        return batch_get_manifest(client, ref.with_digest(child), None)
    return result


def fetch_manifest(plugin, registry_client, ref, platform=None):
    """A manifest for a plugin: BatchGetImage for private ECR when AWS credentials are configured
    (and no explicit registry credentials), the registry API otherwise."""
    credentials = registry_client.credentials
    if ref.private_ecr and not plugin.get_option("username") and credentials.aws_configured():
        return batch_get_manifest(plugin.client("ecr", region=ref.private_ecr[1]), ref, platform)
    return registry_client.get_manifest(ref, platform)


def plugin_registry_client(plugin):
    """A RegistryClient configured from a plugin's options (see the manifest lookup's docs)."""
    return RegistryClient(
        credentials=PluginCredentials(plugin),
        insecure=plugin.get_option("insecure"),
        validate_certs=plugin.get_option("validate_certs"),
        ca_path=plugin.get_option("ca_path"),
        timeout=plugin.get_option("timeout"),
        token_cache=TOKEN_CACHE,
    )
