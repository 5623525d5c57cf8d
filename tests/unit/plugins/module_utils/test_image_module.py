# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

botocore = pytest.importorskip("botocore")
from botocore.exceptions import ClientError  # noqa: E402

from ansible_collections.seaport.registry.plugins.module_utils import _image_module  # noqa: E402


class FakeModule:
    def __init__(self, region):
        self.params = {"region": region}
        self.calls = []

    def client(self, service, retry_decorator=None, **extra):
        self.calls.append((service, extra))
        return object()


@pytest.mark.parametrize("service, region, extra", [
    ("ecr-public", None, {"region": "us-east-1"}),
    ("ecr-public", "us-west-2", {"region": "us-west-2"}),
    ("ecr", None, {}),  # the profile's or environment's region, resolved by amazon.aws
    ("ecr", "eu-west-1", {"region": "eu-west-1"}),
])
def test_connect_region(service, region, extra):
    module = FakeModule(region)
    _image_module.connect(module, service)
    assert module.calls == [(service, extra)]


@pytest.mark.parametrize("service", ["ecr-public", "ecr"])
def test_missing_repository_names_the_right_cli(service):
    exc = ClientError({"Error": {"Code": "RepositoryNotFoundException", "Message": "x"}}, "PutImage")
    message = _image_module.describe_aws_error(exc, service, "app", None)
    assert "aws %s create-repository --repository-name app" % service in message
    assert "your account's registry" in message
