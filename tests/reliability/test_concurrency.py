"""Two playbooks moving overlapping tags at the same time.

ECR applies each PutImage on its own; nothing makes a set of tags move at once. What must hold:
every tag ends at the digest of the last PutImage applied to it (the request log's order), each
run's ``changed`` is true to the puts it sent, nothing else moves, and a repeated run repairs
what the other one overwrote.
"""

from __future__ import annotations

import os

from conftest import FIGURES, client_for, make_repository, promote_tasks, tag_map

FIRST = ["c%02d" % n for n in range(0, 30)]
SECOND = ["c%02d" % n for n in range(15, 45)]  # c15..c29 are wanted by both


def promote(manifest, tags, barrier=None):
    """The promotion; with ``barrier`` (a directory), it starts when both runs have reached it."""
    wait = []
    if barrier:
        wait = [{"name": "Arrive", "ansible.builtin.file": {"path": "%s/{{ 999999 | random }}" % barrier,
                                                            "state": "touch", "mode": "0600"}},
                {"name": "Wait for the other run", "ansible.builtin.find": {"paths": barrier}, "register": "arrived",
                 "until": "arrived.matched >= 2", "retries": 600, "delay": 0.1}]
    return wait + promote_tasks(manifest, tags)


def test_overlapping_runs_end_consistent_and_report_what_they_did(endpoint, ansible, tmp_path):
    client = client_for(endpoint)
    one, two = make_repository(client, "app")
    client.put_image(repositoryName="app", imageManifest=one["manifest"], imageTag="untouched")
    mark = len(endpoint.requests())
    # Both runs start their puts together (a barrier), and latency keeps them in flight together.
    endpoint.set_faults(latency_ms=50)
    barrier = str(tmp_path / "barrier")
    os.mkdir(barrier)
    first = ansible.start(promote(one["manifest"], FIRST, barrier), name="first")
    second = ansible.start(promote(two["manifest"], SECOND, barrier), name="second")
    first.wait()
    second.wait()
    endpoint.set_faults()
    assert first.rc == 0, first
    assert second.rc == 0, second

    puts = [entry for entry in endpoint.requests(mark) if entry["operation"] == "PutImage"]
    applied = [(entry["params"]["imageTag"], entry["params"]["imageDigest"]) for entry in puts
               if entry["outcome"] == "ok"]
    # The runs overlapped: the other run's puts fall between the first and last of each run.
    by_run = [[n for n, (_tag, digest) in enumerate(applied) if digest == image["digest"]] for image in (one, two)]
    assert by_run[0] and by_run[1]
    assert by_run[0][0] < by_run[1][-1] and by_run[1][0] < by_run[0][-1], "the runs did not overlap; no test"

    expected = {"untouched": one["digest"]}
    for tag, digest in applied:
        expected[tag] = digest  # the last applied put wins
    final = tag_map(endpoint, "app")
    assert final == expected
    assert set(final) == set(FIRST) | set(SECOND) | {"untouched"}
    assert all(final[tag] == one["digest"] for tag in FIRST if tag not in SECOND)
    assert all(final[tag] == two["digest"] for tag in SECOND if tag not in FIRST)

    shared = [tag for tag in FIRST if tag in SECOND]
    winners = set(final[tag] for tag in shared)
    FIGURES.append("concurrency: %d applied puts, interleaved; the %d shared tags ended %s" % (
        len(applied), len(shared), "all with one run (a serial order)" if len(winners) == 1
        else "split between the runs (each at its last write)"))

    # Each run reports a change exactly for the tags it put, and the digest it put them at.
    for run, image, tags in ((first, one, FIRST), (second, two, SECOND)):
        sent = set(tag for tag, digest in applied if digest == image["digest"])
        assert set(i["image_tag"] for i in run.out["images"] if i["changed"]) == sent == set(tags)
        assert set(i["image_digest"] for i in run.out["images"]) == {image["digest"]}

    # Running the first again moves back exactly the shared tags that the second took last.
    taken = set(tag for tag in FIRST if final[tag] != one["digest"])
    again = ansible.play(promote(one["manifest"], FIRST), name="again")
    assert again.rc == 0, again
    assert set(i["image_tag"] for i in again.out["images"] if i["changed"]) == taken
    assert again.out["changed"] is bool(taken)
