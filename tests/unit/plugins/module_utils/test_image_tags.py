# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The tag engine against botocore's Stubber, which checks every request against ECR Public's
service model: which calls are made, in which order, with which parameters."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper  # noqa: E402
from ansible_collections.seaport.registry.plugins.module_utils import _image_module  # noqa: E402
from ansible_collections.seaport.registry.plugins.module_utils._image_tags import (  # noqa: E402
    TaggingError,
    ensure_absent,
    ensure_present,
    read_tag_immutability,
)
from ansible_collections.seaport.registry.plugins.module_utils._manifest import (  # noqa: E402
    OCI_INDEX,
    OCI_MANIFEST,
    parse_manifest,
)

ACCOUNT = "123456789012"
REPO = "app"
CONFIG, LAYER = "sha256:" + "c" * 64, "sha256:" + "1" * 64
OLD = "sha256:" + "0" * 64
MANIFEST = parse_manifest(json.dumps(
    {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": CONFIG},
     "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 3, "digest": LAYER}]},
    indent=3))
CHILD = "sha256:" + "a" * 64
INDEX = parse_manifest(json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                   "manifests": [{"mediaType": OCI_MANIFEST, "size": 1, "digest": CHILD}]}))


@pytest.fixture
def stubbed():
    client = boto3.client("ecr-public", region_name="us-east-1", aws_access_key_id="AKIAUNITTEST",
                          aws_secret_access_key="unit", config=Config(retries={"total_max_attempts": 1}))
    retry = dict(_image_module.RETRY)
    retry.update(delay=0.01, max_delay=0.02)  # fast tests
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(**retry)), stubber
        stubber.assert_no_pending_responses()


def images(*details, **params):
    """A DescribeImages expectation: details are (digest, [tags])."""
    expected = dict({"repositoryName": REPO, "maxResults": 1000}, **params)
    response = {"imageDetails": [{"registryId": ACCOUNT, "repositoryName": REPO, "imageDigest": digest,
                                  "imageTags": tags} for digest, tags in details]}
    return response, expected


def expect_describe(stubber, *details, **params):
    response, expected = images(*details, **params)
    stubber.add_response("describe_images", response, expected)


def expect_layers(stubber, missing=()):
    layers = [{"layerDigest": d, "layerAvailability": "AVAILABLE", "layerSize": 1}
              for d in (CONFIG, LAYER) if d not in missing]
    failures = [{"layerDigest": d, "failureCode": "MissingLayerDigest", "failureReason": "x"} for d in missing]
    stubber.add_response("batch_check_layer_availability", {"layers": layers, "failures": failures},
                         {"repositoryName": REPO, "layerDigests": [CONFIG, LAYER]})


def expect_put(stubber, tag, registry_id=None, error=None):
    params = {"repositoryName": REPO, "imageManifest": MANIFEST.text, "imageManifestMediaType": OCI_MANIFEST,
              "imageDigest": MANIFEST.digest, "imageTag": tag}
    if registry_id:
        params["registryId"] = registry_id
    if error:
        stubber.add_client_error("put_image", error, "x", expected_params=params)
        return
    stubber.add_response("put_image", {"image": {"registryId": ACCOUNT, "repositoryName": REPO,
                                                 "imageId": {"imageDigest": MANIFEST.digest, "imageTag": tag},
                                                 "imageManifest": MANIFEST.text,
                                                 "imageManifestMediaType": OCI_MANIFEST}}, params)


def test_new_and_moved_tags_are_put_and_the_rest_left_alone(stubbed):
    client, stubber = stubbed
    # The image is in the repository already: its layers are there, so no layer check is sent.
    expect_describe(stubber, (OLD, ["latest"]), (MANIFEST.digest, ["1.4.2"]))
    expect_put(stubber, "1.4")
    expect_put(stubber, "latest")
    result = ensure_present(client, False, REPO, None, MANIFEST, ["1.4.2", "1.4", "latest"])
    assert result["changed"] is True
    assert [(i["image_tag"], i["previous_digest"], i["changed"]) for i in result["images"]] == [
        ("1.4.2", MANIFEST.digest, False), ("1.4", None, True), ("latest", OLD, True)]
    assert result["image"]["registry_id"] == ACCOUNT
    assert result["image"]["image_id"] == {"image_digest": MANIFEST.digest, "image_tag": "1.4.2"}
    before, after = result["_diff"]
    assert before == [("1.4.2", MANIFEST.digest), ("1.4", None), ("latest", OLD)]
    assert after == [(tag, MANIFEST.digest) for tag in ("1.4.2", "1.4", "latest")]


def test_check_mode_reads_and_predicts_without_writing(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["latest"]))
    expect_layers(stubber)
    result = ensure_present(client, True, REPO, None, MANIFEST, ["latest"])
    assert result["changed"] is True
    assert result["images"][0]["previous_digest"] == OLD


