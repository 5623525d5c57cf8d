"""Contract tests: the local endpoint, driven through a real boto3 ``ecr-public`` client.

Every error is checked against botocore's service model: the exception must be one the
operation declares, raised as botocore's modeled class.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from localecr import LocalEcrPublic, images
from localecr.registry import sha256_digest

REPO = "contract"


@pytest.fixture(scope="module")
def ecr():
    with LocalEcrPublic() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def client(ecr):
    client = boto3.client("ecr-public", config=Config(retries={"mode": "standard", "max_attempts": 4}),
                          **ecr.client_kwargs)
    client.create_repository(repositoryName=REPO)
    return client


def raises_modeled(client, operation, code, **params):
    """Call an operation; assert it raises ``code``, declared for it in botocore's model."""
    op_model = client.meta.service_model.operation_model(operation)
    assert code in [shape.name for shape in op_model.error_shapes], "%s does not model %s" % (operation, code)
    method = getattr(client, botocore.xform_name(operation))
    with pytest.raises(getattr(client.exceptions, code)) as excinfo:
        method(**params)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert excinfo.value.response["Error"]["Message"]
    return excinfo.value


def push(ecr, repo=REPO, **kwargs):
    return images.build_and_push(ecr.registry, "%s/%s" % (ecr.service.alias, repo), **kwargs)


def tags_of(client, repo=REPO):
    pages = client.get_paginator("describe_image_tags").paginate(repositoryName=repo)
    return {t["imageTag"]: t["imageDetail"]["imageDigest"] for page in pages for t in page["imageTagDetails"]}


# --- repositories ------------------------------------------------------------------------

def test_repository_lifecycle(client, ecr):
    created = client.create_repository(repositoryName="team/life-cycle")["repository"]
    assert created["repositoryName"] == "team/life-cycle"
    assert created["registryId"] == ecr.service.account_id
    assert created["repositoryUri"] == "public.ecr.aws/seaport-test/team/life-cycle"
    raises_modeled(client, "CreateRepository", "RepositoryAlreadyExistsException", repositoryName="team/life-cycle")
    described = client.describe_repositories(repositoryNames=["team/life-cycle"])["repositories"]
    assert [r["repositoryArn"] for r in described] == [created["repositoryArn"]]
    push(ecr, repo="team/life-cycle", push_manifest=True, tag="x")
    raises_modeled(client, "DeleteRepository", "RepositoryNotEmptyException", repositoryName="team/life-cycle")
    client.delete_repository(repositoryName="team/life-cycle", force=True)
    raises_modeled(client, "DescribeRepositories", "RepositoryNotFoundException", repositoryNames=["team/life-cycle"])


def test_invalid_repository_name(client):
    raises_modeled(client, "CreateRepository", "InvalidParameterException", repositoryName="Bad_Name")


def test_describe_repositories_paginates(client):
    for number in range(3):
        client.create_repository(repositoryName="page-%d" % number)
    pages = list(client.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}))
    names = [r["repositoryName"] for page in pages for r in page["repositories"]]
    assert len(pages) >= 2
    assert {"page-0", "page-1", "page-2", REPO} <= set(names)
    assert len(names) == len(set(names))


# --- PutImage ----------------------------------------------------------------------------

def test_put_returns_exact_bytes_and_digest(client, ecr):
    image = push(ecr, seed="put")
    out = client.put_image(repositoryName=REPO, imageManifest=image["manifest"], imageTag="put-1")["image"]
    assert out == {
        "registryId": ecr.service.account_id,
        "repositoryName": REPO,
        "imageId": {"imageDigest": image["digest"], "imageTag": "put-1"},
        "imageManifest": image["manifest"],
        "imageManifestMediaType": image["media_type"],
    }
    assert image["digest"] == sha256_digest(image["manifest"].encode())
    # Pullable from the registry, byte for byte, the way public.ecr.aws/<alias>/<repo> is.
    body, media_type = ecr.registry.get_manifest("seaport-test/%s" % REPO, "put-1")
    assert body == image["manifest"].encode()
    assert media_type == image["media_type"]


