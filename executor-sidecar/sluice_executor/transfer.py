"""Moving one artifact: input (download, unpack at its path) and output (pack, upload, report).

Used by init (inputs) and wait (outputs); `drivers` gives the driver of a location kind, so tests and
`sluice run` can hand in their own stores.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sluice_executor import archive
from sluice_executor.drivers import Driver, DriverError, NotFound
from workflow import artifact_rules as rules

DriverFor = Callable[[str], Driver]


class ArtifactError(Exception):
    """An artifact could not be moved; the message names it and is fit for the node's status."""


def load_input(
    art: dict[str, Any],
    target: Path,
    archive_location: dict[str, Any] | None,
    drivers: DriverFor,
    scratch: Path,
) -> bool:
    """Download an input artifact to `target`; False when it is optional and absent."""
    name = art.get("name")
    try:
        kind, location = rules.input_location(art, archive_location)
    except rules.ArtifactRuleError as exc:
        if art.get("optional"):
            return False
        raise ArtifactError(str(exc)) from None
    scratch.mkdir(parents=True, exist_ok=True)
    download = Path(tempfile.mkdtemp(dir=scratch, prefix=".in-")) / "artifact"
    try:
        drivers(kind).get(location, download)
        unzip = isinstance(art.get("archive"), dict) and "zip" in art["archive"]
        archive.unpack(download, target, unzip=unzip)
    except NotFound as exc:
        if art.get("optional"):
            return False
        raise ArtifactError(f"input artifact {name}: {exc}") from None
    except (DriverError, OSError, ValueError) as exc:
        raise ArtifactError(f"input artifact {name}: {exc}") from None
    finally:
        shutil.rmtree(download.parent, ignore_errors=True)
    _mode(art, target)
    return True


def _mode(art: dict[str, Any], target: Path) -> None:
    mode = art.get("mode")
    if not isinstance(mode, int) or isinstance(mode, bool):
        return
    target.chmod(mode)
    if art.get("recurseMode") and target.is_dir():
        for path in target.rglob("*"):
            if not path.is_symlink():
                path.chmod(mode)


def save_output(
    art: dict[str, Any],
    source: Path,
    archive_location: dict[str, Any] | None,
    drivers: DriverFor,
    scratch: Path,
) -> dict[str, Any] | None:
    """Pack and upload an output artifact; returns the artifact the node reports (None: optional, absent)."""
    name = art.get("name")
    if not source.exists() and not source.is_symlink():
        if art.get("optional"):
            return None
        raise ArtifactError(f"output artifact {name}: path {art.get('path')} does not exist")
    try:
        placement = rules.place_output(art, archive_location)
    except rules.ArtifactRuleError as exc:
        raise ArtifactError(str(exc)) from None
    packed = None
    try:
        packed = archive.pack(source, scratch, rules.archive(art))
        drivers(placement.kind).put(packed, placement.location)
    except (DriverError, OSError, ValueError) as exc:
        raise ArtifactError(f"output artifact {name}: {exc}") from None
    finally:
        if packed is not None and packed != source:
            packed.unlink(missing_ok=True)
    return placement.reported


def save_logs(log: Path, archive_location: dict[str, Any], drivers: DriverFor) -> dict[str, Any]:
    """`archiveLogs`: main's combined output as the artifact `main-logs` (`<key prefix>/main.log`)."""
    placement = rules.place_logs(archive_location)
    try:
        drivers(placement.kind).put(log, placement.location)
    except (DriverError, OSError) as exc:
        raise ArtifactError(f"archiving main's logs: {exc}") from None
    return placement.reported
