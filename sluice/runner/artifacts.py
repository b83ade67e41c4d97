"""The local artifact directory: the default artifact repository of `sluice run`.

An output artifact is stored under `<artifact dir>/<key>` with Argo's default key
`<workflow>/<pod>/<name>.tgz` (tar+gzip of the path, its basename as the top entry, as Argo archives);
with `archive: {none: {}}` the file or directory is copied as it is and the key ends in its basename.
The node's outputs then carry the artifact with a key-only location (`s3: {key: ...}`), which is what
Argo reports with a default repository; passing it to a later step (`from:`) hands that key over, and
the input is unpacked from the same directory. `raw` inputs are written from their data; locations this
machine cannot reach (a remote bucket, http, git...) fail the node with a clear message.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

REMOTE_KINDS = ("git", "http", "artifactory", "hdfs", "oss", "gcs", "azure", "plugin")


class ArtifactError(Exception):
    pass


def _archive_kind(art: dict[str, Any]) -> str:
    archive = art.get("archive") or {}
    if "none" in archive:
        return "none"
    if "zip" in archive:
        return "zip"
    return "tgz"


def save(art: dict[str, Any], source: Path, artifact_dir: Path, workflow: str, pod: str) -> dict[str, Any] | None:
    """Store an output artifact; returns the artifact for the node's outputs, or None if optional+missing."""
    name = art.get("name") or "artifact"
    if not source.exists():
        if art.get("optional"):
            return None
        raise ArtifactError(f"output artifact {name}: path {art.get('path')} does not exist")
    kind = _archive_kind(art)
    explicit = (art.get("s3") or {}).get("key") if isinstance(art.get("s3"), dict) else None
    if explicit:
        key = str(explicit)
    elif kind == "none":
        key = f"{workflow}/{pod}/{source.name}"
    elif kind == "zip":
        key = f"{workflow}/{pod}/{name}.zip"
    else:
        key = f"{workflow}/{pod}/{name}.tgz"
    target = artifact_dir / key
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "none":
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, ignore_dangling_symlinks=True)
        else:
            shutil.copyfile(source, target)
    elif kind == "zip":
        base = shutil.make_archive(str(target.with_suffix("")), "zip", root_dir=source.parent, base_dir=source.name)
        os.replace(base, target)
    else:
        with tarfile.open(target, "w:gz") as tar:
            tar.add(source, arcname=source.name)
    out = {k: v for k, v in art.items() if k not in ("s3", "from", "fromExpression")}
    out["name"] = name
    out["s3"] = {"key": key}
    return out


def load(art: dict[str, Any], target: Path, artifact_dir: Path) -> None:
    """Materialise an input artifact at `target`."""
    name = art.get("name") or "artifact"
    raw = art.get("raw")
    if isinstance(raw, dict):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(str(raw.get("data") or ""))
        _mode(art, target)
        return
    for kind in REMOTE_KINDS:
        if art.get(kind) is not None:
            raise ArtifactError(f"input artifact {name}: {kind} artifacts cannot be fetched by the local runner")
    s3 = art.get("s3")
    if not isinstance(s3, dict) or not s3.get("key"):
        if art.get("optional"):
            return
        raise ArtifactError(f"input artifact {name} has no location the local runner knows")
    if s3.get("bucket") or s3.get("endpoint"):
        raise ArtifactError(f"input artifact {name}: remote S3 buckets cannot be reached by the local runner")
    source = artifact_dir / str(s3["key"]).lstrip("/")
    if not source.exists():
        if art.get("optional"):
            return
        raise ArtifactError(f"input artifact {name}: {s3['key']} not found in the artifact directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_file() and tarfile.is_tarfile(source):
        _untar(source, target)
    elif source.is_dir():
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source, target, symlinks=True, ignore_dangling_symlinks=True)
    else:
        shutil.copyfile(source, target)
    _mode(art, target)


def _untar(source: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, tarfile.open(source) as tar:
        tar.extractall(tmp, filter="data")
        entries = os.listdir(tmp)
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        if len(entries) == 1:
            os.replace(os.path.join(tmp, entries[0]), target)
        else:
            os.replace(tmp, target)
            os.makedirs(tmp, exist_ok=True)


def _mode(art: dict[str, Any], target: Path) -> None:
    mode = art.get("mode")
    if isinstance(mode, int) and target.exists():
        target.chmod(mode)