@pytest.mark.skipif(not shutil.which("skopeo"), reason="skopeo is installed by tools/bootstrap")
def test_pullable_with_skopeo(client, ecr):
    image = push(ecr, seed="skopeo", fmt="docker")
    client.put_image(repositoryName=REPO, imageManifest=image["manifest"], imageTag="skopeo")
    raw = subprocess.run(
        ["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://%s/seaport-test/%s:skopeo"
         % (ecr.registry.address, REPO)],
        check=True, capture_output=True, timeout=60,
    ).stdout
    assert sha256_digest(raw) == image["digest"]


def test_reput_same_tag_is_image_already_exists(client, ecr):
    image = push(ecr, seed="reput")
    client.put_image(repositoryName=REPO, imageManifest=image["manifest"], imageTag="reput")
    err = raises_modeled(client, "PutImage", "ImageAlreadyExistsException", repositoryName=REPO,
                         imageManifest=image["manifest"], imageTag="reput")
    assert image["digest"] in str(err)
    # Untagged re-put of an existing image: also already exists.
    raises_modeled(client, "PutImage", "ImageAlreadyExistsException", repositoryName=REPO,
                   imageManifest=image["manifest"])


def test_tag_moves_between_digests(client, ecr):
    first, second = push(ecr, seed="move-a"), push(ecr, seed="move-b")
    client.put_image(repositoryName=REPO, imageManifest=first["manifest"], imageTag="moving")
    assert tags_of(client)["moving"] == first["digest"]
    client.put_image(repositoryName=REPO, imageManifest=second["manifest"], imageTag="moving")
    assert tags_of(client)["moving"] == second["digest"]
    # The old image stays, untagged, as in ECR.
    details = client.describe_images(repositoryName=REPO, imageIds=[{"imageDigest": first["digest"]}])
    assert "imageTags" not in details["imageDetails"][0]


def test_digest_mismatch(client, ecr):
    image = push(ecr, seed="mismatch")
    reserialized = json.dumps(json.loads(image["manifest"]))  # the classic trap: same JSON, new bytes
    raises_modeled(client, "PutImage", "ImageDigestDoesNotMatchException", repositoryName=REPO,
                   imageManifest=reserialized, imageDigest=image["digest"], imageTag="mismatch")
    assert "mismatch" not in tags_of(client)


def test_put_with_correct_digest_and_registry_alias(client, ecr):
    image = push(ecr, seed="alias")
    out = client.put_image(registryId="seaport-test", repositoryName=REPO, imageManifest=image["manifest"],
                           imageDigest=image["digest"], imageTag="alias")["image"]
    assert out["imageId"]["imageDigest"] == image["digest"]
    raises_modeled(client, "PutImage", "RegistryNotFoundException", registryId="999999999999",
                   repositoryName=REPO, imageManifest=image["manifest"], imageTag="alias")


def test_missing_layers(client, ecr):
    image = push(ecr, seed="no-layers", push_blobs=False)
    err = raises_modeled(client, "PutImage", "LayersNotFoundException", repositoryName=REPO,
                         imageManifest=image["manifest"], imageTag="no-layers")
    assert any(digest in str(err) for digest in image["blobs"])


def test_index_with_missing_child(client, ecr):
    index = push(ecr, seed="index", platforms=["linux/amd64", "linux/arm64"], push_children=False)
    raises_modeled(client, "PutImage", "ReferencedImagesNotFoundException", repositoryName=REPO,
                   imageManifest=index["manifest"], imageTag="index")


@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_index_with_children_present(client, ecr, fmt):
    index = push(ecr, seed="index-ok-" + fmt, fmt=fmt, platforms=["linux/amd64", "linux/arm64"])
    out = client.put_image(repositoryName=REPO, imageManifest=index["manifest"], imageTag="index-" + fmt)["image"]
    assert out["imageManifestMediaType"] == index["media_type"]
    assert out["imageId"]["imageDigest"] == index["digest"]


