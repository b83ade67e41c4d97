"""DAG: dependencies, depends, Omitted branches, targets, failFast, TaskGroups."""

from __future__ import annotations

from engine_world import World

ECHO = {"name": "echo", "container": {"image": "busybox", "command": ["echo", "hi"]}}


def dag(name, tasks, **extra):
    body = {"tasks": tasks, **extra}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": body}, ECHO]},
    }


def fails(*suffixes):
    def outcome(pod):
        name = pod["metadata"]["annotations"]["workflows.argoproj.io/node-name"]
        return (1 if name.rsplit(".", 1)[-1] in suffixes else 0), None

    return outcome


DIAMOND = [
    {"name": "A", "template": "echo"},
    {"name": "B", "template": "echo", "depends": "A"},
    {"name": "C", "template": "echo", "depends": "A"},
    {"name": "D", "template": "echo", "depends": "B && C"},
]


def test_diamond_edges_and_outbound():
    world = World(dag("dag-diamond-abc", DIAMOND))
    world.run()
    assert world.phase == "Succeeded"
    n = world.nodes_by_name()
    ids = {k.rsplit(".", 1)[-1]: v["id"] for k, v in n.items()}
    assert n["dag-diamond-abc"]["children"] == [ids["A"]]
    assert n["dag-diamond-abc.A"]["children"] == [ids["B"], ids["C"]]
    assert n["dag-diamond-abc.B"]["children"] == [ids["D"]]
    assert n["dag-diamond-abc.C"]["children"] == [ids["D"]]
    assert n["dag-diamond-abc"]["outboundNodes"] == [ids["D"]]
    assert n["dag-diamond-abc.D"]["displayName"] == "D"
    assert n["dag-diamond-abc.D"]["boundaryID"] == "dag-diamond-abc"
    # D runs only after both B and C
    order = world.created
    assert order.index("dag-diamond-abc-echo-" + ids["D"].rsplit("-", 1)[-1]) == 3


def test_failed_branch_omits_dependents_and_fails_dag():
    world = World(dag("dag-fail", DIAMOND))
    world.run(outcome=fails("C"))
    assert world.phase == "Failed"
    d = world.node("dag-fail.D")
    assert (d["type"], d["phase"], d["message"]) == (
        "Skipped",
        "Omitted",
        "omitted: depends condition not met",
    )
    assert world.node("dag-fail.B")["phase"] == "Succeeded"


def test_enhanced_depends_runs_on_failure():
    tasks = [
        {"name": "A", "template": "echo"},
        {"name": "B", "template": "echo", "depends": "A.Failed"},
        {"name": "C", "template": "echo", "depends": "A.Succeeded"},
    ]
    world = World(dag("dag-enh", tasks, failFast=False))
    world.run(outcome=fails("A"))
    assert world.node("dag-enh.B")["phase"] == "Succeeded"
    assert world.node("dag-enh.C")["phase"] == "Omitted"
    # the target B succeeded, but C's branch (through A) failed: the DAG fails
    assert world.phase == "Failed"


def test_continue_on_failed_target_does_not_fail_the_dag():
    tasks = [
        {"name": "A", "template": "echo", "continueOn": {"failed": True}},
        {"name": "B", "template": "echo", "dependencies": ["A"]},
    ]
    world = World(dag("dag-cont", tasks))
    world.run(outcome=fails("A"))
    assert world.node("dag-cont.A")["phase"] == "Failed"
    assert world.node("dag-cont.B")["phase"] == "Succeeded"
    assert world.phase == "Succeeded"


def test_target_runs_only_what_it_needs():
    tasks = [
        {"name": "A", "template": "echo"},
        {"name": "B", "template": "echo", "depends": "A"},
        {"name": "C", "template": "echo"},
    ]
    world = World(dag("dag-target", tasks, target="B"))
    world.run()
    assert world.phase == "Succeeded"
    assert set(world.nodes_by_name()) == {"dag-target", "dag-target.A", "dag-target.B"}


def test_failed_target_fails_the_dag_once_nothing_runs():
    tasks = [
        {"name": "A", "template": "echo"},
        {"name": "B", "template": "echo"},
        {"name": "C", "template": "echo", "depends": "B"},
        {"name": "D", "template": "echo", "depends": "C"},
    ]
    world = World(dag("dag-ff", tasks))
    world.step()
    world.finish("dag-ff.A", 1)
    world.step()
    assert world.phase == "Running"  # B still runs
    world.finish("dag-ff.B", 0)
    world.step()  # C starts: Argo keeps scheduling what the dependencies allow
    world.finish("dag-ff.C", 0)
    world.step()
    assert world.phase == "Running"
    world.finish("dag-ff.D", 0)
    world.step()
    assert world.node("dag-ff")["phase"] == "Failed"
    assert world.phase == "Failed"


def test_enhanced_depends_handles_a_failure_with_fail_fast_on():
    tasks = [
        {"name": "A", "template": "echo"},
        {"name": "C", "template": "echo", "depends": "A"},
        {"name": "E", "template": "echo", "depends": "A && (C.Succeeded || C.Failed)"},
    ]
    world = World(dag("dag-handled", tasks))
    world.run(outcome=fails("C"))
    assert world.node("dag-handled.E")["phase"] == "Succeeded"
    assert world.phase == "Succeeded"


def test_fail_fast_disabled_lets_other_branches_finish():
    tasks = [
        {"name": "A", "template": "echo"},
        {"name": "B", "template": "echo"},
        {"name": "C", "template": "echo", "depends": "B"},
    ]
    world = World(dag("dag-noff", tasks, failFast=False))
    world.step()
    world.finish("dag-noff.A", 1)
    world.step()
    world.finish("dag-noff.B", 0)
    world.step()
    assert world.node("dag-noff.C")["phase"] == "Pending"
    world.finish("dag-noff.C", 0)
    world.step()
    assert world.phase == "Failed"


def test_expanded_task_gets_a_task_group_and_any_succeeded():
    tasks = [
        {"name": "A", "template": "echo", "withItems": [1, 2, 3]},
        {"name": "B", "template": "echo", "depends": "A.AnySucceeded"},
    ]
    wf = dag("dag-loop", tasks, failFast=False)
    world = World(wf)
    world.run(
        outcome=lambda pod: (
            1
            if pod["metadata"]["annotations"]["workflows.argoproj.io/node-name"].endswith(("(0:1)", "(2:3)"))
            else 0,
            None,
        )
    )
    group = world.node("dag-loop.A")
    assert group["type"] == "TaskGroup"
    assert group["phase"] == "Failed"
    kids = [world.node(f"dag-loop.A({i}:{i + 1})") for i in range(3)]
    assert group["children"] == [k["id"] for k in kids]
    assert world.node("dag-loop.B")["phase"] == "Succeeded"
    assert [k["displayName"] for k in kids] == ["A(0:1)", "A(1:2)", "A(2:3)"]


def test_empty_with_param_is_skipped():
    tasks = [{"name": "A", "template": "echo", "withParam": "[]"}]
    world = World(dag("dag-empty", tasks))
    world.run()
    node = world.node("dag-empty.A")
    assert (node["type"], node["phase"], node["message"]) == ("Skipped", "Skipped", "Skipped, empty params")
    assert world.phase == "Succeeded"
