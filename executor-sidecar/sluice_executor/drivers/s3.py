"""S3 and S3-compatible stores (MinIO, Ceph, GCS's interoperability endpoint...) through `obstore`.

Why obstore (benchmarks/bench_artifacts.py, figures in benchmarks/RESULTS.md): one Rust client for S3,
GCS, Azure and HTTP; it streams both ways (multipart upload from a file, chunked download) with memory
bounded by chunk size x concurrency, and it was the fastest and the leanest of obstore, boto3 and minio
on this machine.

Location fields (Argo's S3Artifact): `endpoint`, `bucket`, `key`, `region`, `insecure` (plain HTTP),
`accessKeySecret`/`secretKeySecret`/`sessionTokenSecret` (read from the mounted Secrets), `useSDKCreds`
(the environment's credentials), `addressingStyle` (`path`, the default for custom endpoints, or
`virtual`). A key that names no object but a prefix (`archive: none` of a directory) is a directory:
every object under `key/` is fetched. Uploads are atomic: a multipart upload becomes visible only when
complete, so an interrupted transfer never leaves a half object under the key.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from sluice_executor.drivers import DriverError, NotFound, Secrets

CHUNK = 8 * 1024 * 1024  # multipart part size and download chunk
CONCURRENCY = 4  # parts in flight: memory stays near CHUNK x CONCURRENCY whatever the object's size
CONNECT_TIMEOUT = "10s"
REQUEST_TIMEOUT = "3600s"  # a whole request (one part, or a streamed download of a big object)
RETRY_TIMEOUT = timedelta(seconds=20)  # an unreachable store fails the node within about this long
MAX_RETRIES = 3


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class S3Driver:
    def __init__(self, secrets: Secrets):
        self.secrets = secrets

    def _where(self, location: dict[str, Any]) -> str:
        return f"s3://{location.get('bucket')}/{location.get('key')} at {location.get('endpoint') or 'AWS'}"

    def _store(self, location: dict[str, Any]):
        from obstore.store import S3Store

        bucket = location.get("bucket")
        if not bucket:
            raise DriverError("the S3 location has no bucket (and no artifact repository supplied one)")
        insecure = location.get("insecure") is True
        config: dict[str, Any] = {"region": str(location.get("region") or "us-east-1")}
        endpoint = location.get("endpoint")
        if endpoint:
            config["endpoint"] = f"{'http' if insecure else 'https'}://{endpoint}"
            config["virtual_hosted_style_request"] = location.get("addressingStyle") == "virtual"
        if isinstance(location.get("accessKeySecret"), dict):
            config["access_key_id"] = self.secrets.get(location["accessKeySecret"])
            config["secret_access_key"] = self.secrets.get(location.get("secretKeySecret"))
            if isinstance(location.get("sessionTokenSecret"), dict):
                config["session_token"] = self.secrets.get(location["sessionTokenSecret"])
        elif location.get("useSDKCreds") is True:
            for env, field in (
                ("AWS_ACCESS_KEY_ID", "access_key_id"),
                ("AWS_SECRET_ACCESS_KEY", "secret_access_key"),
                ("AWS_SESSION_TOKEN", "session_token"),
            ):
                if os.environ.get(env):
                    config[field] = os.environ[env]
        else:
            config["skip_signature"] = True  # a public bucket
        client = {"allow_http": insecure, "connect_timeout": CONNECT_TIMEOUT, "timeout": REQUEST_TIMEOUT}
        retry = {"max_retries": MAX_RETRIES, "retry_timeout": RETRY_TIMEOUT}
        try:
            return S3Store(str(bucket), config=config, client_options=client, retry_config=retry)
        except Exception as exc:  # obstore's configuration errors
            raise DriverError(f"{self._where(location)}: {_first_line(exc)}") from None

    def _errors(self, location: dict[str, Any], exc: Exception) -> DriverError:
        from obstore.exceptions import NotFoundError, PermissionDeniedError, UnauthenticatedError

        where = self._where(location)
        if isinstance(exc, (NotFoundError, FileNotFoundError)):  # obstore raises either, by call
            return NotFound(f"{where} not found")
        if isinstance(exc, (PermissionDeniedError, UnauthenticatedError, PermissionError)):
            return DriverError(f"{where}: access denied (check the artifact repository's credentials)")
        text = _first_line(exc)
        if any(word in text.lower() for word in ("connect", "dns", "error sending request", "timed out")):
            return DriverError(f"cannot reach the S3 store for {where}: {text}")
        return DriverError(f"{where}: {text}")

    def get(self, location: dict[str, Any], dest: Path) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        store = self._store(location)
        key = str(location.get("key") or "").strip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            try:
                self._download(obstore, store, key, dest)
                return
            except (NotFoundError, FileNotFoundError):
                objects = [o["path"] for batch in obstore.list(store, prefix=f"{key}/") for o in batch]
            if not objects:
                raise NotFound(f"{self._where(location)} not found")
            for path in objects:
                rel = path[len(key) + 1 :]
                target = (dest / rel).resolve()
                if not target.is_relative_to(dest.resolve()):
                    raise DriverError(f"object {path} leaves the artifact's directory")
                target.parent.mkdir(parents=True, exist_ok=True)
                self._download(obstore, store, path, target)
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
        key = str(location.get("key") or "").strip("/")
        if not key:
            raise DriverError(f"{self._where(location)}: no key to write to")
        try:
            if source.is_dir():
                for path in sorted(p for p in source.rglob("*") if p.is_file()):
                    rel = path.relative_to(source).as_posix()
                    obstore.put(store, f"{key}/{rel}", path, chunk_size=CHUNK, max_concurrency=CONCURRENCY)
            else:
                obstore.put(store, key, source, chunk_size=CHUNK, max_concurrency=CONCURRENCY)
        except Exception as exc:  # obstore's errors (its own classes and OSError subclasses)
            raise self._errors(location, exc) from None
