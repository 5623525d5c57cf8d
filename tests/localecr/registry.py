"""A real distribution registry (Debian's docker-registry) on loopback, and a small HTTP client for it.

The registry is the source of truth for manifests, blobs and tags. Writes go through its HTTP API so
that its own validation decides what is accepted; listings read its filesystem storage, which the
HTTP API of distribution 2.8 cannot give (no untagged manifests, no tag deletion).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


class RegistryError(Exception):
    """The registry refused a request: status and the first error code it gave."""

    def __init__(self, status, code, message, detail=None):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


def free_port():
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unverified():
    """Readiness checks only: any TLS certificate will do."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    """A docker-registry process with filesystem storage in a temporary directory."""

    def __init__(self, workdir=None, extra_config=None, binary="docker-registry", storage=None, read_only=False,
                 scheme="http"):
        self.binary = shutil.which(binary)
        if not self.binary:
            raise RuntimeError(
                "docker-registry not found: install Debian's 'docker-registry' package (tools/bootstrap does)"
            )
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="localecr-registry-")
        # Several registries may serve one storage: a read-only one with auth in front of ours.
        self.storage = storage or os.path.join(self.workdir, "storage")
        self.read_only = read_only
        self.scheme = scheme
        self.port = None
        self.process = None
        self.extra_config = extra_config or {}

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "%s://%s" % (self.scheme, self.address)

    def start(self, timeout=15.0):
        self.port = free_port()
        config = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {
                "filesystem": {"rootdirectory": self.storage},
                "delete": {"enabled": not self.read_only},
                "maintenance": {"readonly": {"enabled": self.read_only}, "uploadpurging": {"enabled": False}},
            },
            "http": {"addr": self.address},
        }
        extra = dict(self.extra_config)
        config["http"].update(extra.pop("http", {}))
        config.update(extra)
        config_path = os.path.join(self.workdir, "config.yml")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump(config, handle)  # JSON is YAML
        self._log = open(os.path.join(self.workdir, "registry.log"), "ab")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [self.binary, "serve", config_path], stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("docker-registry exited with %s; see %s" % (self.process.returncode, self._log.name))
            try:
                with urllib.request.urlopen(self.url + "/v2/", timeout=1, context=_unverified()):
                    return self
            except urllib.error.HTTPError:
                return self  # answering at all (even 401) means it is up
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not answer on %s within %ss" % (self.address, timeout))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if getattr(self, "_log", None):
            self._log.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # --- HTTP API ---------------------------------------------------------------------------

    def request(self, method, path, data=None, headers=None, timeout=30):
        """Send one request; return (status, headers, body). Raise RegistryError on 4xx/5xx."""
        url = path if path.startswith("http") else self.url + path
        # Marked, so that a registry log tells the endpoint's own requests from its clients'.
        headers = dict(headers or {}, **{"User-Agent": "localecr"})
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            body = err.read()
            code, message, detail = "UNKNOWN", body.decode("utf-8", "replace"), None
            try:
                first = json.loads(body)["errors"][0]
                code, message, detail = first.get("code", code), first.get("message", ""), first.get("detail")
            except (ValueError, KeyError, IndexError, TypeError):
                pass
            raise RegistryError(err.code, code, message, detail) from None

    def put_manifest(self, repository, reference, manifest_bytes, media_type):
        _status, headers, _body = self.request(
            "PUT",
            "/v2/%s/manifests/%s" % (repository, reference),
            data=manifest_bytes,
            headers={"Content-Type": media_type},
        )
        return headers.get("Docker-Content-Digest")

    def get_manifest(self, repository, reference):
        """Return (bytes, media type) of a manifest by tag or digest."""
        _status, headers, body = self.request(
            "GET", "/v2/%s/manifests/%s" % (repository, reference), headers={"Accept": MANIFEST_ACCEPT}
        )
        return body, headers.get("Content-Type")

    def delete_manifest(self, repository, digest):
        self.request("DELETE", "/v2/%s/manifests/%s" % (repository, digest))

    def blob_size(self, repository, digest):
        """Size of a blob in the repository, or None when it is not there."""
        try:
            _status, headers, _body = self.request("HEAD", "/v2/%s/blobs/%s" % (repository, digest))
        except RegistryError as err:
            if err.status == 404:
                return None
            raise
        return int(headers.get("Content-Length", 0))

    def start_upload(self, repository):
        _status, headers, _body = self.request("POST", "/v2/%s/blobs/uploads/" % repository)
        return urllib.parse.urljoin(self.url, headers["Location"])

    def upload_chunk(self, location, data, first_byte):
        _status, headers, _body = self.request(
            "PATCH",
            location,
            data=data,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": "%d-%d" % (first_byte, first_byte + len(data) - 1),
            },
        )
        return urllib.parse.urljoin(self.url, headers["Location"])

    def finish_upload(self, location, digest):
        joiner = "&" if "?" in location else "?"
        self.request("PUT", location + joiner + urllib.parse.urlencode({"digest": digest}), data=b"")

    def push_blob(self, repository, data):
        """Upload a whole blob (POST, then PUT with the digest); return its digest."""
        digest = sha256_digest(data)
        if self.blob_size(repository, digest) is None:
            location = self.start_upload(repository)
            joiner = "&" if "?" in location else "?"
            self.request(
                "PUT",
                location + joiner + urllib.parse.urlencode({"digest": digest}),
                data=data,
                headers={"Content-Type": "application/octet-stream"},
            )
        return digest

    # --- storage reads (what the HTTP API of 2.8 cannot list) ------------------------------

    def _manifests_dir(self, repository):
        return os.path.join(self.storage, "docker", "registry", "v2", "repositories", repository, "_manifests")

    def tags(self, repository):
        """Return {tag: digest} for the repository."""
        tags_dir = os.path.join(self._manifests_dir(repository), "tags")
        result = {}
        for tag in sorted(os.listdir(tags_dir)) if os.path.isdir(tags_dir) else []:
            link = os.path.join(tags_dir, tag, "current", "link")
            if os.path.exists(link):
                with open(link, encoding="utf-8") as handle:
                    result[tag] = handle.read().strip()
        return result

    def manifest_digests(self, repository):
        """Return {digest: pushed-at epoch seconds} of every manifest revision, tagged or not."""
        revisions = os.path.join(self._manifests_dir(repository), "revisions", "sha256")
        result = {}
        for hex_digest in os.listdir(revisions) if os.path.isdir(revisions) else []:
            link = os.path.join(revisions, hex_digest, "link")
            if os.path.exists(link):
                result["sha256:" + hex_digest] = os.path.getmtime(link)
        return result

    def untag(self, repository, tag):
        """Remove a tag (distribution 2.8 has no API for it; its tag store reads this directory)."""
        shutil.rmtree(os.path.join(self._manifests_dir(repository), "tags", tag), ignore_errors=True)

    def tag_pushed_at(self, repository, tag):
        link = os.path.join(self._manifests_dir(repository), "tags", tag, "current", "link")
        return os.path.getmtime(link)

    def delete_repository(self, repository):
        shutil.rmtree(
            os.path.join(self.storage, "docker", "registry", "v2", "repositories", repository), ignore_errors=True
        )
