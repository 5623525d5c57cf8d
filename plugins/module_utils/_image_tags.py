# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This is a private module: its API may change at any time, also in a patch release.

"""Point tags at an image in an ECR repository, moving only what needs to move.

Each API interaction is a small function that takes a boto3 client (wrapped by amazon.aws's
retrying wrapper, so ``aws_retry=True`` applies), ``check_mode`` where it writes, and plain
values. PutImage, DescribeImages, BatchCheckLayerAvailability and BatchDeleteImage have the
same shapes in ECR Public and private ECR, so both modules share this code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.seaport.registry.plugins.module_utils._manifest import ACCOUNT_ID_PATTERN

ABSENT = None
LAYER_CHECK_BATCH = 100  # BatchCheckLayerAvailability's limit


class TaggingError(Exception):
    """A failure with a message for the user; ``exception`` is the AWS error behind it, if any."""

    def __init__(self, message, exception=None):
        super().__init__(message)
        self.message = message
        self.exception = exception


class RepositoryState:
    """Where a repository's tags point, and which image digests it holds, read in one pass."""

    def __init__(self, registry_id, tags, digests):
        self.registry_id = registry_id  # the 12-digit account ID AWS reported, if any image told it
        self.tags = tags  # {tag: digest}
        self.digests = digests  # every image digest, tagged or not


def read_registry_id(registry_id):
    """The registryId to send to read calls, which accept only a 12-digit account ID.

    A registry alias works for PutImage only; reads then use the caller's default registry,
    the only one a caller can write to.
    """
    return registry_id if registry_id and ACCOUNT_ID_PATTERN.match(registry_id) else None


def _with_registry(params, registry_id):
    if registry_id:
        params["registryId"] = registry_id
    return params


def describe_images(client, repository, registry_id):
    """Every image of the repository as DescribeImages reports it, following pages (1000 each)."""
    params = _with_registry({"repositoryName": repository, "maxResults": 1000}, read_registry_id(registry_id))
    while True:
        page = client.describe_images(aws_retry=True, **params)
        yield from page.get("imageDetails", [])
        if not page.get("nextToken"):
            return
        params["nextToken"] = page["nextToken"]


def read_repository(client, repository, registry_id):
    """Read every image of the repository: its tags and digests, one call per 1000 images.

    DescribeImages rather than DescribeImageTags: it also lists untagged images (needed to know
    whether an untagged put or an index's children already exist) and reports the registry ID.
    """
    tags, digests, account = {}, set(), None
    for image in describe_images(client, repository, registry_id):
        account = account or image.get("registryId")
        digests.add(image["imageDigest"])
        for tag in image.get("imageTags", []):
            tags[tag] = image["imageDigest"]
    if account is None:  # an empty repository says nothing of its registry: ask once
        account = describe_repository(client, repository, registry_id)["registryId"]
    return RepositoryState(account, tags, digests)


def describe_repository(client, repository, registry_id):
    params = _with_registry({"repositoryNames": [repository]}, read_registry_id(registry_id))
    return client.describe_repositories(aws_retry=True, **params)["repositories"][0]


def missing_blobs(client, repository, registry_id, digests):
    """The digests (config and layers) that the repository does not hold, in the given order."""
    missing = []
    for start in range(0, len(digests), LAYER_CHECK_BATCH):
        params = _with_registry(
            {"repositoryName": repository, "layerDigests": digests[start:start + LAYER_CHECK_BATCH]}, registry_id
        )
        result = client.batch_check_layer_availability(aws_retry=True, **params)
        available = set(
            layer["layerDigest"] for layer in result.get("layers", []) if layer.get("layerAvailability") == "AVAILABLE"
        )
        missing.extend(digest for digest in digests[start:start + LAYER_CHECK_BATCH] if digest not in available)
    return missing


def missing_content_error(repository, manifest, missing):
    if manifest.is_index:
        what = "%d image manifest(s) that the index references" % len(missing)
        fix = "Put each platform's image into this repository first (by digest), then the index."
    else:
        what = "%d blob(s) (config or layers) that the manifest references" % len(missing)
        fix = ("Push the image's layers into this repository first (docker push, skopeo copy, or ECR's layer "
               "upload API), then put the manifest.")
    return TaggingError(
        "Cannot put image %s into repository '%s': the repository lacks %s: %s. %s"
        % (manifest.digest, repository, what, ", ".join(missing), fix)
    )


