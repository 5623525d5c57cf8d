# -*- coding: utf-8 -*-
# Copyright: seaport.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This is a private module: its API may change at any time, also in a patch release.

"""A small client for the OCI distribution (registry HTTP) API: manifests as exact bytes,
blob checks, and the registries' auth (bearer-token challenges, basic auth), on
``ansible.module_utils.urls`` alone. Lookups adapt it in plugin_utils; modules can use it as is.

Credentials are never put in messages, URLs or exceptions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re
import ssl
import time
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from ansible.module_utils.urls import open_url

from ansible_collections.seaport.registry.plugins.module_utils._manifest import (
    INDEX_MEDIA_TYPES,
    MAX_MANIFEST_BYTES,
    MEDIA_TYPES,
    sha256_digest,
)

MANIFEST_ACCEPT = ", ".join(MEDIA_TYPES)
USER_AGENT = "seaport.registry"  # so that registry logs tell our requests apart
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """A registry request failed. ``kind``: not_found, unauthorized, forbidden, tls, connection,
    invalid (a response we refuse: too large, digest mismatch, not a manifest)."""

    def __init__(self, message, kind, status=None):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status


def parse_challenge(header):
    """Parse a WWW-Authenticate header: ('bearer' or 'basic', {param: value})."""
    scheme, _sep, params = (header or "").strip().partition(" ")
    return scheme.lower(), dict(_CHALLENGE.findall(params))


def parse_platform(platform):
    parts = (platform or "").split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise RegistryError("Invalid platform %r: expected os/architecture[/variant], for example linux/arm64."
                            % platform, "invalid")
    return dict(zip(("os", "architecture", "variant"), parts))


class RegistryClient:
    """Talks to OCI registries for one caller; caches auth tokens per registry and scope.

    ``credentials(registry)`` returns (username, password) or None for a registry host.
    """

    def __init__(self, credentials=None, insecure=False, validate_certs=True, ca_path=None, timeout=30,
                 token_cache=None):
        self.credentials = credentials or (lambda registry: None)
        self.insecure = insecure
        self.validate_certs = validate_certs and not insecure
        self.ca_path = ca_path
        self.timeout = timeout
        self.tokens = {} if token_cache is None else token_cache
        self._schemes = {}
        self._basic = set()  # registries that asked for basic auth

    # --- transport --------------------------------------------------------------------------

    def _open(self, url, headers, url_username=None, url_password=None):
        return open_url(url, method="GET", headers=headers, validate_certs=self.validate_certs, ca_path=self.ca_path,
                        timeout=self.timeout, url_username=url_username, url_password=url_password,
                        force_basic_auth=url_username is not None, follow_redirects="safe", use_proxy=True,
                        http_agent=USER_AGENT)

    def _send(self, host, path, headers, what):
        """GET https://host/path (plain http too when insecure); return the open response or raise."""
        schemes = [self._schemes[host]] if host in self._schemes else (["https", "http"] if self.insecure else ["https"])
        for index, scheme in enumerate(schemes):
            try:
                response = self._open("%s://%s%s" % (scheme, host, path), headers)
                self._schemes[host] = scheme
                return response
            except HTTPError:
                self._schemes[host] = scheme
                raise
            except (URLError, OSError) as exc:
                if index + 1 < len(schemes):
                    continue  # an insecure registry: try plain HTTP
                raise _transport_error(exc, host, what)
        raise AssertionError("unreachable")

    # --- auth --------------------------------------------------------------------------------

    def _token(self, challenge, registry, scope, what):
        key = (registry, challenge.get("realm"), challenge.get("service"), scope)
        cached = self.tokens.get(key)
        if cached and cached[1] > time.time():
            return cached[0]
        params = {"service": challenge.get("service", "")}
        if scope:
            params["scope"] = scope
        creds = self.credentials(registry)
        if creds:
            params["account"] = creds[0]
        url = "%s?%s" % (challenge["realm"], urlencode(params))
        try:
            response = self._open(url, {"Accept": "application/json"},
                                  url_username=creds[0] if creds else None, url_password=creds[1] if creds else None)
            body = json.loads(response.read(1024 * 1024))
        except HTTPError as exc:
            if exc.code in (401, 403):
                raise RegistryError("Authentication failed for %s: the registry's token service refused the %s "
                                    "(HTTP %d). Check the username and password (or the registry's credentials "
                                    "in ~/.docker/config.json)." % (what, "credentials" if creds else
                                                                    "anonymous request", exc.code),
                                    "unauthorized", exc.code)
            raise RegistryError("The token service of %s answered HTTP %d for %s." % (registry, exc.code, what),
                                "connection", exc.code)
        except ValueError:
            raise RegistryError("The token service of %s did not answer with JSON for %s." % (registry, what),
                                "connection")
        except (URLError, OSError) as exc:
            raise _transport_error(exc, challenge["realm"].split("/")[2] if "//" in challenge["realm"] else registry,
                                   what)
        token = body.get("token") or body.get("access_token")
        if not token:
            raise RegistryError("The token service of %s returned no token for %s." % (registry, what), "connection")
        lifetime = body.get("expires_in") or 60
        self.tokens[key] = (token, time.time() + max(10, int(lifetime) - 10))
        return token

    def get(self, ref, path, accept, what, limit):
        """GET a registry API path for a reference, following auth challenges; return (headers, body)."""
        scope = "repository:%s:pull" % ref.repository
        headers = {"Accept": accept}
        authorized = self._cached_authorization(ref.registry, scope)
        if authorized:
            headers["Authorization"] = authorized
        for attempt in range(2):
            try:
                response = self._send(ref.api_host, path, headers, what)
                body = response.read(limit + 1)
                if len(body) > limit:
                    raise RegistryError("The registry's answer for %s is larger than %d bytes (4 MiB), the most a "
                                        "manifest may be." % (what, limit), "invalid")
                return response.headers, body
            except HTTPError as exc:
                if exc.code == 401 and attempt == 0:
                    authorized = self._answer_challenge(exc.headers.get("WWW-Authenticate"), ref.registry, scope, what)
                    if authorized:
                        headers["Authorization"] = authorized
                        continue
                raise _http_error(exc, what)
        raise AssertionError("unreachable")

    def _cached_authorization(self, registry, scope):
        for (cached_registry, _realm, _service, cached_scope), (token, expires) in self.tokens.items():
            if cached_registry == registry and cached_scope == scope and expires > time.time():
                return "Bearer " + token
        creds = self.credentials(registry) if registry in self._basic else None
        return _basic(creds) if creds else None

    def _answer_challenge(self, header, registry, scope, what):
        scheme, challenge = parse_challenge(header)
        if scheme == "bearer" and challenge.get("realm"):
            return "Bearer " + self._token(challenge, registry, challenge.get("scope", scope), what)
        if scheme == "basic":
            self._basic.add(registry)
            creds = self.credentials(registry)
            return _basic(creds) if creds else None
        return None

    # --- manifests -----------------------------------------------------------------------------

    def get_manifest(self, ref, platform=None):
        """Fetch a manifest byte-exact and verify its digest; resolve an index to ``platform``.

        Returns a dict: manifest (text), media_type, digest, size, reference (canonical, pinned).
        """
        what = str(ref)
        headers, body = self.get(ref, "/v2/%s/manifests/%s" % (ref.repository, ref.reference), MANIFEST_ACCEPT,
                                 what, MAX_MANIFEST_BYTES)
        result, parsed = verified_manifest(ref, body, headers.get("Content-Type"), headers.get("Docker-Content-Digest"))
        if platform and result["media_type"] in INDEX_MEDIA_TYPES:
            return self.get_manifest(ref.with_digest(select_platform(parsed, parse_platform(platform), what)), None)
        return result


