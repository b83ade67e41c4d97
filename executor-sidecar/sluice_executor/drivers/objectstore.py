"""Object stores through `obstore`: the streaming, directory and error handling S3 and Azure share.

A driver says how to open its store for a location (`_store`), which key it names (`_key`) and how to
show it (`_where`); this base moves the bytes. Downloads stream in chunks to a temporary file renamed
into place; uploads are multipart from the file (atomic: an interrupted upload leaves no object).
Directories (a key naming a prefix) as every store has them: tree.py.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sluice_executor.drivers import DriverError, NotFound, Secrets, tree

CHUNK = 8 * 1024 * 1024  # multipart part size and download chunk
CONCURRENCY = 4  # parts in flight: memory stays near CHUNK x CONCURRENCY whatever the object's size
CLIENT_OPTIONS = {"connect_timeout": "10s", "timeout": "3600s"}  # a whole request: one part, or a big GET
RETRY = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}  # an unreachable store fails in ~20 s


SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


def ensure_ca_bundle() -> None:
    """obstore's HTTP client refuses to start without CA certificates, even for a plain-HTTP store; an
    image without a system bundle gets certifi's (a dependency of kubernetes_asyncio, so always here)."""
    if os.environ.get("SSL_CERT_FILE") or any(os.path.exists(path) for path in SYSTEM_CA_FILES):
        return
    try:
        import certifi
    except ImportError:
        return
    os.environ["SSL_CERT_FILE"] = certifi.where()


def first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class ObjectStoreDriver:
    kind = "object store"

    def __init__(self, secrets: Secrets):
        self.secrets = secrets
        ensure_ca_bundle()

    def _store(self, location: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _key(self, location: dict[str, Any]) -> str:
        return str(location.get("key") or "").strip("/")

    def _where(self, location: dict[str, Any]) -> str:
        raise NotImplementedError

    def _errors(self, location: dict[str, Any], exc: Exception) -> DriverError:
        from obstore.exceptions import NotFoundError, PermissionDeniedError, UnauthenticatedError

        where = self._where(location)
        if isinstance(exc, (NotFoundError, FileNotFoundError)):  # obstore raises either, by call
            return NotFound(f"{where} not found")
        if isinstance(exc, (PermissionDeniedError, UnauthenticatedError, PermissionError)):
            return DriverError(f"{where}: access denied (check the artifact repository's credentials)")
        text = first_line(exc)
        if any(word in text.lower() for word in ("connect", "dns", "error sending request", "timed out")):
            return DriverError(f"cannot reach the {self.kind} store for {where}: {text}")
        return DriverError(f"{where}: {text}")

    def get(self, location: dict[str, Any], dest: Path) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        store = self._store(location)
        where = self._where(location)

        def download(key: str, target: Path) -> None:
            try:
                self._download(obstore, store, key, target)
            except (NotFoundError, FileNotFoundError):  # obstore raises either, by call
                raise NotFound(f"{where} not found") from None

        def listing(prefix: str) -> list[str]:
            return [o["path"] for batch in obstore.list(store, prefix=prefix) for o in batch]

        try:
            tree.fetch(self._key(location), dest, download, listing, where)
        except DriverError:
            raise
        except Exception as exc:  # obstore's errors (its own classes and OSError subclasses)
            raise self._errors(location, exc) from None

    @staticmethod
    def _download(obstore, store, key: str, dest: Path) -> None:
        result = obstore.get(store, key)
        tmp = dest.with_name(f".{dest.name}.part")
        with open(tmp, "wb") as out:
            for chunk in result.stream(min_chunk_size=CHUNK):
                out.write(chunk)
        os.replace(tmp, dest)

    def put(self, source: Path, location: dict[str, Any]) -> None:
        import obstore

        store = self._store(location)
        key = self._key(location)
        if not key:
            raise DriverError(f"{self._where(location)}: no key to write to")

        def upload(path: Path, name: str) -> None:
            obstore.put(store, name, path, chunk_size=CHUNK, max_concurrency=CONCURRENCY)

        try:
            tree.store(source, key, upload)
        except Exception as exc:  # obstore's errors (its own classes and OSError subclasses)
            raise self._errors(location, exc) from None

    def list(self, location: dict[str, Any]) -> list[str]:
        """Every object key under the location's key (a prefix; empty: the whole bucket), sorted."""
        import obstore

        store = self._store(location)
        prefix = self._key(location)
        try:
            keys = [o["path"] for batch in obstore.list(store, prefix=prefix or None) for o in batch]
        except Exception as exc:  # obstore's errors (its own classes and OSError subclasses)
            raise self._errors(location, exc) from None
        return sorted(keys)
