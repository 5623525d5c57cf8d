"""Benchmark: moving tags with seaport.registry against the tools people use today.

Run by `make bench` (tools/bench), which installs what it needs. Everything runs against the
local ECR Public endpoint and its registry (tests/localecr), started here on loopback, and then
again through a proxy that adds a fixed delay to every request (tests/localecr/proxy.py).

Each case runs --runs times per tool; a table of medians (with min and max), request counts and
peak memory is printed and written to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

from localecr import LocalEcrPublic
from localecr import fixture
from localecr.proxy import DelayProxy
from localecr.registry import sha256_digest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOOLS = ["module", "role", "naive", "skopeo", "awscli"]
ANSIBLE_TOOLS = ("module", "role", "naive")
MODES = ["move", "rerun", "dry"]
PROMOTION_REPOSITORIES = 10
RUN_TIMEOUT = 900  # seconds for one measured command; the slowest (100 tasks at 50 ms) takes about 100
BIG_INDEX_BYTES = 4 * 1024 * 1024 - 4096  # just under PutImage's 4,194,304-character limit
ACCESS_LOG = re.compile(r'^\S+ - - \[[^]]+\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d+) .* "(?P<agent>[^"]*)"$')
ENDPOINT_AGENT = "localecr"  # the endpoint's own calls to its registry, which AWS makes inside


class Bench:
    def __init__(self, ecr, workdir, args):
        self.ecr = ecr
        self.workdir = workdir
        self.args = args
        self.client = boto3.client("ecr-public", **ecr.client_kwargs)
        self.images = {}  # repository -> [image A, image B]
        self.registry_log = os.path.join(ecr.registry.workdir, "registry.log")
        self.endpoint_url = ecr.endpoint_url
        self.registry = ecr.registry.address
        self.env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1",
                        ANSIBLE_STDOUT_CALLBACK="default", ANSIBLE_DEPRECATION_WARNINGS="false",
                        AWS_ACCESS_KEY_ID=ecr.info["access_key"], AWS_SECRET_ACCESS_KEY=ecr.info["secret_key"],
                        AWS_REGION=ecr.info["region"], AWS_DEFAULT_REGION=ecr.info["region"])
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            self.env.pop(name, None)

    # --- fixtures ---------------------------------------------------------------------------

    def repository(self, name, platforms=None):
        """A repository holding two images (A and B) whose blobs are uploaded; no tags."""
        if name not in self.images:
            self.images[name] = fixture.untagged_images(self.client, name, ("bench-a", "bench-b"), platforms)
            for image in self.images[name]:
                image["file"] = self._write("%s-%s.json" % (name, image["digest"][7:19]), image["manifest"])
        return self.images[name]

    def big_index_repository(self, name):
        """A repository with a 4 MiB OCI index (two platforms, padded with an annotation)."""
        small = self.repository(name, platforms=["linux/amd64", "linux/arm64"])
        index = json.loads(small[0]["manifest"])
        index["annotations"] = {"org.example.padding": ""}
        padding = BIG_INDEX_BYTES - len(json.dumps(index, indent=3))
        index["annotations"]["org.example.padding"] = "x" * padding
        text = json.dumps(index, indent=3)
        big = dict(small[0], manifest=text, digest=sha256_digest(text.encode()), size=len(text))
        big["file"] = self._write("%s-big.json" % name, text)
        return [big, small[1]]

    def _write(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return path

    # --- the commands -----------------------------------------------------------------------

    def command(self, tool, mode, repositories, tags, image, endpoint, registry):
        """The command line for one run, and its environment."""
        env = dict(self.env, AWS_ENDPOINT_URL_ECR_PUBLIC=endpoint)
        check = ["--check"] if mode == "dry" else []
        extra = {"repositories": repositories, "tags": tags, "manifest_file": image["file"],
                 "digest": image["digest"], "registry": "%s/%s" % (registry, self.ecr.service.alias)}
        if tool in ANSIBLE_TOOLS:
            playbook = os.path.join(HERE, "playbooks", "%s.yml" % tool)
            if tool == "naive":
                playbook = self._naive_playbook(repositories, tags)
            return ["ansible-playbook", "-i", "localhost,", playbook, "-e", json.dumps(extra)] + check, env
        if mode == "dry":
            return None, env  # neither peer has a dry run
        lines = ["status=0"]
        for repository in repositories:
            for tag in tags:
                if tool == "skopeo":
                    source = "docker://%s/%s@%s" % (extra["registry"], repository, image["digest"])
                    target = "docker://%s/%s:%s" % (extra["registry"], repository, tag)
                    lines.append("skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --preserve-digests "
                                 "%s %s || status=1" % (source, target))
                else:
                    lines.append("aws ecr-public put-image --repository-name %s --image-manifest file://%s "
                                 "--image-tag %s >/dev/null || status=1" % (repository, image["file"], tag))
        lines.append("exit $status")
        return ["bash", "-c", "\n".join(lines)], env

    def _naive_playbook(self, repositories, tags):
        """One task per tag and repository, as a shell loop translated to a playbook would be."""
        tasks = []
        for repository in repositories:
            for tag in tags:
                tasks.append({
                    "name": "Tag %s in %s" % (tag, repository),
                    "seaport.registry.ecr_public_image": {
                        "repository_name": repository,
                        "image_manifest": "{{ lookup('ansible.builtin.file', manifest_file, rstrip=false) }}",
                        "image_tag": tag,
                    },
                })
        play = [{"name": "One task per tag", "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": tasks}]
        return self._write("naive-%d-%d.yml" % (len(repositories), len(tags)), json.dumps(play))

    # --- one measured run -------------------------------------------------------------------

    def run(self, argv, env):
        """Run a command; return wall seconds, exit code, peak RSS (MiB) of its largest process, output.

        GNU time measures the peak: a child of this (large) process would inherit its RSS in
        ru_maxrss, a child of time's does not.
        """
        before_api = len(self.ecr.server.requests)
        before_log = os.path.getsize(self.registry_log)
        rss_file = os.path.join(self.workdir, "rss")
        start = time.monotonic()
        process = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, env=env, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False, timeout=RUN_TIMEOUT)
        seconds = time.monotonic() - start
        with open(rss_file, encoding="utf-8") as handle:
            rss_kib = int(handle.read().split()[-1])
        output = process.stdout.decode("utf-8", "replace")
        api = self.ecr.server.requests[before_api:]
        return {
            "seconds": seconds,
            "rc": process.returncode,
            "rss_mib": rss_kib / 1024.0,
            "api_reads": sum(1 for entry in api if not entry["write"]),
            "api_writes": sum(1 for entry in api if entry["write"]),
            "registry_requests": self._registry_requests(before_log),
            "changed": _recap_changed(output),
            "output": output,
        }

    def _registry_requests(self, offset):
        time.sleep(0.05)  # the registry writes its access log line after answering
        with open(self.registry_log, encoding="utf-8", errors="replace") as handle:
            handle.seek(offset)
            count = 0
            for line in handle:
                match = ACCESS_LOG.match(line.strip())
                if match and not match["agent"].startswith(ENDPOINT_AGENT):
                    count += 1
        return count

    def check_tags(self, repositories, tags, digest):
        for repository in repositories:
            where = self.ecr.registry.tags("%s/%s" % (self.ecr.service.alias, repository))
            wrong = [tag for tag in tags if where.get(tag) != digest]
            if wrong:
                return "%d tag(s) not at the image in %s" % (len(wrong), repository)
        return ""


def _recap_changed(output):
    match = re.search(r"^localhost\s+:.*\bchanged=(\d+)", output, re.M)
    return int(match.group(1)) if match else None


def minimum(mode, repositories, tags):
    """The fewest API calls that can do the work: one read per repository, plus one PutImage per
    moved tag; no write on a re-run or a dry run."""
    return repositories, (repositories * tags if mode == "move" else 0)


def measure_case(bench, label, tools, repositories_for, tags, runs, endpoint, registry, results):
    """Each tool: per run, move every tag to the other image, re-run, then dry-run a move back."""
    for tool in tools:
        repositories = repositories_for(tool)
        pair = bench.images[repositories[0]]
        for number in range(runs):
            target, other = pair[number % 2], pair[(number + 1) % 2]
            for mode in MODES:
                image = other if mode == "dry" else target
                argv, env = bench.command(tool, mode, repositories, tags, image, endpoint, registry)
                if argv is None:
                    continue
                result = bench.run(argv, env)
                result["problem"] = ""
                if mode != "dry":
                    result["problem"] = bench.check_tags(repositories, tags, target["digest"])
                elif bench.check_tags(repositories, tags, target["digest"]):
                    result["problem"] = "the dry run moved tags"
                key = (label, tool, mode)
                results.setdefault(key, []).append(result)
                sys.stderr.write("  %-28s %-7s %-6s run %d: %6.2fs rc=%d api=%d/%d reg=%d%s\n" % (
                    label, tool, mode, number + 1, result["seconds"], result["rc"], result["api_reads"],
                    result["api_writes"], result["registry_requests"],
                    (" PROBLEM: " + result["problem"]) if result["problem"] else ""))
                if result["rc"] and tool in ANSIBLE_TOOLS:
                    sys.stderr.write(result["output"][-3000:])


def measure_memory(bench, endpoint, registry, runs):
    """Peak RSS for moving one tag to a 4 MiB index, against the same for a small image."""
    rows = []
    big = bench.big_index_repository("bench-memory-big")
    for tool in ["module", "role", "skopeo", "awscli"]:
        peaks = {}
        for label, image in (("small", bench.images["bench-memory-big"][1]), ("4 MiB index", big[0])):
            values = []
            for number in range(runs):
                argv, env = bench.command(tool, "move", ["bench-memory-big"], ["mem-%d" % number], image,
                                          endpoint, registry)
                result = bench.run(argv, env)
                if result["rc"]:
                    sys.stderr.write(result["output"][-3000:])
                values.append(result["rss_mib"] if not result["rc"] else float("nan"))
            peaks[label] = statistics.median(values)
        rows.append((tool, peaks["small"], peaks["4 MiB index"]))
        sys.stderr.write("  memory %-7s small %.0f MiB, 4 MiB index %.0f MiB\n"
                         % (tool, peaks["small"], peaks["4 MiB index"]))
    return rows, big[0]["size"]


def versions():
    def first_line(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.splitlines()[0]
        except (OSError, IndexError):
            return "not found"
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "machine": "%s, %d cores, %.0f GiB, Linux %s" % (
            cpu, os.cpu_count(), os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, platform.release()),
        "python": platform.python_version(),
        "ansible-core": first_line(["ansible", "--version"]),
        "boto3": boto3.__version__,
        "skopeo": first_line(["skopeo", "--version"]),
        "aws": first_line(["aws", "--version"]),
        "registry": first_line(["docker-registry", "--version"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per case and tool (default: %(default)s)")
    parser.add_argument("--sizes", default="1,10,100", help="tag counts (default: %(default)s)")
    parser.add_argument("--delays", default="0,50", help="added ms per request; 0 is plain loopback")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    parser.add_argument("--json", help="also write every measurement here")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",")]
    delays = [int(d) for d in args.delays.split(",")]
    tools = args.tools.split(",")
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="seaport-bench-") as workdir, \
            LocalEcrPublic(workdir=os.path.join(workdir, "localecr")) as ecr:
        bench = Bench(ecr, workdir, args)
        info = versions()
        results = {delay: {} for delay in delays}
        sys.stderr.write("bench: peak memory\n")
        memory = measure_memory(bench, ecr.endpoint_url, ecr.registry.address, args.runs)
        proxies = [DelayProxy(ecr.server.server_address, delay).start() for delay in delays if delay]
        proxies += [DelayProxy(("127.0.0.1", ecr.registry.port), delay).start() for delay in delays if delay]
        routes = {0: (ecr.endpoint_url, ecr.registry.address)}
        for delay, api, registry in zip([d for d in delays if d], proxies, proxies[len(proxies) // 2:]):
            routes[delay] = ("http://" + api.address, registry.address)
        try:
            # Cheap work first, each on both networks, and the report rewritten after each: an
            # interrupted run still leaves every finished case in the document.
            for size in [n for n in sizes if n < 100] + ["promotion"] + [n for n in sizes if n >= 100]:
                for delay in delays:
                    endpoint, registry = routes[delay]
                    sys.stderr.write("bench: %s, %s\n" % (size, "loopback" if not delay else "%d ms" % delay))
                    if size == "promotion":
                        repos = {tool: ["promo-%s-%d-%d" % (tool, n, delay) for n in range(PROMOTION_REPOSITORIES)]
                                 for tool in tools if tool != "naive"}
                        for name in [name for names in repos.values() for name in names]:
                            bench.repository(name)
                        measure_case(bench, "prod in %d repositories" % PROMOTION_REPOSITORIES, list(repos),
                                     repos.get, ["prod"], args.runs, endpoint, registry, results[delay])
                    else:
                        label = "%d tag%s" % (size, "s" if size > 1 else "")
                        for tool in tools:
                            bench.repository("bench-%s-%d-%d" % (tool, size, delay))
                        measure_case(bench, label, tools,
                                     lambda tool, s=size, d=delay: ["bench-%s-%d-%d" % (tool, s, d)],
                                     ["t%03d" % n for n in range(size)], args.runs, endpoint, registry,
                                     results[delay])
                    write_report(args, results, memory, info, started)
        finally:
            for proxy in proxies:
                proxy.stop()
    text = write_report(args, results, memory, info, started)
    print(text)
    sys.stderr.write("bench: wrote %s (%.1f min)\n" % (args.out, (time.monotonic() - started) / 60))
    return 0


def write_report(args, results, memory, info, started):
    text = report(results, memory, info, args.runs, (time.monotonic() - started) / 60)
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"%s|%s" % (delay, "|".join(key)): [dict(r, output=None) for r in runs]
                       for delay, cases in results.items() for key, runs in cases.items()}, handle, indent=1)
    return text


# --- the report -----------------------------------------------------------------------------

def _median(results, field):
    return statistics.median(r[field] for r in results)


def report(results, memory, info, runs, minutes):
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make bench` on %s (%.0f minutes). Do not edit by hand: the text around the tables is "
        "in `benchmarks/report.md`." % (datetime.date.today().isoformat(), minutes),
        "",
    ]
    with open(os.path.join(HERE, "report.md"), encoding="utf-8") as handle:
        intro = handle.read().strip()
    lines += [intro, "", "## Machine and versions", ""]
    lines += ["- %s: %s" % (key, value) for key, value in info.items()]
    for delay, cases in results.items():
        lines += ["", "## %s" % ("Loopback" if not delay else "%d ms added per request" % delay), ""]
        lines += ["Wall time in seconds: median of %d runs (min-max). API: calls to the ECR Public endpoint, "
                  "reads/writes, median per run; minimum: one read plus one PutImage per moved tag. Registry: "
                  "HTTP requests the tool sent to the registry. Changed: what Ansible reported (tasks)." % runs, ""]
        lines += ["| work | mode | tool | seconds | vs module | API reads/writes | minimum | registry | changed | rc | notes |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for (label, tool, mode), measured in sorted(cases.items(), key=lambda kv: _order(kv[0])):
            ours = cases.get((label, "module", mode))
            seconds = [r["seconds"] for r in measured]
            ratio = (statistics.median(seconds) / _median(ours, "seconds")) if ours else None
            least = minimum(mode, *_shape(label))
            changed = sorted(set(r["changed"] for r in measured if r["changed"] is not None))
            problems = sorted(set(r["problem"] for r in measured if r["problem"]))
            rcs = sorted(set(r["rc"] for r in measured))
            lines.append("| %s | %s | %s | %.2f (%.2f-%.2f) | %s | %g/%g | %d/%d | %g | %s | %s | %s |" % (
                label, mode, tool, statistics.median(seconds), min(seconds), max(seconds),
                "%.2fx" % ratio if ratio else "-",
                _median(measured, "api_reads"), _median(measured, "api_writes"), least[0], least[1],
                _median(measured, "registry_requests"),
                ",".join(str(c) for c in changed) or "-", ",".join(str(rc) for rc in rcs),
                "; ".join(problems)))
    lines += ["", "## Targets", ""] + targets(results)
    rows, big_size = memory
    lines += ["", "## Peak memory", "",
              "Peak resident memory of the largest process (MiB, median of %d runs) when pointing one tag at a "
              "small image and at an OCI index of %d bytes, on loopback. For Ansible this is the controller or "
              "the module process, whichever is larger." % (runs, big_size), "",
              "| tool | small image | 4 MiB index |", "|---|---|---|"]
    lines += ["| %s | %.0f | %.0f |" % row for row in rows]
    return "\n".join(lines) + "\n"


def targets(results):
    """The issue's targets, each met or missed, from the measurements."""
    lines = []
    for delay, cases in results.items():
        where = "loopback" if not delay else "%d ms" % delay
        for (label, tool, mode), measured in sorted(cases.items(), key=lambda kv: _order(kv[0])):
            if tool != "module":
                continue
            least = minimum(mode, *_shape(label))
            got = (_median(measured, "api_reads"), _median(measured, "api_writes"))
            verdict = "met" if got == least else "missed: %g reads/%g writes against %d/%d" % (got + least)
            lines.append("- %s, %s, %s: requests equal to the minimum: %s" % (where, label, mode, verdict))
        for mode in ("move", "rerun", "dry"):
            one, many = cases.get(("100 tags", "module", mode)), cases.get(("100 tags", "naive", mode))
            if one and many:
                ratio = _median(many, "seconds") / _median(one, "seconds")
                lines.append("- %s, 100 tags, %s: one task %.1fx faster than 100 tasks (target 5x): %s"
                             % (where, mode, ratio, "met" if ratio >= 5 else "missed"))
        if delay:
            for label in sorted(set(key[0] for key in cases), key=lambda l: _order((l, "module", "move"))):
                ours, theirs = cases.get((label, "module", "move")), cases.get((label, "skopeo", "move"))
                if ours and theirs and _shape(label)[0] == 1 and _shape(label)[1] >= 10:
                    a, b = _median(ours, "seconds"), _median(theirs, "seconds")
                    lines.append("- %s, %s: module %.2fs against the skopeo loop's %.2fs: %s"
                                 % (where, label, a, b, "met" if a < b else "missed"))
    return lines


def _shape(label):
    """(repositories, tags per repository) of a case, from its label."""
    if "repositories" in label:
        return PROMOTION_REPOSITORIES, 1
    return 1, int(label.split()[0])


def _order(key):
    label, tool, mode = key
    return (int(label.split()[0]) if label[0].isdigit() else 10**6, label, MODES.index(mode), TOOLS.index(tool))


if __name__ == "__main__":
    sys.exit(main())