def verified_manifest(ref, body, content_type=None, sent_digest=None):
    """Check manifest bytes fetched for ``ref``; return (result dict, parsed JSON).

    The digest is computed from the bytes and must equal ``sent_digest`` (the registry's
    Docker-Content-Digest, or ECR's imageDigest) and the reference's pinned digest, if any.
    """
    what = str(ref)
    if len(body) > MAX_MANIFEST_BYTES:
        raise RegistryError("The manifest of %s is larger than %d bytes (4 MiB)." % (what, MAX_MANIFEST_BYTES),
                            "invalid")
    digest = sha256_digest(body)
    if sent_digest and sent_digest != digest:
        raise RegistryError("The manifest of %s does not match the digest the registry sent (%s, computed %s): "
                            "refusing it." % (what, sent_digest, digest), "invalid")
    if ref.digest and ref.digest != digest:
        raise RegistryError("The manifest of %s has digest %s, not the pinned %s: refusing it."
                            % (what, digest, ref.digest), "invalid")
    try:
        text = body.decode("utf-8")
        parsed = json.loads(text)
    except ValueError:
        raise RegistryError("The registry's answer for %s is not a JSON manifest." % what, "invalid")
    if not isinstance(parsed, dict):
        raise RegistryError("The registry's answer for %s is not a JSON manifest." % what, "invalid")
    media_type = (content_type or "").split(";")[0].strip() or parsed.get("mediaType")
    if parsed.get("mediaType") and media_type not in MEDIA_TYPES:
        media_type = parsed["mediaType"]
    if media_type not in MEDIA_TYPES:
        raise RegistryError("The manifest of %s has media type %r, which is not an image manifest or index."
                            % (what, media_type), "invalid")
    return {"manifest": text, "media_type": media_type, "digest": digest, "size": len(body),
            "reference": str(ref.with_digest(digest))}, parsed


def select_platform(index, wanted, what):
    """The digest of the index's manifest for platform ``wanted`` (os, architecture[, variant])."""
    candidates = []
    for descriptor in index.get("manifests") or []:
        platform = descriptor.get("platform") or {}
        candidates.append("/".join(p for p in (platform.get("os"), platform.get("architecture"),
                                               platform.get("variant")) if p))
        if all(platform.get(key) == value for key, value in wanted.items()):
            return descriptor["digest"]
    raise RegistryError("%s has no image for platform %s; it has: %s." % (
        what, "/".join(wanted.values()), ", ".join(c for c in candidates if c) or "none"), "not_found")


def _basic(creds):
    return "Basic " + base64.b64encode(("%s:%s" % creds).encode("utf-8")).decode("ascii")


def _http_error(exc, what):
    if exc.code == 404:
        return RegistryError("%s was not found (HTTP 404): check the repository, tag or digest." % what,
                             "not_found", 404)
    if exc.code == 401:
        return RegistryError("Authentication failed for %s (HTTP 401): give username and password, or "
                             "credentials for this registry in ~/.docker/config.json." % what, "unauthorized", 401)
    if exc.code == 403:
        return RegistryError("Access to %s was denied (HTTP 403): the credentials may not pull this repository."
                             % what, "forbidden", 403)
    return RegistryError("The registry answered HTTP %d for %s." % (exc.code, what), "connection", exc.code)


def _transport_error(exc, host, what):
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, ssl.SSLError) or isinstance(exc, ssl.SSLError):
        return RegistryError("TLS failed talking to %s for %s (%s): give the registry's CA with ca_path, or, for a "
                             "registry you trust on a private network, validate_certs=false or insecure=true."
                             % (host, what, reason), "tls")
    return RegistryError("Cannot reach registry %s for %s: %s." % (host, what, reason), "connection")
