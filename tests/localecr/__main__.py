"""Command line: ``python -m localecr serve`` or ``python -m localecr run -- COMMAND...``.

``serve`` runs until interrupted (or ``--max-seconds``) and prints the connection details as
JSON. ``run`` starts the endpoint, exports them to COMMAND as LOCALECR_* variables (and, with
``--vars-file``, as Ansible variables under ``localecr``), runs it, stops everything and exits
with COMMAND's status.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading

from . import LocalEcrPublic
from .auth import AuthRegistries


def _faults(args):
    faults = {}
    for item in args.fault or []:
        key, _sep, value = item.partition("=")
        faults[key] = json.loads(value) if value else True
    return faults


def integration_vars(info, auth_info):
    """Ansible variables for the integration targets: module connection options, the environment
    for fixture scripts (localecr.fixture), and the endpoint's own details under ``localecr``."""
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return {
        "localecr": info,
        "seaport_test": {
            "connection": {"endpoint_url": info["endpoint_url"], "region": info["region"],
                           "access_key": info["access_key"], "secret_key": info["secret_key"]},
            "fixture_env": {"AWS_ENDPOINT_URL": info["endpoint_url"], "AWS_REGION": info["region"],
                            "AWS_ACCESS_KEY_ID": info["access_key"], "AWS_SECRET_ACCESS_KEY": info["secret_key"],
                            "PYTHONPATH": tests_dir},
            "registry": "%s/%s" % (info["registry"], info["alias"]),
            # The same images, behind basic auth and behind token auth (auth.py).
            "auth_registries": auth_info,
        },
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="localecr", description="Local Amazon ECR Public endpoint for tests.")
    parser.add_argument("--alias", default="seaport-test", help="registry alias (default: %(default)s)")
    parser.add_argument("--account-id", default="123456789012", help="registry id (default: %(default)s)")
    parser.add_argument("--fault", action="append", metavar="NAME=VALUE",
                        help="fault injection, e.g. throttle_rate=0.3 seed=7 (see server.Faults)")
    parser.add_argument("--max-seconds", type=float, default=3600,
                        help="stop after this long whatever happens (default: %(default)s)")
    parser.add_argument("--vars-file", help="with run: write the connection details here as Ansible vars")
    parser.add_argument("--repository", action="append", default=[], help="create this repository at start")
    parser.add_argument("--test-var", action="append", default=[], metavar="NAME=JSON",
                        help="with --vars-file: an extra entry under seaport_test, e.g. quick=true")
    parser.add_argument("--aws-env", action="store_true",
                        help="with run: also point boto3 at the endpoint through AWS_* variables (endpoint, test keys)")
    parser.add_argument("mode", choices=["serve", "run"])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    ecr = LocalEcrPublic(account_id=args.account_id, alias=args.alias, faults=_faults(args))
    ecr.start()
    try:
        for name in args.repository:
            ecr.service.CreateRepository({"repositoryName": name})
        if args.mode == "serve":
            print(json.dumps(ecr.info, indent=2), flush=True)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            try:
                stop.wait(args.max_seconds)
            except KeyboardInterrupt:
                pass
            return 0
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            parser.error("run needs a command after --")
        env = dict(os.environ, **{"LOCALECR_" + key.upper(): str(value) for key, value in ecr.info.items()})
        if args.aws_env:
            env.update(AWS_ENDPOINT_URL_ECR_PUBLIC=ecr.endpoint_url, AWS_ENDPOINT_URL=ecr.endpoint_url,
                       AWS_ACCESS_KEY_ID=ecr.info["access_key"], AWS_SECRET_ACCESS_KEY=ecr.info["secret_key"],
                       AWS_REGION=ecr.info["region"])
        auth = AuthRegistries(ecr.registry.storage, os.path.join(ecr.workdir, "auth")).start()
        try:
            if args.vars_file:
                with open(args.vars_file, "w", encoding="utf-8") as handle:
                    variables = integration_vars(ecr.info, auth.info)
                    for item in args.test_var:
                        name, _sep, value = item.partition("=")
                        variables["seaport_test"][name] = json.loads(value)
                    json.dump(variables, handle, indent=2)
            return subprocess.run(command, env=env, timeout=args.max_seconds, check=False).returncode
        except subprocess.TimeoutExpired:
            print("localecr: %s did not finish within %ss" % (command[0], args.max_seconds), file=sys.stderr)
            return 124
        finally:
            auth.stop()
            if args.vars_file and os.path.exists(args.vars_file):
                os.unlink(args.vars_file)
    finally:
        ecr.stop()


if __name__ == "__main__":
    sys.exit(main())
