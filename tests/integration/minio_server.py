"""A real MinIO on 127.0.0.1 for the executor's S3 tests and benchmarks.

The binary is the one cluster/build-minio.sh builds into $SLUICE_CACHE_DIR (it prints its path; on a
machine where it is already built that costs nothing). Each server gets a fresh data directory and a free
port; it is stopped (by its own process id) when the fixture ends.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.integration.local_process import cached_build, free_port, stop_process

REPO = Path(__file__).resolve().parents[2]
ACCESS_KEY, SECRET_KEY = "sluice-test", "sluice-test-secret"


@dataclass
class Minio:
    endpoint: str  # host:port
    access_key: str
    secret_key: str
    proc: subprocess.Popen[bytes]
    data: Path

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def stop(self) -> None:
        stop_process(self.proc)


def minio_binary() -> Path:
    return cached_build("build-minio.sh")


def start_minio(data: Path, timeout: float = 120) -> Minio:
    binary = minio_binary()
    port = free_port()
    data.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data),
        "MINIO_ROOT_USER": ACCESS_KEY,
        "MINIO_ROOT_PASSWORD": SECRET_KEY,
        "MINIO_BROWSER": "off",
        "MINIO_UPDATE": "off",
        "MINIO_CI_CD": "1",
    }
    log = open(data.parent / f"minio-{port}.log", "wb")  # noqa: SIM115 (lives as long as the server)
    proc = subprocess.Popen(
        [str(binary), "server", "--quiet", "--address", f"127.0.0.1:{port}", str(data / "store")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Minio(f"127.0.0.1:{port}", ACCESS_KEY, SECRET_KEY, proc, data)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"MinIO exited with {proc.returncode}: {(data.parent / f'minio-{port}.log').read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/minio/health/ready", timeout=5) as resp:
                if resp.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"MinIO did not become ready on {server.endpoint} within {timeout:.0f} s")


def make_bucket(server: Minio, bucket: str) -> None:
    done = subprocess.run(
        [
            "python3",
            str(REPO / "cluster" / "s3_bucket.py"),
            server.url,
            server.access_key,
            server.secret_key,
            bucket,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
