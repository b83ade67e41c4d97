"""Benchmark: the `sluice` CLI's own costs (issue 12): start-up, drawing a big workflow, the retry reset,
and a cron tick after long downtime.

- start-up: wall time of `python -m sluice --help` and of a cluster verb failing before any request
  (`sluice get x --kubeconfig /nonexistent`: parser, imports of the verb and of the API client);
- `get`'s tree (sluice/runner/display.py render_tree) and `list -o wide` rows on a workflow of N nodes;
- workflow/retry_reset.py on a Failed workflow of N nodes (one failed pod per 100);
- workflow/cron_schedule.py tick() for `* * * * *` three years after its last run, and next_after for a
  yearly schedule (the longest walk);
- the controller's cron loop decision (controller/cron_plan.py plan(): stopStrategy, when, tick,
  status) for a CronWorkflow with N children, 1% of them running.

CPU ms per call (time.process_time), median of batches; start-up is wall time, median of runs.

    .venv/bin/python benchmarks/bench_cli.py [nodes] [runs]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from controller.cron_plan import plan  # noqa: E402
from sluice.output import workflow_rows  # noqa: E402
from sluice.runner.display import render_tree  # noqa: E402
from workflow.cron_schedule import next_after, parse, tick, zone  # noqa: E402
from workflow.retry_reset import reset_for_retry  # noqa: E402


def per_call_ms(fn, repeat: int = 5) -> float:
    t0 = time.process_time()
    fn()
    once = max(time.process_time() - t0, 1e-6)
    batch = max(1, int(0.05 / once))
    samples = []
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(batch):
            fn()
        samples.append((time.process_time() - t0) / batch * 1000)
    return statistics.median(samples)


def wall_s(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sluice", *argv], capture_output=True, cwd=REPO, timeout=120)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def big_workflow(n: int) -> dict:
    """Steps root -> n/10 step groups -> 10 pods each; one pod in 100 failed."""
    nodes = {
        "wf": {
            "id": "wf",
            "name": "wf",
            "displayName": "wf",
            "type": "Steps",
            "phase": "Failed",
            "templateName": "main",
            "startedAt": "2026-12-06T06:00:00Z",
            "finishedAt": "2026-12-06T07:00:00Z",
            "children": ["g0"],
        }
    }
    groups = n // 10
    for g in range(groups):
        kids = [f"p{g}-{i}" for i in range(10)]
        nodes[f"g{g}"] = {
            "id": f"g{g}",
            "name": f"wf[{g}]",
            "displayName": f"[{g}]",
            "type": "StepGroup",
            "phase": "Succeeded",
            "boundaryID": "wf",
            "children": kids,
            "startedAt": "2026-12-06T06:00:00Z",
        }
        for i, kid in enumerate(kids):
            failed = (g * 10 + i) % 100 == 99
            nodes[kid] = {
                "id": kid,
                "name": f"wf[{g}].s{i}",
                "displayName": f"s{i}",
                "type": "Pod",
                "phase": "Failed" if failed else "Succeeded",
                "boundaryID": "wf",
                "templateName": "t",
                "startedAt": "2026-12-06T06:00:00Z",
                "finishedAt": "2026-12-06T06:00:05Z",
                "children": [f"g{g + 1}"] if g + 1 < groups else [],
            }
    return {
        "metadata": {"name": "wf", "creationTimestamp": "2026-12-06T06:00:00Z"},
        "spec": {},
        "status": {
            "phase": "Failed",
            "startedAt": "2026-12-06T06:00:00Z",
            "finishedAt": "2026-12-06T07:00:00Z",
            "nodes": nodes,
        },
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    wf = big_workflow(n)
    now = datetime(2026, 12, 6, 8, tzinfo=UTC).timestamp()
    print(f"start-up `sluice --help`: {wall_s(['--help'], runs):.2f} s (wall, median of {runs})")
    print(
        f"start-up `sluice get x --kubeconfig /nonexistent`: "
        f"{wall_s(['get', 'x', '--kubeconfig', '/nonexistent'], runs):.2f} s"
    )
    print(
        f"get tree, {len(wf['status']['nodes'])} nodes: {per_call_ms(lambda: render_tree(wf, now, False)):.1f} ms"
    )
    flows = [big_workflow(100) for _ in range(500)]
    print(
        f"list -o wide rows, 500 workflows: {per_call_ms(lambda: workflow_rows(flows, now, wide=True)):.1f} ms"
    )
    print(
        f"retry reset, {len(wf['status']['nodes'])} nodes: "
        f"{per_call_ms(lambda: reset_for_retry(wf, '2026-12-06T08:00:00Z')):.1f} ms"
    )
    cron = {
        "metadata": {"name": "c", "creationTimestamp": "2023-01-01T00:00:00Z"},
        "spec": {"schedules": ["* * * * *"], "startingDeadlineSeconds": 3600},
        "status": {"lastScheduledTime": "2023-06-01T00:00:00Z"},
    }
    late = datetime(2026, 6, 1, 12, 0, 30, tzinfo=UTC)
    print(f"cron tick, every minute, 3 years late: {per_call_ms(lambda: tick(cron, [], late)):.2f} ms")
    yearly, ny = parse("0 0 29 2 *"), zone("America/New_York")
    start = datetime(2026, 3, 1, tzinfo=UTC)
    print(
        f"next_after '0 0 29 2 *' (Feb 29, ~2 years ahead): {per_call_ms(lambda: next_after(yearly, start, ny)):.2f} ms"
    )
    for count in (10, 1_000):
        owner, kids = cron_with_children(count)
        at = datetime(2026, 6, 1, 12, 0, 5, tzinfo=UTC)
        print(
            f"cron loop plan(), {count} children: {per_call_ms(lambda o=owner, k=kids, t=at: plan(o, k, t)):.2f} ms"
        )


def cron_with_children(n: int) -> tuple[dict, list[dict]]:
    """A CronWorkflow with `when` and `stopStrategy`, and n children (1 in 100 running, listed active)."""
    kids = []
    for i in range(n):
        running = i % 100 == 0
        kids.append(
            {
                "metadata": {
                    "name": f"c-{i}",
                    "namespace": "ns",
                    "uid": f"u{i}",
                    "creationTimestamp": "2026-06-01T00:00:00Z",
                },
                "status": {"phase": "Running"}
                if running
                else {"phase": "Succeeded", "finishedAt": "2026-06-01T00:01:00Z"},
            }
        )
    cron = {
        "metadata": {
            "name": "c",
            "namespace": "ns",
            "uid": "cu",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {
            "schedules": ["* * * * *"],
            "when": "{{= cronworkflow.failed < 3 }}",
            "stopStrategy": {"expression": "cronworkflow.failed >= 3"},
            "successfulJobsHistoryLimit": n,
            "workflowSpec": {"entrypoint": "main"},
        },
        "status": {
            "lastScheduledTime": "2026-06-01T11:59:00Z",
            "active": [{"name": k["metadata"]["name"]} for k in kids if k["status"]["phase"] == "Running"],
        },
    }
    return cron, kids


if __name__ == "__main__":
    main()
