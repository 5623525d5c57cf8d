"""Promoting 50 tags through injected faults ends with every tag where it should be, none lost or
misdirected, and ``changed`` exact, per tag."""

from __future__ import annotations

import time

import pytest

from conftest import FIGURES, client_for, make_repository, promote_tasks, tag_map

TAGS = ["t%02d" % n for n in range(50)]
ALREADY, MOVING, NEW = TAGS[:20], TAGS[20:35], TAGS[35:]  # at the new image, at the old one, absent

FAULTS = {
    "throttling-30pct": {"throttle_rate": 0.3, "seed": 1},
    "server-error-bursts": {"server_error_rate": 0.15, "server_error_burst": 3, "seed": 2},
    "latency-150ms": {"latency_ms": 150},
    "dropped-before-applying": {"drop_rate": 0.15, "seed": 3},
    "answers-lost-after-applying": {"drop_rate": 0.15, "drop_after": True, "seed": 4},
    "all-at-once": {"throttle_rate": 0.3, "server_error_rate": 0.05, "server_error_burst": 2, "latency_ms": 30,
                    "drop_rate": 0.1, "drop_after": True, "seed": 5},
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fifty_tags_land_exactly_through_faults(endpoint, ansible, name):
    faults = FAULTS[name]
    client = client_for(endpoint)
    old, new = make_repository(client, "app")
    for tags, image in ((ALREADY, new), (MOVING + ["keep"], old)):
        for tag in tags:
            client.put_image(repositoryName="app", imageManifest=image["manifest"], imageTag=tag)
    mark = len(endpoint.requests())

    endpoint.set_faults(**faults)
    started = time.monotonic()
    run = ansible.play(promote_tasks(new["manifest"], TAGS), name="faults")
    seconds = time.monotonic() - started
    endpoint.set_faults()

    assert run.rc == 0, run
    log = endpoint.requests(mark)
    injected = [entry for entry in log if entry.get("fault")]
    if faults.get("latency_ms", 0) >= 100:
        assert seconds > len(log) * faults["latency_ms"] / 1000.0
    else:
        assert injected, "no fault was injected: the test would prove nothing"
    report = {image["image_tag"]: (image["previous_digest"], image["changed"]) for image in run.out["images"]}
    assert report == dict(
        [(tag, (new["digest"], False)) for tag in ALREADY] + [(tag, (old["digest"], True)) for tag in MOVING]
        + [(tag, (None, True)) for tag in NEW]
    )
    assert run.out["changed"] is True
    kinds = {}
    for entry in injected:
        kinds[entry["fault"]] = kinds.get(entry["fault"], 0) + 1
    FIGURES.append("faults %-28s %3d API calls for 30 moves, injected %-32s %5.1f s, every tag exact" % (
        name, len(log), ", ".join("%d %s" % (n, kind) for kind, n in sorted(kinds.items())) or "latency only",
        seconds))
    assert tag_map(endpoint, "app") == dict([(tag, new["digest"]) for tag in TAGS] + [("keep", old["digest"])])
    puts = [entry for entry in log if entry["operation"] == "PutImage"]
    assert all(entry["params"]["imageTag"] in MOVING + NEW for entry in puts)  # no write for a tag in place

    mark = len(endpoint.requests())
    again = ansible.play(promote_tasks(new["manifest"], TAGS), name="again")
    assert again.rc == 0, again
    assert again.out["changed"] is False
    assert [entry["operation"] for entry in endpoint.requests(mark)] == ["DescribeImages"]
