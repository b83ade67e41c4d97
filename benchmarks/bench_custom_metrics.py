"""Custom metrics in an engine step (workflow/engine/custom_metrics.py `emit`) at 10,000 nodes.

A 10,000-item loop whose template declares a metric, every pod running; then steps in each of which 10
more pods finish. Reported: the CPU time of `emit` alone in those steps (min / median), and of the
whole step, for comparing versions of `emit` (run it on each).

    .venv/bin/python benchmarks/bench_custom_metrics.py [--pods N] [--steps N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflow.engine import (  # noqa: E402
    ContainerObservation,
    CreatePod,
    Observed,
    PodObservation,
    TaskResultObservation,
    custom_metrics,
    operate,
    step,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def loop_with_metrics(n: int) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "metrics", "namespace": "default"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [[{"name": "s", "template": "s", "withSequence": {"count": str(n)}}]],
                },
                {
                    "name": "s",
                    "container": {"image": "busybox", "command": ["true"]},
                    "metrics": {
                        "prometheus": [{"name": "took", "help": "s", "gauge": {"value": "{{duration}}"}}]
                    },
                },
            ],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    wf = loop_with_metrics(args.pods)
    now = T0
    decision = step(wf, Observed(), now)
    wf["status"] = decision.status
    pods = {
        a.node_id: PodObservation(
            a.name, a.node_id, "Running", containers=(ContainerObservation("main", "running"),)
        )
        for a in decision.actions
        if isinstance(a, CreatePod)
    }
    results: dict[str, TaskResultObservation] = {}
    now += timedelta(seconds=1)
    wf["status"] = step(wf, Observed(pods=dict(pods)), now).status  # all running: steady state
    spent: list[float] = []
    real_emit = custom_metrics.emit

    def timed(op, spec):
        c0 = time.process_time()
        real_emit(op, spec)
        spent.append((time.process_time() - c0) * 1000)

    operate.custom_metrics.emit = timed
    ids = list(pods)
    whole: list[float] = []
    for k in range(args.steps):
        now += timedelta(seconds=1)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        for node_id in ids[k * 10 : (k + 1) * 10]:
            main = ContainerObservation("main", "terminated", 0, finished_at=stamp)
            pods[node_id] = PodObservation(pods[node_id].name, node_id, "Succeeded", containers=(main,))
            results[node_id] = TaskResultObservation(node_id, None)
        c0 = time.process_time()
        wf["status"] = step(wf, Observed(pods=dict(pods), task_results=dict(results)), now).status
        whole.append((time.process_time() - c0) * 1000)
    operate.custom_metrics.emit = real_emit
    nodes = len(wf["status"]["nodes"])
    print(f"{nodes} nodes, 10 pods finishing per step, {args.steps} steps (CPU ms, min / median):")
    print(f"  emit        {min(spent):7.2f} / {statistics.median(spent):7.2f}")
    print(f"  whole step  {min(whole):7.2f} / {statistics.median(whole):7.2f}")


if __name__ == "__main__":
    main()
