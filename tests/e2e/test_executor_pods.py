"""Pods rendered by the engine, created directly on the cluster (no controller): the executor stages the
launcher, runs main in the example's own image, and reports the task result the engine expects.

For each Argo example, the Workflow is stored (so the task result has a real owner; an instance ID keeps
every controller away), the engine's first step renders its first pod, the test creates that pod and
waits for it to finish, then hands the pod and the task result back to the engine, which must take the
outputs into the node (docs/architecture.md, "The pod").
"""

from __future__ import annotations

import copy
import json
import os
import time
from datetime import UTC, datetime

import pytest
import yaml

from workflow.engine import EngineConfig, Observed, step
from workflow.engine.observe import pod_observation, task_result_observation

# The cluster's Sluice image (cluster/build-images.sh builds it from this tree); another tag may be named.
EXECUTOR_IMAGE = os.environ.get("SLUICE_E2E_EXECUTOR_IMAGE", "sluice.local/sluice:dev")
INSTANCE = "e2e-executor-pods"
RBAC = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: sluice-executor}
rules:
- apiGroups: [argoproj.io]
  resources: [workflowtaskresults]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sluice-executor}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: sluice-executor}
subjects:
- {kind: ServiceAccount, name: default}
"""


@pytest.fixture(scope="module")
def executor_rbac(kubectl, namespace) -> str:
    """What the executor's service account may do: create and patch task results, nothing else."""
    kubectl("apply", "-n", namespace, "-f", "-", input=RBAC)
    return namespace


def stored_workflow(kubectl, namespace: str, example: dict, name: str) -> dict:
    wf = copy.deepcopy(example)
    meta = wf.setdefault("metadata", {})
    meta.pop("generateName", None)
    meta.update(name=name, namespace=namespace)
    meta.setdefault("labels", {})["workflows.argoproj.io/controller-instanceid"] = INSTANCE
    kubectl("apply", "-f", "-", input=json.dumps(wf))
    meta["uid"] = kubectl(
        "get", "workflows.argoproj.io", name, "-n", namespace, "-o", "jsonpath={.metadata.uid}"
    )
    return wf


