#!/usr/bin/env python3
"""Add an image to an OCI image layout directory (the project's image store), with no registry and no Docker.

    mkimage.py STORE --name docker.io/library/busybox:1.36 [--name ...] --layer a.tar [--layer b.tar ...]
               [--entrypoint JSON] [--cmd JSON] [--env K=V ...] [--user UID:GID] [--workdir DIR]

Layers are uncompressed tar files (GNU tar of a rootfs); they are hard-linked (or copied) into
STORE/blobs/sha256. STORE/index.json lists one manifest per name, annotated with
`io.containerd.image.name` (read by `ctr images import`) and `org.opencontainers.image.ref.name`.
`tar -C STORE -cf images.tar .` then imports every image at once; registry.py serves the same store.
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def put_bytes(store: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    blob = store / "blobs" / "sha256" / digest
    if not blob.exists():
        tmp = blob.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(blob)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def put_file(store: Path, path: Path) -> dict:
    digest = sha256_file(path)
    blob = store / "blobs" / "sha256" / digest
    if not blob.exists():
        tmp = blob.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        tmp.replace(blob)
    return {"digest": f"sha256:{digest}", "size": path.stat().st_size}


def normalize(name: str) -> str:
    """Full reference as containerd's CRI names it: busybox -> docker.io/library/busybox:latest."""
    repo, tag = name, "latest"
    if "@" in repo:
        raise SystemExit(f"mkimage: digests are not names: {name}")
    if ":" in repo.rsplit("/", 1)[-1]:
        repo, tag = repo.rsplit(":", 1)
    first = repo.split("/", 1)[0]
    if "/" not in repo or not ("." in first or ":" in first or first == "localhost"):
        repo = "docker.io/" + (repo if "/" in repo else "library/" + repo)
    return f"{repo}:{tag}"


def add_image(store: Path, names: list[str], layers: list[Path], config: dict) -> str:
    (store / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (store / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layer_descs = [{"mediaType": MT_LAYER, **put_file(store, p)} for p in layers]
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in layer_descs]},
        "history": [{"created_by": f"sluice cluster/images: {p.name}"} for p in layers],
    }
    cfg = put_bytes(store, json.dumps(image_config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": MT_CONFIG, **cfg},
        "layers": layer_descs,
    }
    man = put_bytes(store, json.dumps(manifest, sort_keys=True).encode())
    index_path = store / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    entries = [
        e
        for e in index.get("manifests", [])
        if e.get("annotations", {}).get("io.containerd.image.name") not in {normalize(n) for n in names}
    ]
    for n in names:
        full = normalize(n)
        entries.append(
            {
                "mediaType": MT_MANIFEST,
                **man,
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": full,
                    "org.opencontainers.image.ref.name": full.rsplit(":", 1)[1],
                },
            }
        )
    index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": entries}
    tmp = index_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=1, sort_keys=True))
    tmp.replace(index_path)
    return man["digest"]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store", type=Path)
    ap.add_argument("--name", action="append", required=True)
    ap.add_argument("--layer", action="append", required=True, type=Path)
    ap.add_argument("--entrypoint", type=json.loads)
    ap.add_argument("--cmd", type=json.loads)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--user")
    ap.add_argument("--workdir")
    a = ap.parse_args(argv)
    config: dict = {"Env": a.env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
    if a.entrypoint is not None:
        config["Entrypoint"] = a.entrypoint
    if a.cmd is not None:
        config["Cmd"] = a.cmd
    if a.user:
        config["User"] = a.user
    if a.workdir:
        config["WorkingDir"] = a.workdir
    digest = add_image(a.store, a.name, a.layer, config)
    print(f"{digest} {' '.join(normalize(n) for n in a.name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
