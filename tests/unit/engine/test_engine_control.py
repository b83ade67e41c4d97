"""Exit handlers, hooks, suspend/resume, shutdown, deadlines, spec.suspend."""

from __future__ import annotations

import json

from engine_world import World

from workflow.engine import ResumeRequest, TerminatePod

C = {"image": "busybox", "command": ["true"]}


def on_exit(pod):
    return pod["metadata"]["annotations"]["workflows.argoproj.io/node-name"].endswith(".onExit")


def wf(name, templates, **spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {"entrypoint": "main", "templates": templates, **spec},
    }


def test_exit_handler_sees_status_and_failures():
    templates = [
        {"name": "main", "steps": [[{"name": "a", "template": "c"}]]},
        {"name": "c", "container": C},
        {
            "name": "exit",
            "container": {
                "image": "busybox",
                "command": ["echo", "{{workflow.status}}"],
                "args": ["{{workflow.failures}}"],
            },
        },
    ]
    world = World(wf("exit-status", templates, onExit="exit"))
    world.run(outcome=lambda pod: (0, None) if on_exit(pod) else (1, None))
    assert world.phase == "Failed"
    exit_node = world.node("exit-status.onExit")
    assert "boundaryID" not in exit_node
    assert exit_node["id"] not in (world.node("exit-status").get("children") or [])
    main = world.pod_specs[exit_node["id"]]["spec"]["containers"][1]
    assert main["command"][-1] == "Failed"
    failures = json.loads(json.loads(main["args"][0]))  # quoted, as Argo writes it: decode twice
    assert [(f["displayName"], f["phase"]) for f in failures if f["displayName"] == "a"] == [("a", "Failed")]
    assert failures[-1]["podName"].startswith("exit-status-c-")
    labels = world.pod_specs[exit_node["id"]]["metadata"]["labels"]
    assert labels["workflows.argoproj.io/on-exit"] == "true"


def test_failed_exit_handler_fails_a_successful_workflow():
    templates = [{"name": "main", "container": C}, {"name": "exit", "container": C}]
    world = World(wf("exit-fails", templates, hooks={"exit": {"template": "exit"}}))
    world.run(outcome=lambda pod: (1, None) if on_exit(pod) else (0, None))
    assert world.node("exit-fails")["phase"] == "Succeeded"
    assert world.phase == "Failed"
    assert world.status["message"] == "main: Error (exit code 1)"


def test_step_exit_hook_is_a_hooked_child_with_the_step_outputs():
    templates = [
        {
            "name": "main",
            "steps": [
                [
                    {
                        "name": "a",
                        "template": "c",
                        "hooks": {
                            "exit": {
                                "template": "report",
                                "arguments": {
                                    "parameters": [
                                        {"name": "code", "value": "{{steps.a.exitCode}}"},
                                        {"name": "st", "value": "{{steps.a.status}}"},
                                    ]
                                },
                            }
                        },
                    }
                ],
                [{"name": "b", "template": "c"}],
            ],
        },
        {"name": "c", "container": C},
        {"name": "report", "inputs": {"parameters": [{"name": "code"}, {"name": "st"}]}, "container": C},
    ]
    world = World(wf("step-hook", templates))
    world.step()
    world.finish("step-hook[0].a", 0)
    world.step()
    hook = world.node("step-hook[0].a.onExit")
    assert hook["nodeFlag"] == {"hooked": True}
    assert hook["id"] in world.node("step-hook[0].a")["children"]
    assert hook["inputs"]["parameters"] == [
        {"name": "code", "value": "0"},
        {"name": "st", "value": "Succeeded"},
    ]
    assert "step-hook[1]" not in world.nodes_by_name()  # the group waits for the exit hook
    world.finish("step-hook[0].a.onExit")
    world.step()
    assert world.node("step-hook[1].b")["phase"] == "Pending"
    # group [1] hangs under the outbound node of a (a itself, not its hook)
    assert world.node("step-hook[0].a")["children"] == [hook["id"], world.node("step-hook[1]")["id"]]


def test_lifecycle_hook_fires_on_expression():
    templates = [
        {
            "name": "main",
            "steps": [
                [
                    {
                        "name": "step-1",
                        "template": "c",
                        "hooks": {
                            "running": {"expression": 'steps["step-1"].status == "Running"', "template": "c"}
                        },
                    }
                ]
            ],
        },
        {"name": "c", "container": C},
    ]
    world = World(wf("lc-hook", templates))
    world.step()
    assert "lc-hook[0].step-1.hooks.running" not in world.nodes_by_name()
    world.start_all()
    world.step()
    hook = world.node("lc-hook[0].step-1.hooks.running")
    assert hook["nodeFlag"] == {"hooked": True}
    world.finish("lc-hook[0].step-1")
    world.step()
    assert world.node("lc-hook[0]")["phase"] == "Running"  # the hook is still running
    world.finish("lc-hook[0].step-1.hooks.running")
    world.step()
    assert world.phase == "Succeeded"


