"""The controller against the real kube-apiserver: `sluice controller` runs on this host (one process per
test, confined to the test namespace and an instance ID), workflows are created with kubectl, and
what the controller wrote is read back from the API server. Pods run with the executor of the image
the cluster built from this tree (cluster/up.sh).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from workflow.check import CheckOptions, check_object
from workflow.names import pod_name

from .controller_support import (
    LocalController,
    eventually,
    get_wf,
    grant_executor,
    running_controller,
    wait_done,
    workflow,
)


@pytest.fixture(scope="module")
def instance() -> str:
    return f"e2e-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def controller(kubeconfig: Path, namespace: str, instance: str, tmp_path):
    with running_controller(kubeconfig, namespace, instance, tmp_path) as ctl:
        yield ctl


def create(kubectl, namespace: str, obj: dict) -> None:
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(obj))


def suspend_steps(*durations: str) -> dict:
    return {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [
                        {
                            "name": f"s{i}",
                            "template": "pause",
                            "arguments": {"parameters": [{"name": "d", "value": d}]},
                        }
                    ]
                    for i, d in enumerate(durations)
                ],
            },
            {
                "name": "pause",
                "inputs": {"parameters": [{"name": "d"}]},
                "suspend": {"duration": "{{inputs.parameters.d}}"},
            },
        ],
    }


def test_a_workflow_runs_to_succeeded_with_argo_status_labels_and_events(
    kubectl, namespace, instance, controller
):
    name = f"steps-{uuid.uuid4().hex[:5]}"
    create(kubectl, namespace, workflow(name, instance, suspend_steps("1", "1")))
    wf = wait_done(kubectl, namespace, name)
    status = wf["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert wf["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Succeeded"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
    nodes = status["nodes"]
    assert nodes[name]["type"] == "Steps" and nodes[name]["phase"] == "Succeeded"
    suspends = sorted((n for n in nodes.values() if n["type"] == "Suspend"), key=lambda n: n["name"])
    assert [n["displayName"] for n in suspends] == ["s0", "s1"]
    assert suspends[1]["startedAt"] >= suspends[0]["finishedAt"]  # in order, one after the other
    assert status["progress"] == "2/2" and status["startedAt"] <= status["finishedAt"]
    assert {"type": "Completed", "status": "True"} in status["conditions"]
    # Events name the Workflow as their object (kubectl describe / argo get show them). They are sent
    # off the reconcile path (controller/event_sender.py): the last may land just after the status.
    selector = f"involvedObject.name={name}"

    def workflow_events() -> list[dict]:
        found = json.loads(
            kubectl("get", "events", "-n", namespace, "--field-selector", selector, "-o", "json")
        )["items"]
        reasons = {e["reason"] for e in found}
        assert {"WorkflowRunning", "WorkflowSucceeded"} <= reasons, reasons
        return found

    events = eventually(workflow_events, 60, 0.5, "the workflow's events")
    assert all(
        e["involvedObject"]["kind"] == "Workflow" and e["involvedObject"]["uid"] == wf["metadata"]["uid"]
        for e in events
    )
    # kubectl's printer columns read the status the controller wrote.
    row = kubectl("get", "workflow", name, "-n", namespace, "--no-headers").split()
    assert row[:2] == [name, "Succeeded"]


def test_each_pod_is_created_once_by_its_deterministic_name(kubectl, namespace, instance, controller):
    name = f"pods-{uuid.uuid4().hex[:5]}"
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [[{"name": "a", "template": "echo"}, {"name": "b", "template": "echo"}]],
            },
            {"name": "echo", "container": {"image": "busybox:1.36", "command": ["echo", "hi"]}},
        ],
    }
    grant_executor(kubectl, namespace)
    create(kubectl, namespace, workflow(name, instance, spec))
    wf = wait_done(kubectl, namespace, name, timeout=240)
    nodes = wf["status"]["nodes"]
    pod_nodes = {n["id"]: n for n in nodes.values() if n["type"] == "Pod"}
    assert len(pod_nodes) == 2
    pods = json.loads(
        kubectl("get", "pods", "-n", namespace, "-l", f"workflows.argoproj.io/workflow={name}", "-o", "json")
    )["items"]
    by_node = {}
    for pod in pods:
        node_id = pod["metadata"]["annotations"]["workflows.argoproj.io/node-id"]
        assert node_id not in by_node, f"two pods for node {node_id}"
        by_node[node_id] = pod
    assert set(by_node) == set(pod_nodes)
    for node_id, pod in by_node.items():
        node = pod_nodes[node_id]
        assert pod["metadata"]["name"] == pod_name(name, node["name"], node.get("templateName") or "echo")
        (owner,) = pod["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"]) == ("Workflow", name, wf["metadata"]["uid"])
        assert pod["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
        assert pod["status"]["phase"] == "Succeeded", pod["status"]
        assert node["phase"] == "Succeeded" and node["outputs"]["exitCode"] == "0", node
        assert node["hostNodeName"] == pod["spec"]["nodeName"]
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    assert controller.metric("sluice_controller_pods_created_total") == 2


def test_a_workflow_admission_never_saw_fails_with_the_cores_messages(
    kubectl, namespace, instance, controller
):
    name = f"invalid-{uuid.uuid4().hex[:5]}"
    obj = workflow(
        name,
        instance,
        {
            "entrypoint": "nowhere",
            "templates": [{"name": "main", "steps": [[{"name": "a", "template": "missing"}]]}],
        },
    )
    # The quick-start's webhook may be installed (tests/e2e/test_quick_start.py, on another worker, or
    # coming and going): it would refuse this object. Create it as the installed controller, whose writes
    # the webhook's matchConditions let through, in the admin group, so it is allowed whether that
    # controller's RBAC is there or not (checking for the webhook first would race with its install).
    kubectl(
        "create",
        "-n",
        namespace,
        "-f",
        "-",
        "--as=system:serviceaccount:sluice:sluice-controller",
        "--as-group=system:masters",
        input=json.dumps(obj),
    )
    wf = wait_done(kubectl, namespace, name)
    report = check_object(
        {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}, _NoTemplates(), CheckOptions()
    )
    assert report.errors
    assert wf["status"]["phase"] == "Failed"
    for problem in report.errors:
        assert str(problem) in wf["status"]["message"]
    assert not kubectl(
        "get", "pods", "-n", namespace, "-l", f"workflows.argoproj.io/workflow={name}", "-o", "name"
    )


class _NoTemplates:
    def workflow_template(self, namespace, name):
        return None

    def cluster_workflow_template(self, name):
        return None


def test_a_mutex_lets_one_workflow_run_at_a_time(kubectl, namespace, instance, controller):
    mutex = f"m-{uuid.uuid4().hex[:5]}"
    names = [f"mutex-{i}-{uuid.uuid4().hex[:4]}" for i in range(2)]
    for name in names:
        spec = {**suspend_steps("2"), "synchronization": {"mutexes": [{"name": mutex}]}}
        create(kubectl, namespace, workflow(name, instance, spec))
    done = [wait_done(kubectl, namespace, n) for n in names]
    assert [wf["status"]["phase"] for wf in done] == ["Succeeded", "Succeeded"]
    spans = sorted(
        (
            wf["status"]["nodes"][wf["metadata"]["name"]]["startedAt"],
            wf["status"]["nodes"][wf["metadata"]["name"]]["finishedAt"],
        )
        for wf in done
    )
    assert spans[1][0] >= spans[0][1], f"the two workflows overlapped: {spans}"
    # The lock shown as held is cleared by the write after the one that completed the workflow.
    for name in names:
        eventually(
            lambda n=name: (
                not (get_wf(kubectl, namespace, n)["status"].get("synchronization") or {})
                .get("mutex", {})
                .get("holding")
            ),
            60,
            0.5,
            f"{name}'s mutex shown as released",
        )


def test_a_status_near_the_size_limit_is_compressed_and_the_workflow_finishes(
    kubectl, namespace, instance, controller
):
    name = f"big-{uuid.uuid4().hex[:5]}"
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [
                        {
                            "name": "wait-a-moment-with-a-long-step-name",
                            "template": "pause",
                            "withSequence": {"count": "2500"},
                        }
                    ]
                ],
            },
            {"name": "pause", "suspend": {"duration": "1"}},
        ],
    }
    create(kubectl, namespace, workflow(name, instance, spec))
    wf = wait_done(kubectl, namespace, name, timeout=300)
    status = wf["status"]
    assert status["phase"] == "Succeeded", status.get("message")
    assert "compressedNodes" in status and "nodes" not in status
    from controller.status import decompress_nodes

    nodes = decompress_nodes(status["compressedNodes"])
    assert len(nodes) == 2502 and all(n["phase"] == "Succeeded" for n in nodes.values())
    assert len(json.dumps(wf)) < 1024 * 1024


def test_the_controller_serves_argo_metrics_and_probes(kubectl, namespace, instance, controller):
    name = f"metrics-{uuid.uuid4().hex[:5]}"
    create(kubectl, namespace, workflow(name, instance, suspend_steps("0")))
    assert wait_done(kubectl, namespace, name)["status"]["phase"] == "Succeeded"

    # The status is written before the reconcile that wrote it ends (its actions, then its duration is
    # observed): a reader can see Succeeded while that reconcile is still busy, so wait for its figure.
    def measured() -> str | None:
        code, text = controller.get("/metrics")
        assert code == 200
        return text if "argo_workflows_operation_duration_seconds_bucket" in text else None

    text = eventually(measured, 60, 0.2, "a reconcile measured in /metrics")
    for name in (
        "argo_workflows_queue_depth_gauge",
        "argo_workflows_operation_duration_seconds_bucket",
        "argo_workflows_total_count",
    ):
        assert name in text, name
    assert "# TYPE sluice_controller_step_delay_seconds histogram" in text
    assert controller.metric('argo_workflows_gauge{phase="Succeeded"}') >= 1
    assert controller.metric('argo_workflows_total_count{phase="Succeeded"}') >= 1
    assert controller.get("/healthz")[0] == 200 and controller.get("/readyz")[0] == 200


def test_kill_9_mid_run_and_a_standby_takes_over(kubeconfig, kubectl, namespace, instance, tmp_path):
    """Two replicas on one Lease: the standby waits; killing the leader mid-run hands over and every
    workflow still finishes."""
    lease = f"lease-{uuid.uuid4().hex[:5]}"
    first = LocalController(kubeconfig, namespace, instance, tmp_path, leader_elect=True, lease=lease)
    second = None
    try:
        first.wait_ready()
        second = LocalController(kubeconfig, namespace, instance, tmp_path, leader_elect=True, lease=lease)
        second.wait_serving()
        time.sleep(3)  # give the standby time to try (it must not lead while the Lease is held)
        assert second.metric("sluice_controller_leader") == 0
        names = [f"handover-{i}-{uuid.uuid4().hex[:4]}" for i in range(3)]
        for name in names:
            create(kubectl, namespace, workflow(name, instance, suspend_steps("2", "2", "2")))
        eventually(
            lambda: all(
                (get_wf(kubectl, namespace, n).get("status") or {}).get("phase") == "Running" for n in names
            ),
            60,
            0.3,
            "workflows running",
        )
        first.kill()
        second.wait_ready(timeout=120)
        for name in names:
            wf = wait_done(kubectl, namespace, name, timeout=180)
            assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
        lease_obj = json.loads(kubectl("get", "lease", lease, "-n", namespace, "-o", "json"))
        assert lease_obj["spec"]["leaseTransitions"] >= 1
        assert second.stop() == 0
        # A clean stop hands the Lease back at once.
        lease_obj = json.loads(kubectl("get", "lease", lease, "-n", namespace, "-o", "json"))
        assert not lease_obj["spec"].get("holderIdentity")
    finally:
        first.stop()
        if second is not None:
            second.stop()


def _suspend_node(wf: dict) -> dict | None:
    nodes = (wf.get("status") or {}).get("nodes") or {}
    return next((n for n in nodes.values() if n["type"] == "Suspend" and n["phase"] == "Running"), None)


def test_an_approver_resumes_a_gate_through_the_status_subresource(kubectl, namespace, instance, controller):
    name = f"gate-{uuid.uuid4().hex[:5]}"
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [[{"name": "approve", "template": "gate"}], [{"name": "after", "template": "p"}]],
            },
            {"name": "gate", "suspend": {}},
            {"name": "p", "suspend": {"duration": "0"}},
        ],
    }
    create(kubectl, namespace, workflow(name, instance, spec))
    node = eventually(lambda: _suspend_node(get_wf(kubectl, namespace, name)), 60, 0.3, "the gate waiting")
    # What `argo resume` does to the node, through the subresource an approver may write.
    patch = {"status": {"nodes": {node["id"]: {"phase": "Succeeded", "message": "approved"}}}}
    kubectl(
        "patch",
        "workflow",
        name,
        "-n",
        namespace,
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(patch),
    )
    wf = wait_done(kubectl, namespace, name)
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    names = {n["displayName"]: n["phase"] for n in wf["status"]["nodes"].values()}
    assert names["approve"] == "Succeeded" and names["after"] == "Succeeded"


def test_spec_shutdown_terminate_stops_a_running_workflow(kubectl, namespace, instance, controller):
    name = f"stop-{uuid.uuid4().hex[:5]}"
    create(kubectl, namespace, workflow(name, instance, suspend_steps("600")))
    eventually(lambda: _suspend_node(get_wf(kubectl, namespace, name)), 60, 0.3, "the step running")
    kubectl(
        "patch", "workflow", name, "-n", namespace, "--type=merge", "-p", '{"spec":{"shutdown":"Terminate"}}'
    )
    wf = wait_done(kubectl, namespace, name, timeout=60)
    assert wf["status"]["phase"] == "Failed"
    assert "Terminate" in (wf["status"].get("message") or "") or any(
        "Terminate" in (n.get("message") or "") for n in wf["status"]["nodes"].values()
    )


def test_a_pod_the_api_server_refuses_fails_its_node_with_the_answer(
    kubectl, namespace, instance, controller
):
    name = f"refused-{uuid.uuid4().hex[:5]}"
    patch = '{"containers":[{"name":"main","resources":{"limits":{"memory":"lots"}}}]}'
    spec = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "podSpecPatch": patch,
                "container": {"image": "busybox:1.36", "command": ["true"]},
            }
        ],
    }
    create(kubectl, namespace, workflow(name, instance, spec))
    wf = wait_done(kubectl, namespace, name, timeout=120)
    node = wf["status"]["nodes"][name]
    assert node["phase"] == "Error" and "failed to create pod" in node["message"], node
    assert "quantities must match" in node["message"]
    assert wf["status"]["phase"] in ("Error", "Failed")


@pytest.mark.parametrize("example", ["pod-spec-yaml-patch.yaml", "pod-spec-patch-wf-tmpl.yaml"])
def test_the_workflow_podspecpatch_gets_the_workflow_parameters(
    kubectl, namespace, instance, controller, argo_examples, example
):
    """Argo's two examples: `{{workflow.parameters.mem-limit}}` in the workflow's podSpecPatch reaches the
    pod as 100Mi (unsubstituted, the API server refused the pod)."""
    import yaml

    doc = yaml.safe_load((argo_examples / example).read_text())
    name = f"psp-{uuid.uuid4().hex[:5]}"
    grant_executor(kubectl, namespace)
    create(kubectl, namespace, workflow(name, instance, doc["spec"]))
    wf = wait_done(kubectl, namespace, name, timeout=240)
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    pods = json.loads(
        kubectl("get", "pods", "-n", namespace, "-l", f"workflows.argoproj.io/workflow={name}", "-o", "json")
    )["items"]
    main = next(c for c in pods[0]["spec"]["containers"] if c["name"] == "main")
    assert main["resources"]["limits"]["memory"] == "100Mi"
    if example == "pod-spec-patch-wf-tmpl.yaml":
        assert main["resources"]["limits"]["cpu"] == "100m"
