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
from typing import Any

from sluice_executor.drivers import DriverError
from sluice_executor.drivers.objectstore import CLIENT_OPTIONS, RETRY, ObjectStoreDriver, first_line


class S3Driver(ObjectStoreDriver):
    kind = "S3"

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
        client = {"allow_http": insecure, **CLIENT_OPTIONS}
        try:
            return S3Store(str(bucket), config=config, client_options=client, retry_config=RETRY)
        except Exception as exc:  # obstore's configuration errors
            raise DriverError(f"{self._where(location)}: {first_line(exc)}") from None