@pytest.mark.parametrize(
    "manifest, media_type, fragment",
    [
        ("{not json", None, "JSON"),
        ("[1, 2]", None, "JSON"),
        ('{"schemaVersion": 2, "layers": []}', None, "media type"),
        ('{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}',
         "application/vnd.docker.distribution.manifest.v2+json", "does not match"),
        ("{" + " " * (4 * 1024 * 1024) + "}", "application/vnd.oci.image.manifest.v1+json", "4194304"),
    ],
    ids=["invalid-json", "not-an-object", "no-media-type", "media-type-disagrees", "over-4-MiB"],
)
def test_invalid_parameters(client, manifest, media_type, fragment):
    params = {"repositoryName": REPO, "imageManifest": manifest, "imageTag": "invalid"}
    if media_type:
        params["imageManifestMediaType"] = media_type
    err = raises_modeled(client, "PutImage", "InvalidParameterException", **params)
    assert fragment in str(err)


def test_manifest_without_media_type_needs_the_parameter(client, ecr):
    image = push(ecr, seed="no-media-type", omit_media_type=True)
    raises_modeled(client, "PutImage", "InvalidParameterException", repositoryName=REPO,
                   imageManifest=image["manifest"], imageTag="nomt")
    out = client.put_image(repositoryName=REPO, imageManifest=image["manifest"], imageTag="nomt",
                           imageManifestMediaType=image["media_type"])["image"]
    assert out["imageManifestMediaType"] == image["media_type"]


def test_unknown_repository(client, ecr):
    image = push(ecr, seed="unknown")
    raises_modeled(client, "PutImage", "RepositoryNotFoundException", repositoryName="does-not-exist",
                   imageManifest=image["manifest"], imageTag="x")
    raises_modeled(client, "DescribeImageTags", "RepositoryNotFoundException", repositoryName="does-not-exist")


# --- reads -------------------------------------------------------------------------------

def test_describe_images_by_id_and_not_found(client, ecr):
    image = push(ecr, seed="describe")
    client.put_image(repositoryName=REPO, imageManifest=image["manifest"], imageTag="describe")
    detail = client.describe_images(repositoryName=REPO, imageIds=[{"imageTag": "describe"}])["imageDetails"][0]
    assert detail["imageDigest"] == image["digest"]
    assert detail["imageTags"] == ["describe"]
    assert detail["imageManifestMediaType"] == image["media_type"]
    assert detail["imageSizeInBytes"] > 0
    raises_modeled(client, "DescribeImages", "ImageNotFoundException", repositoryName=REPO,
                   imageIds=[{"imageTag": "describe"}, {"imageTag": "no-such-tag"}])
    raises_modeled(client, "DescribeImages", "InvalidParameterException", registryId="seaport-test",
                   repositoryName=REPO)


def test_describe_image_tags_and_images_paginate(client, ecr):
    client.create_repository(repositoryName="paged")
    for number in range(5):
        image = push(ecr, repo="paged", seed="paged-%d" % number)
        client.put_image(repositoryName="paged", imageManifest=image["manifest"], imageTag="t%d" % number)
    pages = list(client.get_paginator("describe_image_tags").paginate(repositoryName="paged",
                                                                      PaginationConfig={"PageSize": 2}))
    assert [len(page["imageTagDetails"]) for page in pages] == [2, 2, 1]
    assert "nextToken" in pages[0] and "nextToken" not in pages[-1]
    assert sorted(t["imageTag"] for p in pages for t in p["imageTagDetails"]) == ["t%d" % n for n in range(5)]
    image_pages = list(client.get_paginator("describe_images").paginate(repositoryName="paged",
                                                                        PaginationConfig={"PageSize": 3}))
    assert [len(page["imageDetails"]) for page in image_pages] == [3, 2]


