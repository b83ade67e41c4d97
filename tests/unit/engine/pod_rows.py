"""Rows of pod states -> node phase and message, and the one-pod workflow that runs them (in the style of
Tekton's pod-status tables), shared by the test_pod_*.py tables.

A row (`Case`) drives the public engine (`workflow.engine.step`) on a one-pod workflow: the pod the engine
asks for is replaced by the row's observations in order (time moving between them as the row says), and
the node is compared after the last one (`check`). The rules are Argo's (its exit-code and phase mapping,
inferFailedReason, assessNodeStatus, podReconciliation), implemented in workflow/engine/reconcile.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from engine_world import World

from workflow.engine import (
    ContainerObservation,
    CreatePod,
    EngineConfig,
    PodObservation,
    TaskResultObservation,
)

IMAGE = "registry.example/team/tool:1.2"
FINISHED = "2024-01-01T12:00:00Z"
GONE = None  # the pod is not observed any more

CONTAINER = {"name": "main", "container": {"image": IMAGE, "command": ["tool"]}}
CONTAINER_SET = {
    "name": "main",
    "containerSet": {
        "containers": [
            {"name": "a", "image": "busybox", "command": ["true"]},
            {"name": "b", "image": "busybox", "command": ["true"], "dependencies": ["a"]},
        ]
    },
}


def done(name: str, code: int = 0, reason: str = "", message: str = "") -> ContainerObservation:
    reason = reason or ("Completed" if code == 0 else "Error")
    return ContainerObservation(name, "terminated", code, reason, message, finished_at=FINISHED)


def running(name: str) -> ContainerObservation:
    return ContainerObservation(name, "running", ready=True)


def waiting(name: str, reason: str, message: str = "", image: str = "") -> ContainerObservation:
    return ContainerObservation(name, "waiting", reason=reason, message=message, image=image)


def pod(
    phase: str, *containers: ContainerObservation, init: tuple[ContainerObservation, ...] = (), **fields: Any
) -> PodObservation:
    return PodObservation(
        name="", node_id="", phase=phase, containers=containers, init_containers=init, **fields
    )


def result(completed: bool = True, **outputs: Any) -> TaskResultObservation:
    return TaskResultObservation(node_id="", outputs=outputs or None, completed=completed)


MAIN_OK, WAIT_OK = done("main"), done("wait")
PULL_BACKOFF = waiting("main", "ImagePullBackOff", f'Back-off pulling image "{IMAGE}"', IMAGE)


@dataclass(frozen=True)
class Seen:
    """One observation: `after` seconds after the previous step, the pod (or GONE) and its task result."""

    pod: PodObservation | None
    result: TaskResultObservation | None = None
    after: float = 1


@dataclass(frozen=True)
class Case:
    id: str
    seen: tuple[Seen, ...]
    phase: str
    message: str = ""
    template: dict[str, Any] = field(default_factory=lambda: CONTAINER)
    exit_code: str | None = None  # outputs.exitCode
    synced: bool = True  # taskResultSynced
    workflow: str | None = None  # the workflow's phase, when the row is about not getting stuck
    containers: dict[str, tuple[str, str]] = field(default_factory=dict)  # Container node -> (phase, message)
    config: EngineConfig = field(default_factory=EngineConfig)


def once(p: PodObservation | None, r: TaskResultObservation | None = None, **kw: Any) -> tuple[Seen, ...]:
    """The row's observations: `p` (and `r`) first, then each of `then=[{pod, result, after}, ...]`."""
    return (Seen(p, r),) + tuple(Seen(**s) for s in kw.get("then", ()))


def rows(cases: Sequence[Case]) -> pytest.MarkDecorator:
    """The table as a parametrisation, one test id per row (a repeated id is an error here, not a
    silently renamed test)."""
    ids = [c.id for c in cases]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"row ids used twice: {repeated}")
    return pytest.mark.parametrize("case", cases, ids=ids)


def one_pod_workflow(*templates: dict[str, Any]) -> dict[str, Any]:
    """A workflow named `pods` whose entrypoint is the first template (its node is named `pods`)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "pods"},
        "spec": {"entrypoint": "main", "templates": list(templates)},
    }


def created_pod(world: World) -> CreatePod:
    [created] = [a for a in world.decisions[0].actions if isinstance(a, CreatePod)]
    return created


def run_case(case: Case) -> World:
    world = World(one_pod_workflow(case.template), config=case.config)
    world.step()
    created = created_pod(world)
    node_id, name = created.node_id, created.name
    for seen in case.seen:
        world.tick(seen.after)
        if seen.pod is GONE:
            world.pods.pop(node_id, None)
        else:
            world.pods[node_id] = dataclasses.replace(seen.pod, name=name, node_id=node_id)
        if seen.result is not None:
            world.results[node_id] = dataclasses.replace(seen.result, node_id=node_id)
        world.step()
    return world


def check(case: Case) -> World:
    """Run the row and compare the pod's node (and its Container nodes, and the workflow) with it."""
    world = run_case(case)
    node = world.node("pods")
    assert (node["phase"], node.get("message", "")) == (case.phase, case.message)
    assert (node.get("outputs") or {}).get("exitCode") == case.exit_code
    assert node.get("taskResultSynced") is case.synced
    if case.workflow is not None:
        assert world.phase == case.workflow
    got = {
        n["name"].rsplit(".", 1)[-1]: (n["phase"], n.get("message", ""))
        for n in world.status["nodes"].values()
        if n["type"] == "Container"
    }
    assert got == case.containers
    return world
