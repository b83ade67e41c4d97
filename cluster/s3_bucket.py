#!/usr/bin/env python3
"""Create an S3 bucket (idempotent) with an AWS Signature V4 request. Standard library only.

s3_bucket.py ENDPOINT_URL ACCESS_KEY SECRET_KEY BUCKET
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_request(
    method: str, url: str, access: str, secret: str, region: str = "us-east-1"
) -> urllib.request.Request:
    parts = urlsplit(url)
    now = datetime.datetime.now(datetime.UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": parts.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            parts.path or "/",
            parts.query,
            *(f"{k}:{headers[k]}" for k in sorted(headers)),
            "",
            signed,
            payload,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
    del headers["host"]
    return urllib.request.Request(url, method=method, headers=headers)


def main(argv: list[str]) -> int:
    endpoint, access, secret, bucket = argv
    req = signed_request("PUT", f"{endpoint.rstrip('/')}/{bucket}", access, secret)
    try:
        with urllib.request.urlopen(req, timeout=20):
            pass
    except urllib.error.HTTPError as e:
        body = e.read().decode(errors="replace")
        if e.code == 409 and "BucketAlreadyOwnedByYou" in body:
            return 0
        print(f"s3_bucket: PUT {bucket}: HTTP {e.code}: {body[:500]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