def find_missing_content(client, repository, registry_id, manifest, state):
    """What PutImage would report as missing (layers or child manifests), without writing."""
    if manifest.is_index:
        return [digest for digest in manifest.children if digest not in state.digests]
    return missing_blobs(client, repository, registry_id, manifest.blobs)


def read_tag_immutability(client, repository, registry_id):
    """Private ECR: a predicate telling whether a tag is immutable in the repository.

    IMMUTABLE and MUTABLE apply to every tag; the *_WITH_EXCLUSION settings invert the rule for
    tags that match one of the repository's wildcard exclusion filters.
    """
    repo = describe_repository(client, repository, registry_id)
    setting = repo.get("imageTagMutability", "MUTABLE")
    patterns = [f.get("filter", "") for f in repo.get("imageTagMutabilityExclusionFilters") or []]

    def is_immutable(tag):
        excluded = any(fnmatch.fnmatchcase(tag, pattern) for pattern in patterns)
        return {"IMMUTABLE": True, "IMMUTABLE_WITH_EXCLUSION": not excluded,
                "MUTABLE_WITH_EXCLUSION": excluded}.get(setting, False)

    return is_immutable


def immutable_tag_error(repository, tag, exception=None):
    return TaggingError(
        "Tag %r already exists in repository '%s' and is immutable there: ECR refuses to move it. Use a new tag, "
        "or make the tag mutable (the repository's imageTagMutability or its exclusion filters)." % (tag, repository),
        exception,
    )


def plan_tags(state, digest, tags):
    """For each requested tag: (tag, digest before or ABSENT, whether it must move)."""
    return [(tag, state.tags.get(tag, ABSENT), state.tags.get(tag) != digest) for tag in tags]


def put_image(client, check_mode, repository, registry_id, manifest, tag, state):
    """PutImage for one tag (or none); return the image as PutImage reports it.

    ImageAlreadyExistsException means the tag already points at this digest: success. Whether
    that counts as a change is decided by the caller from the state read before (a retried call
    whose first try succeeded also ends here, and it did move the tag).
    """
    image = {
        "registryId": state.registry_id,
        "repositoryName": repository,
        "imageId": dict({"imageDigest": manifest.digest}, **({"imageTag": tag} if tag else {})),
        "imageManifest": manifest.text,
        "imageManifestMediaType": manifest.media_type,
    }
    if check_mode:
        return image
    params = _with_registry(
        {
            "repositoryName": repository,
            "imageManifest": manifest.text,
            "imageManifestMediaType": manifest.media_type,
            "imageDigest": manifest.digest,
        },
        registry_id,
    )
    if tag:
        params["imageTag"] = tag
    try:
        return client.put_image(aws_retry=True, **params)["image"]
    except is_boto3_error_code("ImageAlreadyExistsException"):
        return image
    except is_boto3_error_code(["LayersNotFoundException", "ReferencedImagesNotFoundException"]) as exc:
        # Content vanished since ensure_present checked it: report it the same way.
        missing = find_missing_content(client, repository, registry_id, manifest, state) or ["(not reported)"]
        raise TaggingError(missing_content_error(repository, manifest, missing).message, exc)
    except is_boto3_error_code("ImageTagAlreadyExistsException") as exc:  # pylint: disable=duplicate-except
        raise immutable_tag_error(repository, tag, exc)
    except is_boto3_error_code("ImageDigestDoesNotMatchException") as exc:  # pylint: disable=duplicate-except
        raise TaggingError(
            "ECR computed a different digest than %s for the manifest sent: the manifest text was changed on its "
            "way. Pass it exactly as the registry serves it." % manifest.digest, exc
        )


def delete_images(client, check_mode, repository, registry_id, image_ids):
    """BatchDeleteImage; a failure other than 'not found' (already gone) is an error."""
    if check_mode or not image_ids:
        return
    params = _with_registry({"repositoryName": repository, "imageIds": image_ids}, read_registry_id(registry_id))
    result = client.batch_delete_image(aws_retry=True, **params)
    failures = [f for f in result.get("failures", []) if f.get("failureCode") != "ImageNotFound"]
    if failures:
        raise TaggingError(
            "ECR did not remove %s from repository '%s': %s"
            % (
                ", ".join(_describe_id(f.get("imageId", {})) for f in failures),
                repository,
                "; ".join("%s: %s" % (f.get("failureCode"), f.get("failureReason")) for f in failures),
            )
        )


