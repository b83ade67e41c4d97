"""The controller on the project's cluster: latency it adds, throughput, memory.

Runs `sluice controller` on this host (tests/e2e/controller_support.py: confined to one namespace and
an instance ID) against the cluster of `.cluster/kubeconfig` (`make cluster-up`), and watches from the
client side with a monotonic clock:

1. create -> first pod: a one-pod workflow created, until its pod appears in a watch (N runs).
2. step delay: a 10-step sequence of one-pod steps; from the watch event that shows pod i finished to
   the one that shows pod i+1 created (the controller's added delay, informer latency included).
3. throughput: W workflows created at once, completed per minute (suspend-only: the controller and API
   server alone; and one-pod workflows: with the kubelet).
4. memory: the controller's RSS (/proc) holding L live workflows.

    .venv/bin/python benchmarks/bench_controller.py [--runs 10] [--workflows 500] [--live 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.controller_support import LocalController, grant_executor, workflow  # noqa: E402

KUBECONFIG = REPO / ".cluster" / "kubeconfig"
KUBECTL = REPO / ".cluster" / "bin" / "kubectl"


def kubectl(*args: str, input: str | None = None) -> str:
    proc = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr)
    return proc.stdout


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Watcher:
    """Pod events of one namespace with the monotonic time each was seen."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.created: dict[str, float] = {}  # pod name -> first seen
        self.finished: dict[str, float] = {}  # pod name -> first seen Succeeded/Failed
        self.workflow_of: dict[str, str] = {}
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        from kubernetes_asyncio import client, config, watch

        cfg = client.Configuration()
        await config.load_kube_config(config_file=str(KUBECONFIG), client_configuration=cfg)
        async with client.ApiClient(cfg) as api:
            core = client.CoreV1Api(api)
            while True:
                async with watch.Watch().stream(
                    core.list_namespaced_pod, self.namespace, timeout_seconds=600
                ) as stream:
                    async for event in stream:
                        raw = event["raw_object"]
                        name = raw["metadata"]["name"]
                        now = time.monotonic()
                        self.created.setdefault(name, now)
                        self.workflow_of[name] = (
                            raw["metadata"].get("labels", {}).get("workflows.argoproj.io/workflow", "")
                        )
                        if raw.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                            self.finished.setdefault(name, now)


def create(namespace: str, obj: dict) -> None:
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(obj))


def phases(namespace: str, label: str) -> dict[str, str]:
    items = json.loads(kubectl("get", "workflows", "-n", namespace, "-l", label, "-o", "json"))["items"]
    return {i["metadata"]["name"]: (i.get("status") or {}).get("phase", "") for i in items}


