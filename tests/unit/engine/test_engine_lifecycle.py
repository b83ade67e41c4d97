"""Objects around a workflow's life: workflowMetadata, PVCs, PDB, pod GC, completion labels."""

from __future__ import annotations

from engine_world import World

from workflow.engine import CreateObject, DeleteCollection, DeleteObject, DeletePod, PatchObject

C = {"image": "busybox", "command": ["true"]}


def wf(name, **spec):
    spec.setdefault("templates", [{"name": "main", "container": C}])
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {"entrypoint": "main", **spec},
    }


def actions(world, kind):
    return [a for d in world.decisions for a in d.actions if isinstance(a, kind)]


def test_first_step_patches_metadata_and_creates_claims():
    doc = wf(
        "life",
        workflowMetadata={
            "labels": {"team": "a"},
            "labelsFrom": {"env": {"expression": "workflow.parameters.env"}},
        },
        arguments={"parameters": [{"name": "env", "value": "prod"}]},
        volumeClaimTemplates=[{"metadata": {"name": "work"}, "spec": {"accessModes": ["ReadWriteOnce"]}}],
        podDisruptionBudget={"minAvailable": 1},
    )
    world = World(doc)
    world.step()
    patches = [a.patch for a in actions(world, PatchObject) if a.kind == "Workflow"]
    assert {"metadata": {"labels": {"team": "a", "env": "prod"}}} in patches
    created = {a.obj["kind"]: a.obj for a in actions(world, CreateObject)}
    assert created["PersistentVolumeClaim"]["metadata"]["name"] == "life-work"
    assert created["PodDisruptionBudget"]["spec"]["selector"] == {
        "matchLabels": {"workflows.argoproj.io/workflow": "life"}
    }
    assert world.status["persistentVolumeClaims"] == [
        {"name": "work", "persistentVolumeClaim": {"claimName": "life-work"}}
    ]
    world.run()
    deleted = {(a.kind, a.name) for a in actions(world, DeleteObject)}
    assert deleted == {("PersistentVolumeClaim", "life-work"), ("PodDisruptionBudget", "life")}
    assert "persistentVolumeClaims" not in world.status


def test_completion_labels_pods_and_deletes_task_results():
    world = World(wf("done"))
    world.run()
    pod_patches = [a for a in actions(world, PatchObject) if a.kind == "Pod"]
    assert pod_patches[0].patch == {"metadata": {"labels": {"workflows.argoproj.io/completed": "true"}}}
    assert actions(world, DeleteCollection)[0].label_selector == "workflows.argoproj.io/workflow=done"
    labels = [a.patch for a in actions(world, PatchObject) if a.kind == "Workflow"][-1]
    assert labels == {
        "metadata": {
            "labels": {"workflows.argoproj.io/phase": "Succeeded", "workflows.argoproj.io/completed": "true"}
        }
    }


def test_pod_gc_on_pod_success_deletes_as_nodes_finish():
    world = World(wf("gc", podGC={"strategy": "OnPodSuccess"}))
    world.run()
    assert [a.name for a in actions(world, DeletePod)][:1] == ["gc"]
