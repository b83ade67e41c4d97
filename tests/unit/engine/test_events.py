"""Node and workflow events: emitted from one place (workflow/engine/events.py) from the phase changes the
node store writes down (workflow/engine/nodes.py `transitions`), after the tree is executed."""

from __future__ import annotations

from typing import Any

from engine_world import World

from workflow.engine import CreatePod, EngineConfig, Event, SaveCache

STEPS = [
    {"name": "main", "steps": [[{"name": "a", "template": "work"}]]},
    {"name": "work", "container": {"image": "busybox", "command": ["true"]}},
]


def workflow(templates: list[dict[str, Any]] = STEPS) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "ev"},
        "spec": {"entrypoint": "main", "templates": templates},
    }


def events(world: World, index: int = -1) -> list[Event]:
    return [a for a in world.decisions[index].actions if isinstance(a, Event)]


def node_events(world: World, index: int = -1) -> list[tuple[str, str, str]]:
    return [(e.reason, e.message, e.type) for e in events(world, index) if e.node_id is not None]


def test_created_nodes_each_have_an_event_and_events_follow_the_steps_other_actions():
    world = World(workflow())
    world.step()
    assert node_events(world) == [
        ("WorkflowNodeRunning", "Steps node ev running", "Normal"),
        ("WorkflowNodeRunning", "StepGroup node ev[0] running", "Normal"),
        ("WorkflowNodePending", "Pod node ev[0].a pending", "Normal"),
    ]
    actions = world.decisions[-1].actions
    first_node_event = next(i for i, a in enumerate(actions) if isinstance(a, Event) and a.node_id)
    assert all(not isinstance(a, CreatePod) for a in actions[first_node_event:])
    pod = next(e for e in events(world) if e.message.startswith("Pod node"))
    assert pod.annotations == {
        "workflows.argoproj.io/node-id": world.node("ev[0].a")["id"],
        "workflows.argoproj.io/node-name": "ev[0].a",
        "workflows.argoproj.io/node-type": "Pod",
    }


def test_a_failed_node_is_a_warning_with_its_message():
    world = World(workflow())
    world.step()
    world.finish("ev[0].a", exit_code=3)
    world.step()
    assert (
        "WorkflowNodeFailed",
        "Pod node ev[0].a failed: main: Error (exit code 3)",
        "Warning",
    ) in node_events(world)
    assert ("WorkflowFailed", "Warning") in [(e.reason, e.type) for e in events(world) if e.node_id is None]


def test_a_node_that_changes_twice_in_a_step_has_an_event_for_each_change():
    world = World(workflow())
    world.step()
    world.finish("ev[0].a")
    world.step()
    reasons = [(reason, message) for reason, message, _ in node_events(world)]
    # the pod's node became Succeeded, and then its group and the Steps node, in that order
    assert reasons[0] == ("WorkflowNodeSucceeded", "Pod node ev[0].a succeeded")
    assert [r for r, _ in reasons].count("WorkflowNodeSucceeded") == 3


def test_no_node_events_when_the_config_says_so():
    world = World(workflow(), config=EngineConfig(node_events=False))
    world.step()
    assert node_events(world) == []
    assert [e.reason for e in events(world)] == ["WorkflowRunning"]


def test_no_events_at_all_when_both_are_off():
    world = World(workflow(), config=EngineConfig(node_events=False, workflow_events=False))
    world.run()
    assert world.phase == "Succeeded"
    assert all(not events(world, i) for i in range(len(world.decisions)))


def test_save_cache_comes_last():
    memoized = [
        {"name": "main", "steps": [[{"name": "a", "template": "work"}]]},
        {
            "name": "work",
            "memoize": {"key": "k", "cache": {"configMap": {"name": "cache"}}},
            "container": {"image": "busybox", "command": ["true"]},
        },
    ]
    world = World(workflow(memoized))
    world.step()
    world.finish("ev[0].a")
    world.step()
    actions = world.decisions[-1].actions
    assert isinstance(actions[-1], SaveCache)
    assert any(isinstance(a, Event) for a in actions)
