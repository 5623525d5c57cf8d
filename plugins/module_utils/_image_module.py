# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This is a private module: its API may change at any time, also in a patch release.

"""What the image modules (ECR Public, private ECR) share: options, input checks, and wiring the
module to the API functions of _image_tags. The AWS calls themselves live in _image_tags."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.seaport.registry.plugins.module_utils._image_tags import (
    TaggingError,
    describe_repository,
    diff_text,
    ensure_absent,
    ensure_present,
    list_images,
)
from ansible_collections.seaport.registry.plugins.module_utils._manifest import (
    MEDIA_TYPES,
    ManifestError,
    parse_manifest,
    validate_digest,
    validate_registry_id,
    validate_repository_name,
    validate_tag,
)

# boto3 service name -> how messages and diff headers name it.
SERVICES = {"ecr-public": "ECR Public", "ecr": "ECR"}
ECR_PUBLIC_REGION = "us-east-1"  # ECR Public's API is served from there
MUTUALLY_EXCLUSIVE = [["image_tag", "image_tags"], ["image_manifest", "image_manifest_path"]]
# On top of botocore's own retries. AWSRetry knows "Throttling" but not ECR's ThrottlingException.
RETRY = {"retries": 10, "delay": 1, "max_delay": 20,
         "catch_extra_error_codes": ["ThrottlingException", "LimitExceededException", "ServerException"]}


def argument_spec():
    return dict(
        repository_name=dict(type="str", required=True),
        registry_id=dict(type="str"),
        image_manifest=dict(type="raw"),
        image_manifest_path=dict(type="path"),
        image_manifest_media_type=dict(type="str", choices=list(MEDIA_TYPES)),
        image_tag=dict(type="str"),
        image_tags=dict(type="list", elements="str"),
        image_digest=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def connect(module, service):
    """The retrying client for ``service``. ECR Public defaults to its API's region; private ECR
    resolves the region the standard AWS way (option, environment, profile)."""
    region = module.params["region"] or (ECR_PUBLIC_REGION if service == "ecr-public" else None)
    extra = {"region": region} if region else {}  # region=None would override the profile's
    return module.client(service, retry_decorator=AWSRetry.jittered_backoff(**RETRY), **extra)


def _read_manifest_file(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise ManifestError("Cannot read image_manifest_path %s: %s" % (path, to_native(exc)))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError("image_manifest_path %s is not UTF-8 text; a manifest is JSON in UTF-8." % path)


def _manifest_text(params):
    if params["image_manifest_path"]:
        return _read_manifest_file(params["image_manifest_path"])
    return params["image_manifest"]


def _requested_tags(params):
    tags = params["image_tags"] if params["image_tags"] is not None else (
        [params["image_tag"]] if params["image_tag"] is not None else [])
    unique = []
    for tag in tags:
        validate_tag(tag)
        if tag not in unique:
            unique.append(tag)
    return unique


def describe_aws_error(exc, service, repository, registry_id):
    """A message for AWS errors the user can act on; None for the others."""
    where = "registry %s" % registry_id if registry_id else "your account's registry"
    code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
    if code == "RepositoryNotFoundException":
        return ("Repository '%s' does not exist in %s. Create it first (for example with the AWS CLI: aws %s "
                "create-repository --repository-name %s), or check repository_name and registry_id."
                % (repository, where, service, repository))
    if code == "RegistryNotFoundException":
        return "Registry %s does not exist or is not yours: check registry_id." % registry_id
    if code == "InvalidParameterException":
        return "ECR refused a parameter for repository '%s'" % repository
    return None


def run(module, service, immutability=None):
    """Validate the input, then connect to ``service`` ("ecr-public" or "ecr"), apply the change or
    predict it in check mode, and exit the module. Bad input fails before any AWS call.
    ``immutability``: see ``ensure_present`` (private ECR)."""
    params = module.params
    repository = params["repository_name"]
    registry_id = params["registry_id"]
    try:
        validate_repository_name(repository)
        validate_registry_id(registry_id, aliases=service == "ecr-public")
        tags = _requested_tags(params)
        if params["image_digest"] is not None:
            validate_digest(params["image_digest"])
        text = _manifest_text(params)
        if params["state"] == "present":
            if text is None:
                raise ManifestError("state=present needs the manifest: set image_manifest or image_manifest_path.")
            manifest = parse_manifest(text, params["image_manifest_media_type"], params["image_digest"])
        else:
            digest = params["image_digest"]
            if text is not None:
                digest = parse_manifest(text, params["image_manifest_media_type"], digest).digest
            if not tags and digest is None:
                raise ManifestError("state=absent needs the tags to remove (image_tag or image_tags), or the image "
                                    "to remove (image_digest, or its manifest).")
    except ManifestError as exc:
        module.fail_json(msg=to_native(exc))

    client = connect(module, service)
    try:
        if params["state"] == "present":
            result = ensure_present(client, module.check_mode, repository, registry_id, manifest, tags, immutability)
        else:
            result = ensure_absent(client, module.check_mode, repository, registry_id, digest, tags)
    except TaggingError as exc:
        if exc.exception is not None:
            module.fail_json_aws(exc.exception, msg=exc.message)
        module.fail_json(msg=exc.message)
    except (BotoCoreError, ClientError) as exc:
        module.fail_json_aws(exc, msg=describe_aws_error(exc, service, repository, registry_id)
                             or "%s call failed for repository '%s'" % (SERVICES[service], repository))

    before, after = result.pop("_diff")
    if module._diff:
        header = "%s %s/%s" % (SERVICES[service], registry_id or "(default registry)", repository)
        result["diff"] = {"before_header": header, "after_header": header,
                          "before": diff_text(before), "after": diff_text(after)}
    module.exit_json(**result)


INFO_ARGUMENT_SPEC = dict(
    repository_name=dict(type="str", required=True),
    registry_id=dict(type="str"),
    image_tags=dict(type="list", elements="str"),
    image_digests=dict(type="list", elements="str"),
)


def run_info(module, service):
    """The info modules: validate, list the images (and, for private ECR, the repository's tag
    mutability, which ECR Public does not have), exit."""
    params = module.params
    repository, registry_id = params["repository_name"], params["registry_id"]
    try:
        validate_repository_name(repository)
        validate_registry_id(registry_id, aliases=service == "ecr-public")
        for tag in params["image_tags"] or []:
            validate_tag(tag)
        for digest in params["image_digests"] or []:
            validate_digest(digest, "image_digests entry")
    except ManifestError as exc:
        module.fail_json(msg=to_native(exc))
    client = connect(module, service)
    result = {"changed": False}
    try:
        result["images"], result["tags"] = list_images(client, repository, registry_id, params["image_tags"],
                                                       params["image_digests"])
        if service == "ecr":
            repo = describe_repository(client, repository, registry_id)
            result["repository"] = {
                "repository_uri": repo.get("repositoryUri"),
                "image_tag_mutability": repo.get("imageTagMutability", "MUTABLE"),
                "image_tag_mutability_exclusion_filters": [
                    {"filter_type": f.get("filterType"), "filter": f.get("filter")}
                    for f in repo.get("imageTagMutabilityExclusionFilters") or []
                ],
            }
    except (BotoCoreError, ClientError) as exc:
        module.fail_json_aws(exc, msg=describe_aws_error(exc, service, repository, registry_id)
                             or "Could not list the images of repository '%s'" % repository)
    module.exit_json(**result)
