"""Scale, measured side by side: Sluice's controller and Argo's, same cluster, same workload, same run.

    .venv/bin/python benchmarks/bench_scale.py                 # Sluice on kwok pods, private plane
    .venv/bin/python benchmarks/bench_scale.py --controllers sluice,argo
    .venv/bin/python benchmarks/bench_scale.py --kubeconfig K --controllers sluice,argo --allow-crd-toggle
    BENCH_QUICK=1 ...                                          # small N
    make bench-compare                                         # both, then the table

Without `--kubeconfig`, the run starts a private control plane of its own (benchmarks/private_cluster.py:
etcd, API server, scheduler, controller manager on 127.0.0.1; kwok's nodes) and stops it after; the
shared cluster only when named.

Each controller runs as a local process (benchmarks/scale_controllers.py) confined to a namespace of
its own and an instance ID of its own. Pods run on kwok's simulated nodes (benchmarks/scale_kwok.py;
`--pods real`: on the cluster's real node, with the executor) and the harness watches from the client
side (benchmarks/scale_observe.py). For each controller it runs the same loads in the same order
(benchmarks/scale_workloads.py): one-pod workflows submitted at once (saturation) and at a fixed rate, a
10-step sequence, a 100-task DAG, a 1,000-item withItems; and reports per load: workflows completed per
minute, create -> first pod, step end -> next pod (p50/p99), controller CPU seconds and peak RSS, API
requests per workflow. The output is JSON (`--json`) and a table (benchmarks/scale_report.py).

Argo's controller cannot write status on our Workflow CRD while its status subresource is on:
`--allow-crd-toggle` switches it off for Argo's run only and restores it after (on failure and on
SIGINT/SIGTERM too), then checks it is restored. That affects every client of the cluster while off
(on the run's own private plane it is implied: nobody else is there).
kwok and Argo's binaries come from benchmarks/build-anchors.sh; nothing here runs in CI except
`--controllers sluice --pods real` with a small N (tests/e2e/test_bench_scale.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale_controllers import (  # noqa: E402
    REPO,
    SLUICE_WORKERS,
    Argo,
    Sluice,
    argo_dir,
    cpu_seconds,
    peak_rss_mib,
    plane_cpu,
    rss_mib,
)  # noqa: E402
from scale_observe import Observer, figures  # noqa: E402
from scale_report import table  # noqa: E402
from scale_workloads import SHAPES, workflow  # noqa: E402

from tests.e2e.controller_support import grant_executor  # noqa: E402

log = logging.getLogger("bench-scale")
CRD = "workflows.argoproj.io"
# Argo's controller waits for ever without these (its manifests/base/crds/minimal/); Sluice has none.
ARGO_ONLY_CRDS = ("workflowtasksets", "workflowartifactgctasks")
SUBMITTERS = 16

# (shape, workflows, rate per second or None for all at once)
FULL = [("pod", 200, None), ("pod", 200, 10.0), ("seq", 10, None), ("dag", 5, None), ("items", 1, None)]
QUICK = [("pod", 20, None), ("pod", 20, 5.0), ("seq", 3, None), ("dag", 2, None), ("items", 1, None)]
REAL_SMOKE = [("pod", 2, None), ("seq", 1, None)]  # real pods: each runs init/main/wait for real


def kubectl_for(kubeconfig: Path):
    exe = os.environ.get("KUBECTL") or str(Path(kubeconfig).parent / "bin" / "kubectl")
    if not Path(exe).exists():  # a private plane's kubeconfig: the cluster's own build, else PATH's
        from tests.e2e.private_apiserver import binary

        exe = binary("kubectl")

    def run(*args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> str:
        proc = subprocess.run(
            [exe, "--kubeconfig", str(kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode:
            raise RuntimeError(f"kubectl {' '.join(args[:3])}: {proc.stderr.strip()}")
        return proc.stdout

    return run


# --- the Workflow CRD's status subresource, off for Argo's run only -------------------------------


def status_subresource_on(kubectl) -> bool:
    crd = json.loads(kubectl("get", "crd", CRD, "-o", "json"))
    return all("status" in (v.get("subresources") or {}) for v in crd["spec"]["versions"])


def set_status_subresource(kubectl, on: bool) -> None:
    crd = json.loads(kubectl("get", "crd", CRD, "-o", "json"))
    ops = []
    for i, version in enumerate(crd["spec"]["versions"]):
        has = "status" in (version.get("subresources") or {})
        if on and not has:
            if "subresources" in version:
                ops.append({"op": "add", "path": f"/spec/versions/{i}/subresources/status", "value": {}})
            else:
                ops.append({"op": "add", "path": f"/spec/versions/{i}/subresources", "value": {"status": {}}})
        elif not on and has:
            ops.append({"op": "remove", "path": f"/spec/versions/{i}/subresources/status"})
    if ops:
        kubectl("patch", "crd", CRD, "--type", "json", "-p", json.dumps(ops))


@contextlib.contextmanager
def status_subresource_off(kubectl):
    """Off inside, restored after however the block ends (SIGTERM/SIGINT included), and checked."""
    if not status_subresource_on(kubectl):
        raise SystemExit(f"{CRD}'s status subresource is already off: refusing (restore it first)")

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, interrupted) for s in (signal.SIGTERM, signal.SIGHUP)}
    set_status_subresource(kubectl, False)
    log.warning("%s: status subresource OFF (Argo's run)", CRD)
    try:
        yield
    finally:
        for attempt in range(10):
            try:
                set_status_subresource(kubectl, True)
                if status_subresource_on(kubectl):
                    break
            except Exception as exc:  # keep trying: the cluster must get its CRD back
                log.error("restoring %s's status subresource (attempt %d): %s", CRD, attempt + 1, exc)
            time.sleep(3)
        else:
            log.critical("%s: status subresource NOT restored: restore it by hand", CRD)
        log.warning("%s: status subresource restored: %s", CRD, status_subresource_on(kubectl))
        for s, handler in previous.items():
            signal.signal(s, handler)


def ensure_argo_crds(kubectl) -> list[str]:
    """The CRDs Argo's controller waits for that our install does not have; returns those created."""
    created = []
    for plural in ARGO_ONLY_CRDS:
        path = argo_dir() / "crds" / f"argoproj.io_{plural}.yaml"
        name = f"{plural}.argoproj.io"
        if kubectl("get", "crd", name, "--ignore-not-found", "-o", "name").strip():
            continue
        kubectl("create", "-f", str(path))
        created.append(name)
    for attempt in range(10):  # a CRD just created may have no conditions yet: kubectl wait then fails
        if not created:
            break
        try:
            kubectl("wait", "--for", "condition=Established", "--timeout=60s", *[f"crd/{c}" for c in created])
            break
        except RuntimeError:
            if attempt == 9:
                raise
            time.sleep(1)
    return created


