"""The executor's GCS driver moving a big artifact: up and down against a real fake-gcs-server on
127.0.0.1 (tests/integration/gcs_server.py), with a service account key whose token_uri is a token
endpoint on 127.0.0.1 (so the token exchange runs too).

A fresh child process uploads a file of SIZE bytes from disk and downloads it back, through
`GCSDriver` (executor-sidecar/sluice_executor/drivers/gcs.py); it reports wall time per direction, its
peak RSS (VmHWM) and the RSS after importing the driver. The emulator's own peak RSS is shown beside it:
fake-gcs-server keeps an upload in memory, Google's service does not.

    .venv/bin/python benchmarks/bench_gcs.py [--size-mib 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "executor-sidecar"))

from benchmarks.bench_artifacts import rss_mib  # noqa: E402 (after the path is set)


def child(endpoint: str, key_file: str, bucket: str, src: str, dst: str) -> dict:
    t_import = time.perf_counter()
    from sluice_executor.drivers.gcs import GCSDriver

    class Creds:
        def get(self, selector):
            return Path(key_file).read_text()

    driver = GCSDriver(Creds(), endpoint=endpoint)
    location = {"bucket": bucket, "key": "bench/obj", "serviceAccountKeySecret": {"name": "k", "key": "k"}}
    import_ms = (time.perf_counter() - t_import) * 1000
    after_import = rss_mib()
    t0 = time.perf_counter()
    driver.put(Path(src), location)
    t1 = time.perf_counter()
    driver.get(location, Path(dst))
    t2 = time.perf_counter()
    assert os.path.getsize(dst) == os.path.getsize(src), "download size differs"
    return {
        "import_ms": import_ms,
        "rss_import_mib": after_import,
        "up_s": t1 - t0,
        "down_s": t2 - t1,
        "rss_peak_mib": rss_mib(),
    }


def peak_rss_of(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run_child(endpoint: str, key_file: Path, bucket: str, src: Path, dst: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", endpoint, str(key_file), bucket, str(src), str(dst)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"the child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--child", nargs=5, metavar=("ENDPOINT", "KEYFILE", "BUCKET", "SRC", "DST"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    from tests.integration.gcs_server import TokenServer, start_fake_gcs

    with tempfile.TemporaryDirectory(prefix="bench-gcs-") as tmp:
        root = Path(tmp)
        src = root / "src.bin"
        with open(src, "wb") as out:  # incompressible, written in chunks
            for _ in range(args.size_mib):
                out.write(os.urandom(1024 * 1024))
        tokens = TokenServer().start()
        key_file = root / "key.json"
        key_file.write_text(tokens.key_json())
        server = start_fake_gcs(root / "gcs")
        try:
            server.make_bucket("bench")
            load = os.getloadavg()[0]
            r = run_child(server.endpoint, key_file, "bench", src, root / "dst.bin")
            print(f"object: {args.size_mib} MiB; fake-gcs-server at {server.endpoint}; load {load:.1f}")
            print(
                "| size MiB | import ms | RSS after import MiB | upload s | download s | peak RSS MiB | server peak RSS MiB |"
            )
            print("|---:|---:|---:|---:|---:|---:|---:|")
            print(
                f"| {args.size_mib} | {r['import_ms']:.0f} | {r['rss_import_mib']:.0f} | {r['up_s']:.1f} | "
                f"{r['down_s']:.1f} | {r['rss_peak_mib']:.0f} | {peak_rss_of(server.proc.pid):.0f} |"
            )
        finally:
            server.stop()
            tokens.stop()


if __name__ == "__main__":
    main()
