"""`sluice retry`, `resubmit` and `delete` against the real kube-apiserver (sluice/commands/retry.py,
delete.py)."""

from __future__ import annotations

import json
import uuid

from .support import INSTANCE, get, set_status, workflow_file


def test_retry_resets_the_failed_nodes_and_resubmit_makes_a_new_workflow(sluice, kubectl, ns, tmp_path):
    assert sluice("submit", str(workflow_file(tmp_path, "flaky"))).returncode == 0
    set_status(
        kubectl,
        ns,
        "flaky",
        {
            "phase": "Failed",
            "message": "child 'b' failed",
            "startedAt": "2026-12-06T06:00:00Z",
            "finishedAt": "2026-12-06T06:01:00Z",
            "nodes": {
                "flaky": {
                    "id": "flaky",
                    "name": "flaky",
                    "displayName": "flaky",
                    "type": "Steps",
                    "phase": "Failed",
                    "children": ["flaky-0"],
                },
                "flaky-0": {
                    "id": "flaky-0",
                    "name": "flaky[0]",
                    "displayName": "[0]",
                    "type": "StepGroup",
                    "phase": "Failed",
                    "boundaryID": "flaky",
                    "children": ["flaky-a", "flaky-b"],
                },
                "flaky-a": {
                    "id": "flaky-a",
                    "name": "flaky[0].a",
                    "displayName": "a",
                    "type": "Pod",
                    "phase": "Succeeded",
                    "boundaryID": "flaky",
                },
                "flaky-b": {
                    "id": "flaky-b",
                    "name": "flaky[0].b",
                    "displayName": "b",
                    "type": "Pod",
                    "phase": "Failed",
                    "boundaryID": "flaky",
                },
            },
        },
    )
    kubectl(
        "patch",
        "workflow",
        "flaky",
        "-n",
        ns,
        "--type=merge",
        "-p",
        json.dumps({"metadata": {"labels": {"workflows.argoproj.io/completed": "true"}}}),
    )
    for node_id in ("flaky-a", "flaky-b"):  # the pods of both steps (a controller's labels and annotations)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": node_id,
                "labels": {"workflows.argoproj.io/workflow": "flaky"},
                "annotations": {"workflows.argoproj.io/node-id": node_id},
            },
            "spec": {
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 0,
                "containers": [
                    {
                        "name": "main",
                        "image": "busybox:1.36",
                        "imagePullPolicy": "IfNotPresent",
                        "command": ["true"],
                    }
                ],
            },
        }
        kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(pod))
    result = sluice("retry", "flaky")
    assert result.returncode == 0, result.stderr
    # the failed step's pod is deleted so the controller can run it again; the succeeded one stays
    pods = json.loads(
        kubectl("get", "pods", "-n", ns, "-l", "workflows.argoproj.io/workflow=flaky", "-o", "json")
    )
    live = {p["metadata"]["name"] for p in pods["items"] if not p["metadata"].get("deletionTimestamp")}
    assert live == {"flaky-a"}
    wf = get(kubectl, ns, "flaky")
    assert wf["status"]["phase"] == "Running" and "finishedAt" not in wf["status"]
    assert set(wf["status"]["nodes"]) == {"flaky", "flaky-0", "flaky-a"}
    assert wf["status"]["nodes"]["flaky-0"]["phase"] == "Running"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "false"
    again = sluice("retry", "flaky")
    assert again.returncode == 1 and "only a Failed or Error workflow" in again.stderr

    resub = sluice("resubmit", "flaky", "-o", "name")
    assert resub.returncode == 0, resub.stderr
    new = get(kubectl, ns, resub.stdout.strip())
    assert new["metadata"]["name"].startswith("flaky-")
    assert new["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"] == "flaky"
    assert new["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == INSTANCE


def test_delete_completed_keeps_the_running_ones(sluice, kubectl, tmp_path, kubeconfig):
    own = f"sluice-cli-del-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", own)
    try:
        for name, phase in (("d-ok", "Succeeded"), ("d-bad", "Failed"), ("d-run", "Running")):
            assert sluice("submit", str(workflow_file(tmp_path, name)), namespace=own).returncode == 0
            set_status(kubectl, own, name, {"phase": phase})
        result = sluice("delete", "--completed", namespace=own)
        assert result.returncode == 0, result.stderr
        assert sorted(result.stdout.split("\n")[:-1]) == [
            "workflow.argoproj.io/d-bad deleted",
            "workflow.argoproj.io/d-ok deleted",
        ]
        left = kubectl("get", "workflows", "-n", own, "-o", "name").split()
        assert left == ["workflow.argoproj.io/d-run"]
        assert sluice("delete", "d-run", namespace=own).returncode == 0
        assert sluice("delete", "d-run", namespace=own).returncode == 3
    finally:
        kubectl("delete", "namespace", own, "--wait=false", check=False)