def _describe_id(image_id):
    return image_id.get("imageTag") or image_id.get("imageDigest") or "?"


def diff_text(tags):
    """One line per tag, 'tag: digest' or 'tag: (absent)', for a readable --diff."""
    return "".join("%s: %s\n" % (tag, digest or "(absent)") for tag, digest in tags)


def _image_result(state, repository, manifest, tag):
    """The image as PutImage reports it, in snake_case; the same in check mode and for a no-op."""
    image_id = {"image_digest": manifest.digest}
    if tag:
        image_id["image_tag"] = tag
    return {
        "registry_id": state.registry_id,
        "repository_name": repository,
        "image_id": image_id,
        "image_manifest": manifest.text,
        "image_manifest_media_type": manifest.media_type,
    }


def ensure_present(client, check_mode, repository, registry_id, manifest, tags, immutability=None):
    """Point ``tags`` (or, with none, an untagged image) at the manifest; return the result.

    ``immutability``: for private ECR, ``read_tag_immutability``; read only when an existing tag
    would move, so that an immutable tag fails alike in check mode and for real, before any write.
    """
    state = read_repository(client, repository, registry_id)
    plan = plan_tags(state, manifest.digest, tags)
    moving = [tag for tag, _before, moves in plan if moves]
    new_untagged = not tags and manifest.digest not in state.digests
    existing = [tag for tag, before, moves in plan if moves and before is not ABSENT]
    if immutability and existing:
        is_immutable = immutability(client, repository, registry_id)
        for tag in existing:
            if is_immutable(tag):
                raise immutable_tag_error(repository, tag)
    if (moving or new_untagged) and manifest.digest not in state.digests:
        # Checked before any write in both modes: check mode predicts the failure with the same
        # message, and a refused put leaves no trace. An image the repository already holds has
        # its content there (ECR accepted it), so retagging it costs no read more than the minimum.
        missing = find_missing_content(client, repository, registry_id, manifest, state)
        if missing:
            raise missing_content_error(repository, manifest, missing)
    for tag in moving or ([None] if new_untagged else []):
        put_image(client, check_mode, repository, registry_id, manifest, tag, state)
    if tags:
        before = [(tag, previous) for tag, previous, _moves in plan]
        after = [(tag, manifest.digest) for tag in tags]
    else:
        label = "image %s" % manifest.digest
        before = [(label, manifest.digest if not new_untagged else ABSENT)]
        after = [(label, manifest.digest)]
    return {
        "changed": bool(moving) or new_untagged,
        "digest": manifest.digest,
        "image": _image_result(state, repository, manifest, tags[0] if tags else None),
        "images": [
            {"image_tag": tag, "image_digest": manifest.digest, "previous_digest": previous, "changed": moves}
            for tag, previous, moves in plan
        ],
        "_diff": (before, after),
    }


def ensure_absent(client, check_mode, repository, registry_id, digest, tags):
    """Remove ``tags`` (only those pointing at ``digest`` when given), or the image ``digest``."""
    state = read_repository(client, repository, registry_id)
    if tags:
        removed = [tag for tag in tags if tag in state.tags and digest in (None, state.tags[tag])]
        image_ids = [{"imageTag": tag} for tag in removed]
        listed = tags
    else:
        removed = sorted(tag for tag, target in state.tags.items() if target == digest)
        image_ids = [{"imageDigest": digest}] if digest in state.digests else []
        listed = removed
    delete_images(client, check_mode, repository, registry_id, image_ids)
    before = [(tag, state.tags.get(tag, ABSENT)) for tag in listed]
    after = [(tag, ABSENT if tag in removed else state.tags.get(tag, ABSENT)) for tag in listed]
    if not tags:
        label = "image %s" % digest
        before.append((label, digest if image_ids else ABSENT))
        after.append((label, ABSENT))
    return {
        "changed": bool(image_ids),
        "digest": digest,
        "images": [
            {"image_tag": tag, "image_digest": ABSENT if tag in removed else state.tags.get(tag, ABSENT),
             "previous_digest": state.tags.get(tag, ABSENT), "changed": tag in removed}
            for tag in listed
        ],
        "_diff": (before, after),
    }


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
