"""A real fake-gcs-server (GCS JSON-API emulator, built from its Go module) on 127.0.0.1 for the executor's
GCS tests and benchmark, and a small OAuth2 token endpoint beside it.

The binary is the one cluster/build-fake-gcs-server.sh builds into $SLUICE_CACHE_DIR (cached per version,
locked; it prints its path). Each server gets a fresh directory and a free port, plain HTTP, the
filesystem backend, its upload URLs on 127.0.0.1 (`-external-url`), and is stopped by its own process id.
fake-gcs-server accepts any bearer token, so the token exchange is checked by `TokenServer`: it verifies
the signed JWT of a service account key made here (RSA, never a real account) whose `token_uri` is on
127.0.0.1, and hands out tokens. Nothing here ever names a Google address.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.integration.local_process import cached_build, free_port, stop_process
from webhook.certs import Bundle

EMAIL = "sluice-test@sluice-test.iam.example"


def fake_gcs_binary() -> Path:
    return cached_build("build-fake-gcs-server.sh")


@dataclass
class FakeGCS:
    port: int
    proc: subprocess.Popen[bytes]
    ca: str = ""  # PEM of the CA that signed its certificate, when it serves HTTPS

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.ca else 'http'}://127.0.0.1:{self.port}"

    def _open(self, request: urllib.request.Request | str):
        context = ssl.create_default_context(cadata=self.ca) if self.ca else None
        return urllib.request.urlopen(request, timeout=30, context=context)

    def stop(self) -> None:
        stop_process(self.proc)

    def make_bucket(self, name: str) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/storage/v1/b",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with self._open(request) as response:
            assert response.status == 200, response.status

    def object_names(self, bucket: str) -> list[str]:
        with self._open(f"{self.endpoint}/storage/v1/b/{bucket}/o") as response:
            return sorted(item["name"] for item in json.loads(response.read()).get("items") or [])


def start_fake_gcs(workspace: Path, timeout: float = 120, tls: Bundle | None = None) -> FakeGCS:
    """Plain HTTP, or HTTPS with `tls` (a certificate for 127.0.0.1 and its CA, webhook/certs.py)."""
    binary = fake_gcs_binary()
    port = free_port()
    workspace.mkdir(parents=True, exist_ok=True)
    log = open(workspace / "fake-gcs-server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    scheme = "https" if tls else "http"
    base = f"{scheme}://127.0.0.1:{port}"
    extra: list[str] = []
    if tls is not None:
        (workspace / "tls.crt").write_bytes(tls.tls_cert)
        (workspace / "tls.key").write_bytes(tls.tls_key)
        extra = [
            "-cert-location",
            str(workspace / "tls.crt"),
            "-private-key-location",
            str(workspace / "tls.key"),
        ]
    proc = subprocess.Popen(
        [
            str(binary),
            *extra,
            "-scheme",
            scheme,
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-backend",
            "filesystem",
            "-filesystem-root",
            str(workspace / "root"),
            "-data",
            str(workspace / "no-seed"),
            "-external-url",
            base,
            "-public-host",
            f"127.0.0.1:{port}",
            "-log-level",
            "warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workspace)},
    )
    server = FakeGCS(port, proc, tls.ca_cert.decode() if tls else "")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"fake-gcs-server exited with {proc.returncode}: {(workspace / 'fake-gcs-server.log').read_text()}"
            )
        try:
            with server._open(f"{base}/_internal/healthcheck") as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise AssertionError(f"fake-gcs-server did not answer on {base} within {timeout:.0f} s")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class TokenServer:
    """POST /token: a JWT-bearer grant signed by `key`, for `EMAIL`, whose audience is this URL."""

    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    refuse: bool = False  # answer 400 invalid_grant, as Google does for a revoked key
    issued: list[dict] = field(default_factory=list)  # the verified claims of each exchange
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def key_json(self, key_id: str = "test-key-1") -> str:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "sluice-test",
                "private_key_id": key_id,
                "private_key": pem,
                "client_email": EMAIL,
                "token_uri": self.url,
            }
        )

    def verify(self, jwt: str) -> dict:
        head, body, signature = jwt.split(".")
        self.key.public_key().verify(
            _unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        claims = json.loads(_unb64(body))
        assert json.loads(_unb64(head))["alg"] == "RS256"
        assert claims["iss"] == EMAIL and claims["aud"] == self.url, claims
        assert claims["scope"] == "https://www.googleapis.com/auth/devstorage.read_write", claims
        return claims

    def start(self) -> TokenServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                status, answer = 200, {}
                try:
                    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
                    claims = owner.verify(form["assertion"][0])
                    if owner.refuse:
                        raise ValueError("refused")
                    owner.issued.append(claims)
                    answer = {"access_token": f"token-{len(owner.issued)}", "expires_in": 3600}
                except Exception:
                    status, answer = 400, {"error": "invalid_grant", "error_description": "Invalid JWT"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
