"""The controller's operational behaviour against the real kube-apiserver, each test with its own
`sluice controller` process on this host (tests/e2e/controller_support.py): semaphores that follow
their ConfigMap, a status too large to store, custom metrics read from the real /metrics endpoint."""

from __future__ import annotations

import base64
import json
import os
import uuid
from pathlib import Path

import pytest
import yaml

from .controller_support import (
    LocalController,
    eventually,
    get_wf,
    grant_executor,
    running_controller,
    wait_done,
    workflow,
)


@pytest.fixture
def instance() -> str:
    return f"e2e-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def controller(kubeconfig: Path, namespace: str, instance: str, tmp_path):
    with running_controller(kubeconfig, namespace, instance, tmp_path) as ctl:
        yield ctl


def pause(seconds: int, **spec) -> dict:
    return {
        "entrypoint": "main",
        "templates": [{"name": "main", "suspend": {"duration": str(seconds)}}],
        **spec,
    }


def test_raising_a_semaphore_limit_starts_a_waiting_workflow_at_once(
    kubectl, namespace, instance, controller
):
    """Nothing is released (the holder pauses for 10 minutes) and nothing polls: only the ConfigMap's
    change can wake the waiter within the test's minute."""
    cm = f"sem-{uuid.uuid4().hex[:5]}"
    kubectl("create", "configmap", cm, "-n", namespace, "--from-literal=limit=1")
    sync = {"synchronization": {"semaphores": [{"configMapKeyRef": {"name": cm, "key": "limit"}}]}}
    first, second = (f"sem-{i}-{uuid.uuid4().hex[:4]}" for i in range(2))
    try:
        kubectl(
            "create",
            "-n",
            namespace,
            "-f",
            "-",
            input=json.dumps(workflow(first, instance, pause(600, **sync))),
        )
        eventually(lambda: get_wf(kubectl, namespace, first).get("status", {}).get("phase") == "Running", 60)
        kubectl(
            "create",
            "-n",
            namespace,
            "-f",
            "-",
            input=json.dumps(workflow(second, instance, pause(600, **sync))),
        )

        def waiting():
            status = get_wf(kubectl, namespace, second).get("status") or {}
            return status.get("phase") == "Pending" and "Waiting for" in (status.get("message") or "")

        eventually(waiting, 60, 0.5, f"{second} waiting for the semaphore")
        kubectl("patch", "configmap", cm, "-n", namespace, "--type=merge", "-p", '{"data":{"limit":"2"}}')
        eventually(
            lambda: get_wf(kubectl, namespace, second).get("status", {}).get("phase") == "Running",
            60,
            0.5,
            f"{second} running once the limit is 2",
        )
        holding = get_wf(kubectl, namespace, second)["status"]["synchronization"]["semaphore"]["holding"]
        assert holding[0]["semaphore"] == f"{namespace}/ConfigMap/{cm}/limit", holding
        assert get_wf(kubectl, namespace, first)["status"]["phase"] == "Running"
    finally:
        kubectl("delete", "workflow", first, second, "-n", namespace, "--ignore-not-found", "--wait=false")
        kubectl("delete", "configmap", cm, "-n", namespace, "--ignore-not-found")