def test_retagging_an_image_the_repository_holds_is_one_read_and_one_put_per_tag(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (MANIFEST.digest, []))
    expect_put(stubber, "prod")
    assert ensure_present(client, False, REPO, None, MANIFEST, ["prod"])["changed"] is True


def test_nothing_to_move_is_one_read(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (MANIFEST.digest, ["a", "b"]))
    assert ensure_present(client, False, REPO, None, MANIFEST, ["a", "b"])["changed"] is False


def test_already_exists_after_a_lost_answer_still_counts_as_the_change(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["latest"]))
    expect_layers(stubber)
    expect_put(stubber, "latest", error="ImageAlreadyExistsException")
    result = ensure_present(client, False, REPO, None, MANIFEST, ["latest"])
    assert result["changed"] is True


def test_throttling_and_server_errors_are_retried(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["latest"]))
    expect_layers(stubber)
    for code in ("ThrottlingException", "ServerException", "LimitExceededException"):
        expect_put(stubber, "latest", error=code)
    expect_put(stubber, "latest")
    assert ensure_present(client, False, REPO, None, MANIFEST, ["latest"])["changed"] is True


@pytest.mark.parametrize("check_mode", [True, False])
def test_missing_layers_fail_before_any_write_with_the_same_message(stubbed, check_mode):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["other"]))
    expect_layers(stubber, missing=[LAYER])
    with pytest.raises(TaggingError) as excinfo:
        ensure_present(client, check_mode, REPO, None, MANIFEST, ["x"])
    assert "lacks 1 blob(s)" in excinfo.value.message
    assert LAYER in excinfo.value.message and CONFIG not in excinfo.value.message
    assert "Push the image's layers" in excinfo.value.message


def test_layers_that_vanish_before_the_put_are_reported_alike(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["other"]))
    expect_layers(stubber)
    expect_put(stubber, "x", error="LayersNotFoundException")
    expect_layers(stubber, missing=[CONFIG])
    with pytest.raises(TaggingError) as excinfo:
        ensure_present(client, False, REPO, None, MANIFEST, ["x"])
    assert "lacks 1 blob(s)" in excinfo.value.message and CONFIG in excinfo.value.message
    assert excinfo.value.exception is not None


@pytest.mark.parametrize("check_mode", [True, False])
def test_index_with_missing_children_fails_without_a_layer_check(stubbed, check_mode):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["x"]))
    with pytest.raises(TaggingError) as excinfo:
        ensure_present(client, check_mode, REPO, None, INDEX, ["x"])
    assert "lacks 1 image manifest(s) that the index references: %s" % CHILD in excinfo.value.message


def test_empty_repository_asks_for_its_registry_id_once(stubbed):
    client, stubber = stubbed
    stubber.add_response("describe_images", {"imageDetails": []}, {"repositoryName": REPO, "maxResults": 1000})
    stubber.add_response("describe_repositories",
                         {"repositories": [{"repositoryArn": "arn", "registryId": ACCOUNT, "repositoryName": REPO,
                                            "repositoryUri": "u"}]},
                         {"repositoryNames": [REPO]})
    expect_layers(stubber)
    result = ensure_present(client, True, REPO, None, MANIFEST, ["x"])
    assert result["image"]["registry_id"] == ACCOUNT


def test_pages_are_followed(stubbed):
    client, stubber = stubbed
    first, params = images((OLD, ["a"]))
    first["nextToken"] = "t1"
    stubber.add_response("describe_images", first, params)
    expect_describe(stubber, (MANIFEST.digest, ["b"]), nextToken="t1")
    result = ensure_present(client, False, REPO, None, MANIFEST, ["b"])
    assert result["changed"] is False


def test_a_registry_alias_goes_to_put_only(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["other"]))
    stubber.add_response("batch_check_layer_availability",
                         {"layers": [{"layerDigest": d, "layerAvailability": "AVAILABLE"} for d in (CONFIG, LAYER)]},
                         {"registryId": "acme", "repositoryName": REPO, "layerDigests": [CONFIG, LAYER]})
    expect_put(stubber, "x", registry_id="acme")
    assert ensure_present(client, False, REPO, "acme", MANIFEST, ["x"])["changed"] is True


def test_an_account_id_goes_to_every_call(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (MANIFEST.digest, ["x"]), registryId=ACCOUNT)
    assert ensure_present(client, False, REPO, ACCOUNT, MANIFEST, ["x"])["changed"] is False


def test_untagged_put_only_when_the_image_is_new(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (MANIFEST.digest, []))
    result = ensure_present(client, False, REPO, None, MANIFEST, [])
    assert result["changed"] is False
    assert result["images"] == []
    assert "image_tag" not in result["image"]["image_id"]