def test_workflow_level_hook_is_a_child_of_the_root():
    templates = [{"name": "main", "container": C}, {"name": "h", "container": C}]
    world = World(
        wf(
            "wf-hook",
            templates,
            hooks={"running": {"expression": 'workflow.status == "Running"', "template": "h"}},
        )
    )
    world.step()
    hook = world.node("wf-hook.hooks.running")
    assert hook["id"] in world.node("wf-hook")["children"]
    world.run()
    assert world.phase == "Succeeded"


def test_suspend_waits_for_resume_with_supplied_output():
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "approve", "template": "gate"}],
                [
                    {
                        "name": "use",
                        "template": "c",
                        "arguments": {
                            "parameters": [
                                {"name": "m", "value": "{{steps.approve.outputs.parameters.answer}}"}
                            ]
                        },
                    }
                ],
            ],
        },
        {
            "name": "gate",
            "suspend": {},
            "outputs": {"parameters": [{"name": "answer", "valueFrom": {"supplied": {}}}]},
        },
        {"name": "c", "inputs": {"parameters": [{"name": "m"}]}, "container": C},
    ]
    world = World(wf("gate", templates))
    decision = world.step()
    gate = world.node("gate[0].approve")
    assert (gate["type"], gate["phase"]) == ("Suspend", "Running")
    assert decision.requeue_after is None
    world.tick(3600)
    world.step()
    assert world.node("gate[0].approve")["phase"] == "Running"
    world.resume = [ResumeRequest(node="approve", parameters={"answer": "yes"})]
    world.step()
    assert world.node("gate[0].approve")["phase"] == "Succeeded"
    assert world.node("gate[1].use")["inputs"]["parameters"] == [{"name": "m", "value": "yes"}]


def test_suspend_duration_resumes_by_itself():
    templates = [{"name": "main", "suspend": {"duration": "20s"}}]
    world = World(wf("nap", templates))
    decision = world.step()
    assert decision.requeue_after == 20
    world.tick(20)
    world.step()
    assert world.phase == "Succeeded"


def test_stop_kills_running_and_runs_exit_handler():
    templates = [
        {"name": "main", "steps": [[{"name": "a", "template": "c"}], [{"name": "b", "template": "c"}]]},
        {"name": "c", "container": C},
        {"name": "exit", "container": C},
    ]
    world = World(wf("stop", templates, onExit="exit"))
    world.step()
    world.start_all()
    world.step()
    world.workflow["spec"]["shutdown"] = "Stop"
    decision = world.step()
    assert any(isinstance(a, TerminatePod) for a in decision.actions)
    a = world.node("stop[0].a")
    assert (a["phase"], a["message"]) == ("Failed", "Stopped with strategy 'Stop'")
    assert "stop[1]" not in world.nodes_by_name()
    assert world.node("stop.onExit")["phase"] == "Pending"
    world.finish("stop.onExit")
    world.step()
    assert world.phase == "Failed"
    assert world.status["message"] == "Stopped with strategy 'Stop'"


def test_terminate_skips_exit_handler():
    templates = [{"name": "main", "container": C}, {"name": "exit", "container": C}]
    world = World(wf("term", templates, onExit="exit"))
    world.step()
    world.workflow["spec"]["shutdown"] = "Terminate"
    world.step()
    assert world.phase == "Failed"
    assert "term.onExit" not in world.nodes_by_name()


def test_workflow_deadline_fails_running_steps():
    templates = [{"name": "main", "steps": [[{"name": "a", "template": "c"}]]}, {"name": "c", "container": C}]
    world = World(wf("deadline", templates, activeDeadlineSeconds=30))
    decision = world.step()
    assert decision.requeue_after == 30
    pod = world.pod_specs[world.node("deadline[0].a")["id"]]
    assert pod["spec"]["activeDeadlineSeconds"] == 30
    world.start_all()
    world.tick(31)
    world.step()
    a = world.node("deadline[0].a")
    assert (a["phase"], a["message"]) == ("Failed", "Step exceeded its deadline")
    assert world.phase == "Failed"


def test_spec_suspend_holds_new_nodes_until_cleared():
    templates = [
        {"name": "main", "steps": [[{"name": "a", "template": "c"}], [{"name": "b", "template": "c"}]]},
        {"name": "c", "container": C},
    ]
    world = World(wf("hold", templates))
    world.step()
    world.workflow["spec"]["suspend"] = True
    world.finish("hold[0].a")
    world.step()
    assert world.node("hold[0].a")["phase"] == "Succeeded"
    assert "hold[1].b" not in world.nodes_by_name()
    del world.workflow["spec"]["suspend"]
    world.step()
    assert world.node("hold[1].b")["phase"] == "Pending"
