"""The HTTP side of the local ECR Public endpoint: AWS JSON 1.1 wire protocol, SigV4 checks,
AWS's error format, a request log and deterministic fault injection.

Besides the AWS API on ``POST /``, a few control paths under ``/_localecr/`` serve tests:
``GET info``, ``GET requests?since=N`` (the request log) and ``POST faults`` (replace the
fault settings).
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from .service import ApiError

# X-Amz-Target prefix -> signing name, one per protocol spoken.
PROTOCOLS = {"SpencerFrontendService.": "ecr-public", "AmazonEC2ContainerRegistry_V20150921.": "ecr"}
WRITE_OPERATIONS = frozenset(
    [
        "PutImage",
        "BatchDeleteImage",
        "CreateRepository",
        "DeleteRepository",
        "InitiateLayerUpload",
        "UploadLayerPart",
        "CompleteLayerUpload",
        "PutImageTagMutability",
    ]
)
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


class Faults:
    """Deterministic fault injection (seeded): throttling, ServerException bursts, latency, drops.

    ``drop_after`` drops the connection after the operation was applied, so a client that
    retries sees the effect of its own first try (the case where PutImage succeeded but its
    answer was lost).
    """

    FIELDS = {
        "throttle_first": 0,
        "throttle_rate": 0.0,
        "server_error_rate": 0.0,
        "server_error_burst": 1,
        "latency_ms": 0,
        "drop_rate": 0.0,
        "drop_after": False,
        "operations": None,
        "seed": 0,
    }

    def __init__(self, **settings):
        unknown = set(settings) - set(self.FIELDS)
        if unknown:
            raise ValueError("unknown fault settings: %s" % ", ".join(sorted(unknown)))
        self.settings = dict(self.FIELDS, **settings)
        self.random = random.Random(self.settings["seed"])
        self.calls = 0
        self.burst_left = 0
        self.lock = threading.Lock()

    def draw(self, operation):
        """Return the fault for this call: None, 'throttle', 'server', or 'drop'."""
        s = self.settings
        if s["operations"] and operation not in s["operations"]:
            return None
        with self.lock:
            self.calls += 1
            if self.calls <= s["throttle_first"] or self.random.random() < s["throttle_rate"]:
                return "throttle"
            if self.burst_left:
                self.burst_left -= 1
                return "server"
            if self.random.random() < s["server_error_rate"]:
                self.burst_left = max(0, s["server_error_burst"] - 1)
                return "server"
            if self.random.random() < s["drop_rate"]:
                return "drop"
        return None


class EndpointServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, services, credentials, log_path=None, faults=None):
        """``services``: signing name ("ecr-public", "ecr") -> the service object answering it."""
        super().__init__(address, Handler)
        self.services = services
        self.credentials = credentials  # {access key id: secret key}
        self.faults = faults or Faults()
        self.log_path = log_path
        self.requests = []
        self.log_lock = threading.Lock()

    def record(self, entry):
        with self.log_lock:
            entry["seq"] = len(self.requests)
            self.requests.append(entry)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry, sort_keys=True) + "\n")


def _loggable(params):
    """Request parameters for the log: blobs and manifests summarized, nothing secret."""
    result = {}
    for key, value in params.items():
        if key == "layerPartBlob":
            result[key] = "<%d base64 chars>" % len(value)
        elif key == "imageManifest" and isinstance(value, str) and len(value) > 2048:
            result[key] = "<%d chars>" % len(value)
        else:
            result[key] = value
    return result


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "localecr"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # the request log is the record; stderr stays quiet

    # --- plumbing --------------------------------------------------------------------------

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, payload, content_type="application/x-amz-json-1.1"):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "%032x" % random.getrandbits(128))
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, err):
        self._send(err.status, {"__type": err.code, "message": err.message})

    def _drop(self):
        self.close_connection = True
        self.connection.close()

    # --- SigV4 -----------------------------------------------------------------------------

    def _verify_signature(self, body, signing_name, region):
        match = AUTHORIZATION.match(self.headers.get("Authorization", ""))
        if not match:
            raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", status=400)
        secret = self.server.credentials.get(match["key"])
        if secret is None:
            raise ApiError("UnrecognizedClientException", "The security token included in the request is invalid.")
        if match["service"] != signing_name:
            raise ApiError("InvalidSignatureException", "Credential should be scoped to correct service: '%s'."
                           % signing_name)
        if match["region"] != region:
            raise ApiError("InvalidSignatureException", "Credential should be scoped to a valid region, not '%s'."
                           % match["region"])
        signed = match["headers"].split(";")
        headers = {name: self.headers.get(name, "") for name in signed}
        request = AWSRequest(method="POST", url="http://%s%s" % (self.headers["Host"], self.path), data=body,
                             headers=headers)
        request.context["timestamp"] = self.headers.get("X-Amz-Date", "")
        signer = SigV4Auth(Credentials(match["key"], secret, self.headers.get("X-Amz-Security-Token")),
                           signing_name, match["region"])
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if expected != match["signature"]:
            raise ApiError("InvalidSignatureException", "The request signature we calculated does not match the "
                           "signature you provided.")

    # --- AWS API ---------------------------------------------------------------------------

    def do_POST(self):  # pylint: disable=invalid-name
        body = self._body()
        if self.path.startswith("/_localecr/"):
            return self._control("POST", body)
        target = self.headers.get("X-Amz-Target", "")
        prefix, _sep, operation = target.partition(".")
        signing_name = PROTOCOLS.get(prefix + ".")
        service = self.server.services.get(signing_name)
        entry = {"time": time.time(), "service": signing_name, "operation": operation,
                 "write": operation in WRITE_OPERATIONS}
        try:
            params = json.loads(body or b"{}")
            entry["params"] = _loggable(params)
            if service is None:
                raise ApiError("UnknownOperationException", "Unknown operation %s" % target)
            self._verify_signature(body, signing_name, service.region)
            handler = getattr(service, operation, None)
            if not operation[:1].isupper() or handler is None:
                raise ApiError("UnknownOperationException", "Unknown operation %s" % target)
            fault = self.server.faults.draw(operation)
            entry["fault"] = fault
            latency = self.server.faults.settings["latency_ms"]
            if latency:
                time.sleep(latency / 1000.0)
            if fault == "throttle":
                raise ApiError("ThrottlingException", "Rate exceeded")
            if fault == "server":
                raise ApiError("ServerException", "Internal service error (injected)", status=500)
            if fault == "drop" and not self.server.faults.settings["drop_after"]:
                entry["outcome"] = "dropped"
                self.server.record(entry)
                return self._drop()
            result = handler(params)
            entry["outcome"] = "ok"
            if fault == "drop":
                entry["outcome"] = "applied, answer dropped"
                self.server.record(entry)
                return self._drop()
            self.server.record(entry)
            return self._send(200, result)
        except ValueError:
            err = ApiError("SerializationException", "The request body is not valid JSON")
        except ApiError as api_error:
            err = api_error
        entry["outcome"] = err.code
        self.server.record(entry)
        return self._send_error(err)

    # --- control paths ---------------------------------------------------------------------

    def do_GET(self):  # pylint: disable=invalid-name
        if self.path.startswith("/_localecr/"):
            return self._control("GET", b"")
        return self._send(404, {"message": "not found"}, content_type="application/json")

    def _control(self, method, body):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        name = url.path[len("/_localecr/"):]
        try:
            if (method, name) == ("GET", "info"):
                return self._send(200, self.server.info, content_type="application/json")
            if (method, name) == ("GET", "requests"):
                since = int(query.get("since", 0))
                entries = self.server.requests[since:]
                return self._send(200, {"count": len(self.server.requests), "requests": entries,
                                        "writes": [e for e in entries if e["write"]]},
                                  content_type="application/json")
            if (method, name) == ("POST", "faults"):
                self.server.faults = Faults(**json.loads(body or b"{}"))
                return self._send(200, self.server.faults.settings, content_type="application/json")
        except (ValueError, TypeError, KeyError) as err:
            return self._send(400, {"message": "bad control request: %s" % err}, content_type="application/json")
        return self._send(404, {"message": "no control path %s %s" % (method, name)}, content_type="application/json")
