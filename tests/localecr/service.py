"""ECR Public's operations with ECR's semantics, kept in a real distribution registry.

Each public method is one API operation: it takes the decoded JSON request and returns the JSON
response, or raises ApiError with the exception name botocore models. Repositories live in the
registry under ``<alias>/<repository>``.
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import hashlib
import json
import re
import threading
import time
import uuid

from .registry import RegistryError, sha256_digest

MAX_MANIFEST_BYTES = 4 * 1024 * 1024
REPOSITORY_NAME = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
REGISTRY_ID = re.compile(r"^[0-9]{12}$")
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = INDEX_TYPES + (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
PART_SIZE = 10 * 1024 * 1024


class ApiError(Exception):
    """An error AWS would return: the modeled exception name and its message."""

    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _epoch(timestamp):
    return round(timestamp, 3)


class EcrPublicService:
    """The operations of ECR Public that the collection uses, over one registry."""

    def __init__(self, registry, account_id="123456789012", alias="seaport-test", region="us-east-1"):
        self.registry = registry
        self.account_id = account_id
        self.alias = alias
        self.region = region
        self.repositories = {}
        self.uploads = {}
        self._lock = threading.RLock()  # ECR serializes writes per repository; one lock is enough here

    # --- helpers ---------------------------------------------------------------------------

    def _path(self, name):
        return "%s/%s" % (self.alias, name)

    def _check_registry(self, params, alias_allowed):
        registry_id = params.get("registryId")
        if registry_id is None or registry_id == self.account_id:
            return
        if alias_allowed and registry_id == self.alias:
            return
        if not alias_allowed and not REGISTRY_ID.match(registry_id):
            raise ApiError(
                "InvalidParameterException",
                "Invalid parameter at 'registryId' failed to satisfy constraint: "
                "'must satisfy regular expression pattern: [0-9]{12}'",
            )
        raise ApiError("RegistryNotFoundException", "The registry with id '%s' does not exist" % registry_id)

    def _repository(self, params, alias_allowed=False):
        self._check_registry(params, alias_allowed)
        name = params.get("repositoryName", "")
        if name not in self.repositories:
            raise ApiError(
                "RepositoryNotFoundException",
                "The repository with name '%s' does not exist in the registry with id '%s'" % (name, self.account_id),
            )
        return name

    def _image_detail(self, name, digest, tags, pushed_at):
        manifest, media_type = self.registry.get_manifest(self._path(name), digest)
        detail = {
            "registryId": self.account_id,
            "repositoryName": name,
            "imageDigest": digest,
            "imagePushedAt": _epoch(pushed_at),
            "imageManifestMediaType": media_type,
            "imageSizeInBytes": _image_size(manifest),
        }
        if tags:
            detail["imageTags"] = sorted(tags)
        artifact = _artifact_media_type(manifest)
        if artifact:
            detail["artifactMediaType"] = artifact
        return detail

    def _images(self, name):
        """Return {digest: [tags]} and {digest: pushed-at} for the repository."""
        pushed = self.registry.manifest_digests(self._path(name))
        by_digest = {digest: [] for digest in pushed}
        for tag, digest in self.registry.tags(self._path(name)).items():
            by_digest.setdefault(digest, []).append(tag)
        return by_digest, pushed

    # --- repositories ----------------------------------------------------------------------

    def _repository_shape(self, name):
        return {
            "repositoryArn": "arn:aws:ecr-public::%s:repository/%s" % (self.account_id, name),
            "registryId": self.account_id,
            "repositoryName": name,
            "repositoryUri": "public.ecr.aws/%s/%s" % (self.alias, name),
            "createdAt": _epoch(self.repositories[name]["createdAt"]),
        }

    def CreateRepository(self, params):
        name = params.get("repositoryName", "")
        if not REPOSITORY_NAME.match(name) or not 2 <= len(name) <= 205:
            raise ApiError(
                "InvalidParameterException",
                "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                "'must satisfy regular expression pattern: %s'" % REPOSITORY_NAME.pattern[1:-1],
            )
        with self._lock:
            if name in self.repositories:
                raise ApiError(
                    "RepositoryAlreadyExistsException",
                    "The repository with name '%s' already exists in the registry with id '%s'"
                    % (name, self.account_id),
                )
            self.repositories[name] = {"createdAt": time.time()}
        return {"repository": self._repository_shape(name), "catalogData": {}}

    def DescribeRepositories(self, params):
        self._check_registry(params, alias_allowed=False)
        names = params.get("repositoryNames")
        if names:
            for name in names:
                self._repository({"repositoryName": name})
        else:
            names = sorted(self.repositories)
        page, next_token = _paginate(names, params)
        result = {"repositories": [self._repository_shape(name) for name in page]}
        if next_token:
            result["nextToken"] = next_token
        return result

    def DeleteRepository(self, params):
        with self._lock:
            name = self._repository(params)
            by_digest, _pushed = self._images(name)
            if by_digest and not params.get("force"):
                raise ApiError(
                    "RepositoryNotEmptyException",
                    "The repository with name '%s' in registry with id '%s' cannot be deleted because it still "
                    "contains images" % (name, self.account_id),
                )
            shape = self._repository_shape(name)
            self.registry.delete_repository(self._path(name))
            del self.repositories[name]
        return {"repository": shape}

    # --- images ----------------------------------------------------------------------------

    def PutImage(self, params):
        name = self._repository(params, alias_allowed=True)
        manifest_text = params.get("imageManifest", "")
        manifest = manifest_text.encode("utf-8")
        if len(manifest) > MAX_MANIFEST_BYTES:
            raise ApiError(
                "InvalidParameterException",
                "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
                "'Member must have length less than or equal to %d'" % MAX_MANIFEST_BYTES,
            )
        try:
            parsed = json.loads(manifest_text)
        except ValueError:
            raise ApiError("InvalidParameterException", "Invalid parameter at 'ImageManifest' failed to satisfy "
                           "constraint: 'Invalid JSON syntax'") from None
        if not isinstance(parsed, dict):
            raise ApiError("InvalidParameterException", "Invalid parameter at 'ImageManifest' failed to satisfy "
                           "constraint: 'Invalid JSON syntax'")
        media_type = _media_type(parsed, params.get("imageManifestMediaType"))
        digest = sha256_digest(manifest)
        if params.get("imageDigest") is not None and params["imageDigest"] != digest:
            raise ApiError(
                "ImageDigestDoesNotMatchException",
                "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'The provided digest %s does not "
                "match the digest %s calculated for the image manifest'" % (params["imageDigest"], digest),
            )
        tag = params.get("imageTag")
        path = self._path(name)
        with self._lock:
            current = self.registry.tags(path).get(tag) if tag else None
            exists = digest in self.registry.manifest_digests(path)
            if (tag and current == digest) or (not tag and exists):
                raise ApiError(
                    "ImageAlreadyExistsException",
                    "Image with digest '%s'%s already exists in the repository with name '%s' in registry with id "
                    "'%s'" % (digest, " and tag '%s'" % tag if tag else "", name, self.account_id),
                )
            try:
                self.registry.put_manifest(path, tag or digest, manifest, media_type)
            except RegistryError as err:
                raise _put_error(err, media_type, name, self.account_id) from None
        image_id = {"imageDigest": digest}
        if tag:
            image_id["imageTag"] = tag
        return {
            "image": {
                "registryId": self.account_id,
                "repositoryName": name,
                "imageId": image_id,
                "imageManifest": manifest_text,
                "imageManifestMediaType": media_type,
            }
        }

    def DescribeImages(self, params):
        name = self._repository(params)
        by_digest, pushed = self._images(name)
        tags = self.registry.tags(self._path(name))
        if params.get("imageIds"):
            if params.get("nextToken") or params.get("maxResults"):
                raise ApiError("InvalidParameterException", "Cannot specify imageIds together with nextToken or "
                               "maxResults")
            digests = []
            for image_id in params["imageIds"]:
                digest = image_id.get("imageDigest") or tags.get(image_id.get("imageTag"))
                if digest not in by_digest or (
                    image_id.get("imageTag") and tags.get(image_id["imageTag"]) != digest
                ):
                    raise ApiError(
                        "ImageNotFoundException",
                        "The image with imageId {%s} does not exist within the repository with name '%s' in the "
                        "registry with id '%s'" % (_describe_id(image_id), name, self.account_id),
                    )
                if digest not in digests:
                    digests.append(digest)
            next_token = None
        else:
            digests, next_token = _paginate(sorted(by_digest, key=lambda d: (pushed.get(d, 0), d)), params)
        result = {
            "imageDetails": [
                self._image_detail(name, digest, by_digest[digest], pushed.get(digest, time.time()))
                for digest in digests
            ]
        }
        if next_token:
            result["nextToken"] = next_token
        return result

    def DescribeImageTags(self, params):
        name = self._repository(params)
        path = self._path(name)
        _by_digest, pushed = self._images(name)
        tags = self.registry.tags(path)
        page, next_token = _paginate(sorted(tags), params)
        details = []
        for tag in page:
            digest = tags[tag]
            detail = self._image_detail(name, digest, [tag], pushed.get(digest, time.time()))
            details.append(
                {
                    "imageTag": tag,
                    "createdAt": _epoch(self.registry.tag_pushed_at(path, tag)),
                    "imageDetail": {
                        key: detail[key]
                        for key in ("imageDigest", "imageSizeInBytes", "imagePushedAt", "imageManifestMediaType",
                                    "artifactMediaType")
                        if key in detail
                    },
                }
            )
        result = {"imageTagDetails": details}
        if next_token:
            result["nextToken"] = next_token
        return result

    def BatchDeleteImage(self, params):
        name = self._repository(params)
        path = self._path(name)
        deleted, failures = [], []
        with self._lock:
            for image_id in params.get("imageIds", []):
                tag, digest = image_id.get("imageTag"), image_id.get("imageDigest")
                tags = self.registry.tags(path)
                failure = None
                if not tag and not digest:
                    failure = ("MissingDigestAndTag", "Requested image digest and tag are both missing")
                elif digest and not DIGEST.match(digest):
                    failure = ("InvalidImageDigest", "Invalid request parameters: image digest should satisfy the "
                               "regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'")
                elif tag and tag not in tags:
                    failure = ("ImageNotFound", "Requested image not found")
                elif tag and digest and tags[tag] != digest:
                    failure = ("ImageTagDoesNotMatchDigest", "Invalid request parameters: given tag and digest do "
                               "not match")
                elif not tag and digest not in self.registry.manifest_digests(path):
                    failure = ("ImageNotFound", "Requested image not found")
                if failure:
                    failures.append({"imageId": image_id, "failureCode": failure[0], "failureReason": failure[1]})
                    continue
                digest = digest or tags[tag]
                if tag:
                    self.registry.untag(path, tag)
                    # ECR deletes an image together with its last tag.
                    if digest in self.registry.tags(path).values():
                        deleted.append({"imageTag": tag, "imageDigest": digest})
                        continue
                for other_tag, other_digest in tags.items():
                    if other_digest == digest:
                        self.registry.untag(path, other_tag)
                self.registry.delete_manifest(path, digest)
                deleted.append(dict(image_id, imageDigest=digest))
        return {"imageIds": deleted, "failures": failures}

    # --- layers ----------------------------------------------------------------------------

    def BatchCheckLayerAvailability(self, params):
        name = self._repository(params, alias_allowed=True)
        layers, failures = [], []
        for digest in params.get("layerDigests", []):
            if not DIGEST.match(digest):
                failures.append({"layerDigest": digest, "failureCode": "InvalidLayerDigest",
                                 "failureReason": "Invalid layer digest"})
                continue
            size = self.registry.blob_size(self._path(name), digest)
            if size is None:
                failures.append({"layerDigest": digest, "failureCode": "MissingLayerDigest",
                                 "failureReason": "Could not find layer"})
            else:
                layers.append({"layerDigest": digest, "layerAvailability": "AVAILABLE", "layerSize": size})
        return {"layers": layers, "failures": failures}

    def InitiateLayerUpload(self, params):
        name = self._repository(params, alias_allowed=True)
        upload_id = str(uuid.uuid4())
        self.uploads[upload_id] = {"repository": name, "location": self.registry.start_upload(self._path(name)),
                                   "received": 0, "hash": hashlib.sha256()}
        return {"uploadId": upload_id, "partSize": PART_SIZE}

    def _upload(self, params, name):
        upload = self.uploads.get(params.get("uploadId"))
        if upload is None or upload["repository"] != name:
            raise ApiError("UploadNotFoundException", "The upload with id '%s' does not exist"
                           % params.get("uploadId"))
        return upload

    def UploadLayerPart(self, params):
        name = self._repository(params, alias_allowed=True)
        upload = self._upload(params, name)
        blob = base64.b64decode(params.get("layerPartBlob", ""))
        first, last = params.get("partFirstByte"), params.get("partLastByte")
        if first != upload["received"] or last != first + len(blob) - 1:
            raise ApiError("InvalidLayerPartException", "The layer part (%s-%s) does not continue the upload at "
                           "byte %d" % (first, last, upload["received"]))
        upload["location"] = self.registry.upload_chunk(upload["location"], blob, first)
        upload["received"] += len(blob)
        upload["hash"].update(blob)
        return {"registryId": self.account_id, "repositoryName": name, "uploadId": params["uploadId"],
                "lastByteReceived": upload["received"] - 1}

    def CompleteLayerUpload(self, params):
        name = self._repository(params, alias_allowed=True)
        upload = self._upload(params, name)
        digests = params.get("layerDigests", [])
        if upload["received"] == 0:
            raise ApiError("EmptyUploadException", "The upload with id '%s' has no layer parts" % params["uploadId"])
        actual = "sha256:" + upload["hash"].hexdigest()
        if digests != [actual]:
            raise ApiError("InvalidLayerException", "The layer digest %s does not match the uploaded content %s"
                           % (",".join(digests), actual))
        if self.registry.blob_size(self._path(name), actual) is not None:
            del self.uploads[params["uploadId"]]
            raise ApiError("LayerAlreadyExistsException", "The layer %s already exists in the repository" % actual)
        self.registry.finish_upload(upload["location"], actual)
        del self.uploads[params["uploadId"]]
        return {"registryId": self.account_id, "repositoryName": name, "uploadId": params["uploadId"],
                "layerDigest": actual}

    # --- auth ------------------------------------------------------------------------------

    def GetAuthorizationToken(self, params):
        del params
        token = base64.b64encode(("AWS:" + uuid.uuid4().hex).encode()).decode()
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=12)
        return {"authorizationData": {"authorizationToken": token, "expiresAt": _epoch(expires.timestamp())}}


def _media_type(parsed, given):
    declared = parsed.get("mediaType")
    media_type = given or declared
    if not media_type:
        raise ApiError("InvalidParameterException", "Invalid parameter at 'imageManifestMediaType' failed to satisfy "
                       "constraint: 'The media type must be provided when the manifest has no mediaType field'")
    if declared and given and declared != given:
        raise ApiError("InvalidParameterException", "Invalid parameter at 'imageManifestMediaType' failed to satisfy "
                       "constraint: 'Manifest media type %s does not match the mediaType %s in the manifest'"
                       % (given, declared))
    if media_type not in MANIFEST_TYPES:
        raise ApiError("InvalidParameterException", "Invalid parameter at 'imageManifestMediaType' failed to satisfy "
                       "constraint: 'Unsupported media type %s'" % media_type)
    return media_type


def _put_error(err, media_type, name, account_id):
    if err.code == "MANIFEST_BLOB_UNKNOWN":
        missing = err.detail if isinstance(err.detail, str) else json.dumps(err.detail)
        if media_type in INDEX_TYPES:
            return ApiError("ReferencedImagesNotFoundException", "Some of the images referenced by the manifest list "
                            "are not found in the repository with name '%s' in registry with id '%s': %s"
                            % (name, account_id, missing))
        return ApiError("LayersNotFoundException", "Layers with digests '[%s]' required for pushing image into "
                        "repository with name '%s' in the registry with id '%s' do not exist"
                        % (missing, name, account_id))
    if err.status >= 500:
        return ApiError("ServerException", "Internal service error", status=500)
    return ApiError("InvalidParameterException", "Invalid parameter at 'imageManifest' failed to satisfy constraint: "
                    "'%s: %s'" % (err.code, err.message))


def _image_size(manifest):
    try:
        parsed = json.loads(manifest)
    except ValueError:
        return len(manifest)
    layers = parsed.get("layers") if isinstance(parsed, dict) else None
    if isinstance(layers, list):
        return sum(layer.get("size", 0) for layer in layers if isinstance(layer, dict))
    return len(manifest)


def _artifact_media_type(manifest):
    try:
        config = json.loads(manifest).get("config") or {}
    except (ValueError, AttributeError):
        return None
    return config.get("mediaType") if isinstance(config, dict) else None


def _describe_id(image_id):
    return ", ".join("%s=%s" % item for item in sorted(image_id.items()))


def _paginate(items, params):
    """Slice a sorted list by maxResults/nextToken; the token is the offset, opaque to clients."""
    max_results = params.get("maxResults") or 100
    if not 1 <= max_results <= 1000:
        raise ApiError("InvalidParameterException", "Invalid parameter at 'maxResults' failed to satisfy constraint: "
                       "'Member must have value between 1 and 1000'")
    token = params.get("nextToken")
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError:
        raise ApiError("InvalidParameterException", "Invalid parameter at 'nextToken': not a token this service "
                       "issued") from None
    end = start + max_results
    next_token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], next_token


def _tag_is_immutable(repository, tag):
    """ECR's rule: the mutability setting, inverted for tags that match an exclusion filter."""
    setting = repository.get("imageTagMutability", "MUTABLE")
    excluded = any(fnmatch.fnmatchcase(tag, f.get("filter", "")) for f in repository.get("exclusionFilters", []))
    if setting == "IMMUTABLE":
        return True
    if setting == "IMMUTABLE_WITH_EXCLUSION":
        return not excluded
    if setting == "MUTABLE_WITH_EXCLUSION":
        return excluded
    return False


