"""A real Azurite (Azure Blob Storage emulator, from npm) on 127.0.0.1 for the executor's Azure tests.

Installed once into $SLUICE_CACHE_DIR/azurite with npm (pinned), started per test module with a fresh
workspace on a free port and telemetry off (nothing leaves this machine), stopped by its process id.
Containers are created with one Shared Key signed request (the emulator's well-known development
account, documented by Microsoft; not a secret).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from tests.integration.local_process import free_port, stop_process

VERSION = "3.35.0"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CACHE = Path(os.environ.get("SLUICE_CACHE_DIR", "/var/cache/sluice")) / "azurite"


@dataclass
class Azurite:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def stop(self) -> None:
        stop_process(self.proc)


def azurite_binary() -> Path:
    binary = CACHE / "node_modules" / ".bin" / "azurite-blob"
    installed = CACHE / "node_modules" / "azurite" / "package.json"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time (parallel test workers)
        if not binary.exists() or f'"version": "{VERSION}"' not in installed.read_text():
            done = subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(CACHE), f"azurite@{VERSION}"],
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert done.returncode == 0, f"npm install azurite@{VERSION} failed:\n{done.stderr[-2000:]}"
    return binary


def start_azurite(workspace: Path, timeout: float = 120) -> Azurite:
    binary = azurite_binary()
    port = free_port()
    workspace.mkdir(parents=True, exist_ok=True)
    log = open(workspace / "azurite.log", "wb")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen(
        [
            str(binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(workspace),
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Azurite(port, proc)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"Azurite exited with {proc.returncode}: {(workspace / 'azurite.log').read_text()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise AssertionError(f"Azurite did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def make_container(server: Azurite, container: str) -> None:
    """PUT ?restype=container, signed with Shared Key (canonicalised as the service expects)."""
    date = formatdate(usegmt=True)
    headers = {"x-ms-date": date, "x-ms-version": "2021-12-02"}
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()))
    resource = f"/{ACCOUNT}/{ACCOUNT}/{container}\nrestype:container"
    to_sign = "PUT\n" + "\n" * 11 + canonical_headers + resource
    signature = base64.b64encode(
        hmac.new(base64.b64decode(KEY), to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    request = urllib.request.Request(
        f"{server.endpoint}/{container}?restype=container",
        method="PUT",
        headers={**headers, "Authorization": f"SharedKey {ACCOUNT}:{signature}", "Content-Length": "0"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
