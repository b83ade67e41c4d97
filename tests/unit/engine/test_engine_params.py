"""Parameters and outputs: arguments, inputs, valueFrom, results, aggregation, globals, artifacts as data."""

from __future__ import annotations

import json

from engine_world import World

from workflow.engine import CacheEntry, LockObservation, ReleaseLock, SaveCache

C = {"image": "busybox", "command": ["true"]}


def wf(name, templates, **spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {"entrypoint": "main", "templates": templates, **spec},
    }


def node_name(pod):
    return pod["metadata"]["annotations"]["workflows.argoproj.io/node-name"]


def main_of(pod):
    return next(c for c in pod["spec"]["containers"] if c["name"] == "main")


def test_global_parameter_into_inputs_and_default():
    templates = [
        {
            "name": "main",
            "inputs": {"parameters": [{"name": "message"}, {"name": "other", "default": "d"}]},
            "container": {
                "image": "busybox",
                "command": ["echo", "{{inputs.parameters.message}}"],
                "args": ["{{inputs.parameters.other}}", "{{workflow.parameters.message}}"],
            },
        }
    ]
    world = World(wf("args", templates, arguments={"parameters": [{"name": "message", "value": "hi"}]}))
    world.step()
    pod = world.pod_specs["args"]
    assert main_of(pod)["command"][-1] == "hi"
    assert main_of(pod)["args"] == ["d", "hi"]
    assert world.node("args")["inputs"]["parameters"] == [
        {"name": "message", "value": "hi"},
        {"name": "other", "default": "d", "value": "d"},
    ]


def test_invalid_spec_fails_at_the_first_step():
    templates = [
        {"name": "main", "steps": [[{"name": "a", "template": "c"}]]},
        {"name": "c", "inputs": {"parameters": [{"name": "x"}]}, "container": C},
    ]
    world = World(wf("missing", templates))
    decision = world.step()
    assert world.phase == "Failed"
    assert world.status["message"].startswith(
        "invalid spec: spec.templates[0].steps[0][0]: inputs.parameters.x"
    )
    assert not decision.pods_to_create()


def test_output_default_when_the_producer_gives_nothing():
    templates = [
        {
            "name": "main",
            "steps": [[{"name": "a", "template": "p"}]],
            "outputs": {
                "parameters": [
                    {
                        "name": "out",
                        "valueFrom": {"parameter": "{{steps.a.outputs.parameters.x}}", "default": "fallback"},
                    }
                ]
            },
        },
        {
            "name": "p",
            "container": C,
            "outputs": {"parameters": [{"name": "x", "valueFrom": {"path": "/tmp/x"}}]},
        },
    ]
    world = World(wf("dflt", templates))
    world.run()
    assert world.node("dflt")["outputs"]["parameters"] == [{"name": "out", "value": "fallback"}]


def test_config_map_parameter():
    templates = [
        {
            "name": "main",
            "inputs": {
                "parameters": [
                    {
                        "name": "m",
                        "valueFrom": {"configMapKeyRef": {"name": "simple-parameters", "key": "msg"}},
                    }
                ]
            },
            "container": C,
        }
    ]
    world = World(wf("cm", templates), config_maps={"default/simple-parameters": {"msg": "from cm"}})
    world.step()
    assert world.node("cm")["inputs"]["parameters"][0]["value"] == "from cm"


def test_a_missing_config_map_or_key_is_named_in_the_message():
    ref = {"configMapKeyRef": {"name": "simple-parameters", "key": "msg"}}
    templates = [
        {"name": "main", "inputs": {"parameters": [{"name": "m", "valueFrom": ref}]}, "container": C}
    ]
    missing = World(wf("cm", templates))
    missing.step()
    assert missing.node("cm")["message"] == (
        'inputs.parameters.m was not supplied: ConfigMap "simple-parameters" in namespace "default" not found '
        "(valueFrom.configMapKeyRef)"
    )
    no_key = World(wf("cm", templates), config_maps={"default/simple-parameters": {"other": "x"}})
    no_key.step()
    assert no_key.node("cm")["message"] == (
        'inputs.parameters.m was not supplied: ConfigMap "simple-parameters" has no key "msg" '
        "(valueFrom.configMapKeyRef)"
    )
    top = wf("top", [{"name": "main", "container": C}])
    top["spec"]["arguments"] = {"parameters": [{"name": "g", "valueFrom": ref}]}
    world = World(top)
    world.step()
    assert world.status["message"] == (
        'invalid spec: spec.arguments.g.value is required: ConfigMap "simple-parameters" in namespace "default" not found '
        "(valueFrom.configMapKeyRef)"
    )


