"""Time from `main` exiting to the task result completed, and the executor's memory.

For each output size, every iteration runs the pod's two halves on this machine for real: a `wait`
process (sluice_executor.wait.Waiter, the S3 driver against a real MinIO on 127.0.0.1) is started, then
`main` runs under the real launcher and writes an output artifact and an output parameter of the
given size. The delay is measured from main's command ending (its last act writes a timestamp) to the
moment wait's last API call (`report-outputs-completed=true`) returns: the launcher copying the outputs
into the shared volume, wait noticing the exitcode file, reading and uploading, and reporting; the part
spent by the launcher's copy is shown on its own. The task result API is an in-memory recorder here (no
API server round trip; a real one adds a few ms per call). Memory is the wait process's peak RSS.

    .venv/bin/python benchmarks/bench_executor.py [--runs-small 40] [--runs-big 10] [--poll] [--main-seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "executor-sidecar"))


def wait_child() -> None:
    """Run wait with a timestamping in-memory API; print one JSON line when done."""
    from sluice_executor.drivers import MountedSecrets, driver_for
    from sluice_executor.podenv import PodEnv
    from sluice_executor.wait import Waiter

    from tests.integration.executor_support import RecordingAPI

    class Timed(RecordingAPI):
        finished_at = 0.0

        async def patch(self, namespace, name, patch):
            await super().patch(namespace, name, patch)
            labels = (patch.get("metadata") or {}).get("labels") or {}
            if labels.get("workflows.argoproj.io/report-outputs-completed") == "true":
                Timed.finished_at = time.time()

    if "--poll" in sys.argv:  # the 20 ms polling wait did before inotify (watch.py's fallback)
        from sluice_executor import watch

        watch.Inotify = None  # type: ignore[assignment,misc]
    from sluice_executor import wait as wait_module

    noticed = []
    exit_codes = wait_module.exit_codes

    def timed_exit_codes(env):  # when wait first sees every exit code
        codes = exit_codes(env)
        if codes is not None and not noticed:
            noticed.append(time.time())
        return codes

    wait_module.exit_codes = timed_exit_codes
    env = PodEnv.from_env()
    secrets = MountedSecrets(env.layout.secrets)
    api = Timed()
    code = asyncio.run(Waiter(env, api, lambda kind: driver_for(kind, secrets)).run())
    outputs = api.result(env.node_id, env.namespace).get("outputs") or {}
    print(
        json.dumps(
            {
                "code": code,
                "finished_at": Timed.finished_at,
                "noticed_at": noticed[0] if noticed else 0.0,
                "artifacts": len(outputs.get("artifacts") or []),
                "rss_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "cpu_ms": (
                    resource.getrusage(resource.RUSAGE_SELF).ru_utime
                    + resource.getrusage(resource.RUSAGE_SELF).ru_stime
                )
                * 1000,
            }
        )
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run_once(
    launcher: Path,
    minio,
    root: Path,
    size: int,
    index: str,
    poll: bool = False,
    main_seconds: float = 0.0,
    on_volume: bool = False,
) -> dict:
    from tests.integration.minio_server import ACCESS_KEY, SECRET_KEY

    work = root / f"run-{index}"
    run_dir = work / "run"
    out_dir = work
    if on_volume:  # the output on main's volume: main sees it at work/vol, wait under mainctrfs
        out_dir = work / "vol"
        mirrored = work / "mainctrfs" / str(out_dir).lstrip("/")
        mirrored.mkdir(parents=True)
        out_dir.symlink_to(mirrored)
    secrets = work / "secrets" / "minio-creds"
    secrets.mkdir(parents=True)
    (secrets / "accesskey").write_text(ACCESS_KEY)
    (secrets / "secretkey").write_text(SECRET_KEY)
    template = {
        "name": "bench",
        "outputs": {
            "parameters": [{"name": "p", "valueFrom": {"path": f"{work}/param"}}],
            "artifacts": [{"name": "out", "path": f"{out_dir}/out.bin", "archive": {"none": {}}}],
        },
        "container": {"volumeMounts": [{"name": "vol", "mountPath": str(out_dir)}] if on_volume else []},
        "archiveLocation": {
            "s3": {
                "endpoint": minio.endpoint,
                "bucket": "bench",
                "insecure": True,
                "accessKeySecret": {"name": "minio-creds", "key": "accesskey"},
                "secretKeySecret": {"name": "minio-creds", "key": "secretkey"},
                "key": f"bench/run-{index}",
            }
        },
    }
    env = {
        "PATH": "/usr/bin:/bin",
        "SLUICE_RUN_DIR": str(run_dir),
        "ARGO_TEMPLATE": json.dumps(template),
        "ARGO_NODE_ID": f"bench-{index}",
        "ARGO_WORKFLOW_NAME": "bench",
        "ARGO_POD_NAME": f"bench-{index}",
        "ARGO_NAMESPACE": "bench",
        "ARGO_INCLUDE_SCRIPT_OUTPUT": "true",
        "SLUICE_SECRETS_DIR": str(work / "secrets"),
        "SLUICE_MAINCTRFS": str(work / "mainctrfs"),
        "SLUICE_TERMINATION_LOG": str(work / "termination-log"),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    wait = subprocess.Popen(
        [sys.executable, __file__, "--wait-child", *(["--poll"] if poll else [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)  # wait is up and polling before main ends, as in a pod
    script = f"sleep {main_seconds} && head -c {size} /dev/urandom > {out_dir}/out.bin && echo -n value > {work}/param && date +%s.%N > {work}/ended"
    main = subprocess.run(
        [str(launcher), "--", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert main.returncode == 0, main.stderr
    out, err = wait.communicate(timeout=600)
    assert wait.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["code"] == 0 and result["artifacts"] == 1, result
    ended = float((work / "ended").read_text())  # the command's last act, before the launcher copies outputs
    recorded = (run_dir / "ctr" / "main" / "exitcode").stat().st_mtime
    return {
        "delay_ms": (result["finished_at"] - ended) * 1000,
        "copy_ms": (recorded - ended) * 1000,
        "notice_ms": (result["noticed_at"] - recorded) * 1000,  # exitcode in place -> wait sees it
        "rss_peak_mib": result["rss_peak_mib"],
        "cpu_ms": result["cpu_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wait-child", action="store_true")
    parser.add_argument("--runs-small", type=int, default=40)
    parser.add_argument("--runs-big", type=int, default=10)
    parser.add_argument("--poll", action="store_true", help="wait polls every 20 ms (no inotify)")
    parser.add_argument("--main-seconds", type=float, default=0.0, help="main runs this long first")
    parser.add_argument("--on-volume", action="store_true", help="the artifact lies on main's volume")
    args = parser.parse_args()
    if args.wait_child:
        wait_child()
        return
    from tests.integration.launcher_build import build
    from tests.integration.minio_server import make_bucket, start_minio

    with tempfile.TemporaryDirectory(prefix="bench-executor-") as tmp:
        root = Path(tmp)
        launcher = build(root / "bin")
        minio = start_minio(root / "minio")
        try:
            make_bucket(minio, "bench")
            mode = "polling every 20 ms" if args.poll else "inotify"
            where = "on main's volume" if args.on_volume else "on main's root filesystem"
            print(
                f"load {os.getloadavg()[0]:.1f}; wait {mode}; main runs {args.main_seconds} s first; {where}"
            )
            print(
                "| output | runs | p50 ms | p99 ms | max ms | of which launcher copy, p50 ms | wait peak RSS MiB "
                "| wait CPU ms, p50 | exit code noticed after, p50 / max ms |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for label, size, runs in (
                ("1 KiB", 1024, args.runs_small),
                ("100 MiB", 100 * 1024 * 1024, args.runs_big),
            ):
                if not runs:
                    continue
                results = [
                    run_once(
                        launcher,
                        minio,
                        root,
                        size,
                        f"{size}-{i}",
                        args.poll,
                        args.main_seconds,
                        args.on_volume,
                    )
                    for i in range(runs)
                ]
                delays = [r["delay_ms"] for r in results]
                notice = [r["notice_ms"] for r in results]
                rss = max(r["rss_peak_mib"] for r in results)
                copy = statistics.median(r["copy_ms"] for r in results)
                print(
                    f"| {label} | {runs} | {statistics.median(delays):.0f} | {percentile(delays, 0.99):.0f} | "
                    f"{max(delays):.0f} | {copy:.0f} | {rss:.0f} | "
                    f"{statistics.median(r['cpu_ms'] for r in results):.0f} | "
                    f"{statistics.median(notice):.1f} / {max(notice):.1f} |"
                )
        finally:
            minio.stop()


if __name__ == "__main__":
    main()
