"""Resource templates against a real kube-apiserver: `sluice executor resource ACTION` as a process
(the pod's main), its dynamic client and the task result it reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.e2e.test_executor_taskresult import owner


@pytest.fixture(scope="module")
def workflow_uid(kubectl, namespace) -> str:
    return owner(kubectl, namespace, "exec-res")


def resource(
    kubeconfig, namespace, uid, tmp_path, node_id: str, action: str, template: dict, command: str = "resource"
):
    env = {
        **os.environ,
        "ARGO_TEMPLATE": json.dumps({"name": "r", **template}),
        "ARGO_NODE_ID": node_id,
        "ARGO_WORKFLOW_NAME": "exec-res",
        "ARGO_WORKFLOW_UID": uid,
        "ARGO_POD_NAME": f"{node_id}-pod",
        "ARGO_NAMESPACE": namespace,
        "SLUICE_TERMINATION_LOG": str(tmp_path / f"{node_id}.termination-log"),
        # init's directories, for manifestFrom (init downloads the artifact, main reads it)
        "SLUICE_RUN_DIR": str(tmp_path / "run"),
        "SLUICE_INPUTS_DIR": str(tmp_path / "inputs"),
        "SLUICE_LAUNCHER": "/bin/true",  # init stages it; no main runs under it here
    }
    args = [command, action] if command == "resource" else [command]
    done = subprocess.run(
        [sys.executable, "-m", "sluice", "executor", *args, "--kubeconfig", str(kubeconfig)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done


def result(kubectl, namespace, node_id):
    return json.loads(
        kubectl("get", "workflowtaskresults.argoproj.io", node_id, "-n", namespace, "-o", "json")
    )


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: exec-cm\ndata:\n  a: '1'\n"


def test_configmap_lifecycle(kubeconfig, kubectl, namespace, workflow_uid, tmp_path):
    outputs = {
        "parameters": [
            {"name": "uid", "valueFrom": {"jsonPath": "{.metadata.uid}"}},
            {"name": "a", "valueFrom": {"jsonPath": "{.data.a}"}},
        ]
    }
    done = resource(
        kubeconfig,
        namespace,
        workflow_uid,
        tmp_path,
        "exec-res-1",
        "create",
        {"resource": {"action": "create", "manifest": CM, "setOwnerReference": True}, "outputs": outputs},
    )
    assert done.returncode == 0, done.stderr
    cm = json.loads(kubectl("get", "configmap", "exec-cm", "-n", namespace, "-o", "json"))
    assert cm["metadata"]["ownerReferences"][0]["uid"] == workflow_uid
    reported = result(kubectl, namespace, "exec-res-1")
    assert reported["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"
    assert [p["value"] for p in reported["outputs"]["parameters"]] == [cm["metadata"]["uid"], "1"]

    again = resource(
        kubeconfig,
        namespace,
        workflow_uid,
        tmp_path,
        "exec-res-2",
        "create",
        {"resource": {"action": "create", "manifest": CM}},
    )
    assert again.returncode == 1
    assert "already exists" in (tmp_path / "exec-res-2.termination-log").read_text()

    merge = {
        "resource": {
            "action": "patch",
            "mergeStrategy": "merge",
            "flags": ["configmap", "exec-cm"],
            "manifest": "data:\n  b: '2'\n",
        }
    }
    assert (
        resource(kubeconfig, namespace, workflow_uid, tmp_path, "exec-res-3", "patch", merge).returncode == 0
    )
    json_patch = {
        "resource": {
            "action": "patch",
            "mergeStrategy": "json",
            "flags": ["cm/exec-cm"],
            "manifest": "- {op: add, path: /data/c, value: '3'}\n",
        }
    }
    assert (
        resource(kubeconfig, namespace, workflow_uid, tmp_path, "exec-res-4", "patch", json_patch).returncode
        == 0
    )
    applied = {"resource": {"action": "apply", "manifest": CM.replace("a: '1'", "a: '1'\n  d: '4'")}}
    assert (
        resource(kubeconfig, namespace, workflow_uid, tmp_path, "exec-res-5", "apply", applied).returncode
        == 0
    )
    data = json.loads(kubectl("get", "configmap", "exec-cm", "-n", namespace, "-o", "json"))["data"]
    assert data == {"a": "1", "b": "2", "c": "3", "d": "4"}

    replaced = {"resource": {"action": "replace", "manifest": CM.replace("'1'", "'9'")}}
    assert (
        resource(kubeconfig, namespace, workflow_uid, tmp_path, "exec-res-6", "replace", replaced).returncode
        == 0
    )
    assert json.loads(kubectl("get", "configmap", "exec-cm", "-n", namespace, "-o", "json"))["data"] == {
        "a": "9"
    }

    deleted = {"resource": {"action": "delete", "manifest": CM}}
    assert (
        resource(kubeconfig, namespace, workflow_uid, tmp_path, "exec-res-7", "delete", deleted).returncode
        == 0
    )
    assert kubectl("get", "configmap", "exec-cm", "-n", namespace, "--ignore-not-found") == ""
    tolerant = {"resource": {"action": "delete", "manifest": CM, "flags": ["--ignore-not-found"]}}
    assert (
        resource(kubeconfig, namespace, workflow_uid, tmp_path, "exec-res-8", "delete", tolerant).returncode
        == 0
    )


JOB = """apiVersion: batch/v1
kind: Job
metadata:
  generateName: exec-job-
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:1.36
        command: [sh, -c, "exit {code}"]
