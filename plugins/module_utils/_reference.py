# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This is a private module: its API may change at any time, also in a patch release.

"""Image references (``[registry[:port]/]repository[:tag][@sha256:...]``), resolved the way
docker and crane resolve them: Docker Hub by default, ``library/`` for official images."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
ECR_PUBLIC = "public.ecr.aws"
PRIVATE_ECR = re.compile(r"^(?P<account>[0-9]{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH = re.compile(r"^%s(?:/%s)*$" % (_COMPONENT, _COMPONENT))
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_DOMAIN = re.compile(r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                     r"(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$")


class InvalidReference(ValueError):
    """A reference that cannot be parsed; the message says why and shows the expected form."""


def _fail(reference, why):
    raise InvalidReference(
        "Invalid image reference %r: %s. Expected [registry[:port]/]repository[:tag][@sha256:<64 hex>], "
        "for example public.ecr.aws/acme/app:1.4.2." % (reference, why)
    )


class ImageReference:
    """A parsed reference: registry (as written, Docker Hub normalized), repository, tag, digest."""

    def __init__(self, registry, repository, tag=None, digest=None):
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest

    @classmethod
    def parse(cls, reference):
        if not isinstance(reference, str) or not reference:
            _fail(reference, "it is empty or not a string")
        if reference != reference.strip() or any(ch.isspace() for ch in reference):
            _fail(reference, "it contains white space")
        rest, digest = reference, None
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if not _DIGEST.match(digest):
                _fail(reference, "the digest must be sha256: followed by 64 lowercase hexadecimal characters")
        first, sep, remainder = rest.partition("/")
        # As docker: the first component is a registry if it has a '.' or ':', is 'localhost',
        # or has upper case; otherwise the reference is on Docker Hub.
        if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
            registry, rest = first, remainder
            if not _DOMAIN.match(registry):
                _fail(reference, "%r is not a valid registry host[:port]" % registry)
        else:
            registry = DOCKER_HUB
        tag = None
        last_slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > last_slash:
            rest, tag = rest[:colon], rest[colon + 1:]
            if not _TAG.match(tag):
                _fail(reference, "the tag %r is not valid (letters, digits, '_', '.', '-'; at most 128)" % tag)
        if registry in ("index.docker.io", "registry-1.docker.io"):
            registry = DOCKER_HUB
        if registry == DOCKER_HUB and "/" not in rest:
            rest = "library/" + rest
        if not _PATH.match(rest):
            _fail(reference, "the repository %r must be lowercase path components separated by '/'" % rest)
        if len(registry) + len(rest) + 1 > 255:
            _fail(reference, "the name is longer than 255 characters")
        if tag is None and digest is None:
            tag = "latest"
        return cls(registry, rest, tag, digest)

    @property
    def api_host(self):
        """The host to send registry API requests to."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def reference(self):
        """What the registry API calls the reference: the digest when pinned, else the tag."""
        return self.digest or self.tag

    @property
    def is_ecr_public(self):
        return self.registry == ECR_PUBLIC

    @property
    def private_ecr(self):
        """(account, region) for a private ECR registry, else None."""
        match = PRIVATE_ECR.match(self.registry)
        return (match.group("account"), match.group("region")) if match else None

    def with_digest(self, digest):
        return ImageReference(self.registry, self.repository, self.tag, digest)

    def __str__(self):
        text = "%s/%s" % (self.registry, self.repository)
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text

    def __eq__(self, other):
        return isinstance(other, ImageReference) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def __repr__(self):
        return "ImageReference(%r)" % str(self)