# --- deletes -----------------------------------------------------------------------------

def test_batch_delete_by_tag_and_digest(client, ecr):
    client.create_repository(repositoryName="deletes")
    keep, drop = push(ecr, repo="deletes", seed="keep"), push(ecr, repo="deletes", seed="drop")
    for tag in ("a", "b"):
        client.put_image(repositoryName="deletes", imageManifest=keep["manifest"], imageTag=tag)
    client.put_image(repositoryName="deletes", imageManifest=drop["manifest"], imageTag="c")
    out = client.batch_delete_image(
        repositoryName="deletes",
        imageIds=[{"imageTag": "a"}, {"imageTag": "missing"}, {"imageDigest": "sha256:bad"},
                  {"imageDigest": drop["digest"]}],
    )
    assert {"imageTag": "a", "imageDigest": keep["digest"]} in out["imageIds"]
    assert {"imageDigest": drop["digest"]} in out["imageIds"]
    assert sorted(f["failureCode"] for f in out["failures"]) == ["ImageNotFound", "InvalidImageDigest"]
    assert tags_of(client, "deletes") == {"b": keep["digest"]}
    # Removing the last tag removes the image.
    client.batch_delete_image(repositoryName="deletes", imageIds=[{"imageTag": "b"}])
    assert client.describe_images(repositoryName="deletes")["imageDetails"] == []


# --- layers ------------------------------------------------------------------------------

def test_batch_check_layer_availability(client, ecr):
    present, absent = push(ecr, seed="layers-in"), push(ecr, seed="layers-out", push_blobs=False)
    out = client.batch_check_layer_availability(repositoryName=REPO,
                                                layerDigests=present["blobs"] + absent["blobs"] + ["nope"])
    assert sorted(layer["layerDigest"] for layer in out["layers"]) == present["blobs"]
    assert all(layer["layerAvailability"] == "AVAILABLE" for layer in out["layers"])
    codes = {f["layerDigest"]: f["failureCode"] for f in out["failures"]}
    assert codes == dict({d: "MissingLayerDigest" for d in absent["blobs"]}, nope="InvalidLayerDigest")


def test_layer_upload_then_put(client, ecr):
    image = push(ecr, seed="upload", push_blobs=False)
    manifest_blobs = images.build_image(seed="upload")[1]
    for digest, data in manifest_blobs.items():
        upload = client.initiate_layer_upload(repositoryName=REPO)
        half = len(data) // 2
        for first, part in ((0, data[:half]), (half, data[half:])):
            out = client.upload_layer_part(repositoryName=REPO, uploadId=upload["uploadId"], partFirstByte=first,
                                           partLastByte=first + len(part) - 1, layerPartBlob=part)
            assert out["lastByteReceived"] == first + len(part) - 1
        done = client.complete_layer_upload(repositoryName=REPO, uploadId=upload["uploadId"], layerDigests=[digest])
        assert done["layerDigest"] == digest
    out = client.put_image(repositoryName=REPO, imageManifest=image["manifest"], imageTag="uploaded")
    assert out["image"]["imageId"]["imageDigest"] == image["digest"]
    again = client.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    data = next(iter(manifest_blobs.values()))
    client.upload_layer_part(repositoryName=REPO, uploadId=again, partFirstByte=0, partLastByte=len(data) - 1,
                             layerPartBlob=data)
    raises_modeled(client, "CompleteLayerUpload", "LayerAlreadyExistsException", repositoryName=REPO,
                   uploadId=again, layerDigests=[sha256_digest(data)])
    raises_modeled(client, "UploadLayerPart", "UploadNotFoundException", repositoryName=REPO, uploadId="nope",
                   partFirstByte=0, partLastByte=0, layerPartBlob=b"x")


