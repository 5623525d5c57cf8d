"""Contract tests for private ECR's protocol on the local endpoint, through a real boto3 ``ecr``
client: tag immutability (with exclusion filters), BatchGetImage, and the shared PutImage rules."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localecr import LocalEcrPublic, images
from localecr.test_contract import raises_modeled


@pytest.fixture(scope="module")
def ecr():
    with LocalEcrPublic() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def client(ecr):
    return boto3.client("ecr", **ecr.client_kwargs)


def push(ecr, repo, **kwargs):
    return images.build_and_push(ecr.registry, repo, **kwargs)


def test_repository_shape_and_mutability(client, ecr):
    repo = client.create_repository(repositoryName="team/private", imageTagMutability="IMMUTABLE")["repository"]
    assert repo["repositoryUri"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/private"
    assert repo["repositoryArn"] == "arn:aws:ecr:us-east-1:123456789012:repository/team/private"
    assert repo["imageTagMutability"] == "IMMUTABLE"
    described = client.describe_repositories(repositoryNames=["team/private"])["repositories"][0]
    assert described["imageTagMutability"] == "IMMUTABLE"
    raises_modeled(client, "CreateRepository", "RepositoryAlreadyExistsException", repositoryName="team/private")
    # The ECR Public side does not see private repositories.
    public = boto3.client("ecr-public", **ecr.client_kwargs)
    raises_modeled(public, "DescribeRepositories", "RepositoryNotFoundException", repositoryNames=["team/private"])


def test_immutable_tags_cannot_move(client, ecr):
    client.create_repository(repositoryName="immutable", imageTagMutability="IMMUTABLE")
    first, second = push(ecr, "immutable", seed="imm-1"), push(ecr, "immutable", seed="imm-2")
    client.put_image(repositoryName="immutable", imageManifest=first["manifest"], imageTag="1.0")
    err = raises_modeled(client, "PutImage", "ImageTagAlreadyExistsException", repositoryName="immutable",
                         imageManifest=second["manifest"], imageTag="1.0")
    assert "immutable" in str(err)
    raises_modeled(client, "PutImage", "ImageAlreadyExistsException", repositoryName="immutable",
                   imageManifest=first["manifest"], imageTag="1.0")
    client.put_image(repositoryName="immutable", imageManifest=second["manifest"], imageTag="2.0")
    client.put_image_tag_mutability(repositoryName="immutable", imageTagMutability="MUTABLE")
    client.put_image(repositoryName="immutable", imageManifest=second["manifest"], imageTag="1.0")


def test_exclusion_filters(client, ecr):
    client.create_repository(repositoryName="excluded", imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
                             imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest*"}])
    first, second = push(ecr, "excluded", seed="ex-1"), push(ecr, "excluded", seed="ex-2")
    for tag in ("latest", "1.0"):
        client.put_image(repositoryName="excluded", imageManifest=first["manifest"], imageTag=tag)
    client.put_image(repositoryName="excluded", imageManifest=second["manifest"], imageTag="latest")
    raises_modeled(client, "PutImage", "ImageTagAlreadyExistsException", repositoryName="excluded",
                   imageManifest=second["manifest"], imageTag="1.0")


def test_batch_get_image_returns_exact_bytes(client, ecr):
    client.create_repository(repositoryName="getter")
    image = push(ecr, "getter", seed="get", fmt="docker")
    client.put_image(repositoryName="getter", imageManifest=image["manifest"], imageTag="v1")
    out = client.batch_get_image(repositoryName="getter", imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}])
    assert out["images"][0]["imageManifest"] == image["manifest"]
    assert out["images"][0]["imageId"] == {"imageTag": "v1", "imageDigest": image["digest"]}
    assert out["images"][0]["imageManifestMediaType"] == image["media_type"]
    assert [f["failureCode"] for f in out["failures"]] == ["ImageNotFound"]
    narrow = client.batch_get_image(repositoryName="getter", imageIds=[{"imageTag": "v1"}],
                                    acceptedMediaTypes=["application/vnd.oci.image.manifest.v1+json"])
    assert narrow["images"] == [] and narrow["failures"][0]["failureCode"] == "UnsupportedImageType"


def test_shared_put_rules_and_registry_id(client, ecr):
    client.create_repository(repositoryName="rules")
    image = push(ecr, "rules", seed="rules", push_blobs=False)
    raises_modeled(client, "PutImage", "LayersNotFoundException", repositoryName="rules",
                   imageManifest=image["manifest"], imageTag="x")
    raises_modeled(client, "PutImage", "ImageDigestDoesNotMatchException", repositoryName="rules",
                   imageManifest=image["manifest"], imageDigest="sha256:" + "0" * 64, imageTag="x")
    raises_modeled(client, "PutImage", "InvalidParameterException", registryId="seaport-test",
                   repositoryName="rules", imageManifest=image["manifest"], imageTag="x")


def test_authorization_token_has_proxy_endpoint(client):
    data = client.get_authorization_token()["authorizationData"][0]
    assert base64.b64decode(data["authorizationToken"]).decode().startswith("AWS:")
    assert data["proxyEndpoint"] == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_signing_name_is_checked(ecr):
    """An ecr-public signature sent to the ecr protocol is refused."""
    request = AWSRequest(method="POST", url=ecr.endpoint_url + "/", data=b"{}",
                         headers={"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories",
                                  "Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(ecr.info["access_key"], ecr.info["secret_key"]), "ecr-public", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(request.url, data=b"{}", headers=dict(request.headers.items()), method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(prepared)
    assert b"InvalidSignatureException" in excinfo.value.read()
