"""The workload shapes of the scale benchmark (benchmarks/bench_scale.py): what a user runs.

Each shape builds a Workflow spec the same for both controllers, and says which step of the workflow a
pod belongs to (from its `workflows.argoproj.io/node-name` annotation, which both set as Argo does), so
the delay between a step ending and the next step's pods can be measured the same way for both:
step g's pods follow step g-1's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

IMAGE = "busybox:1.36"
# kwok's nodes carry this taint and label (benchmarks/scale_kwok.py); only benchmark pods tolerate it.
KWOK_TAINT_KEY = "sluice.dev/bench-kwok"
KWOK_NODE_LABEL = "sluice.dev/bench-kwok"


def _container(name: str) -> dict[str, Any]:
    return {"name": name, "container": {"image": IMAGE, "command": ["true"]}}


def _one_pod() -> dict[str, Any]:
    return {"entrypoint": "main", "templates": [_container("main")]}


def _sequence(steps: int) -> dict[str, Any]:
    main = {"name": "main", "steps": [[{"name": f"s{i}", "template": "work"}] for i in range(steps)]}
    return {"entrypoint": "main", "templates": [main, _container("work")]}


def _dag(width: int) -> dict[str, Any]:
    fans = [f"fan-{i}" for i in range(width)]
    tasks = [{"name": "root", "template": "work"}]
    tasks += [{"name": f, "template": "work", "dependencies": ["root"]} for f in fans]
    tasks.append({"name": "join", "template": "work", "dependencies": fans})
    return {
        "entrypoint": "main",
        "templates": [{"name": "main", "dag": {"tasks": tasks}}, _container("work")],
    }


def _items(count: int) -> dict[str, Any]:
    main = {
        "name": "main",
        "steps": [
            [{"name": "work", "template": "work", "withItems": list(range(count))}],
            [{"name": "done", "template": "work"}],
        ],
    }
    return {"entrypoint": "main", "templates": [main, _container("work")]}


def _live() -> dict[str, Any]:
    """A pod, then a suspend with no duration: the workflow stays Running until resumed or deleted."""
    main = {
        "name": "main",
        "steps": [[{"name": "work", "template": "work"}], [{"name": "hold", "template": "hold"}]],
    }
    return {"entrypoint": "main", "templates": [main, _container("work"), {"name": "hold", "suspend": {}}]}


_STEP_INDEX = re.compile(r"\[(\d+)\]")
_DAG_GROUPS = {"root": 0, "fan": 1, "join": 2}


def _steps_group(node_name: str) -> int:
    """`wf[3].s3` -> 3; `wf[0].work(7:7)` -> 0: the outer steps group of a pod."""
    found = _STEP_INDEX.search(node_name)
    return int(found.group(1)) if found else 0


def _dag_group(node_name: str) -> int:
    """`wf.root` -> 0, `wf.fan-12` -> 1, `wf.join` -> 2."""
    task = node_name.rsplit(".", 1)[-1]
    return _DAG_GROUPS.get(task.split("-", 1)[0], 0)


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    title: str
    pods: int  # pods per workflow
    spec: Callable[[], dict[str, Any]]
    group: Callable[[str], int]
    live: bool = False  # it never completes: it is counted once it waits at its suspend step


SHAPES: dict[str, Shape] = {
    s.name: s
    for s in (
        Shape("pod", "1 pod", 1, _one_pod, lambda _: 0),
        Shape("seq", "10-step sequence", 10, lambda: _sequence(10), _steps_group),
        Shape("dag", "100-task DAG fan-out/fan-in", 102, lambda: _dag(100), _dag_group),
        Shape("items", "1,000-item withItems", 1001, lambda: _items(1000), _steps_group),
        Shape("live", "1 pod, then a suspend (stays live)", 1, _live, _steps_group, live=True),
    )
}


def workflow(
    shape: Shape,
    name: str,
    instance_id: str,
    batch: str,
    *,
    kwok: bool,
    namespace: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One Workflow of `shape`, for the controller of `instance_id`; on kwok's nodes when `kwok`."""
    spec = shape.spec()
    if kwok:
        spec["nodeSelector"] = {KWOK_NODE_LABEL: "true"}
        spec["tolerations"] = [{"key": KWOK_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}]
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": name,
            **({"namespace": namespace} if namespace else {}),
            "labels": {
                "workflows.argoproj.io/controller-instanceid": instance_id,
                "sluice.dev/bench-batch": batch,
                **(labels or {}),
            },
        },
        "spec": spec,
    }
