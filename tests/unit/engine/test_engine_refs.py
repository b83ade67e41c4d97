"""templateRef / workflowTemplateRef frozen into status, inline templates, recursion, the rendered pod."""

from __future__ import annotations

import copy

from engine_world import World

from workflow.resolve.sources import ListSource

C = {"image": "busybox", "command": ["true"]}
WFT = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "WorkflowTemplate",
    "metadata": {"name": "lib", "namespace": "default"},
    "spec": {
        "entrypoint": "entry",
        "arguments": {"parameters": [{"name": "msg", "value": "from-template"}]},
        "templates": [
            {"name": "entry", "steps": [[{"name": "inner", "template": "say"}]]},
            {
                "name": "say",
                "container": {"image": "busybox", "command": ["echo", "{{workflow.parameters.msg}}"]},
            },
        ],
    },
}


def wf(name, spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_template_ref_is_stored_and_survives_the_template_going_away():
    spec = {
        "entrypoint": "main",
        "arguments": {"parameters": [{"name": "msg", "value": "m"}]},
        "templates": [
            {
                "name": "main",
                "steps": [[{"name": "call", "templateRef": {"name": "lib", "template": "entry"}}]],
            }
        ],
    }
    source = ListSource([copy.deepcopy(WFT)])
    world = World(wf("tref", spec), templates=source)
    world.step()
    stored = world.status["storedTemplates"]
    assert set(stored) == {"namespaced/lib/entry", "namespaced/lib/say"}
    call = world.node("tref[0].call")
    assert call["templateRef"] == {"name": "lib", "template": "entry"}
    assert call["templateScope"] == "local/tref"
    inner = world.node("tref[0].call[0].inner")
    assert inner["templateScope"] == "namespaced/lib"
    assert world.created == ["tref-say-" + inner["id"].rsplit("-", 1)[1]]
    world.extra["templates"] = ListSource([])  # deleted from the cluster: the run goes on
    world.run()
    assert world.phase == "Succeeded"


def test_workflow_template_ref_stores_the_joined_spec():
    spec = {
        "workflowTemplateRef": {"name": "lib"},
        "arguments": {"parameters": [{"name": "msg", "value": "mine"}]},
    }
    world = World(wf("wtref", spec), templates=ListSource([copy.deepcopy(WFT)]))
    world.step()
    stored = world.status["storedWorkflowTemplateSpec"]
    assert stored["entrypoint"] == "entry"
    assert stored["arguments"]["parameters"] == [{"name": "msg", "value": "mine"}]
    pod = world.pod_specs[world.node("wtref[0].inner")["id"]]
    assert pod["spec"]["containers"][1]["command"][-1] == "mine"
    world.extra["templates"] = ListSource([])
    world.run()
    assert world.phase == "Succeeded"


def test_missing_workflow_template_fails_the_workflow():
    world = World(wf("nowft", {"workflowTemplateRef": {"name": "absent"}}), templates=ListSource([]))
    world.step()
    assert world.phase == "Failed"
    assert "absent" in world.status["message"]


def test_inline_template_pod_has_no_template_name():
    spec = {
        "entrypoint": "main",
        "templates": [{"name": "main", "steps": [[{"name": "i", "inline": {"container": C}}]]}],
    }
    world = World(wf("inl", spec))
    world.step()
    node = world.node("inl[0].i")
    assert "templateName" not in node
    assert world.created == ["inl-" + node["id"].rsplit("-", 1)[1]]


def test_recursion_until_a_condition():
    spec = {
        "entrypoint": "flip",
        "templates": [
            {
                "name": "flip",
                "steps": [
                    [{"name": "toss", "template": "toss"}],
                    [{"name": "again", "template": "flip", "when": "{{steps.toss.outputs.result}} == tails"}],
                ],
            },
            {"name": "toss", "script": {"image": "python", "command": ["python"], "source": "print('x')"}},
        ],
    }
    results = iter(["tails", "tails", "heads"])
    world = World(wf("coin", spec))
    world.run(outcome=lambda pod: (0, {"result": next(results)}))
    assert world.phase == "Succeeded"
    names = set(world.nodes_by_name())
    assert "coin[1].again[1].again[0].toss" in names
    assert world.node("coin[1].again[1].again[1].again")["phase"] == "Skipped"


def test_pod_shape_labels_annotations_and_containers():
    spec = {
        "entrypoint": "main",
        "podMetadata": {"labels": {"team": "a"}},
        "podGC": {"strategy": "OnPodSuccess"},
        "serviceAccountName": "runner",
        "templates": [
            {
                "name": "main",
                "metadata": {"annotations": {"note": "x"}},
                "activeDeadlineSeconds": 60,
                "container": {
                    "image": "busybox",
                    "command": ["sh", "-c"],
                    "args": ["echo hi"],
                    "workingDir": "/w",
                    "env": [{"name": "A", "value": "1"}],
                },
            }
        ],
    }
    world = World(wf("shape", spec))
    world.step()
    pod = world.pod_specs["shape"]
    meta = pod["metadata"]
    assert meta["name"] == "shape"
    assert meta["labels"] == {
        "workflows.argoproj.io/workflow": "shape",
        "workflows.argoproj.io/completed": "false",
        "team": "a",
    }
    assert meta["annotations"]["workflows.argoproj.io/node-name"] == "shape"
    assert meta["annotations"]["workflows.argoproj.io/node-id"] == "shape"
    assert meta["annotations"]["kubectl.kubernetes.io/default-container"] == "main"
    assert meta["annotations"]["workflows.argoproj.io/pod-gc-strategy"] == "OnPodSuccess/5s"
    assert meta["annotations"]["note"] == "x"
    assert (
        meta["ownerReferences"][0]["kind"] == "Workflow" and meta["ownerReferences"][0]["controller"] is True
    )
    spec_ = pod["spec"]
    assert spec_["restartPolicy"] == "Never"
    assert spec_["serviceAccountName"] == "runner"
    assert spec_["activeDeadlineSeconds"] == 60
    assert [c["name"] for c in spec_["initContainers"]] == ["init"]
    assert [c["name"] for c in spec_["containers"]] == ["wait", "main"]
    main = spec_["containers"][1]
    assert main["command"][:2] == ["/var/run/argo/launcher", "--"]
    assert main["command"][main["command"].index("--") + 1 :] == ["sh", "-c"]
    assert main["args"] == ["echo hi"] and main["workingDir"] == "/w"
    env = {e["name"]: e["value"] for e in main["env"]}
    assert env["A"] == "1" and env["ARGO_CONTAINER_NAME"] == "main" and env["ARGO_NODE_ID"] == "shape"
    assert {"name": "var-run-argo", "mountPath": "/var/run/argo"} in main["volumeMounts"]


def test_pod_spec_patch_is_merged():
    spec = {
        "entrypoint": "main",
        "podSpecPatch": "terminationGracePeriodSeconds: 7",
        "templates": [
            {
                "name": "main",
                "podSpecPatch": '{"containers":[{"name":"main","resources":{"limits":{"cpu":"1"}}}]}',
                "container": C,
            }
        ],
    }
    world = World(wf("patch", spec))
    world.step()
    pod = world.pod_specs["patch"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 7
    main = next(c for c in pod["containers"] if c["name"] == "main")
    assert main["resources"] == {"limits": {"cpu": "1"}}
    assert main["command"][0] == "/var/run/argo/launcher"