def test_result_is_captured_only_when_referenced():
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "gen", "template": "s"}, {"name": "other", "template": "s"}],
                [{"name": "use", "template": "c", "when": "{{steps.gen.outputs.result}} == yes"}],
            ],
        },
        {"name": "s", "script": {"image": "python", "command": ["python"], "source": "print('yes')"}},
        {"name": "c", "container": C},
    ]
    world = World(wf("result", templates))
    world.step()
    env = {
        n: {e["name"]: e.get("value") for e in main_of(world.pod_specs[world.node(n)["id"]])["env"]}
        for n in ("result[0].gen", "result[0].other")
    }
    assert env["result[0].gen"]["ARGO_INCLUDE_SCRIPT_OUTPUT"] == "true"
    assert env["result[0].other"]["ARGO_INCLUDE_SCRIPT_OUTPUT"] == "false"
    world.run(outcome=lambda pod: (0, {"result": "yes"}))
    assert world.node("result[1].use")["phase"] == "Succeeded"
    script_pod = world.pod_specs[world.node("result[0].gen")["id"]]
    assert main_of(script_pod)["args"] == ["/argo/staging/script"]
    template = json.loads(
        next(
            e["value"] for e in script_pod["spec"]["initContainers"][0]["env"] if e["name"] == "ARGO_TEMPLATE"
        )
    )
    assert template["script"]["source"] == "print('yes')"


def test_aggregated_outputs_of_a_loop():
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "gen", "template": "gen", "withItems": [1, 2, 3]}],
                [
                    {
                        "name": "use",
                        "template": "show",
                        "arguments": {
                            "parameters": [
                                {"name": "p", "value": "{{steps.gen.outputs.parameters}}"},
                                {"name": "v", "value": "{{steps.gen.outputs.parameters.v}}"},
                                {"name": "r", "value": "{{steps.gen.outputs.result}}"},
                            ]
                        },
                    }
                ],
            ],
        },
        {
            "name": "gen",
            "inputs": {"parameters": [{"name": "x", "value": "{{item}}"}]},
            "script": {"image": "python", "command": ["python"], "source": "print({{inputs.parameters.x}})"},
            "outputs": {"parameters": [{"name": "v", "valueFrom": {"path": "/tmp/v"}}]},
        },
        {
            "name": "show",
            "inputs": {"parameters": [{"name": "p"}, {"name": "v"}, {"name": "r"}]},
            "container": C,
        },
    ]

    def outcome(pod):
        name = node_name(pod)
        if "gen(" in name:
            x = name.split("(")[1].split(":")[1].rstrip(")")
            value = '{"a":1}' if x == "3" else f"v{x}"
            return 0, {"result": x, "parameters": [{"name": "v", "value": value}]}
        return 0, None

    world = World(wf("agg", templates))
    world.run(outcome=outcome)
    params = {p["name"]: p["value"] for p in world.node("agg[1].use")["inputs"]["parameters"]}
    assert json.loads(params["p"]) == [{"v": "v1"}, {"v": "v2"}, {"v": '{"a":1}'}]
    assert params["v"] == '["v1","v2",{"a":1}]'
    assert params["r"] == "[1,2,3]"


def test_steps_outputs_and_global_outputs():
    templates = [
        {
            "name": "main",
            "steps": [[{"name": "a", "template": "p"}]],
            "outputs": {
                "parameters": [
                    {"name": "out", "valueFrom": {"parameter": "{{steps.a.outputs.parameters.x}}"}},
                    {"name": "expr", "valueFrom": {"expression": "steps.a.outputs.parameters.x + '!'"}},
                ]
            },
        },
        {
            "name": "p",
            "container": C,
            "outputs": {"parameters": [{"name": "x", "globalName": "gx", "valueFrom": {"path": "/tmp/x"}}]},
        },
    ]
    world = World(wf("outs", templates))
    world.run(outcome=lambda pod: (0, {"parameters": [{"name": "x", "globalName": "gx", "value": "42"}]}))
    outputs = world.node("outs")["outputs"]["parameters"]
    assert [(p["name"], p["value"]) for p in outputs] == [("out", "42"), ("expr", "42!")]
    assert world.status["outputs"] == {"parameters": [{"name": "gx", "value": "42"}]}


def test_artifact_passing_as_data():
    art = {"name": "out", "path": "/tmp/hello.txt", "s3": {"key": "w/p/out.tgz"}}
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "gen", "template": "gen"}],
                [
                    {
                        "name": "use",
                        "template": "use",
                        "arguments": {
                            "artifacts": [{"name": "in", "from": "{{steps.gen.outputs.artifacts.out}}"}]
                        },
                    }
                ],
            ],
        },
        {
            "name": "gen",
            "container": C,
            "outputs": {"artifacts": [{"name": "out", "path": "/tmp/hello.txt"}]},
        },
        {"name": "use", "container": C, "inputs": {"artifacts": [{"name": "in", "path": "/in/file"}]}},
    ]
    world = World(wf("arts", templates))
    world.run(outcome=lambda pod: (0, {"artifacts": [art]} if node_name(pod).endswith("gen") else None))
    inputs = world.node("arts[1].use")["inputs"]["artifacts"]
    assert inputs == [{"name": "in", "path": "/in/file", "s3": {"key": "w/p/out.tgz"}}]
    pod = world.pod_specs[world.node("arts[1].use")["id"]]
    mounts = main_of(pod)["volumeMounts"]
    assert {"name": "input-artifacts", "mountPath": "/in/file", "subPath": "in"} in mounts


