"""Test fixtures through the ECR Public API only, so they work on the local endpoint and on AWS.

    python -m localecr.fixture [--service ecr] create-repository NAME [--immutable]
    python -m localecr.fixture delete-repository NAME
    python -m localecr.fixture image REPOSITORY [--seed S] [--fmt oci|docker] [--platform P ...]
                                     [--no-blobs] [--no-children] [--omit-media-type]

``image`` builds a test image (images.py), uploads its blobs with the layer-upload API
(InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload) unless --no-blobs, puts an index's
platform images by digest unless --no-children, puts the manifest under --tag if given, and prints JSON: manifest, digest, media_type,
blobs, children.

Connection: the AWS_* environment (AWS_ENDPOINT_URL for the local endpoint).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import boto3

from . import images
from .registry import sha256_digest


def client(service="ecr-public"):
    return boto3.client(service, region_name=os.environ.get("AWS_REGION", "us-east-1"),
                        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def upload_blob(ecr, repository, data):
    digest = sha256_digest(data)
    available = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])["layers"]
    if available:
        return digest
    upload = ecr.initiate_layer_upload(repositoryName=repository)
    part = upload["partSize"]
    for first in range(0, len(data), part):
        chunk = data[first:first + part]
        ecr.upload_layer_part(repositoryName=repository, uploadId=upload["uploadId"], partFirstByte=first,
                              partLastByte=first + len(chunk) - 1, layerPartBlob=chunk)
    ecr.complete_layer_upload(repositoryName=repository, uploadId=upload["uploadId"], layerDigests=[digest])
    return digest


def make_image(ecr, repository, fmt="oci", seed="seaport", platforms=None, blobs=True, children=True,
               omit_media_type=False, tag=None):
    platforms = platforms or ["linux/amd64"]
    types = images.MEDIA_TYPES[fmt]
    built = [images.build_image(fmt, seed, platform, omit_media_type=omit_media_type and len(platforms) == 1)
             for platform in platforms]
    all_blobs = {}
    for _manifest, image_blobs in built:
        all_blobs.update(image_blobs)
    if blobs:
        for data in all_blobs.values():
            upload_blob(ecr, repository, data)
    if len(built) == 1:
        manifest, media_type, child_digests = built[0][0], types["manifest"], []
    else:
        manifest, media_type = images.build_index(fmt, platforms, [m for m, _b in built], omit_media_type)
        child_digests = [sha256_digest(m) for m, _b in built]
        if blobs and children:
            for child, _b in built:
                try:
                    ecr.put_image(repositoryName=repository, imageManifest=child.decode(),
                                  imageManifestMediaType=types["manifest"])
                except ecr.exceptions.ImageAlreadyExistsException:
                    pass
    if tag:
        try:
            ecr.put_image(repositoryName=repository, imageManifest=manifest.decode(), imageTag=tag,
                          imageManifestMediaType=media_type)
        except ecr.exceptions.ImageAlreadyExistsException:
            pass
    return {"manifest": manifest.decode(), "digest": sha256_digest(manifest), "media_type": media_type,
            "size": len(manifest), "blobs": sorted(all_blobs), "children": child_digests}


def untagged_images(ecr, repository, seeds, platforms=None):
    """Create the repository and put one image per seed in it, untagged (as a build pipeline
    leaves an image before its release); return the images in seed order."""
    ecr.create_repository(repositoryName=repository)
    built = []
    for seed in seeds:
        image = make_image(ecr, repository, seed=seed, platforms=platforms)
        ecr.put_image(repositoryName=repository, imageManifest=image["manifest"],
                      imageManifestMediaType=image["media_type"])
        built.append(image)
    return built


def main(argv=None):
    parser = argparse.ArgumentParser(prog="localecr.fixture")
    parser.add_argument("--service", choices=["ecr-public", "ecr"], default="ecr-public",
                        help="the API to use: ECR Public (default) or private ECR")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("create-repository", "delete-repository"):
        sub.add_parser(name).add_argument("name")
    sub.choices["create-repository"].add_argument("--immutable", action="store_true",
                                                  help="private ECR: imageTagMutability IMMUTABLE")
    image = sub.add_parser("image")
    image.add_argument("repository")
    image.add_argument("--seed", default="seaport")
    image.add_argument("--fmt", choices=sorted(images.MEDIA_TYPES), default="oci")
    image.add_argument("--platform", action="append", dest="platforms")
    image.add_argument("--no-blobs", dest="blobs", action="store_false")
    image.add_argument("--no-children", dest="children", action="store_false")
    image.add_argument("--omit-media-type", action="store_true")
    image.add_argument("--tag", help="also put the manifest under this tag")
    args = parser.parse_args(argv)
    ecr = client(args.service)
    if args.command == "create-repository":
        extra = {"imageTagMutability": "IMMUTABLE"} if args.immutable else {}
        try:
            result = ecr.create_repository(repositoryName=args.name, **extra)["repository"]
        except ecr.exceptions.RepositoryAlreadyExistsException:
            result = ecr.describe_repositories(repositoryNames=[args.name])["repositories"][0]
        print(json.dumps({"repository_name": result["repositoryName"], "registry_id": result["registryId"]}))
    elif args.command == "delete-repository":
        try:
            ecr.delete_repository(repositoryName=args.name, force=True)
        except ecr.exceptions.RepositoryNotFoundException:
            pass
        print("{}")
    else:
        print(json.dumps(make_image(ecr, args.repository, args.fmt, args.seed, args.platforms, args.blobs,
                                    args.children, args.omit_media_type, args.tag)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
