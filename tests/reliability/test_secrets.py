"""Nothing secret in the output, even at -vvvv: AWS keys and session token passed as options,
registry passwords, the Basic header made of them, and the bearer tokens a registry issued."""

from __future__ import annotations

import base64
import json
import urllib.request

from conftest import Ansible, client_for, make_repository, tag_map

SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE-session-token-sentinel-7f3a9c"
WRONG_SECRET = "wrong-secret-key-sentinel-0b1e4d"


def test_no_secret_in_vvvv_output(shared_endpoint, tmp_path):
    ecr = shared_endpoint
    auth = ecr.auth.info
    image = make_repository(client_for(ecr), "secrets")[0]
    alias = ecr.service.alias
    aws = {"access_key": ecr.info["access_key"], "secret_key": ecr.info["secret_key"],
           "session_token": SESSION_TOKEN, "endpoint_url": ecr.endpoint_url, "region": ecr.info["region"]}
    login = {"username": auth["basic"]["username"], "password": auth["basic"]["password"], "insecure": True}
    lookup = "{{ lookup('seaport.registry.manifest', %s, **registry_login) }}"
    tasks = [
        {"name": "Put a tag, options carrying the AWS secrets", "register": "put",
         "seaport.registry.ecr_public_image": dict(aws, repository_name="secrets", image_manifest=image["manifest"],
                                                   image_tag="put")},
        {"name": "Read the repository", "seaport.registry.ecr_public_image_info": dict(aws, repository_name="secrets")},
        {"name": "Fetch through basic auth", "ansible.builtin.set_fact": {
            "basic": lookup % json.dumps("%s/%s/secrets@%s" % (auth["basic"]["address"], alias, image["digest"]))}},
        {"name": "Fetch through token auth", "ansible.builtin.set_fact": {
            "token": lookup % json.dumps("%s/%s/secrets@%s" % (auth["token"]["address"], alias, image["digest"]))}},
        {"name": "Release with the role, through token auth", "ansible.builtin.include_role": {
            "name": "seaport.registry.release_tag"},
         "vars": {"release_tag_source": "%s/%s/secrets@%s" % (auth["token"]["address"], alias, image["digest"]),
                  "release_tag_repository": "secrets", "release_tag_tags": ["role"], "release_tag_aws": aws,
                  "release_tag_registry_auth": login}},
        {"name": "A refused call", "block": [
            {"name": "Put with a wrong secret key", "seaport.registry.ecr_public_image": dict(
                aws, secret_key=WRONG_SECRET, repository_name="secrets", image_manifest=image["manifest"],
                image_tag="never")}],
         "rescue": [{"name": "Note the refusal", "ansible.builtin.set_fact": {"refused": "{{ ansible_failed_result.msg }}"}}]},
        {"name": "Keep the outcome", "ansible.builtin.set_fact": {
            "out": {"basic": "{{ basic.digest }}", "token": "{{ token.digest }}", "refused": "{{ refused }}"}}},
    ]
    ansible = Ansible(ecr, str(tmp_path))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # the options must carry them
        ansible.env.pop(name)
    # In the play, not in -e: ansible-playbook itself prints its command line's extra vars at -vvvv.
    run = ansible.play(tasks, name="secrets", verbosity=4, play_vars={"registry_login": login})

    assert run.rc == 0, run
    # The secrets were really used: the puts went through, both registries answered, a token was issued.
    assert tag_map(ecr, "secrets") == {"put": image["digest"], "role": image["digest"]}
    assert run.out["basic"] == run.out["token"] == image["digest"]
    assert "InvalidSignature" in run.out["refused"] or "signature" in run.out["refused"].lower()
    with urllib.request.urlopen(auth["token"]["issuer_stats_url"], timeout=10) as response:
        tokens = [entry["token"] for entry in json.load(response)["issued"] if entry["authenticated"]]
    assert tokens
    assert "<run rc=0>" in repr(run) and "ESTABLISH LOCAL CONNECTION" in run.output  # really -vvvv

    basic_header = base64.b64encode(("%s:%s" % (login["username"], login["password"])).encode()).decode()
    secrets = {"AWS secret key": ecr.info["secret_key"], "session token": SESSION_TOKEN,
               "wrong secret key": WRONG_SECRET, "registry password": login["password"],
               "Basic header": basic_header}
    secrets.update(("bearer token %d" % n, token) for n, token in enumerate(tokens))
    leaked = [name for name, secret in secrets.items() if secret in run.output]
    assert not leaked, "found in the -vvvv output: %s" % ", ".join(leaked)