@pytest.mark.parametrize("code, fragment", [
    ("ImageTagAlreadyExistsException", "is immutable there"),
    ("ImageDigestDoesNotMatchException", "changed on its way"),
])
def test_put_refusals_have_clear_messages(stubbed, code, fragment):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["other"]))
    expect_layers(stubber)
    expect_put(stubber, "x", error=code)
    with pytest.raises(TaggingError, match=fragment):
        ensure_present(client, False, REPO, None, MANIFEST, ["x"])


@pytest.mark.parametrize("check_mode", [True, False])
def test_absent_removes_only_existing_tags(stubbed, check_mode):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["rc1", "keep"]))
    if not check_mode:
        stubber.add_response("batch_delete_image", {"imageIds": [{"imageTag": "rc1", "imageDigest": OLD}],
                                                    "failures": []},
                             {"repositoryName": REPO, "imageIds": [{"imageTag": "rc1"}]})
    result = ensure_absent(client, check_mode, REPO, None, None, ["rc1", "rc2"])
    assert result["changed"] is True
    assert [(i["image_tag"], i["previous_digest"], i["image_digest"], i["changed"]) for i in result["images"]] == [
        ("rc1", OLD, None, True), ("rc2", None, None, False)]


def test_absent_with_digest_keeps_tags_pointing_elsewhere(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["latest"]))
    result = ensure_absent(client, False, REPO, None, MANIFEST.digest, ["latest"])
    assert result["changed"] is False
    assert result["images"][0]["image_digest"] == OLD


def test_absent_image_by_digest_takes_its_tags(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["a", "b"]))
    stubber.add_response("batch_delete_image", {"imageIds": [{"imageDigest": OLD}], "failures": []},
                         {"repositoryName": REPO, "imageIds": [{"imageDigest": OLD}]})
    result = ensure_absent(client, False, REPO, None, OLD, [])
    assert result["changed"] is True
    assert [i["image_tag"] for i in result["images"]] == ["a", "b"]
    assert result["_diff"][1] == [("a", None), ("b", None), ("image %s" % OLD, None)]


def test_absent_failure_is_reported(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["a"]))
    stubber.add_response("batch_delete_image", {"failures": [
        {"imageId": {"imageTag": "a"}, "failureCode": "ImageReferencedByManifestList", "failureReason": "in use"}]},
        {"repositoryName": REPO, "imageIds": [{"imageTag": "a"}]})
    with pytest.raises(TaggingError, match="ImageReferencedByManifestList: in use"):
        ensure_absent(client, False, REPO, None, None, ["a"])


@pytest.mark.parametrize("setting, filters, expected", [
    ("MUTABLE", [], {"latest": False, "1.0": False}),
    ("IMMUTABLE", [], {"latest": True, "1.0": True}),
    ("IMMUTABLE_WITH_EXCLUSION", ["latest*", "dev-*"], {"latest": False, "latest-x": False, "dev-1": False, "1.0": True}),
    ("MUTABLE_WITH_EXCLUSION", ["v*"], {"v1": True, "latest": False}),
])
def test_read_tag_immutability(setting, filters, expected):
    client = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="a", aws_secret_access_key="b")
    repository = {"repositoryArn": "arn", "registryId": ACCOUNT, "repositoryName": REPO, "repositoryUri": "u",
                  "imageTagMutability": setting}
    if filters:
        repository["imageTagMutabilityExclusionFilters"] = [{"filterType": "WILDCARD", "filter": f} for f in filters]
    with Stubber(client) as stubber:
        stubber.add_response("describe_repositories", {"repositories": [repository]}, {"repositoryNames": [REPO]})
        wrapped = RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1, delay=0.01))
        is_immutable = read_tag_immutability(wrapped, REPO, None)
    assert {tag: is_immutable(tag) for tag in expected} == expected


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_immutable_existing_tag_fails_before_any_write(stubbed, check_mode):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["1.0"]))
    with pytest.raises(TaggingError, match="Tag '1.0' already exists in repository 'app' and is immutable there"):
        ensure_present(client, check_mode, REPO, None, MANIFEST, ["new", "1.0"],
                       immutability=lambda *args: (lambda tag: tag == "1.0"))


def test_immutability_is_not_read_when_only_new_tags_move(stubbed):
    client, stubber = stubbed
    expect_describe(stubber, (OLD, ["1.0"]))
    expect_layers(stubber)
    expect_put(stubber, "2.0")

    def never(*args):
        raise AssertionError("read the mutability although no existing tag moves")

    assert ensure_present(client, False, REPO, None, MANIFEST, ["2.0"], immutability=never)["changed"] is True