@pytest.mark.parametrize(
    ("max_size", "reason"),
    [
        (None, "workflow is longer than maximum allowed size"),  # refused by the controller's own limit
        ("4194304", "etcdserver: request is too large"),  # a limit above etcd's: refused by the API server
    ],
    ids=["over-max-workflow-size", "refused-by-the-api-server"],
)
def test_a_status_too_large_to_store_ends_the_workflow_in_error_once(
    kubectl, kubeconfig, namespace, instance, tmp_path, max_size, reason
):
    """A template holding ~900 KiB of incompressible text is stored in the status and recorded in its
    node's inputs: ~1.8 MiB, over Argo's 1 MiB even compressed, and over etcd's 1.5 MiB."""
    blob = base64.b64encode(os.urandom(690 * 1024)).decode()
    lib = f"big-{uuid.uuid4().hex[:5]}"
    template = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": lib},
        "spec": {
            "templates": [
                {
                    "name": "hold",
                    "inputs": {"parameters": [{"name": "blob", "value": blob}]},
                    "suspend": {"duration": "600"},
                }
            ]
        },
    }
    name = f"too-big-{uuid.uuid4().hex[:4]}"
    spec = {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "a", "templateRef": {"name": lib, "template": "hold"}}]]}
        ],
    }
    env = {"MAX_WORKFLOW_SIZE": max_size} if max_size else {}
    ctl = LocalController(kubeconfig, namespace, instance, tmp_path, env=env)
    try:
        kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(template))
        ctl.wait_ready()
        kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(workflow(name, instance, spec)))
        wf = wait_done(kubectl, namespace, name, timeout=120)
        status = wf["status"]
        assert status["phase"] == "Error" and reason in status["message"], status.get("message")
        assert {"type": "Completed", "status": "True"} in status["conditions"]
        assert "nodes" not in status and "compressedNodes" not in status
        assert wf["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
        assert wf["metadata"]["labels"]["workflows.argoproj.io/phase"] == "Error"
        eventually(
            lambda: ctl.metric("sluice_controller_status_too_large_total") == 1, 30, 0.5, "counted once"
        )
        # No reconcile failed on the refusal (before, each retry raised and counted an error, for ever).
        assert ctl.metric("argo_workflows_error_count") == 0, ctl.tail()
    finally:
        code = ctl.stop()
        kubectl("delete", "workflow", name, "-n", namespace, "--ignore-not-found", "--wait=false")
        kubectl("delete", "workflowtemplate", lib, "-n", namespace, "--ignore-not-found")
    assert code == 0, f"controller exited {code} on SIGTERM:\n{ctl.tail()}"


def scrape(ctl: LocalController) -> dict[str, float]:
    """The controller's /metrics as {series: value} (comments left out)."""
    status, text = ctl.get("/metrics")
    assert status == 200
    series = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            series[name] = float(value)
    return series


def test_custom_metrics_of_argos_dag_example_on_the_metrics_endpoint(
    kubectl, namespace, instance, controller, argo_examples
):
    """dag-custom-metrics.yaml: four tasks each count their run and gauge their duration by tag and
    status; the workflow counts itself and gauges its duration."""
    doc = yaml.safe_load((argo_examples / "dag-custom-metrics.yaml").read_text())
    name = f"dagm-{uuid.uuid4().hex[:5]}"
    grant_executor(kubectl, namespace)
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(workflow(name, instance, doc["spec"])))
    wf = wait_done(kubectl, namespace, name, timeout=300)
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    series = eventually(
        lambda: (
            (s := scrape(controller))
            and s.get(
                'argo_workflows_playground_workflow_result_counter{playground_id_workflow_counter="test",status="Succeeded"}'
            )
            == 1
            and s
        ),
        30,
        0.5,
        "the workflow's counter",
    )
    for tag in ("TEST-ONE-A", "TEST-ONE-B", "TEST-TWO-A", "TEST-TWO-B"):
        counter = f'argo_workflows_playground_workflow_result_task_counter{{playground_task_name_counter="{tag}",status="Succeeded"}}'
        assert series.get(counter) == 1, sorted(k for k in series if "playground" in k)
        gauge = f'argo_workflows_playground_workflow_duration_task_seconds{{playground_task_name="{tag}",status="Succeeded"}}'
        assert series[gauge] >= 0
    duration = 'argo_workflows_playground_workflow_duration{playground_id_workflow="test",status="Succeeded"}'
    assert series[duration] >= max(v for k, v in series.items() if "duration_task_seconds{" in k)
    assert "MetricsError" not in {c["type"] for c in wf["status"]["conditions"]}


