"""The reliability suite: real ansible-playbook runs against the local ECR Public endpoint under
injected faults, concurrent runs, malformed input and -vvvv logging. Run by `make test`
(tools/test, stage "reliability"), which provides the venv and ANSIBLE_COLLECTIONS_PATH.

Every server is started here, on loopback, and stopped at the end; every playbook run is
bounded by PLAYBOOK_TIMEOUT.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest

from localecr import LocalEcrPublic, fixture
from localecr.auth import AuthRegistries

PLAYBOOK_TIMEOUT = 300
FIGURES = []  # one line per measured case, printed at the end (docs/reliability.md quotes them)
OLD_SEED, NEW_SEED = "reliability-old", "reliability-new"


class Ansible:
    """Write and run playbooks against one endpoint; results come back through a JSON file."""

    def __init__(self, ecr, workdir):
        self.ecr = ecr
        self.workdir = workdir
        self.env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1",
                        ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_RETRY_FILES_ENABLED="false",
                        AWS_ENDPOINT_URL_ECR_PUBLIC=ecr.endpoint_url, AWS_ENDPOINT_URL_ECR=ecr.endpoint_url, AWS_REGION=ecr.info["region"],
                        AWS_ACCESS_KEY_ID=ecr.info["access_key"], AWS_SECRET_ACCESS_KEY=ecr.info["secret_key"])
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            self.env.pop(name, None)
        self.runs = 0

    def write_playbook(self, tasks, name, play_vars=None):
        """A play on localhost whose tasks end by saving the variable ``out`` (default {})."""
        self.runs += 1
        base = os.path.join(self.workdir, "%s-%d" % (name, self.runs))
        play = [{
            "name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": dict({"ansible_python_interpreter": sys.executable, "out": {}}, **(play_vars or {})),
            "tasks": tasks + [{
                "name": "Save the outcome", "check_mode": False,
                "ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": base + ".out.json", "mode": "0600"},
            }],
        }]
        with open(base + ".yml", "w", encoding="utf-8") as handle:
            json.dump(play, handle, indent=1)
        return base

    def start(self, tasks, name="play", extra_vars=None, check=False, verbosity=0, env=None, play_vars=None):
        base = self.write_playbook(tasks, name, play_vars)
        argv = ["ansible-playbook", "-i", "localhost,", base + ".yml", "-e", json.dumps(extra_vars or {})]
        argv += (["--check"] if check else []) + (["-" + "v" * verbosity] if verbosity else [])
        output = open(base + ".log", "w+b")  # pylint: disable=consider-using-with
        process = subprocess.Popen(argv, env=dict(self.env, **(env or {})), stdout=output,  # pylint: disable=consider-using-with
                                   stderr=subprocess.STDOUT)
        return Run(process, base, output)

    def play(self, tasks, **kwargs):
        return self.start(tasks, **kwargs).wait()


class Run:
    def __init__(self, process, base, output):
        self.process, self.base, self._output = process, base, output
        self.rc, self.output, self.out = None, "", None

    def wait(self):
        try:
            self.rc = self.process.wait(PLAYBOOK_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        self._output.seek(0)
        self.output = self._output.read().decode("utf-8", "replace")
        self._output.close()
        if os.path.exists(self.base + ".out.json"):
            with open(self.base + ".out.json", encoding="utf-8") as handle:
                self.out = json.load(handle)
        return self

    def __repr__(self):  # what pytest shows when an assertion about a run fails
        return "<run rc=%s>\n%s" % (self.rc, self.output[-6000:])


def tag_map(ecr, repository):
    """{tag: digest} as the registry stores it (not through the API under test)."""
    return ecr.registry.tags("%s/%s" % (ecr.service.alias, repository))


def make_repository(client, name, seeds=(OLD_SEED, NEW_SEED)):
    """A repository holding one untagged image per seed; returns the images in seed order."""
    return fixture.untagged_images(client, name, seeds)


def promote_tasks(manifest, tags):
    """Point ``tags`` of repository app at ``manifest`` in one task; its result becomes ``out``."""
    return [{"name": "Promote", "register": "promoted",
             "seaport.registry.ecr_public_image": {"repository_name": "app", "image_manifest": manifest,
                                                   "image_tags": tags}},
            {"name": "Keep the result", "ansible.builtin.set_fact": {"out": "{{ promoted }}"}}]


@pytest.fixture
def endpoint(tmp_path):
    """An endpoint of the test's own, so that its faults touch nothing else."""
    with LocalEcrPublic(workdir=str(tmp_path / "localecr")) as ecr:
        yield ecr


@pytest.fixture(scope="module")
def shared_endpoint(tmp_path_factory):
    with LocalEcrPublic(workdir=str(tmp_path_factory.mktemp("localecr"))) as ecr:
        auth = AuthRegistries(ecr.registry.storage, os.path.join(ecr.workdir, "auth")).start()
        ecr.auth = auth
        try:
            yield ecr
        finally:
            auth.stop()


def client_for(ecr):
    return boto3.client("ecr-public", **ecr.client_kwargs)


@pytest.fixture
def ansible(endpoint, tmp_path):
    return Ansible(endpoint, str(tmp_path))


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("reliability figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