"""


@pytest.mark.parametrize(("code", "expected"), [(0, 0), (3, 1)])
def test_job_success_and_failure_conditions(
    kubeconfig, kubectl, namespace, workflow_uid, tmp_path, code, expected
):
    node = f"exec-res-job-{code}"
    template = {
        "resource": {
            "action": "create",
            "manifest": JOB.replace("{code}", str(code)),
            "setOwnerReference": True,
            "successCondition": "status.succeeded > 0",
            "failureCondition": "status.failed > 0",
        },
        "outputs": {"parameters": [{"name": "job", "valueFrom": {"jsonPath": "{.metadata.name}"}}]},
    }
    done = resource(kubeconfig, namespace, workflow_uid, tmp_path, node, "create", template)
    assert done.returncode == expected, done.stderr
    if expected:
        message = (tmp_path / f"{node}.termination-log").read_text()
        assert "failure condition 'status.failed > 0' evaluated true" in message
    else:
        name = result(kubectl, namespace, node)["outputs"]["parameters"][0]["value"]
        assert name.startswith("exec-job-")


def test_manifest_from_an_artifact_and_jq_filter_outputs(
    kubeconfig, kubectl, namespace, workflow_uid, tmp_path
):
    """`init` downloads the `manifestFrom` artifact (raw, no path: main reads it from the volume), then
    main creates it and reports outputs by `jqFilter` (k8s-jobs.yaml's `.`, and a projection)."""
    node = "exec-res-from"
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: exec-cm-from\ndata:\n  b: '2'\n  a: x<y\n"
    template = {
        "inputs": {"artifacts": [{"name": "manifest", "raw": {"data": manifest}}]},
        "resource": {
            "action": "create",
            "manifestFrom": {"artifact": {"name": "manifest"}},
            "setOwnerReference": True,
        },
        "outputs": {
            "parameters": [
                {"name": "obj", "valueFrom": {"jqFilter": "."}},
                {"name": "keys", "valueFrom": {"jqFilter": '.data | keys | join(",")'}},
            ]
        },
    }
    done = resource(kubeconfig, namespace, workflow_uid, tmp_path, node, "", template, command="init")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "inputs" / "manifest").read_text() == manifest
    done = resource(kubeconfig, namespace, workflow_uid, tmp_path, node, "create", template)
    assert done.returncode == 0, done.stderr + (tmp_path / f"{node}.termination-log").read_text()
    created = json.loads(kubectl("get", "configmap", "exec-cm-from", "-n", namespace, "-o", "json"))
    assert created["metadata"]["ownerReferences"][0]["uid"] == workflow_uid
    values = {p["name"]: p["value"] for p in result(kubectl, namespace, node)["outputs"]["parameters"]}
    assert values["keys"] == "a,b"
    obj = json.loads(values["obj"])
    assert obj["metadata"]["uid"] == created["metadata"]["uid"] and obj["data"] == {"a": "x<y", "b": "2"}
    assert '"a":"x\\u003cy"' in values["obj"]  # Go's encoding, as Argo writes it
