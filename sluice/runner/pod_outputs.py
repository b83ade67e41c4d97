"""What a local pod's `wait` container would report once its processes exited.

The in-pod executor's counterpart (executor-sidecar/sluice_executor/): stdout as `result` (its tail,
when the pod says to include it), output parameters read from their files, output artifacts saved into
the run's artifact directory (artifacts.py). A path is read from the node's own copy (paths.py,
cowroot.py), or else from the host where an image would have it too (`/etc/hostname`), taking only
what every user may read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.runner import artifacts
from sluice.runner.paths import SYSTEM_DIRS, PathMap, normal
from workflow import outputs as output_rules


@dataclass(frozen=True, slots=True)
class Collected:
    outputs: dict[str, Any] | None
    errors: list[str]


def readable_by_all(path: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    if stat.S_ISLNK(mode):
        return True  # copied as a link, never followed
    if stat.S_ISDIR(mode):
        return bool(mode & stat.S_IROTH and mode & stat.S_IXOTH)
    return stat.S_ISREG(mode) and bool(mode & stat.S_IROTH)


def _not_readable_by_all(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if not readable_by_all(Path(directory) / name)]


def tail(path: Path, size: int) -> bytes:
    """The last `size` bytes of a file (b"" when it is missing): never the whole of a big stdout."""
    try:
        with open(path, "rb") as stream:
            stream.seek(max(0, stream.seek(0, os.SEEK_END) - size))
            return stream.read()
    except FileNotFoundError:
        return b""


def output_path(pathmap: PathMap, path: str) -> Path:
    """Where an output was written: the node's own copy, or else a path the host already has (`/etc`,
    as an image would). From the host only what every user may read is taken: a file readable by
    all, a directory copied without the entries that are not (no /etc/shadow in a status)."""
    path = normal(path)
    local = pathmap.local(path)
    top = "/" + path.strip("/").split("/", 1)[0]
    host = Path(path)
    if local.exists() or local == host or top not in SYSTEM_DIRS or not host.exists():
        return local
    if host.is_dir() and readable_by_all(host):
        with contextlib.suppress(shutil.Error, OSError):  # what could not be copied is left out
            shutil.copytree(host, local, symlinks=True, ignore=_not_readable_by_all, dirs_exist_ok=True)
        return local
    return host if host.is_file() and readable_by_all(host) else local


def collect(
    template: dict[str, Any],
    pathmap: PathMap,
    stdout: Path | None,
    artifact_dir: Path,
    workflow_name: str,
    pod_name: str,
) -> Collected:
    """The template's declared outputs, and the errors met collecting them; `stdout` is the result
    container's output file when the pod includes `result`, else None."""
    outputs: dict[str, Any] = {}
    errors: list[str] = []
    if stdout is not None:
        outputs["result"] = output_rules.result(tail(stdout, output_rules.RESULT_TAIL))
    declared = template.get("outputs") or {}
    params = output_rules.output_parameters(
        declared.get("parameters"), lambda path: output_path(pathmap, path).read_bytes()
    )
    errors.extend(params.errors)
    if params.parameters:
        outputs["parameters"] = params.parameters
    arts = []
    for art in declared.get("artifacts") or ():
        if not art.get("path"):
            continue
        try:
            saved = artifacts.save(
                art, output_path(pathmap, art["path"]), artifact_dir, workflow_name, pod_name
            )
        except (artifacts.ArtifactError, OSError) as exc:
            errors.append(str(exc))
            continue
        if saved is not None:
            arts.append(saved)
    if arts:
        outputs["artifacts"] = arts
    return Collected(outputs or None, errors)
