"""Build small, valid container images without Docker and push their blobs to a registry.

Docker v2 schema 2 and OCI images (a gzip tar layer, a config, a manifest) and multi-platform
indexes. Content is deterministic for a given ``seed``, so tests can rebuild the same digests.
Manifests are serialized with 3-space indentation, like Docker's, so that any re-serialization
shows up as a new digest.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile

from .registry import sha256_digest

MEDIA_TYPES = {
    "oci": {
        "manifest": "application/vnd.oci.image.manifest.v1+json",
        "index": "application/vnd.oci.image.index.v1+json",
        "config": "application/vnd.oci.image.config.v1+json",
        "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
    },
    "docker": {
        "manifest": "application/vnd.docker.distribution.manifest.v2+json",
        "index": "application/vnd.docker.distribution.manifest.list.v2+json",
        "config": "application/vnd.docker.container.image.v1+json",
        "layer": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    },
}


def _layer(content):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue(), sha256_digest(raw.getvalue())


def _dump(document):
    return json.dumps(document, indent=3).encode()


def build_image(fmt="oci", seed="seaport", platform="linux/amd64", layers=1, omit_media_type=False):
    """Return (manifest bytes, {digest: blob bytes}) for a single-platform image."""
    types = MEDIA_TYPES[fmt]
    os_name, arch = platform.split("/")[:2]
    blobs, layer_descriptors, diff_ids = {}, [], []
    for number in range(layers):
        data, diff_id = _layer(("%s %s layer %d\n" % (seed, platform, number)).encode())
        digest = sha256_digest(data)
        blobs[digest] = data
        diff_ids.append(diff_id)
        layer_descriptors.append({"mediaType": types["layer"], "size": len(data), "digest": digest})
    config = _dump(
        {
            "architecture": arch,
            "os": os_name,
            "config": {"Cmd": ["/hello.txt"], "Labels": {"seed": seed}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    )
    config_digest = sha256_digest(config)
    blobs[config_digest] = config
    manifest = {"schemaVersion": 2, "mediaType": types["manifest"]}
    if omit_media_type:
        del manifest["mediaType"]  # OCI allows leaving it out; PutImage then needs the media type
    manifest["config"] = {"mediaType": types["config"], "size": len(config), "digest": config_digest}
    manifest["layers"] = layer_descriptors
    return _dump(manifest), blobs


def build_index(fmt, platforms, child_manifests, omit_media_type=False):
    """Return (index bytes, media type) listing one child manifest per platform."""
    types = MEDIA_TYPES[fmt]
    descriptors = []
    for platform, child in zip(platforms, child_manifests):
        os_name, arch = platform.split("/")[:2]
        descriptors.append({"mediaType": types["manifest"], "size": len(child), "digest": sha256_digest(child),
                            "platform": {"architecture": arch, "os": os_name}})
    index = {"schemaVersion": 2, "mediaType": types["index"], "manifests": descriptors}
    if omit_media_type:
        del index["mediaType"]
    return _dump(index), types["index"]


def build_and_push(registry, repository, fmt="oci", seed="seaport", platforms=None, layers=1, tag=None,
                   push_manifest=False, push_blobs=True, push_children=True, omit_media_type=False):
    """Build an image (an index when ``platforms`` lists several) and push it to ``repository``.

    Blobs are pushed unless ``push_blobs`` is false; an index's child manifests unless
    ``push_children`` is false; the top manifest only with ``push_manifest`` (under ``tag``, or
    by digest). Returns a dict: manifest (text), digest, media_type, size, blobs (digests of
    config and layers), children (child manifest digests).
    """
    types = MEDIA_TYPES[fmt]
    platforms = platforms or ["linux/amd64"]
    all_blobs, children = {}, []
    if len(platforms) == 1:
        manifest, all_blobs = build_image(fmt, seed, platforms[0], layers, omit_media_type)
        media_type = types["manifest"]
    else:
        built = [build_image(fmt, seed, platform, layers) for platform in platforms]
        for child, blobs in built:
            all_blobs.update(blobs)
            children.append((sha256_digest(child), child))
        manifest, media_type = build_index(fmt, platforms, [child for child, _blobs in built], omit_media_type)
    if push_blobs:
        for data in all_blobs.values():
            registry.push_blob(repository, data)
        if push_children:
            for child_digest, child in children:
                registry.put_manifest(repository, child_digest, child, types["manifest"])
    digest = sha256_digest(manifest)
    if push_manifest:
        registry.put_manifest(repository, tag or digest, manifest, media_type)
    return {
        "manifest": manifest.decode(),
        "digest": digest,
        "media_type": media_type,
        "size": len(manifest),
        "blobs": sorted(all_blobs),
        "children": [child_digest for child_digest, _child in children],
    }
