# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The module end to end in-process: arguments, input errors (with no AWS call at all), the
manifest file read as exact bytes, the region default, and the diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.stub import Stubber  # noqa: E402

from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule  # noqa: E402
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper  # noqa: E402
from ansible_collections.seaport.registry.plugins.modules import ecr_public_image  # noqa: E402

MANIFEST = '{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.index.v1+json",\n   "manifests": []\n}'
DIGEST = "sha256:1d0b8e6a0f7b0fe8e2aa7f3b47ad8e6f2ac5a8b4cbd3d8e8e0d5d0fe3ed2d0a0"


def run(args, capsys, client=None, calls=None):
    """Run the module; return its JSON result. Records client() calls in ``calls``."""

    def fake_client(module, service, **kwargs):
        if calls is not None:
            calls.append((service, kwargs.get("region")))
        if client is None:
            raise AssertionError("the module asked for an AWS client on bad input")
        return RetryingBotoClientWrapper(client, kwargs["retry_decorator"])

    base = {"access_key": "AKIAUNITTEST", "secret_key": "unit"}
    with patch_module_args(dict(base, **args)):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(AnsibleAWSModule, "client", fake_client)
            with pytest.raises(SystemExit):
                ecr_public_image.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"image_manifest": {"schemaVersion": 2}, "image_tag": "x"}, "its exact bytes, and so its digest, are already lost"),
        ({"image_manifest": MANIFEST, "image_tag": "x", "image_tags": ["y"]}, "mutually exclusive"),
        ({"image_tag": "x"}, "state=present needs the manifest"),
        ({"image_manifest": MANIFEST, "image_tag": "x y"}, "Invalid image tag"),
        ({"image_manifest": MANIFEST, "image_tag": "x", "image_digest": "sha256:" + "0" * 64}, "not image_digest"),
        ({"image_manifest_path": "/nonexistent/manifest.json", "image_tag": "x"}, "Cannot read image_manifest_path"),
        ({"state": "absent"}, "state=absent needs the tags to remove"),
    ],
)
def test_bad_input_fails_before_any_aws_call(capsys, args, fragment):
    calls = []
    result = run(dict({"repository_name": "app"}, **args), capsys, calls=calls)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert calls == []


def _stubbed_client():
    client = boto3.client("ecr-public", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    stubber = Stubber(client)
    stubber.add_response("describe_images", {"imageDetails": [
        {"registryId": "123456789012", "repositoryName": "app", "imageDigest": "sha256:" + "0" * 64,
         "imageTags": ["latest"]}]}, {"repositoryName": "app", "maxResults": 1000})
    stubber.activate()
    return client, stubber


def test_manifest_file_is_read_as_exact_bytes_and_diff_is_returned(capsys, tmp_path):
    path = tmp_path / "manifest.json"
    path.write_bytes(MANIFEST.encode() + b"\n")  # the trailing newline is part of the bytes
    client, stubber = _stubbed_client()
    calls = []
    result = run({"repository_name": "app", "image_manifest_path": str(path), "image_tag": "latest",
                  "_ansible_check_mode": True, "_ansible_diff": True}, capsys, client=client, calls=calls)
    assert result.get("failed") is None, result.get("msg")
    stubber.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["image"]["image_manifest"] == MANIFEST + "\n"
    assert result["digest"] == "sha256:" + hashlib.sha256(MANIFEST.encode() + b"\n").hexdigest()
    assert result["diff"]["before"] == "latest: sha256:%s\n" % ("0" * 64)
    assert result["diff"]["after"] == "latest: %s\n" % result["digest"]
    assert "ECR Public" in result["diff"]["before_header"] and "app" in result["diff"]["before_header"]
    assert calls == [("ecr-public", "us-east-1")]
