"""Benchmark: check_object on a generated 2,000-task DAG whose tasks call WorkflowTemplates by templateRef.

Target (the webhook's target is p99 < 20 ms on a 200-task DAG): < 200 ms of core time
for 2,000 tasks. Two shapes, because the CRD caps `dag.tasks` at 200:

- `flat`: one DAG of 2,000 tasks (reported, correctly, as over the 200-task limit: one error);
- `nested`: an outer DAG of 10 tasks, each running a 200-task DAG template (2,000 tasks, valid);
- `webhook`: the 200-task DAG of the admission target.

Each task calls one of five WorkflowTemplate templates through templateRef, depends on one or two earlier
tasks, and passes an earlier task's output on as an argument (so scoping, ancestry and resolution all
run). Figures are CPU time (time.process_time), median of N runs, after one warm-up run.

    .venv/bin/python benchmarks/bench_validate.py [runs]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflow.check import CheckCaches, CheckOptions, check_object  # noqa: E402
from workflow.resolve.sources import ListSource  # noqa: E402

LIB = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "WorkflowTemplate",
    "metadata": {"name": "lib", "namespace": "bench", "resourceVersion": "1"},
    "spec": {
        "templates": [
            {
                "name": f"step{i}",
                "inputs": {"parameters": [{"name": "in", "default": "x"}]},
                "container": {
                    "image": "busybox",
                    "command": ["sh", "-c"],
                    "args": ["echo {{inputs.parameters.in}}"],
                },
                "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/tmp/out"}}]},
            }
            for i in range(5)
        ]
    },
}


def tasks(n: int, prefix: str) -> list[dict]:
    out = []
    for i in range(n):
        task = {"name": f"{prefix}{i}", "templateRef": {"name": "lib", "template": f"step{i % 5}"}}
        if i:
            parent = f"{prefix}{i - 1}"
            task["depends"] = parent if i < 2 else f"{parent} && {prefix}{i - 2}.Succeeded"
            task["arguments"] = {
                "parameters": [{"name": "in", "value": f"{{{{tasks.{parent}.outputs.parameters.out}}}}"}]
            }
        out.append(task)
    return out


def workflow(shape: str) -> dict:
    if shape == "flat":
        templates = [{"name": "main", "dag": {"tasks": tasks(2000, "t")}}]
    elif shape == "webhook":
        templates = [{"name": "main", "dag": {"tasks": tasks(200, "t")}}]
    else:
        outer = [
            {"name": f"part{k}", "template": f"part{k}", **({"depends": f"part{k - 1}"} if k else {})}
            for k in range(10)
        ]
        templates = [{"name": "main", "dag": {"tasks": outer}}]
        templates += [{"name": f"part{k}", "dag": {"tasks": tasks(200, f"p{k}-")}} for k in range(10)]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": f"bench-{shape}", "namespace": "bench"},
        "spec": {"entrypoint": "main", "templates": templates},
    }


class Source(ListSource):
    pass


def measure(shape: str, runs: int) -> tuple[float, float, int]:
    doc = workflow(shape)
    source = Source([LIB])
    caches = CheckCaches.create()  # a program's caches, kept between checks (as the webhook keeps them)
    options = CheckOptions(missing_reference_is_warning=True)
    import workflow.check as check_module

    times = []
    report = None
    for i in range(runs + 1):
        t0 = time.process_time()
        report = check_module._check(doc, source, options, caches, parse_cached=True)
        elapsed = (time.process_time() - t0) * 1000
        if i:
            times.append(elapsed)
    assert report is not None
    # The whole facade, parse included, with a fresh parse of the workflow every time (an admission request).
    t0 = time.process_time()
    check_object(workflow(shape), source, options, caches)
    facade = (time.process_time() - t0) * 1000
    return statistics.median(times), facade, len(report.errors)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    print(f"{'shape':<8} {'tasks':>6} {'median CPU ms':>14} {'one fresh check_object ms':>26} {'errors':>7}")
    for shape, n in (("webhook", 200), ("nested", 2000), ("flat", 2000)):
        median, facade, errors = measure(shape, runs)
        print(f"{shape:<8} {n:>6} {median:>14.1f} {facade:>26.1f} {errors:>7}")


if __name__ == "__main__":
    main()
