"""Webhook latency: p50/p99 at a steady 200 requests/s for a 200-task DAG with templateRefs and two
policies (target: p99 under 20 ms on one core).

    .venv/bin/python benchmarks/bench_webhook.py [--seconds 15] [--rate 200] [--evaluator cel-python]
        [--distinct] [--with-mutate] [--nice -10] [--server-repo OTHER_CHECKOUT]

It starts `sluice webhook` as a real process pinned to one CPU, with the templates and policies as
files, and sends AdmissionReviews over HTTPS (keep-alive, like the API server) on an open-loop
schedule: requests go out at their scheduled time whether or not earlier ones have answered, so a
slow server shows up as latency, not as a lower rate. Latency is measured at the client, from the
scheduled send time to the full response. A breakdown of one request in-process comes first.

`--with-mutate` sends each review to /mutate and then to /validate, as the API server does for a
CREATE (the latency is both). `--nice -10` runs the server and this client (and their session's autogroup)
at a higher priority than the other processes of a shared machine, standing for the dedicated cores of
the target (the server's CPU per request is the same; without it, the queueing measured is mostly the
other sessions').
`--server-repo` runs the server from another checkout (the code before a change), with the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import http.client
import json
import os
import platform
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEMPLATES_PER_LIBRARY = 10
IMAGE = "registry.corp.example/tools/step:1.4"


def library(name: str) -> dict:
    templates = []
    for i in range(TEMPLATES_PER_LIBRARY):
        templates.append(
            {
                "name": f"step-{i}",
                "inputs": {"parameters": [{"name": "n"}, {"name": "mode", "default": "fast"}]},
                "container": {
                    "image": IMAGE,
                    "command": ["run"],
                    "args": ["--n", "{{inputs.parameters.n}}", "--mode", "{{inputs.parameters.mode}}"],
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "64Mi"},
                        "limits": {"memory": "256Mi"},
                    },
                },
                "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out"}}]},
            }
        )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": name, "namespace": "bench"},
        "spec": {"templates": templates},
    }


def dag_workflow(tasks: int = 200, variant: int = 0) -> dict:
    dag = []
    for i in range(tasks):
        task = {
            "name": f"t{i}",
            "templateRef": {"name": f"lib-{i % 2}", "template": f"step-{i % TEMPLATES_PER_LIBRARY}"},
            "arguments": {"parameters": [{"name": "n", "value": f"{i}-{variant}"}]},
        }
        if i:
            deps = {f"t{i - 1}"} | ({f"t{i // 2}"} if i > 2 else set())
            task["dependencies"] = sorted(deps)
            task["arguments"]["parameters"].append(
                {"name": "mode", "value": f"{{{{tasks.t{i - 1}.outputs.parameters.out}}}}"}
            )
        dag.append(task)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "bench-", "namespace": "bench"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": dag}}]},
    }


def review_body(obj: dict) -> bytes:
    return json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": str(uuid.uuid4()),
                "kind": {"group": "argoproj.io", "version": "v1alpha1", "kind": "Workflow"},
                "resource": {"group": "argoproj.io", "version": "v1alpha1", "resource": "workflows"},
                "operation": "CREATE",
                "namespace": "bench",
                "userInfo": {"username": "bench"},
                "object": obj,
                "dryRun": False,
            },
        }
    ).encode()


POLICY_FILES = ("allowed-registries.yaml", "memory-limits.yaml")


def breakdown(evaluator_name: str, rounds: int = 30) -> dict[str, float]:
    """CPU milliseconds per step of one /validate, in this process (median of `rounds`), without the
    check cache (every round is a miss)."""
    import functools

    from webhook.admission import Admission
    from webhook.policy.cel import evaluator
    from webhook.policy.engine import PolicySet
    from webhook.review import parse_review
    from webhook.sources import TemplateStore
    from workflow.check import CheckCaches, CheckOptions, check_object

    caches = CheckCaches.create()  # as `sluice webhook` keeps them (webhook/run.py), here without threads
    store = TemplateStore()
    for i in range(2):
        store.put(library(f"lib-{i}"))
    policies = PolicySet(evaluator(evaluator_name))
    for name in POLICY_FILES:
        assert policies.load(yaml.safe_load((REPO / "policies" / name).read_text())) == []
    admission = Admission(
        source=store, policies=policies, checker=functools.partial(check_object, caches=caches)
    )
    body = review_body(dag_workflow())
    times: dict[str, list[float]] = {"parse": [], "check": [], "policies": [], "validate": [], "mutate": []}
    for _ in range(rounds):
        clock = time.process_time
        t0 = clock()
        req = parse_review(body)
        t1 = clock()
        report = check_object(req.object, store, CheckOptions(missing_reference_is_warning=True), caches)
        t2 = clock()
        outcome = admission.evaluate_policies(req, report)
        t3 = clock()
        verdict = admission.validate(req)
        t4 = clock()
        patched = admission.mutate(req)
        t5 = clock()
        assert not report.errors and not outcome.violations and verdict.allowed, (report.errors, outcome)
        assert patched.patch, patched
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            value *= 1000
            times[key].append(value)
    out = {k: round(statistics.median(v), 2) for k, v in times.items()}
    out["containers"] = len(report.containers)
    out["body_kib"] = round(len(body) / 1024, 1)
    out.update(worker_round_trip(admission, req, report, evaluator_name, rounds))
    return out


def worker_round_trip(admission, req, report, evaluator_name: str, rounds: int) -> dict[str, float]:
    """Wall milliseconds of the two policies evaluated in this thread, through a policy worker process
    (webhook/policy/worker.py), and answered from the workers' kept answers (median of `rounds`)."""
    from webhook.policy.worker import PolicyWorkers

    def timed() -> float:
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            admission.evaluate_policies(req, report)
            times.append((time.perf_counter() - t0) * 1000)
        return round(statistics.median(times), 3)

    out = {"policies_in_thread_wall": timed()}
    workers = PolicyWorkers(evaluator_name, 1, keep_answers=0)
    try:
        deadline = time.monotonic() + 120
        while workers.started < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        admission.policies.runner = workers
        out["policies_via_worker_wall"] = timed()
        workers.keep_answers = 8
        out["policies_kept_answer_wall"] = timed()
    finally:
        admission.policies.runner = None
        workers.close()
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    tmp: Path,
    evaluator_name: str,
    cpu: int,
    cache: int,
    policy_workers: int = 2,
    repo: Path = REPO,
) -> tuple[subprocess.Popen, int]:
    templates, policies = tmp / "templates", tmp / "policies"
    templates.mkdir()
    policies.mkdir()
    for i in range(2):
        (templates / f"lib-{i}.yaml").write_text(yaml.safe_dump(library(f"lib-{i}")))
    for name in POLICY_FILES:
        (policies / name).write_text((REPO / "policies" / name).read_text())
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "sluice",
        "webhook",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--cert-dir",
        str(tmp / "certs"),
        "--templates",
        str(templates),
        "--policies",
        str(policies),
        "--evaluator",
        evaluator_name,
        "--log-level",
        "warning",
        "--shutdown-grace",
        "0",
        "--check-cache",
        str(cache),
        "--policy-workers",
        str(policy_workers),
    ]

    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    proc = subprocess.Popen(
        args,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        preexec_fn=pin,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "webhook.log").open("wb"),
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (tmp / "certs" / "ca.crt").exists():
            try:
                ctx = ssl.create_default_context(cafile=str(tmp / "certs" / "ca.crt"))
                # Ready, not only listening: /readyz waits for the policy workers to have started (before,
                # the first seconds of a run measured requests queued behind the workers' start-up).
                conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=5)
                try:
                    conn.request("GET", "/readyz")
                    if conn.getresponse().status == 200:
                        return proc, port
                finally:
                    conn.close()
            except (OSError, http.client.HTTPException):
                pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("webhook did not start:\n" + (tmp / "webhook.log").read_text())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def children_cpu_seconds(pid: int) -> float:
    """The CPU of the server's live child processes (the policy workers)."""
    total = 0.0
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            with contextlib.suppress(OSError):  # ended meanwhile
                total += cpu_seconds(int(child))
    return total


