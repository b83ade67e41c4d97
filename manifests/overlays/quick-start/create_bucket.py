"""Create the quick-start's artifact bucket in MinIO, once MinIO answers; succeed if it already exists.

Standard library only (it runs in any Python 3.11 image, mounted from a ConfigMap). S3 requests are
signed with AWS Signature Version 4. Credentials come from the environment and are never printed.

    S3_ENDPOINT=host:port S3_BUCKET=name AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... python3 create_bucket.py

Also importable: `bucket_exists(...)` and `create_bucket(...)` (the e2e test checks the bucket with it).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import os
import sys
import time

REGION = "us-east-1"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_headers(
    method: str, host: str, path: str, access_key: str, secret_key: str, now: datetime.datetime
) -> dict[str, str]:
    """The headers of a SigV4-signed S3 request with an empty body and no query string."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": amz_date}
    names = ";".join(sorted(headers))
    canonical = "\n".join(
        [method, path, "", *(f"{k}:{headers[k]}" for k in sorted(headers)), "", names, EMPTY_SHA256]
    )
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret_key).encode(), day), REGION), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={names}, Signature={signature}"
    )
    return headers


def _request(method: str, endpoint: str, bucket: str, access_key: str, secret_key: str) -> tuple[int, bytes]:
    path = f"/{bucket}"
    now = datetime.datetime.now(datetime.UTC)
    conn = http.client.HTTPConnection(endpoint, timeout=10)
    try:
        conn.request(
            method, path, headers=signed_headers(method, endpoint, path, access_key, secret_key, now)
        )
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def bucket_exists(endpoint: str, bucket: str, access_key: str, secret_key: str) -> bool:
    status, _ = _request("HEAD", endpoint, bucket, access_key, secret_key)
    if status == 200:
        return True
    if status == 404:
        return False
    raise RuntimeError(f"HEAD /{bucket} answered {status}")


def create_bucket(endpoint: str, bucket: str, access_key: str, secret_key: str) -> None:
    status, body = _request("PUT", endpoint, bucket, access_key, secret_key)
    if status == 200 or (status == 409 and b"BucketAlreadyOwnedByYou" in body):
        return
    raise RuntimeError(f"PUT /{bucket} answered {status}: {body[:200].decode(errors='replace')}")


def endpoint_from_env() -> str:
    endpoint = os.environ.get("S3_ENDPOINT", "")
    # Kubernetes leaves `$(MINIO_SERVICE_HOST)` unexpanded when the Service did not exist yet.
    if not endpoint or "$(" in endpoint:
        endpoint = os.environ.get("S3_ENDPOINT_FALLBACK", "minio:9000")
    return endpoint


def main() -> int:
    endpoint = endpoint_from_env()
    bucket = os.environ["S3_BUCKET"]
    access_key = os.environ["AWS_ACCESS_KEY_ID"]
    secret_key = os.environ["AWS_SECRET_ACCESS_KEY"]
    deadline = time.monotonic() + float(os.environ.get("S3_WAIT_SECONDS", "300"))
    while True:
        try:
            if bucket_exists(endpoint, bucket, access_key, secret_key):
                print(f"bucket {bucket} exists at {endpoint}")
                return 0
            create_bucket(endpoint, bucket, access_key, secret_key)
            print(f"bucket {bucket} created at {endpoint}")
        except (OSError, RuntimeError) as err:
            if time.monotonic() > deadline:
                print(f"giving up on {endpoint}: {err}", file=sys.stderr)
                return 1
            print(f"waiting for {endpoint}: {err}", file=sys.stderr)
            time.sleep(2)


if __name__ == "__main__":
    sys.exit(main())
