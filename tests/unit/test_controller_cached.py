"""controller/cached.py and kube/informer.py `Store.transform`: what the controller's caches keep.

The pod is the one the engine itself makes (workflow/engine `step`) with a status as the kubelet writes
it: what the engine reads of it (`pod_observation`) is the same from the slim copy as from the whole."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from controller.cached import slim_pod
from kube.informer import Store, strip_managed_fields
from workflow.engine import CreatePod, step
from workflow.engine.observe import node_id_of, pod_observation, workflow_of

pytestmark = pytest.mark.unit

MANAGED = [{"manager": "kubelet", "operation": "Update", "fieldsV1": {"f:status": {"f:phase": {}}}}]


def _engine_pod() -> dict:
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "ns", "uid": "u-1"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "container": {"image": "busybox:1.36", "command": ["true"]}}],
        },
    }
    decision = step(wf, None, datetime(2026, 1, 1, tzinfo=UTC))
    [create] = [a for a in decision.actions if isinstance(a, CreatePod)]
    pod = copy.deepcopy(create.pod)
    pod["metadata"] |= {"uid": "p-1", "resourceVersion": "7", "managedFields": MANAGED}
    pod["spec"]["nodeName"] = "node-1"
    pod["status"] = {
        "phase": "Succeeded",
        "podIP": "10.0.0.9",
        "startTime": "2026-01-01T00:00:01Z",
        "initContainerStatuses": [
            {"name": c["name"], "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            for c in pod["spec"].get("initContainers") or ()
        ],
        "containerStatuses": [
            {"name": c["name"], "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            for c in pod["spec"]["containers"]
        ],
    }
    return pod


def test_a_slim_pod_reads_as_the_whole_pod_and_is_smaller() -> None:
    pod = _engine_pod()
    slim = slim_pod(pod)
    assert pod_observation(slim) == pod_observation(pod)
    assert node_id_of(slim) == node_id_of(pod) and workflow_of(slim) == workflow_of(pod)
    assert "managedFields" not in slim["metadata"] and slim["status"] == pod["status"]
    assert slim["spec"]["nodeName"] == "node-1"
    assert [c["name"] for c in slim["spec"]["containers"]] == [c["name"] for c in pod["spec"]["containers"]]
    assert all(set(c) <= {"name", "image"} for c in slim["spec"]["containers"])
    assert len(repr(slim)) < len(repr(pod)) * 0.8
    assert pod["metadata"]["managedFields"] == MANAGED  # the object handed in is left as it was


def test_a_pod_without_a_spec_is_kept_as_it_is() -> None:
    assert slim_pod({"metadata": {"name": "p"}}) == {"metadata": {"name": "p"}}


def test_strip_managed_fields() -> None:
    obj = {"metadata": {"name": "a", "managedFields": MANAGED}, "data": {"k": "v"}}
    assert strip_managed_fields(obj) == {"metadata": {"name": "a"}, "data": {"k": "v"}}
    plain = {"metadata": {"name": "a"}}
    assert strip_managed_fields(plain) is plain


def test_a_store_keeps_what_its_transform_returns_on_events_and_lists() -> None:
    seen: list[dict] = []
    store = Store(transform=strip_managed_fields, indexers={"n": lambda o: o["metadata"]["name"]})
    store.handlers.append(lambda kind, obj: seen.append(obj))
    obj = {"metadata": {"namespace": "ns", "name": "a", "resourceVersion": "1", "managedFields": MANAGED}}
    store.apply("ADDED", obj)
    assert "managedFields" not in store.get("ns", "a")["metadata"]
    assert "managedFields" not in seen[-1]["metadata"]
    store.replace([{**obj, "metadata": {**obj["metadata"], "name": "b"}}])
    assert [k for k in store.objects] == [("ns", "b")]
    assert "managedFields" not in store.get("ns", "b")["metadata"]
    assert store.by_index("n", "b") == [store.get("ns", "b")]
