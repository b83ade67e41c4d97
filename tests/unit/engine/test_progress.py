"""Progress: what a step stores (from the last step's progress and this step's changes,
workflow/engine/progress.py `_delta`) equals the full recomputation from the nodes (`full`), on random
steps and DAG workflows run step by step with pods that fail, run for a while or report their own N/M."""

from __future__ import annotations

import random
from typing import Any

import pytest
from engine_world import World
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflow.engine import TaskResultObservation, progress

LEAF = {
    "name": "leaf",
    "inputs": {"parameters": [{"name": "i", "value": "x"}]},
    "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.i}}"]},
    "outputs": {"parameters": [{"name": "o", "valueFrom": {"path": "/tmp/o"}}]},
}
RETRIED = {**LEAF, "name": "retried", "retryStrategy": {"limit": "1"}}


def _call(draw: Any, name: str, depth: int) -> dict[str, Any]:
    """A step or task calling a leaf, a retried leaf or (once deep) a nested template."""
    choices = ["leaf", "retried"] + (["sub-steps", "sub-dag"] if depth == 0 else [])
    call: dict[str, Any] = {"name": name, "template": draw(st.sampled_from(choices))}
    loop = draw(st.integers(0, 4))
    if loop:
        call["withItems"] = list(range(loop))
        call["arguments"] = {"parameters": [{"name": "i", "value": "{{item}}"}]}
        if draw(st.booleans()):
            call["when"] = "{{item}} != 1"
    if draw(st.integers(0, 3)) == 0:
        call["continueOn"] = {"failed": True}
    return call


@st.composite
def steps_template(draw: Any, name: str, depth: int) -> dict[str, Any]:
    groups = []
    for g in range(draw(st.integers(1, 3))):
        groups.append([_call(draw, f"s{g}x{k}", depth) for k in range(draw(st.integers(1, 3)))])
    return {"name": name, "steps": groups}


@st.composite
def dag_template(draw: Any, name: str, depth: int) -> dict[str, Any]:
    tasks = []
    for t in range(draw(st.integers(1, 5))):
        task = _call(draw, f"t{t}", depth)
        deps = sorted(draw(st.sets(st.integers(0, t - 1), max_size=2))) if t else []
        if deps:
            task["dependencies"] = [f"t{d}" for d in deps]
        tasks.append(task)
    return {"name": name, "dag": {"tasks": tasks}}


@st.composite
def workflows(draw: Any) -> dict[str, Any]:
    main = draw(st.one_of(steps_template("main", 0), dag_template("main", 0)))
    spec: dict[str, Any] = {
        "entrypoint": "main",
        "templates": [
            main,
            draw(steps_template("sub-steps", 1)),
            draw(dag_template("sub-dag", 1)),
            LEAF,
            RETRIED,
        ],
    }
    if draw(st.booleans()):
        spec["onExit"] = "leaf"
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "p"}, "spec": spec}


def _stored(status: dict[str, Any]) -> tuple[dict[str, str | None], str | None]:
    nodes = status.get("nodes") or {}
    return {node_id: node.get("progress") for node_id, node in nodes.items()}, status.get("progress")


def _assert_matches_full(status: dict[str, Any]) -> None:
    shown, overall = progress.full(status.get("nodes") or {})
    assert _stored(status) == (shown, overall)


@pytest.mark.parametrize("walk_budget", [progress.WALK_BUDGET, 0], ids=["walks", "one-pass"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow=workflows(), seed=st.integers(0, 2**32 - 1))
def test_the_stored_progress_equals_the_full_recomputation_at_every_step(walk_budget, workflow, seed):
    """(`walk_budget` 0: the sums always come from the one pass over the changed nodes' ancestors.)"""
    rng = random.Random(seed)
    saved_budget = progress.WALK_BUDGET
    progress.WALK_BUDGET = walk_budget
    world = World(workflow)
    calls = {"delta": 0}
    real = progress._delta

    def counting(op):
        taken = real(op)
        calls["delta"] += taken
        return taken

    progress._delta = counting
    try:
        world.step()
        for _ in range(80):
            _assert_matches_full(world.status)
            if world.phase in ("Succeeded", "Failed", "Error"):
                break
            for node_id in world.running():
                roll = rng.random()
                if roll < 0.25:
                    continue  # still pending
                if roll < 0.45:
                    world.start_all()
                    continue
                world._set(node_id, 1 if roll < 0.6 else 0, {"parameters": [{"name": "o", "value": "v"}]})
                if rng.random() < 0.3:  # the executor reported its own N/M
                    total = rng.randint(1, 5)
                    world.results[node_id] = TaskResultObservation(
                        node_id, world.results[node_id].outputs, progress=f"{rng.randint(0, total)}/{total}"
                    )
            world.tick(1)
            world.step()
        assert world.phase in ("Succeeded", "Failed", "Error")
    finally:
        progress._delta = real
        progress.WALK_BUDGET = saved_budget
    assert calls["delta"] > 0  # the steps after the first took the incremental path


def test_a_step_without_stored_progress_computes_it_in_full():
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "p"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "steps": [[{"name": "a", "template": "leaf"}]]}, LEAF],
        },
    }
    world = World(workflow)
    world.step()
    world.finish_all()
    world.workflow["status"].pop("progress")
    for node in world.status["nodes"].values():
        node.pop("progress", None)
    world.step()
    assert world.status["progress"] == "1/1"
    _assert_matches_full(world.status)


def test_a_large_fan_out_hung_under_one_group_counts_every_pod_once():
    """The shape of the engine benchmark (benchmarks/bench_engine.py): the next group hangs under every
    pod of a looped group, so the pod after it is reached through each of them."""
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "fan"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [{"name": "work", "template": "leaf", "withSequence": {"count": "300"}}],
                        [{"name": "after", "template": "leaf"}],
                    ],
                },
                LEAF,
            ],
        },
    }
    world = World(workflow)
    world.step()
    ids = world.running()
    for node_id in ids[:-3]:
        world._set(node_id, 0, None)
    world.step()
    assert world.status["progress"] == "297/300"
    for node_id in ids[-3:]:
        world._set(node_id, 0, None)
    world.step()  # the group completes; `after` is created under all 300 pods
    assert world.status["progress"] == "300/301"
    root = world.node("fan")
    assert root["progress"] == "300/301"
    assert world.node("fan[0]")["progress"] == "300/301"
    assert world.node("fan[1]")["progress"] == "0/1"
    _assert_matches_full(world.status)


def test_a_retried_workflow_s_stale_progress_is_recomputed():
    """`argo retry` (workflow/retry_reset.py) drops the failed pods but leaves every stored progress as
    it was: the next step must not add to those numbers."""
    from workflow.retry_reset import reset_for_retry

    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "r"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [[{"name": "a", "template": "leaf", "withItems": [1, 2, 3]}]],
                },
                LEAF,
            ],
        },
    }
    world = World(workflow)
    world.run(
        lambda pod: (
            1 if "(0:1)" in pod["metadata"]["annotations"].get("workflows.argoproj.io/node-name", "") else 0,
            None,
        )
    )
    assert world.phase == "Failed"
    assert world.status["progress"] == "2/3"
    retried, dropped = reset_for_retry(world.workflow, "2024-01-01T13:00:00Z")
    assert len(dropped) == 1
    world.workflow = retried
    for node_id in dropped:
        world.pods.pop(node_id)
        world.results.pop(node_id, None)
    world.step()  # the dropped pod is created again
    _assert_matches_full(world.status)
    assert world.status["progress"] == "2/3"
