"""What the integration tests' local stores (MinIO, fake-gcs-server, Azurite) share: their cached build,
a free loopback port, and stopping the process (tests/integration/minio_server.py, gcs_server.py,
azurite_server.py)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cached_build(script: str) -> Path:
    """The binary a `cluster/` build script prints last (a cache hit on a warm machine)."""
    done = subprocess.run([str(REPO / "cluster" / script)], capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, f"cluster/{script} failed:\n{done.stderr[-2000:]}"
    return Path(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
