"""Google Cloud Storage artifacts (Argo's GCSArtifact: `bucket`, `key`, `serviceAccountKeySecret`)
through gcs_client.py, the JSON API with a service account key.

Credentials are always explicit: the key JSON from the Secret `serviceAccountKeySecret` names, mounted
for the executor only. Without it the artifact is refused: Argo would fall back to the pod's workload
identity, which means asking the cloud's metadata server, and Sluice never contacts it. The endpoint is
STORAGE_EMULATOR_HOST when the executor's environment sets it (the controller config's `executor.env`,
as for Argo's executor), else storage.googleapis.com. Directories (`archive: none` of a directory) are
one object per file under the key (tree.py).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sluice_executor.drivers import DriverError, NotFound, Secrets, tree
from sluice_executor.drivers.gcs_client import (
    Client,
    GCSError,
    ServiceAccount,
    Unreachable,
    endpoint_from_env,
)
from sluice_executor.drivers.objectstore import ensure_ca_bundle
from workflow.artifact_rules import GCS_NEEDS_KEY

REFUSAL = GCS_NEEDS_KEY

# One client (and so one access token) per endpoint and key, for the executor's life: init and wait move
# several artifacts with the same key; the token is exchanged once, not once per artifact.
_clients: dict[tuple[str, str], Client] = {}
_clients_lock = threading.Lock()


class GCSDriver:
    kind = "GCS"

    def __init__(
        self, secrets: Secrets, endpoint: str | None = None, environ: Mapping[str, str] | None = None
    ):
        self.secrets = secrets
        self.endpoint = endpoint or endpoint_from_env(os.environ if environ is None else environ)
        ensure_ca_bundle()  # TLS is verified against the system's CAs, or certifi's where the image has none

    def _where(self, location: dict[str, Any]) -> str:
        return f"gs://{location.get('bucket')}/{location.get('key') or ''} at {self.endpoint}"

    def _client(self, location: dict[str, Any]) -> tuple[Client, str]:
        where = self._where(location)
        bucket = location.get("bucket")
        if not bucket or not isinstance(bucket, str):
            raise DriverError("the GCS location has no bucket (and no artifact repository supplied one)")
        selector = location.get("serviceAccountKeySecret")
        if not isinstance(selector, dict) or not selector.get("name"):
            raise DriverError(f"{where}: {REFUSAL}")
        text = self.secrets.get(selector)
        digest = hashlib.sha256(text.encode()).hexdigest()
        with _clients_lock:
            client = _clients.get((self.endpoint, digest))
            if client is None:
                try:
                    client = Client(self.endpoint, ServiceAccount.from_json(text))
                except GCSError as exc:
                    raise DriverError(
                        f"{where}: serviceAccountKeySecret {selector.get('name')}/{selector.get('key')}: {exc}"
                    ) from None
                _clients[(self.endpoint, digest)] = client
        return client, bucket

    def _errors(self, location: dict[str, Any], exc: GCSError) -> DriverError:
        where = self._where(location)
        if isinstance(exc, Unreachable):
            return DriverError(f"cannot reach the GCS store for {where}: {exc}")
        if exc.status == 404:
            return NotFound(f"{where} not found")
        if exc.status in (401, 403):
            return DriverError(
                f"{where}: access denied (check the service account key in serviceAccountKeySecret): {exc}"
            )
        return DriverError(f"{where}: {exc}")

    @staticmethod
    def _key(location: dict[str, Any]) -> str:
        return str(location.get("key") or "").strip("/")

    def get(self, location: dict[str, Any], dest: Path) -> None:
        client, bucket = self._client(location)
        where = self._where(location)

        def download(name: str, target: Path) -> None:
            try:
                client.download(bucket, name, target)
            except GCSError as exc:
                raise self._errors(location, exc) from None

        def listing(prefix: str) -> list[str]:
            try:
                return client.list(bucket, prefix)
            except GCSError as exc:
                raise self._errors(location, exc) from None

        tree.fetch(self._key(location), dest, download, listing, where)

    def put(self, source: Path, location: dict[str, Any]) -> None:
        client, bucket = self._client(location)
        key = self._key(location)
        if not key:
            raise DriverError(f"{self._where(location)}: no key to write to")

        def upload(path: Path, name: str) -> None:
            try:
                client.upload(path, bucket, name)
            except GCSError as exc:
                if (
                    exc.status == 404
                ):  # writing: the bucket is missing (or the session expired), not the object
                    raise DriverError(f"{self._where(location)}: {exc} (does the bucket exist?)") from None
                raise self._errors(location, exc) from None

        tree.store(source, key, upload)

    def list(self, location: dict[str, Any]) -> list[str]:
        """Every object name under the location's key (a prefix; empty: the whole bucket), sorted."""
        client, bucket = self._client(location)
        try:
            return sorted(client.list(bucket, self._key(location)))
        except GCSError as exc:
            raise self._errors(location, exc) from None