async def wait_all_done(namespace: str, label: str, count: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        done = [p for p in phases(namespace, label).values() if p in ("Succeeded", "Failed", "Error")]
        if len(done) >= count:
            return time.monotonic() - started
        await asyncio.sleep(1)
    raise TimeoutError(f"{label}: not all {count} done in {timeout}s")


POD = {"name": "echo", "container": {"image": "busybox:1.36", "command": ["true"]}}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--workflows", type=int, default=500)
    parser.add_argument("--pod-workflows", type=int, default=30)
    parser.add_argument("--live", type=int, default=1000)
    args = parser.parse_args()
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    instance = f"bench-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", ns)
    grant_executor(lambda *a, input=None: kubectl(*a, input=input), ns)
    logs = Path("/tmp") / f"sluice-bench-{ns}"
    logs.mkdir(exist_ok=True)
    ctl = LocalController(KUBECONFIG, ns, instance, logs)
    watcher = Watcher(ns)
    watcher.task = asyncio.create_task(watcher.run())
    results: dict[str, object] = {"namespace": ns}
    try:
        ctl.wait_ready()
        await asyncio.sleep(1)

        # 1. create -> first pod
        firsts = []
        for i in range(args.runs):
            name = f"first-{i}"
            t0 = time.monotonic()
            create(ns, workflow(name, instance, {"entrypoint": "echo", "templates": [POD]}))
            while not any(w == name for w in list(watcher.workflow_of.values())):
                await asyncio.sleep(0.005)
            pod = next(p for p, w in watcher.workflow_of.items() if w == name)
            firsts.append(watcher.created[pod] - t0)
        results["create_to_first_pod_s"] = {"p50": statistics.median(firsts), "max": max(firsts)}

        # 2. step delay: pod i finished -> pod i+1 created (continueOn failed: the step runs on either way)
        steps = [
            [{"name": f"s{i}", "template": "echo", "continueOn": {"failed": True, "error": True}}]
            for i in range(10)
        ]
        delays = []
        for r in range(max(1, args.runs // 3)):
            name = f"seq-{r}"
            t0 = time.monotonic()
            create(
                ns,
                workflow(
                    name,
                    instance,
                    {"entrypoint": "main", "templates": [{"name": "main", "steps": steps}, POD]},
                    labels={"bench-batch": name},
                ),
            )
            await wait_all_done(ns, f"bench-batch={name}", 1, 600)
            results.setdefault("sequence_10_steps_s", []).append(time.monotonic() - t0)  # type: ignore[union-attr]
            pods = sorted((p for p, w in watcher.workflow_of.items() if w == name), key=watcher.created.get)
            for a, b in zip(pods, pods[1:], strict=False):
                if a in watcher.finished:
                    delays.append(watcher.created[b] - watcher.finished[a])
        results["step_delay_s"] = {
            "n": len(delays),
            "p50": pct(delays, 50),
            "p99": pct(delays, 99),
            "max": max(delays),
        }

        # 3a. throughput with pods
        label = f"bench-batch=pods-{uuid.uuid4().hex[:4]}"
        t0 = time.monotonic()
        for i in range(args.pod_workflows):
            obj = workflow(
                f"pods-{i}",
                instance,
                {"entrypoint": "echo", "templates": [POD]},
                labels={"bench-batch": label.split("=")[1]},
            )
            create(ns, obj)
        seconds = await wait_all_done(ns, label, args.pod_workflows, 1200) + 0.0
        results["pod_workflows_per_minute"] = {
            "workflows": args.pod_workflows,
            "per_minute": args.pod_workflows / (time.monotonic() - t0) * 60,
            "seconds": seconds,
        }

        # 3b. throughput without pods (suspend 0)
        label = f"bench-batch=suspend-{uuid.uuid4().hex[:4]}"
        items = [
            workflow(
                f"susp-{i}",
                instance,
                {"entrypoint": "p", "templates": [{"name": "p", "suspend": {"duration": "0"}}]},
                labels={"bench-batch": label.split("=")[1]},
            )
            for i in range(args.workflows)
        ]
        t0 = time.monotonic()
        create(ns, {"apiVersion": "v1", "kind": "List", "items": items})
        await wait_all_done(ns, label, args.workflows, 1200)
        results["suspend_workflows_per_minute"] = {
            "workflows": args.workflows,
            "per_minute": args.workflows / (time.monotonic() - t0) * 60,
        }

        # 4. memory holding live workflows
        label = f"bench-batch=live-{uuid.uuid4().hex[:4]}"
        items = [
            workflow(
                f"live-{i}",
                instance,
                {"entrypoint": "p", "templates": [{"name": "p", "suspend": {"duration": "3600"}}]},
                labels={"bench-batch": label.split("=")[1]},
            )
            for i in range(args.live)
        ]
        for chunk in range(0, len(items), 250):
            create(ns, {"apiVersion": "v1", "kind": "List", "items": items[chunk : chunk + 250]})
        while sum(1 for p in phases(ns, label).values() if p == "Running") < args.live:
            await asyncio.sleep(2)
        rss = int(
            next(
                line.split()[1]
                for line in Path(f"/proc/{ctl.proc.pid}/status").read_text().splitlines()
                if line.startswith("VmRSS")
            )
        )
        results["rss_mib_with_live_workflows"] = {"live": args.live, "rss_mib": rss / 1024}
    finally:
        print(json.dumps(results, indent=2), file=sys.stderr)
        ctl.stop()
        if watcher.task:
            watcher.task.cancel()
        kubectl("delete", "namespace", ns, "--wait=false")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
