"""The pods of a looped task hung under the task after it share one `children` list
(workflow/engine/nodes.py `_hang`): a second child, in the same step or a later one, is appended to a
copy, never to the shared list, so each pod lists exactly its own children."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.engine.engine_world import World

pytestmark = pytest.mark.unit


def dag(*tasks: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "hung", "namespace": "ns", "uid": "u1"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "dag": {"tasks": list(tasks)}},
                {"name": "t", "container": {"image": "alpine", "command": ["true"]}},
            ],
        },
    }


WORK = {"name": "work", "template": "t", "withItems": [1, 2, 3]}


def children_by_name(world: World) -> dict[str, list[str]]:
    by_id = {i: n["name"] for i, n in world.status["nodes"].items()}
    return {n["name"]: [by_id[c] for c in n.get("children") or ()] for n in world.status["nodes"].values()}


def work_pods(world: World) -> list[str]:
    return sorted(n for n in children_by_name(world) if n.startswith("hung.work("))


def finish(world: World, *names: str) -> None:
    """Finish the running pods of these nodes (a name ending in "(": every copy of a loop), then step."""
    for node_id in world.running():
        name = world.pod_specs[node_id]["metadata"]["annotations"]["workflows.argoproj.io/node-name"]
        if any(name == n or (n.endswith("(") and name.startswith(n)) for n in names):
            world._set(node_id, 0, None)
    world.tick(1)
    world.step()


def test_two_tasks_after_a_loop_in_the_same_step_each_pod_lists_both() -> None:
    world = World(
        dag(
            WORK,
            {"name": "a", "template": "t", "depends": "work"},
            {"name": "b", "template": "t", "depends": "work"},
        )
    )
    world.run()
    assert world.phase == "Succeeded"
    kids = children_by_name(world)
    assert len(work_pods(world)) == 3
    for pod in work_pods(world):
        assert kids[pod] == ["hung.a", "hung.b"]


def test_a_second_child_in_a_later_step_is_added_to_that_pod_alone() -> None:
    # work's pods finish first; `a` hangs under them when `slow` is done (one shared list, the pods being
    # untouched in that step), `late` when `slower` is done, a step after
    world = World(
        dag(
            WORK,
            {"name": "slow", "template": "t"},
            {"name": "slower", "template": "t"},
            {"name": "a", "template": "t", "depends": "work && slow"},
            {"name": "late", "template": "t", "depends": "work && slower"},
        )
    )
    world.step()
    finish(world, "hung.work(")
    finish(world, "hung.slow")
    kids = children_by_name(world)
    assert [kids[p] for p in work_pods(world)] == [["hung.a"]] * 3
    nodes = world.status["nodes"]
    shared = {id(n["children"]) for n in nodes.values() if n["name"] in work_pods(world)}
    assert len(shared) == 1  # the one list
    finish(world, "hung.slower")
    kids = children_by_name(world)
    assert [kids[p] for p in work_pods(world)] == [["hung.a", "hung.late"]] * 3
    world.run()
    assert world.phase == "Succeeded"
    kids = children_by_name(world)
    for pod in work_pods(world):
        assert kids[pod] == ["hung.a", "hung.late"]
    assert kids["hung.slow"] == ["hung.a"] and kids["hung.slower"] == ["hung.late"]