def test_with_sequence_and_format():
    templates = [
        {
            "name": "main",
            "steps": [
                [
                    {
                        "name": "s",
                        "template": "c",
                        "withSequence": {"start": "3", "end": "1", "format": "n%02d"},
                    }
                ]
            ],
        },
        {"name": "c", "container": C},
    ]
    world = World(wf("seq", templates))
    world.step()
    names = [n for n in world.nodes_by_name() if ".s(" in n]
    assert names == ["seq[0].s(0:n03)", "seq[0].s(1:n02)", "seq[0].s(2:n01)"]


def test_with_param_not_a_list_is_an_error():
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "gen", "template": "s"}],
                [{"name": "s", "template": "c", "withParam": "{{steps.gen.outputs.result}}"}],
            ],
        },
        {"name": "s", "script": {"image": "python", "command": ["python"], "source": "print(1)"}},
        {"name": "c", "container": C},
    ]
    world = World(wf("badparam", templates))
    world.run(outcome=lambda pod: (0, {"result": "nope"}))
    node = world.node("badparam[1].s")
    assert node["phase"] == "Error"
    assert node["message"] == "withParam value could not be parsed as a JSON list: nope"


def test_continue_on_failed_step():
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "a", "template": "c", "continueOn": {"failed": True}}],
                [{"name": "b", "template": "c"}],
            ],
        },
        {"name": "c", "container": C},
    ]
    world = World(wf("cont", templates))
    world.run(outcome=lambda pod: (1, None) if node_name(pod).endswith(".a") else (0, None))
    assert world.node("cont[0].a")["phase"] == "Failed"
    assert world.phase == "Succeeded"


def test_parallelism_limits_active_pods():
    templates = [
        {
            "name": "main",
            "parallelism": 2,
            "steps": [[{"name": "s", "template": "c", "withItems": [1, 2, 3, 4, 5]}]],
        },
        {"name": "c", "container": C},
    ]
    world = World(wf("par", templates))
    world.step()
    assert len(world.running()) == 2
    world.finish_all()
    world.step()
    assert len(world.running()) == 2
    world.run()
    assert world.phase == "Succeeded"
    assert len(world.created) == 5


def test_workflow_parallelism():
    templates = [
        {"name": "main", "steps": [[{"name": "s", "template": "c", "withItems": [1, 2, 3]}]]},
        {"name": "c", "container": C},
    ]
    world = World(wf("wpar", templates, parallelism=1))
    world.step()
    assert len(world.running()) == 1
    world.run()
    assert world.phase == "Succeeded"


def test_mutex_waits_for_the_observed_lock():
    templates = [{"name": "main", "synchronization": {"mutexes": [{"name": "m"}]}, "container": C}]
    world = World(wf("mutex", templates))
    decision = world.step()
    root = world.node("mutex")
    assert root["phase"] == "Pending"
    assert root["synchronizationStatus"] == {"waiting": "default/Mutex/m"}
    assert root["message"] == "Waiting for default/Mutex/m lock. Lock status: 0/1"
    assert not decision.pods_to_create()
    world.extra["locks"] = {
        "default/Mutex/m": LockObservation("default/Mutex/m", 1, ("default/mutex/mutex",))
    }
    decision = world.step()
    assert decision.pods_to_create()
    assert "synchronizationStatus" not in world.node("mutex")
    assert world.status["synchronization"]["mutex"]["holding"] == [
        {"mutex": "default/Mutex/m", "holder": "mutex"}
    ]
    world.finish("mutex")
    decision = world.step()
    assert world.phase == "Succeeded"
    # Released in the write that completes it: the completed status shows nothing held.
    assert [(a.lock, a.holder) for a in decision.actions if isinstance(a, ReleaseLock)] == [
        ("default/Mutex/m", "default/mutex/mutex")
    ]
    assert "synchronization" not in world.status


def test_memoized_hit_skips_the_pod_and_miss_saves():
    templates = [
        {"name": "main", "memoize": {"key": "k1", "cache": {"configMap": {"name": "cache"}}}, "container": C}
    ]
    entry = CacheEntry("old", {"parameters": [{"name": "x", "value": "1"}]}, "2024-01-01T11:00:00Z")
    world = World(wf("memo-hit", templates), cache={"cache": {"k1": entry}})
    world.step()
    node = world.node("memo-hit")
    assert node["phase"] == "Succeeded"
    assert node["memoizationStatus"] == {"hit": True, "key": "k1", "cacheName": "cache"}
    assert world.created == []
    miss = World(wf("memo-miss", templates))
    miss.step()
    miss.finish("memo-miss", 0, {"result": "r"})
    decision = miss.step()
    saves = [a for a in decision.actions if isinstance(a, SaveCache)]
    assert saves and saves[0].key == "k1" and saves[0].entry["outputs"]["result"] == "r"
