"""Pods and WorkflowTaskResults as the API returns them -> the engine's observations
(workflow/engine/observe.py), then what the engine makes of them (workflow/engine/reconcile.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflow.engine import Observed, step
from workflow.engine.observe import node_id_of, pod_observation, task_result_observation, workflow_of
from workflow.engine.reconcile import infer_failure

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def pod(
    phase="Running",
    containers=(),
    inits=(),
    *,
    message=None,
    reason=None,
    conditions=None,
    deleting=False,
    node_id="wf-123",
    node_name="node0",
    ip="10.244.0.7",
):
    meta = {
        "name": "wf-hello-123",
        "namespace": "ns",
        "labels": {"workflows.argoproj.io/workflow": "wf"},
        "annotations": {"workflows.argoproj.io/node-id": node_id},
    }
    if deleting:
        meta["deletionTimestamp"] = "2024-01-01T12:00:05Z"
    status = {
        "phase": phase,
        "podIP": ip,
        "startTime": "2024-01-01T12:00:00Z",
        "containerStatuses": list(containers),
        "initContainerStatuses": list(inits),
    }
    if message is not None:
        status["message"] = message
    if reason is not None:
        status["reason"] = reason
    if conditions is not None:
        status["conditions"] = conditions
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": node_name},
        "status": status,
    }


def terminated(name, code, reason=None, message=None, finished="2024-01-01T12:00:03Z"):
    t = {"exitCode": code, "startedAt": "2024-01-01T12:00:01Z", "finishedAt": finished}
    t["reason"] = reason or ("Completed" if code == 0 else "Error")
    if message:
        t["message"] = message
    return {"name": name, "ready": False, "state": {"terminated": t}}


def waiting(name, reason, message=None):
    w = {"reason": reason}
    if message:
        w["message"] = message
    return {"name": name, "ready": False, "state": {"waiting": w}}


def running(name, ready=True):
    return {"name": name, "ready": ready, "state": {"running": {"startedAt": "2024-01-01T12:00:01Z"}}}


# (case, pod, expected (phase, message) from Argo's inferFailedReason, or None when the pod has not failed)
CASES = [
    ("succeeded", pod("Succeeded", [terminated("wait", 0), terminated("main", 0)]), None),
    (
        "main exits 1",
        pod("Failed", [terminated("wait", 0), terminated("main", 1)]),
        ("Failed", "main: Error (exit code 1)"),
    ),
    (
        "OOMKilled",
        pod("Failed", [terminated("wait", 0), terminated("main", 137, "OOMKilled")]),
        ("Failed", "main: OOMKilled (exit code 137)"),
    ),
    (
        "evicted",
        pod(
            "Failed",
            [terminated("wait", 137), terminated("main", 137)],
            reason="Evicted",
            message="The node was low on resource: memory.",
        ),
        ("Failed", "The node was low on resource: memory."),
    ),
    (
        "deadline",
        pod(
            "Failed",
            [terminated("wait", 0), terminated("main", 143)],
            reason="DeadlineExceeded",
            message="Pod was active on the node longer than the specified deadline",
        ),
        ("Failed", "Pod was active on the node longer than the specified deadline"),
    ),
    (
        "image pull error",
        pod("Failed", [running("wait"), waiting("main", "ErrImagePull", "pull access denied")]),
        ("Error", "Pod failed before main container starts due to ErrImagePull: pull access denied"),
    ),
    (
        "init container fails",
        pod(
            "Failed",
            [waiting("wait", "PodInitializing"), waiting("main", "PodInitializing")],
            [terminated("init", 2, message="cannot download artifact")],
        ),
        ("Error", "init: Error (exit code 2): cannot download artifact"),
    ),
    (
        "wait fails",
        pod("Failed", [terminated("wait", 1), terminated("main", 0)]),
        ("Error", "wait: Error (exit code 1)"),
    ),
]


@pytest.mark.parametrize("case,obj,expected", CASES, ids=[c[0] for c in CASES])
def test_pods_convert_and_fail_as_argo_says(case, obj, expected):
    obs = pod_observation(obj)
    assert obs is not None and obs.node_id == "wf-123" and obs.name == "wf-hello-123"
    assert obs.phase == obj["status"]["phase"]
    assert obs.host_node_name == "node0" and obs.pod_ip == "10.244.0.7"
    assert [c.name for c in obs.containers] == [c["name"] for c in obj["status"]["containerStatuses"]]
    if expected is None:
        assert (
            obs.container("main").exit_code == 0
            and obs.container("main").finished_at == "2024-01-01T12:00:03Z"
        )
    else:
        assert infer_failure(obs) == expected


def test_container_states_are_read_field_by_field():
    obs = pod_observation(
        pod("Running", [running("wait", ready=False), terminated("main", 3, "Error", "boom")])
    )
    wait, main = obs.containers
    assert (wait.state, wait.ready, wait.started_at) == ("running", False, "2024-01-01T12:00:01Z")
    assert (main.state, main.exit_code, main.reason, main.message) == ("terminated", 3, "Error", "boom")


def test_pending_pod_shows_the_waiting_reason_or_why_it_is_not_scheduled():
    pulling = pod_observation(pod("Pending", [waiting("wait", "ImagePullBackOff", "Back-off pulling image")]))
    assert pulling.containers[0].reason == "ImagePullBackOff"
    unschedulable = pod_observation(
        pod(
            "Pending",
            conditions=[
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes are available: 1 Insufficient cpu.",
                }
            ],
        )
    )
    assert unschedulable.message == "Unschedulable: 0/1 nodes are available: 1 Insufficient cpu."
    assert pod_observation(pod("Pending")).message == ""


def test_a_deleting_pod_is_marked_and_unknown_phases_are_unknown():
    assert pod_observation(pod("Running", deleting=True)).deleting is True
    assert pod_observation(pod("Running")).deleting is False
    assert pod_observation(pod("Bogus")).phase == "Unknown"


def test_pods_that_are_not_ours_or_malformed_are_not_observed():
    assert pod_observation({"metadata": {"name": "x"}}) is None
    odd = pod_observation(
        {
            "metadata": {"annotations": {"workflows.argoproj.io/node-id": "n"}},
            "status": {"containerStatuses": [None, {"name": "main", "state": "weird"}], "phase": 3},
        }
    )
    assert odd.phase == "Pending" and [c.state for c in odd.containers] == ["waiting"]


def test_labels_and_annotations_name_the_workflow_and_node():
    obj = pod()
    assert (workflow_of(obj), node_id_of(obj)) == ("wf", "wf-123")
    assert workflow_of({}) == "" and node_id_of({"metadata": None}) == ""


def test_task_results():
    obj = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTaskResult",
        "metadata": {"name": "wf-123", "labels": {"workflows.argoproj.io/report-outputs-completed": "false"}},
        "outputs": {"result": "hi", "parameters": [{"name": "p", "value": "1"}]},
        "progress": "1/2",
    }
    tr = task_result_observation(obj)
    assert (tr.node_id, tr.completed, tr.progress) == ("wf-123", False, "1/2")
    assert tr.outputs["result"] == "hi"
    obj["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] = "true"
    obj.pop("outputs")
    tr = task_result_observation(obj)
    assert tr.completed is True and tr.outputs is None
    assert task_result_observation({"metadata": {}}) is None


def test_the_engine_reads_converted_pods_into_nodes():
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "ns", "uid": "u1"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}],
        },
    }
    first = step(wf, Observed(), T0)
    (create,) = first.pods_to_create()
    wf["status"] = first.status
    api_pod = {
        **create.pod,
        "status": {
            "phase": "Failed",
            "containerStatuses": [terminated("wait", 0), terminated("main", 137, "OOMKilled")],
        },
    }
    api_pod["spec"] = {**api_pod["spec"], "nodeName": "node0"}
    obs = pod_observation(api_pod)
    assert obs.node_id == create.node_id
    later = step(wf, Observed(pods={obs.node_id: obs}), T0)
    node = later.nodes[create.node_id]
    assert (later.phase, node["phase"], node["message"]) == (
        "Failed",
        "Failed",
        "main: OOMKilled (exit code 137)",
    )
    assert node["hostNodeName"] == "node0" and node["outputs"]["exitCode"] == "137"
