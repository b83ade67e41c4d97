"""The local artifact directory: the default artifact repository of `sluice run`.

The same code as the in-pod executor moves the bytes (executor-sidecar/sluice_executor/transfer.py,
packing in archive.py, keys from workflow/artifact_rules.py); only the store differs: a directory
(drivers/directory.py) stands for the repository's bucket. An output artifact is stored under
`<artifact dir>/<key>` with Argo's default key `<workflow>/<pod>/<name>.tgz` (tar+gzip of the path, its
basename as the top entry); with `archive: {none: {}}` the file or directory is copied as it is and the
key ends in its basename; `zip` gives `<name>.zip`. The node's outputs then carry the artifact with a
key-only location (`s3: {key: ...}`), which is what Argo reports with a default repository; passing it
to a later step (`from:`) hands that key over, and the input is unpacked from the same directory. `raw`
inputs are written from their data; locations this machine cannot reach (a remote bucket, http, git...)
fail the node with a clear message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sluice_executor import transfer
from sluice_executor.drivers import Unsupported
from sluice_executor.drivers.directory import DirectoryDriver
from sluice_executor.drivers.raw import RawDriver

REMOTE_KINDS = ("git", "http", "artifactory", "hdfs", "oss", "gcs", "azure", "plugin")
LOCAL_BUCKET = "sluice-run"  # a name for the directory standing in for the repository's bucket


class ArtifactError(Exception):
    pass


def _drivers(artifact_dir: Path) -> transfer.DriverFor:
    def driver(kind: str):
        if kind == "s3":
            return DirectoryDriver(artifact_dir)
        if kind == "raw":
            return RawDriver()
        raise Unsupported(f"{kind} artifacts cannot be reached by the local runner")

    return driver


def repository(workflow: str, pod: str) -> dict[str, Any]:
    """The run's repository as a pod's `archiveLocation`: the artifact directory, key prefix `<wf>/<pod>`."""
    return {"s3": {"bucket": LOCAL_BUCKET, "key": f"{workflow}/{pod}"}}


def save(
    art: dict[str, Any], source: Path, artifact_dir: Path, workflow: str, pod: str
) -> dict[str, Any] | None:
    """Store an output artifact; returns the artifact for the node's outputs, or None if optional+missing."""
    scratch = artifact_dir / ".packing"
    try:
        saved = transfer.save_output(art, source, repository(workflow, pod), _drivers(artifact_dir), scratch)
    except transfer.ArtifactError as exc:
        raise ArtifactError(str(exc)) from None
    if saved is not None and isinstance(saved.get("s3"), dict) and saved["s3"].get("bucket") == LOCAL_BUCKET:
        saved["s3"] = {"key": saved["s3"]["key"]}
    return saved


def load(art: dict[str, Any], target: Path, artifact_dir: Path) -> None:
    """Materialise an input artifact at `target`."""
    name = art.get("name") or "artifact"
    for kind in REMOTE_KINDS:
        if art.get(kind) is not None:
            raise ArtifactError(
                f"input artifact {name}: {kind} artifacts cannot be fetched by the local runner"
            )
    s3 = art.get("s3")
    if isinstance(s3, dict) and (s3.get("bucket") or s3.get("endpoint")):
        raise ArtifactError(f"input artifact {name}: remote S3 buckets cannot be reached by the local runner")
    if not isinstance(art.get("raw"), dict) and not (isinstance(s3, dict) and s3.get("key")):
        if art.get("optional"):
            return
        raise ArtifactError(f"input artifact {name} has no location the local runner knows")
    location = {"s3": {"bucket": LOCAL_BUCKET, "key": ""}}
    try:
        transfer.load_input(art, target, location, _drivers(artifact_dir), target.parent)
    except transfer.ArtifactError as exc:
        raise ArtifactError(str(exc)) from None