class EcrPrivateService(EcrPublicService):
    """Private ECR's operations over the same registry: repositories at ``<repository>`` (no
    alias), tag immutability with exclusion filters, and BatchGetImage."""

    MUTABILITY = ("MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION")

    def _path(self, name):
        return name

    def _check_registry(self, params, alias_allowed):
        super()._check_registry(params, alias_allowed=False)

    def _repository_shape(self, name):
        repository = self.repositories[name]
        shape = {
            "repositoryArn": "arn:aws:ecr:%s:%s:repository/%s" % (self.region, self.account_id, name),
            "registryId": self.account_id,
            "repositoryName": name,
            "repositoryUri": "%s.dkr.ecr.%s.amazonaws.com/%s" % (self.account_id, self.region, name),
            "createdAt": _epoch(repository["createdAt"]),
            "imageTagMutability": repository.get("imageTagMutability", "MUTABLE"),
            "imageScanningConfiguration": {"scanOnPush": False},
            "encryptionConfiguration": {"encryptionType": "AES256"},
        }
        if repository.get("exclusionFilters"):
            shape["imageTagMutabilityExclusionFilters"] = repository["exclusionFilters"]
        return shape

    def _set_mutability(self, name, params):
        setting = params.get("imageTagMutability", "MUTABLE")
        if setting not in self.MUTABILITY:
            raise ApiError("InvalidParameterException", "Invalid parameter at 'imageTagMutability': %s" % setting)
        self.repositories[name]["imageTagMutability"] = setting
        self.repositories[name]["exclusionFilters"] = params.get("imageTagMutabilityExclusionFilters") or []

    def CreateRepository(self, params):
        if (params.get("repositoryName") or "").startswith(self.alias + "/"):
            raise ApiError("InvalidParameterException", "The local endpoint keeps '%s/' for ECR Public" % self.alias)
        self._check_registry(params, alias_allowed=False)
        super().CreateRepository(params)
        with self._lock:
            self._set_mutability(params["repositoryName"], params)
        return {"repository": self._repository_shape(params["repositoryName"])}

    def PutImageTagMutability(self, params):
        name = self._repository(params)
        with self._lock:
            self._set_mutability(name, params)
        shape = self._repository_shape(name)
        result = {key: shape[key] for key in ("registryId", "repositoryName", "imageTagMutability")}
        result["imageTagMutabilityExclusionFilters"] = self.repositories[name]["exclusionFilters"]
        return result

    def PutImage(self, params):
        name = self._repository(params)
        tag = params.get("imageTag")
        if tag and _tag_is_immutable(self.repositories[name], tag):
            current = self.registry.tags(self._path(name)).get(tag)
            digest = sha256_digest((params.get("imageManifest") or "").encode("utf-8"))
            if current and current != digest:
                raise ApiError(
                    "ImageTagAlreadyExistsException",
                    "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the "
                    "tag is immutable." % (tag, name),
                )
        return super().PutImage(params)

    def BatchGetImage(self, params):
        name = self._repository(params)
        path = self._path(name)
        accepted = params.get("acceptedMediaTypes") or list(MANIFEST_TYPES)
        images, failures = [], []
        tags = self.registry.tags(path)
        for image_id in params.get("imageIds", []):
            digest = image_id.get("imageDigest") or tags.get(image_id.get("imageTag"))
            if not digest or (image_id.get("imageTag") and tags.get(image_id["imageTag"]) != digest):
                failures.append({"imageId": image_id, "failureCode": "ImageNotFound",
                                 "failureReason": "Requested image not found"})
                continue
            try:
                manifest, media_type = self.registry.get_manifest(path, digest)
            except RegistryError:
                failures.append({"imageId": image_id, "failureCode": "ImageNotFound",
                                 "failureReason": "Requested image not found"})
                continue
            if media_type not in accepted:
                failures.append({"imageId": image_id, "failureCode": "UnsupportedImageType",
                                 "failureReason": "The image's media type %s is not accepted" % media_type})
                continue
            images.append({"registryId": self.account_id, "repositoryName": name,
                           "imageId": dict(image_id, imageDigest=digest), "imageManifest": manifest.decode("utf-8"),
                           "imageManifestMediaType": media_type})
        return {"images": images, "failures": failures}

    def GetAuthorizationToken(self, params):
        data = super().GetAuthorizationToken(params)["authorizationData"]
        data["proxyEndpoint"] = "https://%s.dkr.ecr.%s.amazonaws.com" % (self.account_id, self.region)
        return {"authorizationData": [data]}