async def load(
    port: int,
    ca: Path,
    bodies: list[bytes],
    rate: float,
    seconds: float,
    connections: int,
    pid: int,
    with_mutate: bool = False,
) -> tuple[list[float], float, float, float]:
    import aiohttp

    ctx = ssl.create_default_context(cafile=str(ca))
    connector = aiohttp.TCPConnector(ssl=ctx, limit=connections)
    latencies: list[float] = []
    errors: list[str] = []
    url = f"https://localhost:{port}/validate"
    mutate_url = f"https://localhost:{port}/mutate"
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(scheduled: float, body: bytes) -> None:
            if with_mutate:  # the API server's order for a CREATE: mutating webhooks, then validating
                async with session.post(
                    mutate_url, data=body, headers={"Content-Type": "application/json"}
                ) as resp:
                    data = await resp.read()
                if resp.status != 200 or "patch" not in json.loads(data)["response"]:
                    errors.append(f"mutate: {resp.status} {data[:200]!r}")
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
                data = await resp.read()
            done = time.perf_counter()
            answer = json.loads(data)
            if resp.status != 200 or not answer["response"]["allowed"]:
                errors.append(f"{resp.status} {data[:200]!r}")
            latencies.append(done - scheduled)

        for _ in range(connections * 2):  # warm up: connections, imports
            await one(time.perf_counter(), bodies[-1])
        latencies.clear()
        cpu0, workers0 = cpu_seconds(pid), children_cpu_seconds(pid)
        start = time.perf_counter()
        total = int(rate * seconds)
        tasks = []
        for i in range(total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, bodies[i % len(bodies)])))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds(pid) - cpu0
        worker_cpu = children_cpu_seconds(pid) - workers0
    if errors:
        raise SystemExit(f"{len(errors)} requests failed; first: {errors[0]}")
    return latencies, elapsed, cpu, worker_cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--evaluator", default="cel-rust", choices=("cel-rust", "cel-python"))
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="every request a different workflow (an argument differs): the check cache misses",
    )
    parser.add_argument("--check-cache", type=int, default=128)
    parser.add_argument("--policy-workers", type=int, default=2, help="0: policies in the check's thread")
    parser.add_argument(
        "--with-mutate", action="store_true", help="each review to /mutate, then /validate (a CREATE)"
    )
    parser.add_argument("--nice", type=int, default=0, help="nice value of client and server (below 0: root)")
    parser.add_argument(
        "--server-repo", type=Path, default=REPO, help="run the server from this checkout (before/after)"
    )
    parser.add_argument("--no-breakdown", action="store_true", help="skip the in-process breakdown")
    args = parser.parse_args()

    if args.nice:
        os.nice(args.nice)  # this client and the server it starts (below 0 needs root)
        # With autogroups (Linux groups a session's processes), nice ranks only inside the group: the
        # group's own nice decides against the other sessions' processes.
        group = Path("/proc/self/autogroup")
        with contextlib.suppress(OSError, ValueError, IndexError):
            before = int(group.read_text().split("nice")[1])
            group.write_text(str(args.nice))
            atexit.register(group.write_text, str(before))  # the group outlives this run: give it back
    others = set(range(os.cpu_count() or 1)) - {args.server_cpu}
    if others:
        os.sched_setaffinity(0, others)  # the client off the server's CPU (the server pins itself)
    if not args.no_breakdown:
        parts = breakdown(args.evaluator)
        print(f"one /validate in-process ({args.evaluator}): {json.dumps(parts)}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        proc, port = start_server(
            tmp,
            args.evaluator,
            args.server_cpu,
            args.check_cache,
            args.policy_workers,
            args.server_repo.resolve(),
        )
        try:
            total = int(args.rate * args.seconds)
            # Bodies are made before the run; the last one is for the warm-up only.
            bodies = (
                [review_body(dag_workflow(variant=i)) for i in range(total + 1)]
                if args.distinct
                else [review_body(dag_workflow())] * 2
            )
            lat, elapsed, cpu, worker_cpu = asyncio.run(
                load(
                    port,
                    tmp / "certs" / "ca.crt",
                    bodies,
                    args.rate,
                    args.seconds,
                    args.connections,
                    proc.pid,
                    args.with_mutate,
                )
            )
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
    ms = [v * 1000 for v in lat]
    scenario = "distinct workflows (cache misses)" if args.distinct else "the same workflow (cache hits)"
    if args.with_mutate:
        scenario += ", each to /mutate then /validate"
    print(
        f"{len(ms)} requests, {scenario}, offered {args.rate:g}/s for {args.seconds:g}s, achieved "
        f"{len(ms) / elapsed:.0f}/s; server on CPU {args.server_cpu}, evaluator {args.evaluator}, "
        f"check cache {args.check_cache}, policy workers {args.policy_workers}, nice {args.nice}, "
        f"server code {args.server_repo}; load average {os.getloadavg()[0]:.1f}; Python {platform.python_version()}"
    )
    print(
        f"server CPU per request: {cpu / len(ms) * 1000:.2f} ms; "
        f"its policy workers: {worker_cpu / len(ms) * 1000:.2f} ms"
    )
    print(
        f"latency ms: p50 {percentile(ms, 0.50):.1f}  p90 {percentile(ms, 0.90):.1f}  "
        f"p99 {percentile(ms, 0.99):.1f}  max {max(ms):.1f}"
    )


if __name__ == "__main__":
    main()
