"""The executor's WorkflowTaskResult path against a real kube-apiserver (sluice_executor/taskresult.py
through kubernetes_asyncio): created incomplete with Argo's labels and owner, outputs and progress
merge-patched in, finished with `report-outputs-completed=true`; an existing result is taken over; the
engine reads the object through workflow/engine/observe.py. Also `wait` end to end on this machine,
reporting to the cluster after a real launcher run."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from sluice_executor.podenv import Layout, PodEnv
from sluice_executor.taskresult import KubeResultAPI, Reporter

from workflow.engine.observe import task_result_observation

REPO = Path(__file__).resolve().parents[2]


def owner(kubectl, namespace: str, name: str) -> str:
    """A real Workflow to own the task results (the garbage collector deletes objects whose owner does not
    exist); its instance ID keeps every controller away from it. Returns its UID."""
    manifest = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"workflows.argoproj.io/controller-instanceid": "e2e-executor"},
        },
        "spec": {
            "entrypoint": "t",
            "templates": [{"name": "t", "container": {"image": "busybox", "command": ["true"]}}],
        },
    }
    kubectl("apply", "-f", "-", input=json.dumps(manifest))
    return kubectl(
        "get", "workflows.argoproj.io", name, "-n", namespace, "-o", "jsonpath={.metadata.uid}"
    ).strip()


def env_for(namespace: str, node_id: str, root: Path, uid: str, template: dict | None = None) -> PodEnv:
    return PodEnv(
        layout=Layout(run=root / "run", termination_log=root / "termination-log"),
        template=template or {"name": "t"},
        pod_name=f"{node_id}-pod",
        namespace=namespace,
        workflow_name="exec-wf",
        workflow_uid=uid,
        node_id=node_id,
        include_result=True,
        instance_id="e2e-executor",
    )


def get(kubectl, namespace: str, name: str) -> dict:
    return json.loads(kubectl("get", "workflowtaskresults.argoproj.io", name, "-n", namespace, "-o", "json"))


def test_task_result_lifecycle_on_the_api_server(kubeconfig, kubectl, namespace, tmp_path):
    env = env_for(namespace, "exec-wf-1234567", tmp_path, owner(kubectl, namespace, "exec-wf"))

    async def scenario() -> list[dict]:
        api = await KubeResultAPI.connect(str(kubeconfig))
        seen = []
        try:
            reporter = Reporter(api, env)
            await reporter.start()
            seen.append(get(kubectl, namespace, env.node_id))
            await reporter.report(progress="1/2")
            await reporter.report(
                {"parameters": [{"name": "p", "value": "42"}], "result": "hi", "exitCode": "0"}
            )
            await reporter.finish()
            seen.append(get(kubectl, namespace, env.node_id))
            # a retried pod's wait finds the result already there: it is reset to incomplete, then finished
            again = Reporter(api, env)
            await again.start()
            seen.append(get(kubectl, namespace, env.node_id))
            await again.finish()
        finally:
            await api.close()
        return seen

    created, finished, restarted = asyncio.run(scenario())
    labels = created["metadata"]["labels"]
    assert labels == {
        "workflows.argoproj.io/workflow": "exec-wf",
        "workflows.argoproj.io/report-outputs-completed": "false",
        "workflows.argoproj.io/controller-instanceid": "e2e-executor",
    }
    assert created["metadata"]["ownerReferences"][0]["kind"] == "Workflow"
    assert finished["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"
    assert finished["outputs"] == {
        "parameters": [{"name": "p", "value": "42"}],
        "result": "hi",
        "exitCode": "0",
    }
    assert finished["progress"] == "1/2"
    observed = task_result_observation(finished)
    assert observed is not None and observed.completed and observed.outputs["result"] == "hi"
    assert restarted["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "false"
    assert task_result_observation(get(kubectl, namespace, env.node_id)).completed


def test_wait_reports_to_the_cluster(kubeconfig, kubectl, namespace, tmp_path):
    """`sluice executor wait` as a process, after the real launcher ran main on this machine."""
    out = tmp_path / "bin"
    build = subprocess.run(
        [str(REPO / "executor-sidecar" / "build-launcher.sh"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    run_dir = tmp_path / "run"
    template = {
        "name": "t",
        "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": f"{tmp_path}/p.txt"}}]},
    }
    base = {"PATH": "/usr/bin:/bin", "SLUICE_RUN_DIR": str(run_dir), "ARGO_TEMPLATE": json.dumps(template)}
    main = subprocess.run(
        [str(out / "sluice-launcher"), "--", "sh", "-c", f"echo out; echo -n v > {tmp_path}/p.txt"],
        env={**base, "SLUICE_TERMINATION_LOG": str(tmp_path / "main-termination")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert main.returncode == 0, main.stderr
    node_id = "exec-wf-7654321"
    wait_env = {
        **os.environ,
        **base,
        "ARGO_NODE_ID": node_id,
        "ARGO_WORKFLOW_NAME": "exec-wf",
        "ARGO_WORKFLOW_UID": owner(kubectl, namespace, "exec-wf"),
        "ARGO_POD_NAME": "exec-wf-pod",
        "ARGO_NAMESPACE": namespace,
        "ARGO_INCLUDE_SCRIPT_OUTPUT": "true",
        "SLUICE_TERMINATION_LOG": str(tmp_path / "wait-termination"),
    }
    wait = subprocess.run(
        [sys.executable, "-m", "sluice", "executor", "wait", "--kubeconfig", str(kubeconfig)],
        env=wait_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wait.returncode == 0, wait.stderr
    result = get(kubectl, namespace, node_id)
    assert result["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"
    assert result["outputs"]["result"] == "out"
    assert result["outputs"]["parameters"][0]["value"] == "v"
    assert result["outputs"]["exitCode"] == "0"
