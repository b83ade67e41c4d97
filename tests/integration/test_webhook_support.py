"""Helpers for the webhook's integration tests: a real `sluice webhook` process on loopback, and an
HTTPS client that trusts only the CA the webhook generated (hostname checked). No tests here."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_context(ca_file: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def review(
    obj: dict[str, Any] | None,
    *,
    kind: str = "Workflow",
    group: str = "argoproj.io",
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
    namespace: str | None = "default",
    user: str = "alice",
    dry_run: bool = False,
    uid: str | None = None,
) -> dict[str, Any]:
    name = (obj or old or {}).get("metadata", {}).get("name")
    request: dict[str, Any] = {
        "uid": uid or str(uuid.uuid4()),
        "kind": {"group": group, "version": "v1alpha1", "kind": kind},
        "resource": {"group": group, "version": "v1alpha1", "resource": kind.lower() + "s"},
        "operation": operation,
        "userInfo": {"username": user, "groups": ["system:authenticated"]},
        "object": obj,
        "oldObject": old,
        "dryRun": dry_run,
    }
    if namespace:
        request["namespace"] = namespace
    if name:
        request["name"] = name
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def decode_patch(response: dict[str, Any]) -> list[dict[str, Any]] | None:
    patch = response["response"].get("patch")
    return json.loads(base64.b64decode(patch)) if patch else None


class Client:
    """One keep-alive HTTPS connection (reconnects when the server closes it)."""

    def __init__(self, port: int, ca_file: Path, host: str = "localhost") -> None:
        self.port, self.host = port, host
        self.ctx = client_context(ca_file)
        self.conn: http.client.HTTPSConnection | None = None

    def _connection(self) -> http.client.HTTPSConnection:
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=30)
        return self.conn

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        for attempt in range(2):
            conn = self._connection()
            try:
                headers = {"Content-Type": "application/json"} if body is not None else {}
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post(self, path: str, payload: Any) -> tuple[int, Any]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        status, data = self.request("POST", path, body)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class WebhookProcess:
    """`python -m sluice webhook` on 127.0.0.1 with files as the cluster; stopped with SIGTERM."""

    def __init__(
        self,
        tmp: Path,
        *,
        templates: Path | None = None,
        policies: Path | None = None,
        defaults: Path | None = None,
        cert_dir: Path | None = None,
        extra: list[str] | None = None,
    ):
        self.tmp = tmp
        self.port = free_port()
        self.cert_dir = cert_dir or tmp / "certs"
        self.templates = templates or tmp / "templates"
        self.templates.mkdir(parents=True, exist_ok=True)
        self.args = [
            sys.executable,
            "-m",
            "sluice",
            "webhook",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--cert-dir",
            str(self.cert_dir),
            "--templates",
            str(self.templates),
            "--poll-seconds",
            "0.2",
            "--shutdown-grace",
            "0",
            "--log-format",
            "json",
        ]
        if policies:
            self.args += ["--policies", str(policies)]
        if defaults:
            self.args += ["--defaults", str(defaults)]
        self.args += extra or []
        self.log = tmp / "webhook.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> WebhookProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            self.args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("wb")
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"webhook exited {self.proc.returncode}:\n{self.log.read_text()}")
            if (self.cert_dir / "ca.crt").exists():
                try:
                    status, _ = self.client().request("GET", "/readyz")
                    if status == 200:
                        return self
                except (OSError, ssl.SSLError, http.client.HTTPException):
                    pass
            time.sleep(0.1)
        self.__exit__(None, None, None)
        raise AssertionError(f"webhook not ready in 30 s:\n{self.log.read_text()}")

    def client(self, host: str = "localhost") -> Client:
        return Client(self.port, self.cert_dir / "ca.crt", host)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_text(self) -> str:
        return self.log.read_text()
