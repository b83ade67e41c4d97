"""Which S3 library the executor uses, by measurement: obstore vs boto3 vs minio against a real MinIO on
127.0.0.1 (tests/integration/minio_server.py), and the executor's own driver moving a big artifact.

Each library runs in a fresh child process that uploads a file of SIZE bytes from disk and downloads it
back to disk, streaming both ways; the child reports wall time per direction and its peak RSS
(VmHWM), and the RSS right after importing the library (the cost of the import alone).

    .venv/bin/python benchmarks/bench_artifacts.py [--size-mib 1024] [--libs obstore,boto3,minio]

Needs the three libraries installed (obstore is the executor's dependency; `pip install boto3 minio` for
the comparison only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "executor-sidecar"))

CHUNK = 8 * 1024 * 1024


def rss_mib() -> float:
    """Peak RSS of this process since it started its program (VmHWM). Not ru_maxrss: Linux carries that
    over from the parent across fork and exec, so a child of a big process (a pytest worker) would
    report the parent's size."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(lib: str, endpoint: str, access: str, secret: str, bucket: str, src: str, dst: str) -> dict:
    t_import = time.perf_counter()
    if lib == "obstore":
        import obstore
        from obstore.store import S3Store

        store = S3Store(
            bucket,
            config={
                "endpoint": f"http://{endpoint}",
                "access_key_id": access,
                "secret_access_key": secret,
                "region": "us-east-1",
            },
            client_options={"allow_http": True, "timeout": "3600s"},
        )

        def up():
            obstore.put(store, "bench/obj", Path(src), chunk_size=CHUNK, max_concurrency=4)

        def down():
            with open(dst, "wb") as out:
                for chunk in obstore.get(store, "bench/obj").stream(min_chunk_size=CHUNK):
                    out.write(chunk)
    elif lib == "boto3":
        import boto3
        from boto3.s3.transfer import TransferConfig

        client = boto3.client(
            "s3",
            endpoint_url=f"http://{endpoint}",
            aws_access_key_id=access,
            aws_secret_access_key=secret,
            region_name="us-east-1",
        )
        config = TransferConfig(multipart_chunksize=CHUNK, max_concurrency=4)

        def up():
            client.upload_file(src, bucket, "bench/obj", Config=config)

        def down():
            client.download_file(bucket, "bench/obj", dst, Config=config)
    elif lib == "minio":
        from minio import Minio

        client = Minio(endpoint, access_key=access, secret_key=secret, secure=False)

        def up():
            client.fput_object(bucket, "bench/obj", src, part_size=CHUNK, num_parallel_uploads=4)

        def down():
            client.fget_object(bucket, "bench/obj", dst)
    elif lib == "sluice":  # the executor's driver, as wait and init use it
        from sluice_executor.drivers.s3 import S3Driver

        class Creds:
            def get(self, selector):
                return {"a": access, "s": secret}[selector["key"]]

        driver = S3Driver(Creds())
        loc = {
            "endpoint": endpoint,
            "bucket": bucket,
            "key": "bench/obj",
            "insecure": True,
            "accessKeySecret": {"name": "c", "key": "a"},
            "secretKeySecret": {"name": "c", "key": "s"},
        }

        def up():
            driver.put(Path(src), loc)

        def down():
            driver.get(loc, Path(dst))
    else:
        raise SystemExit(f"unknown library {lib}")
    import_ms = (time.perf_counter() - t_import) * 1000
    after_import = rss_mib()
    t0 = time.perf_counter()
    up()
    t1 = time.perf_counter()
    down()
    t2 = time.perf_counter()
    assert os.path.getsize(dst) == os.path.getsize(src), "download size differs"
    return {
        "lib": lib,
        "import_ms": import_ms,
        "rss_import_mib": after_import,
        "up_s": t1 - t0,
        "down_s": t2 - t1,
        "rss_peak_mib": rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--libs", default="obstore,boto3,minio,sluice")
    parser.add_argument(
        "--child", nargs=7, metavar=("LIB", "ENDPOINT", "ACCESS", "SECRET", "BUCKET", "SRC", "DST")
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    from tests.integration.minio_server import make_bucket, start_minio

    with tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp:
        root = Path(tmp)
        src = root / "src.bin"
        with open(
            src, "wb"
        ) as out:  # incompressible, written in chunks (the benchmark's own memory stays flat)
            for _ in range(args.size_mib):
                out.write(os.urandom(1024 * 1024))
        server = start_minio(root / "minio")
        try:
            make_bucket(server, "bench")
            print(f"object: {args.size_mib} MiB; MinIO at {server.endpoint}; load {os.getloadavg()[0]:.1f}")
            print("| library | import ms | RSS after import MiB | upload s | download s | peak RSS MiB |")
            print("|---|---:|---:|---:|---:|---:|")
            for lib in args.libs.split(","):
                dst = root / f"dst-{lib}.bin"
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        lib,
                        server.endpoint,
                        server.access_key,
                        server.secret_key,
                        "bench",
                        str(src),
                        str(dst),
                    ],
                    capture_output=True,
                    text=True,
                    timeout=3600,
                )
                if done.returncode != 0:
                    print(f"| {lib} | failed: {done.stderr.strip().splitlines()[-1:]} |")
                    continue
                r = json.loads(done.stdout)
                print(
                    f"| {lib} | {r['import_ms']:.0f} | {r['rss_import_mib']:.0f} | {r['up_s']:.1f} | "
                    f"{r['down_s']:.1f} | {r['rss_peak_mib']:.0f} |"
                )
                dst.unlink(missing_ok=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