def test_layer_upload_errors(client):
    upload = client.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    raises_modeled(client, "CompleteLayerUpload", "EmptyUploadException", repositoryName=REPO, uploadId=upload,
                   layerDigests=["sha256:" + "0" * 64])
    raises_modeled(client, "UploadLayerPart", "InvalidLayerPartException", repositoryName=REPO, uploadId=upload,
                   partFirstByte=5, partLastByte=5, layerPartBlob=b"x")
    client.upload_layer_part(repositoryName=REPO, uploadId=upload, partFirstByte=0, partLastByte=2,
                             layerPartBlob=b"abc")
    raises_modeled(client, "CompleteLayerUpload", "InvalidLayerException", repositoryName=REPO, uploadId=upload,
                   layerDigests=["sha256:" + "0" * 64])


# --- auth, signing, errors -----------------------------------------------------------------

def test_authorization_token(client):
    data = client.get_authorization_token()["authorizationData"]
    user, _sep, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS" and password
    assert data["expiresAt"].timestamp() > time.time()


@pytest.mark.parametrize(
    "override, code",
    [
        ({"aws_secret_access_key": "wrong"}, "InvalidSignatureException"),
        ({"aws_access_key_id": "AKIAUNKNOWN000000000"}, "UnrecognizedClientException"),
        ({"region_name": "eu-west-1"}, "InvalidSignatureException"),
    ],
)
def test_requests_are_sigv4_verified(ecr, override, code):
    client = boto3.client("ecr-public", **dict(ecr.client_kwargs, **override))
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        client.describe_repositories()
    assert excinfo.value.response["Error"]["Code"] == code


def test_request_log_is_json_lines(ecr, client):
    client.describe_image_tags(repositoryName=REPO)
    with open(ecr.log_path, encoding="utf-8") as handle:
        entries = [json.loads(line) for line in handle]
    assert entries[-1]["operation"] == "DescribeImageTags"
    assert entries[-1]["write"] is False
    assert entries[-1]["params"] == {"repositoryName": REPO}
    assert any(entry["operation"] == "PutImage" and entry["write"] for entry in entries)


# --- faults ------------------------------------------------------------------------------

def test_fault_injection_is_deterministic():
    def run():
        with LocalEcrPublic(faults={"throttle_rate": 0.5, "seed": 3}) as endpoint:
            client = boto3.client("ecr-public", config=Config(retries={"mode": "standard", "max_attempts": 10}),
                                  **endpoint.client_kwargs)
            client.describe_repositories()
            client.describe_repositories()
            return [entry.get("fault") for entry in endpoint.requests()]
    first = run()
    assert first == run()
    assert "throttle" in first


def test_throttling_then_success(ecr, client):
    ecr.set_faults(throttle_first=2)
    try:
        out = client.describe_repositories()
    finally:
        ecr.set_faults()
    assert out["ResponseMetadata"]["RetryAttempts"] == 2
    assert [e.get("fault") for e in ecr.requests()[-3:]] == ["throttle", "throttle", None]


def test_server_error_burst_and_drop(ecr, client):
    ecr.set_faults(server_error_rate=1.0, server_error_burst=2, operations=["DescribeRepositories"])
    try:
        with pytest.raises(client.exceptions.ServerException):
            boto3.client("ecr-public", config=Config(retries={"total_max_attempts": 1}),
                         **ecr.client_kwargs).describe_repositories()
    finally:
        ecr.set_faults()
    image = push(ecr, seed="dropped")
    ecr.set_faults(drop_rate=1.0, drop_after=True, operations=["PutImage"])
    try:
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            boto3.client("ecr-public", config=Config(retries={"total_max_attempts": 1}),
                         **ecr.client_kwargs).put_image(repositoryName=REPO, imageManifest=image["manifest"],
                                                        imageTag="dropped")
    finally:
        ecr.set_faults()
    # The write was applied although its answer was lost.
    assert tags_of(client)["dropped"] == image["digest"]
    assert ecr.requests()[-2]["outcome"] == "applied, answer dropped"
