"""Artifact drivers behind one interface, for the in-pod executor and `sluice run` alike.

A driver moves bytes between a local path and a location (the artifact's `s3`/`http`/`git`/`raw`...
object, already completed from the repository by workflow/artifact_rules.py). It streams: nothing is
held in memory whole. `get` writes a file (or, for a location that is a directory, such as `none`
archives of a directory or a Git checkout, a directory); `put` uploads a file or a directory tree.

Errors are `DriverError` with a message that names the artifact's location and never a credential;
`NotFound` when the object does not exist (optional artifacts tolerate it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class DriverError(Exception):
    """A transfer failed; the message is fit for the node's status."""


class NotFound(DriverError):
    """The object does not exist."""


class Unsupported(DriverError):
    """A location kind this build cannot reach."""


class Secrets(Protocol):
    def get(self, selector: Any) -> str:
        """The value of a `{name, key}` Secret selector; raises DriverError when it is absent."""
        ...


class Driver(Protocol):
    def get(self, location: dict[str, Any], dest: Path) -> None: ...

    def put(self, source: Path, location: dict[str, Any]) -> None: ...


class MountedSecrets:
    """Credentials from the Secret volumes of the pod: `<dir>/<secret name>/<key>`
    (workflow/engine/pod_executor.py mounts each Secret an artifact names there, as Argo does at
    /argo/secret)."""

    def __init__(self, root: Path):
        self.root = root

    def get(self, selector: Any) -> str:
        if not isinstance(selector, dict) or not selector.get("name") or not selector.get("key"):
            raise DriverError(f"a credential must name a Secret and a key, got {selector!r}")
        name, key = str(selector["name"]), str(selector["key"])
        if "/" in name or "/" in key or name.startswith(".") or key.startswith("."):
            raise DriverError(f"invalid Secret selector {name}/{key}")
        try:
            return (self.root / name / key).read_text().strip()
        except OSError as exc:
            raise DriverError(
                f"Secret {name} key {key} is not available to the executor: {exc.strerror}"
            ) from exc


class NoSecrets:
    def get(self, selector: Any) -> str:
        raise DriverError("credentials from Secrets are not available here")


def driver_for(kind: str, secrets: Secrets) -> Driver:
    """The driver of a location kind."""
    if kind == "s3":
        from sluice_executor.drivers.s3 import S3Driver

        return S3Driver(secrets)
    if kind == "azure":
        from sluice_executor.drivers.azure import AzureDriver

        return AzureDriver(secrets)
    if kind == "gcs":
        from sluice_executor.drivers.gcs import GCSDriver

        return GCSDriver(secrets)
    if kind == "http":
        from sluice_executor.drivers.http import HTTPDriver

        return HTTPDriver(secrets)
    if kind == "artifactory":
        from sluice_executor.drivers.artifactory import ArtifactoryDriver

        return ArtifactoryDriver(secrets)
    if kind == "git":
        from sluice_executor.drivers.git import GitDriver

        return GitDriver(secrets)
    if kind == "raw":
        from sluice_executor.drivers.raw import RawDriver

        return RawDriver()
    from workflow.artifact_rules import unsupported

    raise Unsupported(f"{unsupported(kind)}; see README.md")