def test_a_realtime_gauge_counts_while_its_node_runs_and_after_a_restart(
    kubectl, kubeconfig, namespace, instance, tmp_path
):
    """The gauge counts from the node's start; a controller killed with -9 loses it (it lives in memory),
    and the next one shows it again, still counting from the node's start, not from its own."""
    name = f"rt-{uuid.uuid4().hex[:5]}"
    metric = {
        "name": "rt_wait_seconds",
        "help": "Seconds the wait has run",
        "labels": [{"key": "wf", "value": "{{workflow.name}}"}],
        "gauge": {"realtime": True, "value": "{{duration}}"},
    }
    spec = pause(600)
    spec["templates"][0]["metrics"] = {"prometheus": [metric]}
    key = f'argo_workflows_rt_wait_seconds{{wf="{name}"}}'
    ctl = LocalController(kubeconfig, namespace, instance, tmp_path)
    try:
        ctl.wait_ready()
        kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(workflow(name, instance, spec)))
        first = eventually(lambda: scrape(ctl).get(key), 60, 0.5, "the real-time gauge")
        counted = eventually(
            lambda: (v := scrape(ctl)[key]) >= first + 1 and v, 60, 0.5, "the gauge counting up"
        )
        ctl.kill()
        ctl.stop()
        ctl = LocalController(kubeconfig, namespace, instance, tmp_path)
        ctl.wait_ready()
        again = eventually(lambda: scrape(ctl).get(key), 60, 0.5, "the gauge shown by the new controller")
        assert again > counted, (again, counted)  # from the node's start: more than before the kill
    finally:
        code = ctl.stop()
        kubectl("delete", "workflow", name, "-n", namespace, "--ignore-not-found", "--wait=false")
    assert code == 0, f"controller exited {code} on SIGTERM:\n{ctl.tail()}"


def test_a_workflowtemplates_artifact_repository_ref_wins_over_the_namespace_default(
    kubectl, kubeconfig, instance, tmp_path
):
    """The namespace has a default repository (`artifact-repositories`); the WorkflowTemplate names
    another. The repository is resolved once, on the first step, so that step must already see the
    template's reference (before, the default was taken and kept). Its own namespace: a default
    repository would change other tests' workflows."""
    suffix = uuid.uuid4().hex[:5]
    ns, lib, name = f"sluice-e2e-repo-{suffix}", f"lib-{suffix}", f"wtref-{suffix}"

    def repo(bucket: str) -> str:
        return f"s3:\n  bucket: {bucket}\n  endpoint: minio.example:9000\n  insecure: true\n"

    default = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "artifact-repositories",
            "annotations": {"workflows.argoproj.io/default-artifact-repository": "main"},
        },
        "data": {"main": repo("default-bucket")},
    }
    team = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "repos"},
        "data": {"team": repo("team-bucket")},
    }
    template = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": lib},
        "spec": {"artifactRepositoryRef": {"configMap": "repos", "key": "team"}, **pause(1)},
    }
    kubectl("create", "namespace", ns)
    ctl = LocalController(kubeconfig, ns, instance, tmp_path)
    try:
        for obj in (default, team, template):
            kubectl("create", "-n", ns, "-f", "-", input=json.dumps(obj))
        ctl.wait_ready()
        kubectl(
            "create",
            "-n",
            ns,
            "-f",
            "-",
            input=json.dumps(workflow(name, instance, {"workflowTemplateRef": {"name": lib}})),
        )
        wf = wait_done(kubectl, ns, name)
        assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
        ref = wf["status"]["artifactRepositoryRef"]
        assert (ref["configMap"], ref["key"], ref["artifactRepository"]["s3"]["bucket"]) == (
            "repos",
            "team",
            "team-bucket",
        )
    finally:
        code = ctl.stop()
        kubectl("delete", "namespace", ns, "--wait=false")
    assert code == 0, f"controller exited {code} on SIGTERM:\n{ctl.tail()}"
