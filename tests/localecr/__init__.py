"""localecr: a local stand-in for the Amazon ECR Public API, for development and tests only.

It is not part of the collection (galaxy.yml's build_ignore leaves it out). It speaks ECR
Public's real wire protocol (AWS JSON 1.1, ``X-Amz-Target: SpencerFrontendService.<Op>``,
SigV4-signed by real boto3 through ``endpoint_url``) and keeps every manifest and blob in a real
distribution registry that it starts, under ``<alias>/<repository>``.

    with LocalEcrPublic() as ecr:
        client = boto3.client("ecr-public", **ecr.client_kwargs)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading

from .registry import Registry
from .server import EndpointServer, Faults
from .service import EcrPrivateService, EcrPublicService

ACCESS_KEY = "AKIALOCALECRPUBLIC01"
SECRET_KEY = "localecr-secret-key-for-tests-only"  # nosec: a test double's fixed key


class LocalEcrPublic:
    """Start the registry and the endpoint on free loopback ports; stop both on exit."""

    def __init__(self, account_id="123456789012", alias="seaport-test", region="us-east-1", faults=None,
                 workdir=None):
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="localecr-")
        self.registry = Registry(workdir=os.path.join(self.workdir, "registry"))
        os.makedirs(self.registry.workdir, exist_ok=True)
        self.service = EcrPublicService(self.registry, account_id=account_id, alias=alias, region=region)
        # Private ECR's protocol, same account and region, repositories at the registry's top level.
        self.private = EcrPrivateService(self.registry, account_id=account_id, alias=alias, region=region)
        self.faults = Faults(**(faults or {}))
        self.log_path = os.path.join(self.workdir, "requests.jsonl")
        self.server = None
        self._thread = None

    def start(self):
        self.registry.start()
        try:
            self.server = EndpointServer(("127.0.0.1", 0), {"ecr-public": self.service, "ecr": self.private},
                                         {ACCESS_KEY: SECRET_KEY},
                                         log_path=self.log_path, faults=self.faults)
        except OSError:
            self.registry.stop()
            raise
        self.server.info = self.info
        self._thread = threading.Thread(target=self.server.serve_forever, name="localecr", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        self.registry.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def endpoint_url(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    @property
    def client_kwargs(self):
        return {
            "endpoint_url": self.endpoint_url,
            "region_name": self.service.region,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
        }

    @property
    def info(self):
        """Everything a test needs to reach the endpoint and its registry."""
        return {
            "endpoint_url": self.endpoint_url,
            "control_url": self.endpoint_url + "/_localecr",
            "region": self.service.region,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "account_id": self.service.account_id,
            "alias": self.service.alias,
            "registry": self.registry.address,
            "registry_url": self.registry.url,
            "request_log": self.log_path,
        }

    def set_faults(self, **settings):
        """Replace the fault settings (none: no faults)."""
        self.server.faults = Faults(**settings)

    def requests(self, since=0):
        return self.server.requests[since:]

    def writes(self, since=0):
        return [entry for entry in self.requests(since) if entry["write"]]

    def dump_info(self, path):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.info, handle, indent=2)
