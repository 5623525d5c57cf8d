"""A corpus of malformed input across the modules, the manifest lookup and the role. Each case
must fail with a message that names the problem, and the endpoint must see no write.

All cases run in one playbook (one block each, its failure caught by rescue), against a
repository where the same call with good input would write.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from conftest import FIGURES, Ansible, client_for, make_repository

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def _digest(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def corpus(good, registry, other):
    """(case id, kind, arguments, expected message pattern). ``good`` is an image in repository
    app; ``registry`` the registry/alias prefix of references; ``other`` a second image."""
    text = good["manifest"]
    doc = json.loads(text)
    no_type = json.dumps({k: v for k, v in doc.items() if k != "mediaType"}, indent=3)
    module = [
        ("invalid-json", {"image_manifest": text[:-5]}, r"not valid JSON"),
        ("json-array", {"image_manifest": "[]"}, r"JSON object"),
        ("json-string", {"image_manifest": '"manifest"'}, r"JSON object"),
        ("empty-manifest", {"image_manifest": ""}, r"image_manifest|empty"),
        ("yaml-mapping", {"image_manifest": doc}, r"mapping|string"),
        ("not-an-image", {"image_manifest": '{"hello": "world"}'}, r"no schemaVersion"),
        ("schema-1", {"image_manifest": json.dumps({"schemaVersion": 1, "name": "x", "tag": "y", "fsLayers": []})},
         r"schemaVersion 1"),
        ("crlf-pinned", {"image_manifest": text.replace("\n", "\r\n"), "image_digest": good["digest"]},
         r"changed to CRLF"),
        ("trailing-newline-pinned", {"image_manifest": text + "\n", "image_digest": good["digest"]}, r"trailing newline was added"),
        ("oversize", {"image_manifest": text[:-1] + ', "x": "' + "a" * 4194304 + '"}'}, r"4,?194,?304|too large|size"),
        ("wrong-media-type", {"image_manifest": text, "image_manifest_media_type": DOCKER_MANIFEST},
         r"media type|mediaType"),
        ("unknown-media-type", {"image_manifest": text, "image_manifest_media_type": "application/json"},
         r"image_manifest_media_type must be one of"),
        ("missing-media-type", {"image_manifest": no_type}, r"media type|image_manifest_media_type"),
        ("tag-leading-dash", {"image_manifest": text, "image_tag": "-prod"}, r"Invalid image tag"),
        ("tag-space", {"image_manifest": text, "image_tag": "new prod"}, r"Invalid image tag"),
        ("tag-colon", {"image_manifest": text, "image_tag": "app:prod"}, r"Invalid image tag"),
        ("tag-unicode", {"image_manifest": text, "image_tag": "relé"}, r"Invalid image tag"),
        ("tag-too-long", {"image_manifest": text, "image_tag": "a" * 129}, r"Invalid image tag"),
        ("tag-empty", {"image_manifest": text, "image_tag": ""}, r"Invalid image tag"),
        ("one-bad-tag-among-good", {"image_tag": None, "image_tags": ["ok1", "ok2", "bad/tag"]}, r"bad/tag"),
        ("repository-uppercase", {"repository_name": "App", "image_manifest": text, "image_tag": "x"},
         r"Invalid repository name"),
        ("repository-double-slash", {"repository_name": "app//web", "image_manifest": text, "image_tag": "x"},
         r"Invalid repository name"),
        ("repository-leading-dash", {"repository_name": "-app", "image_manifest": text, "image_tag": "x"},
         r"Invalid repository name"),
        ("repository-unicode", {"repository_name": "äpp", "image_manifest": text, "image_tag": "x"},
         r"Invalid repository name"),
        ("repository-unknown", {"repository_name": "no-such-repo", "image_manifest": text, "image_tag": "x"},
         r"no-such-repo.*(not found|does not exist)|(not found|does not exist).*no-such-repo"),
        ("digest-malformed", {"image_manifest": text, "image_digest": "sha256:xyz"}, r"Invalid image_digest"),
        ("digest-md5", {"image_manifest": text, "image_digest": "md5:" + "0" * 32}, r"Invalid image_digest"),
        ("digest-uppercase", {"image_manifest": text, "image_digest": good["digest"].upper()}, r"Invalid image_digest"),
        ("digest-of-another-image", {"image_manifest": text, "image_digest": other["digest"]}, r"not image_digest"),
        ("registry-id-malformed", {"registry_id": "12345"}, r"Invalid registry_id '12345'"),
        ("layers-missing", {"image_manifest": _layerless(doc), "image_tag": "x"}, r"lacks .* blob"),
        ("absent-without-target", {"state": "absent", "image_tag": None, "image_manifest": None}, r"tags to remove|image_digest"),
    ]
    private = [
        ("alias-as-registry-id", {"registry_id": "acme"}, r"registry_id.*12-digit"),
        ("bad-tag", {"image_tag": "v1 final"}, r"tag 'v1 final'"),
        ("unknown-repository", {"repository_name": "no-such-repo"}, r"no-such-repo.*aws ecr create-repository"),
    ]
    base = {"repository_name": "app", "image_tag": "x", "image_manifest": text}
    cases = [("module/" + name, "module", _without_none(dict(base, **args)), expect) for name, args, expect in module]
    cases += [("ecr_image/" + name, "ecr_image", _without_none(dict(base, **args)), expect)
              for name, args, expect in private]
    lookups = [
        ("malformed", "not a reference!!", r"reference"),
        ("uppercase-repository", registry + "/App:latest", r"reference|repository"),
        ("short-digest", registry + "/app@sha256:abc", r"digest"),
        ("empty", "", r"reference|empty"),
        ("unknown-repository", registry + "/no-such-repo:latest", r"no-such-repo"),
        ("unknown-tag", registry + "/app:no-such-tag", r"no-such-tag"),
        ("unknown-digest", registry + "/app@" + _digest("nothing"), r"not found|unknown|manifest"),
        ("tag-too-long", registry + "/app:" + "a" * 129, r"reference|tag"),
        ("bad-platform", {"term": registry + "/app@" + good["digest"], "platform": "linux/amd64/v8/extra"},
         r"platform"),
    ]
    cases += [("lookup/" + name, "lookup", term if isinstance(term, dict) else {"term": term}, expect)
              for name, term, expect in lookups]
    role = [
        ("version-not-semver", {"release_tag_version": "1.4"}, r"semantic version"),
        ("version-four-parts", {"release_tag_version": "1.4.2.1"}, r"semantic version"),
        ("short-source-without-url", {"release_tag_source": ":staging"}, r"release_tag_registry_url"),
        ("unknown-service", {"release_tag_service": "gcr"}, r"release_tag_service|gcr"),
        ("missing-repository", {"release_tag_repository": None}, r"release_tag_repository"),
        ("bad-tag", {"release_tag_tags": ["prod env"]}, r"tag"),
        ("malformed-source", {"release_tag_source": "not a reference!!"}, r"reference"),
        ("unknown-source", {"release_tag_source": registry + "/app:no-such-tag"}, r"no-such-tag"),
        ("unknown-target-repository", {"release_tag_repository": "no-such-repo"}, r"no-such-repo"),
    ]
    base = {"release_tag_source": registry + "/app@" + good["digest"], "release_tag_repository": "app",
            "release_tag_tags": ["x"], "release_tag_registry_auth": {"insecure": True}}
    cases += [("role/" + name, "role", _without_none(dict(base, **args)), expect) for name, args, expect in role]
    return cases


def _without_none(args):
    return {key: value for key, value in args.items() if value is not None}


def _layerless(doc):
    """The image with a layer that was never uploaded."""
    changed = json.loads(json.dumps(doc))
    changed["layers"][0]["digest"] = _digest("never uploaded")
    return json.dumps(changed, indent=3)


def case_block(number, case_id, kind, args):
    if kind in ("module", "ecr_image"):
        task = {"name": case_id, "seaport.registry.%s" % ("ecr_public_image" if kind == "module" else kind): args}
    elif kind == "lookup":
        options = ", ".join("%s=%s" % (key, json.dumps(value)) for key, value in args.items() if key != "term")
        task = {"name": case_id, "ansible.builtin.set_fact": {
            "fetched": "{{ lookup('seaport.registry.manifest', %s, insecure=true%s) }}"
                       % (json.dumps(args["term"]), ", " + options if options else "")}}
    else:
        task = {"name": case_id, "ansible.builtin.include_role": {"name": "seaport.registry.release_tag"},
                "vars": args}
    record = "{{ out | combine({%s: %s}) }}"
    writes = "(lookup('ansible.builtin.url', control_url ~ '/requests', split_lines=false) | from_json).writes | length"
    return {
        "name": "Case %d" % number,
        "block": [task, {"name": "Note success", "ansible.builtin.set_fact": {
            "out": record % (json.dumps(case_id), "{'failed': false}")}}],
        "rescue": [{"name": "Note the failure", "ansible.builtin.set_fact": {
            "out": record % (json.dumps(case_id), "{'failed': true, 'msg': ansible_failed_result.msg | default(''), "
                                                  "'errors': ansible_failed_result.argument_errors | default([])}")}}],
        "always": [{"name": "Count the writes so far", "ansible.builtin.set_fact": {
            "out": record % (json.dumps(case_id + "#writes"), writes)}}],
    }


@pytest.fixture(scope="module")
def outcomes(shared_endpoint, tmp_path_factory):
    ecr = shared_endpoint
    good, other = make_repository(client_for(ecr), "app")
    registry = "%s/%s" % (ecr.registry.address, ecr.service.alias)
    cases = corpus(good, registry, other)
    ansible = Ansible(ecr, str(tmp_path_factory.mktemp("corpus")))
    writes_before = len(ecr.writes())
    run = ansible.play([case_block(n, *case[:3]) for n, case in enumerate(cases)], name="corpus",
                       extra_vars={"control_url": ecr.info["control_url"]})
    assert run.rc == 0, run
    return {"cases": cases, "out": run.out, "writes": len(ecr.writes()) - writes_before, "before": writes_before}


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        stub = {"manifest": json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [{}]}),
                "digest": _digest("")}
        ids = [case[0] for case in corpus(stub, "r", stub)]
        metafunc.parametrize("case", ids, ids=ids)


def test_the_corpus_is_large_enough(outcomes):
    kinds = [kind for _id, kind, _args, _expect in outcomes["cases"]]
    assert len(kinds) >= 40 and set(kinds) == {"module", "ecr_image", "lookup", "role"}


def test_the_corpus_sent_no_write(outcomes):
    assert outcomes["writes"] == 0
    FIGURES.append("bad input: %d cases, %d refused, %d writes sent" % (
        len(outcomes["cases"]), sum(1 for c in outcomes["cases"] if outcomes["out"][c[0]]["failed"]),
        outcomes["writes"]))


def test_case_fails_clearly_without_writing(outcomes, case):
    _id, _kind, _args, expect = next(c for c in outcomes["cases"] if c[0] == case)
    result = outcomes["out"][case]
    assert result["failed"], "%s was accepted" % case
    message = result["msg"] + " " + " ".join(result["errors"])
    assert re.search(expect, message, re.I | re.S), message
    assert int(outcomes["out"][case + "#writes"]) == outcomes["before"], "%s sent a write" % case
