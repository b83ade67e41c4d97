"""The artifact repository a workflow uses (controller/artifacts.py), and the engine carrying it into
each pod's archive location (workflow/engine/pod_executor.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from controller.artifacts import RepositoryError, resolve
from workflow.engine import EngineConfig, Observed, step

REPO_A = "s3:\n  bucket: a\n  endpoint: 10.0.0.1:9000\n  keyFormat: '{{workflow.name}}/{{pod.name}}'\n"


def cm(name, data, default_key=None, ns="ns"):
    meta = {"name": name, "namespace": ns}
    if default_key:
        meta["annotations"] = {"workflows.argoproj.io/default-artifact-repository": default_key}
    return {"metadata": meta, "data": data}


def wf(ref=None):
    spec = {
        "entrypoint": "main",
        "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}],
    }
    if ref is not None:
        spec["artifactRepositoryRef"] = ref
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "w", "namespace": "ns", "uid": "u"},
        "spec": spec,
    }


def lookup_of(*cms):
    table = {(c["metadata"]["namespace"], c["metadata"]["name"]): c for c in cms}
    return lambda ns, name: table.get((ns, name))


def test_the_workflows_reference_then_the_namespace_default_then_the_controllers():
    repos = cm("artifact-repositories", {"a": REPO_A, "b": "s3: {bucket: b}"}, default_key="a")
    mine = cm("mine", {"x": "s3: {bucket: x}"}, default_key="x")
    lookup = lookup_of(repos, mine)
    assert resolve(wf({"configMap": "mine"}), lookup, None)["artifactRepository"] == {"s3": {"bucket": "x"}}
    ref = resolve(wf({"key": "b"}), lookup, None)
    assert (ref["configMap"], ref["key"], ref["namespace"]) == ("artifact-repositories", "b", "ns")
    assert resolve(wf(), lookup, None)["artifactRepository"]["s3"]["bucket"] == "a"
    default = {"s3": {"bucket": "controller"}}
    assert resolve(wf(), lookup_of(), default) == {"default": True, "artifactRepository": default}
    assert (
        resolve(wf(), lookup_of(cm("artifact-repositories", {"a": REPO_A})), None) is None
    )  # no default key


@pytest.mark.parametrize(
    "ref,message",
    [
        ({"configMap": "absent"}, 'ConfigMap "absent" not found'),
        ({"key": "nope"}, 'key "nope" not found'),
        ({"configMap": "nokey"}, "names no key"),
    ],
)
def test_a_reference_that_does_not_resolve_says_why(ref, message):
    lookup = lookup_of(
        cm("artifact-repositories", {"a": REPO_A}, default_key="a"), cm("nokey", {"a": REPO_A})
    )
    with pytest.raises(RepositoryError, match=message):
        resolve(wf(ref), lookup, None)


def test_the_engine_puts_the_resolved_repository_into_the_pods_archive_location():
    workflow = wf()
    workflow["status"] = {
        "artifactRepositoryRef": resolve(
            workflow, lookup_of(cm("artifact-repositories", {"a": REPO_A}, default_key="a")), None
        )
    }
    decision = step(
        workflow, Observed(config=EngineConfig(executor_image="x")), datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert decision.status["artifactRepositoryRef"]["key"] == "a"  # kept in the status written back
    (create,) = decision.pods_to_create()
    template = next(
        e["value"]
        for c in create.pod["spec"]["initContainers"]
        for e in c.get("env") or ()
        if e["name"] == "ARGO_TEMPLATE"
    )
    location = json.loads(template)["archiveLocation"]
    assert location["s3"]["bucket"] == "a" and location["s3"]["key"] == f"w/{create.name}"
