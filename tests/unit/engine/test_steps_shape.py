"""Steps: node names, IDs, types, edges and phases against Argo's worked example."""

from __future__ import annotations

from engine_world import World

WF = "demo-x7k2p"
DEMO = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": WF},
    "spec": {
        "entrypoint": "main",
        "onExit": "notify",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [{"name": "hello", "template": "say"}],
                    [{"name": "loop", "template": "say", "withItems": ["a", "b"]}],
                ],
            },
            {"name": "say", "container": {"image": "busybox", "command": ["echo", "hi"]}},
            {"name": "notify", "container": {"image": "busybox", "command": ["echo", "bye"]}},
        ],
    },
}

# name: (id, type, displayName, boundaryID, children)
EXPECTED = {
    WF: (WF, "Steps", WF, None, [f"{WF}-3203355795"]),
    f"{WF}[0]": (f"{WF}-3203355795", "StepGroup", "[0]", WF, [f"{WF}-4190768701"]),
    f"{WF}[0].hello": (f"{WF}-4190768701", "Pod", "hello", WF, [f"{WF}-49413686"]),
    f"{WF}[1]": (f"{WF}-49413686", "StepGroup", "[1]", WF, [f"{WF}-2298460602", f"{WF}-3739833248"]),
    f"{WF}[1].loop(0:a)": (f"{WF}-2298460602", "Pod", "loop(0:a)", WF, None),
    f"{WF}[1].loop(1:b)": (f"{WF}-3739833248", "Pod", "loop(1:b)", WF, None),
    f"{WF}.onExit": (f"{WF}-1468038654", "Pod", f"{WF}.onExit", None, None),
}


def test_worked_example_final_status():
    world = World(DEMO)
    world.run()
    assert world.phase == "Succeeded"
    nodes = world.nodes_by_name()
    assert set(nodes) == set(EXPECTED)
    for name, (node_id, ntype, shown, boundary, children) in EXPECTED.items():
        node = nodes[name]
        assert (
            node["id"],
            node["type"],
            node["displayName"],
            node.get("boundaryID"),
            node.get("children"),
        ) == (node_id, ntype, shown, boundary, children), name
        assert node["phase"] == "Succeeded"
    assert nodes[WF]["outboundNodes"] == [f"{WF}-2298460602", f"{WF}-3739833248"]
    assert world.status["progress"] == "4/4"
    assert world.created == [
        "demo-x7k2p-say-4190768701",
        "demo-x7k2p-say-2298460602",
        "demo-x7k2p-say-3739833248",
        "demo-x7k2p-notify-1468038654",
    ]


def test_worked_example_step_by_step():
    world = World(DEMO)
    # (after step n: workflow phase, {node name: phase})
    world.step()
    assert world.phase == "Running"
    assert {n: v["phase"] for n, v in world.nodes_by_name().items()} == {
        WF: "Running",
        f"{WF}[0]": "Running",
        f"{WF}[0].hello": "Pending",
    }
    world.start_all()
    world.step()
    assert world.node(f"{WF}[0].hello")["phase"] == "Running"
    world.finish(f"{WF}[0].hello")
    world.step()
    phases = {n: v["phase"] for n, v in world.nodes_by_name().items()}
    assert phases[f"{WF}[0]"] == "Succeeded"
    assert phases[f"{WF}[1].loop(0:a)"] == "Pending" and phases[f"{WF}[1].loop(1:b)"] == "Pending"
    world.finish(f"{WF}[1].loop(0:a)")
    world.step()
    assert world.node(f"{WF}[1]")["phase"] == "Running"
    world.finish(f"{WF}[1].loop(1:b)")
    world.step()
    assert world.node(WF)["phase"] == "Succeeded"
    assert world.phase == "Running"  # the exit handler still runs
    assert world.node(f"{WF}.onExit")["phase"] == "Pending"
    world.finish(f"{WF}.onExit")
    world.step()
    assert world.phase == "Succeeded"
    assert world.status["finishedAt"]


def test_failed_step_fails_group_steps_and_workflow():
    wf = {
        "metadata": {"name": "failed-retries-tjjsc"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [[{"name": "fail", "template": "c"}], [{"name": "never", "template": "c"}]],
                },
                {"name": "c", "container": {"image": "busybox", "command": ["false"]}},
            ],
        },
    }
    world = World(wf)
    world.run(outcome=lambda pod: (1, None))
    assert world.phase == "Failed"
    node = world.node("failed-retries-tjjsc[0].fail")
    assert node["id"] == "failed-retries-tjjsc-20069324"
    assert node["phase"] == "Failed"
    assert node["message"] == "main: Error (exit code 1)"
    assert node["outputs"] == {"exitCode": "1"}
    group = world.node("failed-retries-tjjsc[0]")
    assert group["message"] == "child 'failed-retries-tjjsc-20069324' failed"
    assert world.node("failed-retries-tjjsc")["message"] == group["message"]
    assert world.status["message"] == group["message"]
    assert "failed-retries-tjjsc[1]" not in world.nodes_by_name()
