# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper  # noqa: E402
from ansible_collections.seaport.registry.plugins.module_utils._image_tags import list_images  # noqa: E402

A, B, C = ("sha256:" + ch * 64 for ch in "abc")
WHEN = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.timezone.utc)


def detail(digest, tags, minutes):
    image = {"registryId": "123456789012", "repositoryName": "app", "imageDigest": digest,
             "imagePushedAt": WHEN + datetime.timedelta(minutes=minutes), "imageSizeInBytes": 10,
             "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"}
    if tags:
        image["imageTags"] = tags
    return image


@pytest.fixture
def client():
    raw = boto3.client("ecr-public", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(raw) as stubber:
        stubber.add_response("describe_images", {"imageDetails": [detail(B, ["latest", "1.1"], 5)],
                                                 "nextToken": "n"},
                             {"repositoryName": "app", "maxResults": 1000})
        stubber.add_response("describe_images", {"imageDetails": [detail(A, ["1.0"], 1), detail(C, [], 9)]},
                             {"repositoryName": "app", "maxResults": 1000, "nextToken": "n"})
        yield RetryingBotoClientWrapper(raw, AWSRetry.jittered_backoff(retries=1, delay=0.01))
        stubber.assert_no_pending_responses()


def test_all_pages_sorted_by_push_time_in_snake_case(client):
    images, tags = list_images(client, "app", None)
    assert [i["image_digest"] for i in images] == [A, B, C]
    assert images[1]["image_tags"] == ["1.1", "latest"]
    assert images[1]["image_pushed_at"] == "2026-11-23T12:05:00+00:00"
    assert images[2]["image_tags"] == []
    assert tags == {"1.0": A, "1.1": B, "latest": B}


def test_filter_by_tags_keeps_only_those_tags(client):
    images, tags = list_images(client, "app", None, tags=["latest", "missing"])
    assert [i["image_digest"] for i in images] == [B]
    assert tags == {"latest": B}


def test_filter_by_digests(client):
    images, tags = list_images(client, "app", None, digests=[A, C])
    assert [i["image_digest"] for i in images] == [A, C]
    assert tags == {"1.0": A}