# --- one controller's run -------------------------------------------------------------------------


async def submit(custom, objs: list[dict[str, Any]], rate: float | None, obs: Observer) -> None:
    from kubernetes_asyncio.client.exceptions import ApiException

    queue: asyncio.Queue = asyncio.Queue()
    start = time.monotonic()
    for i, obj in enumerate(objs):
        queue.put_nowait((i, obj))

    async def worker() -> None:
        while not queue.empty():
            i, obj = queue.get_nowait()
            if rate:
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            obs.submitted[obj["metadata"]["name"]] = time.monotonic()
            for attempt in range(5):
                try:
                    await custom.create_namespaced_custom_object(
                        "argoproj.io", "v1alpha1", obj["metadata"]["namespace"], "workflows", obj
                    )
                    break
                except ApiException as exc:
                    if exc.status == 409:
                        break
                    if attempt == 4 or exc.status not in (429, 500, 503, 504):
                        raise
                    await asyncio.sleep(1 + attempt)

    await asyncio.gather(*(worker() for _ in range(SUBMITTERS)))


async def run_controller(args, kind: str, kubectl, api, run_id: str, kwok: bool) -> dict[str, Any]:
    """The plan's loads against one controller (`args.shards` Sluice controllers, each confined to a
    namespace and instance ID of its own, the workflows dealt round-robin among them)."""
    from kubernetes_asyncio import client

    shards = args.shards if kind == "sluice" else 1
    suffix = [f"{run_id}-{i}" if shards > 1 else run_id for i in range(shards)]
    namespaces = [f"bench-scale-{kind}-{s}" for s in suffix]
    instances = [f"bench-{kind}-{s}" for s in suffix]
    for namespace in namespaces:
        kubectl("create", "namespace", namespace)
        # pods are refused until the namespace's default service account exists (`kubectl wait` fails at
        # once while the object does not exist yet: a loaded controller manager takes seconds to make it)
        deadline = time.monotonic() + 120
        while not kubectl(
            "get", "serviceaccount", "default", "-n", namespace, "--ignore-not-found", "-o", "name"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no default service account in {namespace} after 120 s")
            time.sleep(1)
        if not kwok:
            grant_executor(kubectl, namespace)
    ctls: list[Any] = []
    obs = Observer(api, namespaces, write_results=kwok)
    out: dict[str, Any] = {"controller": kind, "shards": shards, "namespaces": namespaces, "loads": []}
    try:
        kubeconfig = Path(args.kubeconfig)
        for namespace, instance in zip(namespaces, instances, strict=True):
            logs = Path(args.log_dir) / namespace
            logs.mkdir(parents=True, exist_ok=True)
            ctls.append(
                Sluice(
                    kubeconfig,
                    namespace,
                    instance,
                    logs,
                    workers=args.workers,
                    profile=(logs / "controller.prof") if args.profile else None,
                )
                if kind == "sluice"
                else Argo(kubectl, kubeconfig, namespace, instance, logs)
            )
        for ctl in ctls:
            ctl.wait_ready()
        out["logs"] = [str(ctl.log_path) for ctl in ctls]
        obs.start()
        await asyncio.sleep(2)  # the watches listed
        custom = client.CustomObjectsApi(api)
        plan = REAL_SMOKE if not kwok else (QUICK if args.quick else FULL)
        if args.live:
            plan = [("live", args.live, None)]
        for index, (shape_name, count, rate) in enumerate(plan):
            if args.shapes and shape_name not in args.shapes:
                continue
            shape = SHAPES[shape_name]
            left = deadline_left(args, kind)
            if left is not None and left < 30:
                log.warning("%s: past its deadline: %s and later loads not run", kind, shape_name)
                out["cut_by_deadline"] = True
                break
            batch = f"{shape_name}-{index}"
            count *= args.scale
            names = [f"{batch}-{i}" for i in range(count)]
            objs = [
                workflow(shape, n, instances[i % shards], batch, kwok=kwok, namespace=namespaces[i % shards])
                for i, n in enumerate(names)
            ]
            cpu0 = [cpu_seconds(c.pid) for c in ctls]
            req0 = [c.requests() for c in ctls]
            series0 = [c.requests_by_series() for c in ctls]
            plane_dir = str(Path(args.kubeconfig).resolve().parent)
            plane0 = plane_cpu(plane_dir, {c.pid for c in ctls})
            log.info("%s: %d x %s, %s", kind, count, shape.title, f"{rate}/s" if rate else "all at once")
            await submit(custom, objs, rate, obs)
            left = deadline_left(args, kind)
            finished = await obs.wait_done(
                names, args.timeout if left is None else min(args.timeout, left), live=shape.live
            )
            await asyncio.sleep(1)  # the last status writes counted
            fig = figures(obs, shape, names)
            fig |= {
                "load": f"{count} x {shape.title}, " + (f"{rate:g}/s" if rate else "all at once"),
                "rate_per_s": rate,
                "all_finished": finished,
                "controller_cpu_s": sum(cpu_seconds(c.pid) - c0 for c, c0 in zip(ctls, cpu0, strict=True)),
                "controller_peak_rss_mib": max(peak_rss_mib(c.pid) for c in ctls),
                "controller_rss_mib": max(rss_mib(c.pid) for c in ctls),
                "api_requests_per_workflow": sum(c.requests() - r0 for c, r0 in zip(ctls, req0, strict=True))
                / count,
            }
            plane1 = plane_cpu(plane_dir, {c.pid for c in ctls})
            fig["plane_cpu_s"] = {k: round(v - plane0.get(k, 0.0), 2) for k, v in sorted(plane1.items())}
            by: dict[str, float] = {}  # where the requests went, per workflow, by the metric's labels
            for c, before in zip(ctls, series0, strict=True):
                for labels, value in c.requests_by_series().items():
                    by[labels] = by.get(labels, 0.0) + value - before.get(labels, 0.0)
            fig["api_requests_per_workflow_by"] = {
                k: round(v / count, 2) for k, v in sorted(by.items(), key=lambda kv: -kv[1]) if v
            }
            if kind == "argo" and status_subresource_on(kubectl):
                # Another client re-applied the CRD (the e2e tier's conftest does, at every session start):
                # Argo's status writes were dropped from then on, so this load's figures mean nothing.
                fig["invalid"] = f"{CRD}'s status subresource was switched back on during the load"
                fig["all_finished"] = finished = False
            out["loads"].append(fig)
            log.info("%s: %s", kind, json.dumps(fig))
            if not finished:
                log.error(
                    "%s: %s not all finished in %ss: stopping this controller's run",
                    kind,
                    batch,
                    args.timeout,
                )
                break
        out["task_results_written"] = obs.results_written
        out["task_result_errors"] = obs.result_errors
    finally:
        await obs.stop()
        for ctl in ctls:
            ctl.stop()
        for namespace in namespaces:
            kubectl("delete", "namespace", namespace, "--wait=false", check=False)
    return out


def deadline_left(args, kind: str) -> float | None:
    """Seconds until `kind`'s --deadline (a UTC time of today, HH:MM), or None without one."""
    for entry in (args.deadline or "").split(","):
        name, _, hhmm = entry.partition("=")
        if name == kind and hhmm:
            hour, minute = (int(x) for x in hhmm.split(":"))
            now = time.gmtime()
            target = time.mktime((now.tm_year, now.tm_mon, now.tm_mday, hour, minute, 0, 0, 0, 0))
            return target - time.mktime(now)
    return None


async def wait_namespaces_gone(kubectl, run_id: str, timeout: float = 300) -> None:
    """Until this run's namespaces (bench-scale-<controller>-<run>[-<shard>]) are gone: kwok must still
    be there to remove their pods."""
    mine = re.compile(rf"namespace/bench-scale-[a-z-]+-{run_id}(-\d+)?$")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = kubectl("get", "namespaces", "-o", "name").split()
        if not any(mine.match(n) for n in names):
            return
        await asyncio.sleep(2)
    log.warning("namespaces of run %s still terminating after %ss", run_id, timeout)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--kubeconfig",
        help="the cluster to run on; without it, a private control plane this run starts and stops "
        "(benchmarks/private_cluster.py; kwok pods), or with --pods real, $SLUICE_E2E_KUBECONFIG or "
        "the project's cluster",
    )
    parser.add_argument("--controllers", default="sluice", help="comma-separated: sluice, argo")
    parser.add_argument("--pods", choices=("kwok", "real"), default="kwok")
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--shapes", nargs="*", choices=sorted(SHAPES), help="only these shapes")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a load may take to finish")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument(
        "--deadline",
        help="per controller, a UTC time after which no load starts and waiting stops: argo=10:40,sluice=10:48",
    )
    parser.add_argument("--shards", type=int, default=1, help="Sluice controllers, one instance ID each")
    parser.add_argument(
        "--workers", type=int, default=SLUICE_WORKERS, help="Sluice's --workflow-workers (default: shipped)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="run Sluice under cProfile: LOG_DIR/NAMESPACE/controller.prof"
    )
    parser.add_argument(
        "--live",
        type=int,
        default=0,
        help="only this many workflows that stay live (a pod, then a suspend), at once: memory at N live",
    )
    parser.add_argument("--scale", type=int, default=1, help="multiply every load's workflow count")
    parser.add_argument("--log-dir", default="/tmp/sluice-bench-scale")
    parser.add_argument(
        "--allow-crd-toggle",
        action="store_true",
        help="let Argo's run switch the CRD's status subresource off",
    )
    parser.add_argument(
        "--argo-dry-run", action="store_true", help="start Argo's controller, check it serves, stop"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.kubeconfig is None and args.pods == "kwok":
        from private_cluster import private_plane

        plane_dir = Path(args.log_dir) / f"plane-{uuid.uuid4().hex[:6]}"
        log.info("starting a private control plane in %s", plane_dir)
        with private_plane(plane_dir) as (kubeconfig, _):
            args.kubeconfig = str(kubeconfig)
            args.allow_crd_toggle = True  # the plane is this run's own: nobody else sees the CRD switched
            return await run_all(args, parser)
    if args.kubeconfig is None:
        args.kubeconfig = os.environ.get("SLUICE_E2E_KUBECONFIG") or str(REPO / ".cluster" / "kubeconfig")
    return await run_all(args, parser)


async def run_all(args, parser) -> int:
    controllers = [c for c in args.controllers.split(",") if c]
    kubectl = kubectl_for(Path(args.kubeconfig))
    run_id = uuid.uuid4().hex[:6]
    kwok = args.pods == "kwok"
    if "argo" in controllers and not (args.allow_crd_toggle or args.argo_dry_run):
        parser.error("argo needs --allow-crd-toggle (or --argo-dry-run)")

    from kubernetes_asyncio import client, config

    cfg = client.Configuration()
    await config.load_kube_config(config_file=args.kubeconfig, client_configuration=cfg)
    result: dict[str, Any] = {
        "run": run_id,
        "pods": args.pods,
        "quick": args.quick,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "kubernetes": json.loads(kubectl("version", "-o", "json")).get("serverVersion", {}).get("gitVersion"),
        "runs": [],
    }
    created_crds: list[str] = []
    kw = None
    async with client.ApiClient(cfg) as api:
        try:
            if "argo" in controllers:
                created_crds = ensure_argo_crds(kubectl)
            if args.argo_dry_run:
                return argo_dry_run(args, kubectl, run_id)
            if kwok:
                from scale_kwok import Kwok

                kw = Kwok(kubectl, Path(args.kubeconfig), run_id, Path(args.log_dir) / f"kwok-{run_id}")
                kw.wait_ready()
            for kind in controllers:
                if kind == "argo":
                    with status_subresource_off(kubectl):
                        result["runs"].append(await run_controller(args, kind, kubectl, api, run_id, kwok))
                else:
                    result["runs"].append(await run_controller(args, kind, kubectl, api, run_id, kwok))
        finally:
            await wait_namespaces_gone(kubectl, run_id)
            if kw is not None:
                kw.close()
            for crd in created_crds:
                kubectl("delete", "crd", crd, "--wait=false", check=False)
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["machine"]["load_average_at_end"] = os.getloadavg()
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)
    print(table(result), file=sys.stderr)
    return 0 if all(load["all_finished"] for run in result["runs"] for load in run["loads"]) else 1


def argo_dry_run(args, kubectl, run_id: str) -> int:
    """Argo's controller on a namespace of its own, without the CRD switched: it must start, list and
    serve its metrics; nothing is submitted."""
    namespace = f"bench-scale-argo-dry-{run_id}"
    logs = Path(args.log_dir) / namespace
    logs.mkdir(parents=True, exist_ok=True)
    kubectl("create", "namespace", namespace)
    ctl = None
    try:
        ctl = Argo(kubectl, Path(args.kubeconfig), namespace, f"bench-argo-{run_id}", logs)
        ctl.wait_ready()
        time.sleep(5)
        print(json.dumps({"argo_serving": True, "requests": ctl.requests(), "log": str(ctl.log_path)}))
        return 0
    finally:
        if ctl is not None:
            ctl.stop()
        kubectl("delete", "namespace", namespace, "--wait=false", check=False)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