def wait_for_pod(kubectl, namespace: str, name: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        pod = json.loads(kubectl("get", "pod", name, "-n", namespace, "-o", "json"))
        if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            return pod
        if time.monotonic() > deadline:
            logs = kubectl("logs", name, "-n", namespace, "--all-containers", "--prefix", check=False)
            raise AssertionError(
                f"pod {name} still {pod.get('status', {}).get('phase')}: {pod.get('status')}\n{logs}"
            )
        time.sleep(1)


def run_first_pod(kubectl, namespace: str, argo_examples, file: str | dict, name: str, **config_fields):
    example = file if isinstance(file, dict) else yaml.safe_load((argo_examples / file).read_text())
    wf = stored_workflow(kubectl, namespace, example, name)
    config = EngineConfig(
        executor_image=EXECUTOR_IMAGE, executor_image_pull_policy="IfNotPresent", **config_fields
    )
    now = datetime.now(UTC)
    first = step(wf, Observed(config=config), now)
    creates = first.pods_to_create()
    assert creates, f"the engine asked for no pod: {first.status}"
    create = creates[0]
    kubectl("create", "-f", "-", input=json.dumps(create.pod))
    pod = wait_for_pod(kubectl, namespace, create.name)
    result = json.loads(
        kubectl("get", "workflowtaskresults.argoproj.io", create.node_id, "-n", namespace, "-o", "json")
    )
    wf["status"] = first.status
    after = step(
        wf,
        Observed(
            pods={create.node_id: pod_observation(pod)},
            task_results={create.node_id: task_result_observation(result)},
            config=config,
        ),
        now,
    )
    return pod, result, after.nodes[create.node_id]


def containers(pod: dict) -> dict[str, dict]:
    status = pod["status"]
    return {
        c["name"]: c for c in status.get("initContainerStatuses", []) + status.get("containerStatuses", [])
    }


def test_output_parameter_example(kubectl, executor_rbac, argo_examples):
    pod, result, node = run_first_pod(
        kubectl, executor_rbac, argo_examples, "output-parameter.yaml", "exec-outparam"
    )
    assert pod["status"]["phase"] == "Succeeded", containers(pod)
    assert result["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"
    assert result["outputs"]["parameters"][0]["value"] == "hello world"
    assert node["phase"] == "Succeeded"
    assert node["outputs"]["parameters"][0]["value"] == "hello world"
    assert node["outputs"]["exitCode"] == "0"


def test_script_example_result(kubectl, executor_rbac, argo_examples):
    pod, result, node = run_first_pod(
        kubectl, executor_rbac, argo_examples, "scripts-bash.yaml", "exec-script"
    )
    assert pod["status"]["phase"] == "Succeeded", containers(pod)
    number = int(result["outputs"]["result"])
    # busybox's `od -N2 -i` reads the two random bytes as a signed short, so f + r*x/65536 spans -49..101.
    assert -49 <= number <= 101
    assert node["phase"] == "Succeeded" and node["outputs"]["result"] == str(number)


def test_failing_main_keeps_its_exit_code_and_the_result_completes(kubectl, executor_rbac, argo_examples):
    pod, result, node = run_first_pod(
        kubectl, executor_rbac, argo_examples, "exit-code-output-variable.yaml", "exec-exitcode"
    )
    assert pod["status"]["phase"] == "Failed"
    assert containers(pod)["main"]["state"]["terminated"]["exitCode"] == 123
    assert containers(pod)["wait"]["state"]["terminated"]["exitCode"] == 0
    assert result["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"
    assert result["outputs"]["exitCode"] == "123"
    assert node["phase"] == "Failed"


def test_user_sidecar_is_stopped_when_main_ends(kubectl, executor_rbac, argo_examples):
    """A sidecar that would run for ten minutes is stopped by its launcher once main has exited; the pod
    completes and main's result is reported."""
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "exec-sidecar"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "container": {
                        "image": "alpine:3.23",
                        "command": ["sh", "-c"],
                        "args": ["sleep 2; echo done"],
                    },
                    "sidecars": [{"name": "helper", "image": "busybox:1.36", "command": ["sleep", "600"]}],
                }
            ],
        },
    }
    started = time.monotonic()
    pod, result, node = run_first_pod(kubectl, executor_rbac, argo_examples, workflow, "exec-sidecar")
    assert time.monotonic() - started < 300  # far less than the sidecar's 600 s
    states = containers(pod)
    assert states["main"]["state"]["terminated"]["exitCode"] == 0
    assert states["helper"]["state"]["terminated"]["exitCode"] == 143  # SIGTERM from its launcher
    assert result["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"
    assert node["phase"] == "Succeeded", node.get("message")


def test_container_set_graph_with_image_entrypoints(kubectl, executor_rbac, argo_examples):
    """Argo's containerSet graph: four argosay containers with no `command` (the entrypoint comes from the
    `images` config) run in dependency order under their launchers; the engine's container nodes succeed."""
    images = {"argoproj/argosay:v2": {"entrypoint": ["/argosay"]}}
    pod, result, node = run_first_pod(
        kubectl,
        executor_rbac,
        argo_examples,
        "container-set-template/graph-workflow.yaml",
        "exec-graph",
        images=images,
    )
    states = containers(pod)
    assert pod["status"]["phase"] == "Succeeded", states
    started = {n: states[n]["state"]["terminated"]["startedAt"] for n in "abcd"}
    finished = {n: states[n]["state"]["terminated"]["finishedAt"] for n in "abcd"}
    assert all(states[n]["state"]["terminated"]["exitCode"] == 0 for n in "abcd")
    assert (
        finished["a"] <= started["b"] or finished["a"] <= finished["b"]
    )  # b waited for a (second resolution)
    assert max(finished["b"], finished["c"]) <= finished["d"]
    assert result["metadata"]["labels"]["workflows.argoproj.io/report-outputs-completed"] == "true"
    assert node["phase"] == "Succeeded", node.get("message")


def test_init_container_with_mirrored_volume_mounts(kubectl, executor_rbac, argo_examples):
    """Argo's init-container.yaml: the user init container `hello` has `mirrorVolumeMounts: true`, so it
    mounts main's /foo; the API server takes the pod (the field itself is not sent) and it succeeds."""
    pod, result, node = run_first_pod(
        kubectl, executor_rbac, argo_examples, "init-container.yaml", "exec-init-container"
    )
    assert pod["status"]["phase"] == "Succeeded", containers(pod)
    hello = next(c for c in pod["spec"]["initContainers"] if c["name"] == "hello")
    assert any(m["mountPath"] == "/foo" for m in hello["volumeMounts"])
    assert node["phase"] == "Succeeded", node.get("message")
