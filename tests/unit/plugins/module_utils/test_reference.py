# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.seaport.registry.plugins.module_utils._reference import ImageReference, InvalidReference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "text, registry, repository, tag, digest, canonical",
    [
        ("alpine", "docker.io", "library/alpine", "latest", None, "docker.io/library/alpine:latest"),
        ("alpine:3.20", "docker.io", "library/alpine", "3.20", None, "docker.io/library/alpine:3.20"),
        ("bitnami/redis", "docker.io", "bitnami/redis", "latest", None, "docker.io/bitnami/redis:latest"),
        ("docker.io/alpine", "docker.io", "library/alpine", "latest", None, "docker.io/library/alpine:latest"),
        ("index.docker.io/library/alpine:3", "docker.io", "library/alpine", "3", None,
         "docker.io/library/alpine:3"),
        ("public.ecr.aws/acme/app:1.4.2", "public.ecr.aws", "acme/app", "1.4.2", None,
         "public.ecr.aws/acme/app:1.4.2"),
        ("localhost/app", "localhost", "app", "latest", None, "localhost/app:latest"),
        ("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", None, "localhost:5000/team/app:v1"),
        ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000", "a/b/c", "latest", None, "127.0.0.1:5000/a/b/c:latest"),
        ("ghcr.io/o/app@" + DIGEST, "ghcr.io", "o/app", None, DIGEST, "ghcr.io/o/app@" + DIGEST),
        ("ghcr.io/o/app:v1@" + DIGEST, "ghcr.io", "o/app", "v1", DIGEST, "ghcr.io/o/app:v1@" + DIGEST),
        ("Registry/app", "Registry", "app", "latest", None, "Registry/app:latest"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
         "app", "1", None, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1"),
        ("a__b/c-d.e_f", "docker.io", "a__b/c-d.e_f", "latest", None, "docker.io/a__b/c-d.e_f:latest"),
    ],
)
def test_parse(text, registry, repository, tag, digest, canonical):
    ref = ImageReference.parse(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert str(ref) == canonical
    assert ImageReference.parse(canonical) == ref


def test_hosts_and_references():
    assert ImageReference.parse("alpine").api_host == "registry-1.docker.io"
    assert ImageReference.parse("public.ecr.aws/a/b").is_ecr_public
    ref = ImageReference.parse("123456789012.dkr.ecr.us-west-2.amazonaws.com/app@" + DIGEST)
    assert ref.private_ecr == ("123456789012", "us-west-2")
    assert ref.reference == DIGEST
    assert ImageReference.parse("public.ecr.aws/a/b:t").private_ecr is None
    assert str(ImageReference.parse("a/b:t").with_digest(DIGEST)) == "docker.io/a/b:t@" + DIGEST


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        (None, "empty"),
        ("app:bad tag", "white space"),
        (" app", "white space"),
        ("app@sha256:abc", "digest must be sha256"),
        ("app@md5:" + "a" * 32, "digest must be sha256"),
        ("app:-bad", "tag"),
        ("app:" + "a" * 129, "tag"),
        ("App", "lowercase path components"),
        ("host:5000/App/x", "lowercase path components"),
        ("host:5000/", "lowercase path components"),
        ("a//b", "lowercase path components"),
        ("bad_host!:5000/x", "not a valid registry"),
        ("h.io/" + "a" * 260, "longer than 255"),
    ],
)
def test_invalid(text, fragment):
    with pytest.raises(InvalidReference) as excinfo:
        ImageReference.parse(text)
    assert fragment in str(excinfo.value)
    assert "Expected [registry[:port]/]repository" in str(excinfo.value)
