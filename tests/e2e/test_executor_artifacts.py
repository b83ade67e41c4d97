"""Argo's artifact-passing example on the project's cluster, without the controller: the engine's pods
upload to and download from the cluster's MinIO by the keys the engine hands over."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import yaml

from tests.e2e.test_executor_pods import EXECUTOR_IMAGE, RBAC, stored_workflow, wait_for_pod
from workflow.engine import EngineConfig, Observed, step
from workflow.engine.observe import pod_observation, task_result_observation


@pytest.fixture(scope="module")
def executor_rbac(kubectl, namespace) -> str:
    kubectl("apply", "-n", namespace, "-f", "-", input=RBAC)
    return namespace


def drive(
    kubectl, namespace: str, wf: dict, config: EngineConfig, max_pods: int = 6
) -> tuple[dict, list[dict]]:
    """A minimal driver of the engine (what the controller does): create the pods it asks for, wait for
    them, hand pods and task results back, until the workflow completes."""
    pods: dict[str, dict] = {}
    results: dict[str, dict] = {}
    created: list[dict] = []
    for _ in range(max_pods * 3):
        observed = Observed(
            pods={nid: pod_observation(p) for nid, p in pods.items()},
            task_results={nid: task_result_observation(r) for nid, r in results.items()},
            config=config,
        )
        decision = step(wf, observed, datetime.now(UTC))
        wf["status"] = decision.status
        if decision.phase in ("Succeeded", "Failed", "Error"):
            return wf, created
        for create in decision.pods_to_create():
            if create.node_id in pods:
                continue
            assert len(created) < max_pods, "the engine asked for more pods than the example has"
            kubectl("create", "-f", "-", input=json.dumps(create.pod))
            created.append(create.pod)
            pods[create.node_id] = wait_for_pod(kubectl, namespace, create.name)
            found = kubectl(
                "get",
                "workflowtaskresults.argoproj.io",
                create.node_id,
                "-n",
                namespace,
                "--ignore-not-found",
                "-o",
                "json",
            )
            if found.strip():  # a pod whose init failed never reports: the engine goes by the pod alone
                results[create.node_id] = json.loads(found)
    raise AssertionError(f"the workflow did not complete: {wf.get('status', {}).get('phase')}")


def minio_repository(kubectl, namespace: str, own_cluster: bool) -> dict:
    """The project's MinIO on the node (cluster/up.sh) as an S3 repository, its keys in a Secret. Pods
    reach it by name, `minio.default.svc:9000` (the cluster DNS and the Service up.sh makes)."""
    if not own_cluster:
        pytest.skip("needs the project's cluster: its MinIO at 10.250.0.1:9000 (cluster/up.sh)")
    from tests.e2e.conftest import CLUSTER_DIR

    settings = dict(
        line.split("=", 1) for line in (CLUSTER_DIR / "minio.env").read_text().split() if "=" in line
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "executor-minio", "namespace": namespace},
        "stringData": {
            "accesskey": settings["SLUICE_S3_ACCESS_KEY"],
            "secretkey": settings["SLUICE_S3_SECRET_KEY"],
        },
    }
    kubectl("apply", "-f", "-", input=json.dumps(secret))
    return {
        "s3": {
            "endpoint": settings["SLUICE_S3_CLUSTER_ENDPOINT"],
            "bucket": settings["SLUICE_S3_BUCKET"],
            "insecure": True,
            "accessKeySecret": {"name": "executor-minio", "key": "accesskey"},
            "secretKeySecret": {"name": "executor-minio", "key": "secretkey"},
            "keyFormat": "e2e/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}",
        }
    }


def test_artifact_passing_through_the_clusters_minio(kubectl, executor_rbac, argo_examples, own_cluster):
    """Argo's artifact-passing example: the first pod uploads `hello-art` to the repository (the
    project's MinIO on the node), the second downloads it by the key the first reported."""
    repo = minio_repository(kubectl, executor_rbac, own_cluster)
    example = yaml.safe_load((argo_examples / "artifact-passing.yaml").read_text())
    wf = stored_workflow(kubectl, executor_rbac, example, "exec-artifacts")
    config = EngineConfig(
        executor_image=EXECUTOR_IMAGE, executor_image_pull_policy="IfNotPresent", artifact_repository=repo
    )
    wf, created = drive(kubectl, executor_rbac, wf, config)
    if wf["status"]["phase"] != "Succeeded":
        messages = [n.get("message") for n in wf["status"]["nodes"].values() if n.get("message")]
        logs = [
            kubectl(
                "logs",
                p["metadata"]["name"],
                "-n",
                executor_rbac,
                "--all-containers",
                "--prefix",
                check=False,
            )
            for p in created
        ]
        states = [
            json.loads(kubectl("get", "pod", p["metadata"]["name"], "-n", executor_rbac, "-o", "json"))[
                "status"
            ]
            for p in created
        ]
        raise AssertionError(f"{wf['status']['phase']}: {messages}\nlogs: {logs}\npods: {states}")
    generate = next(n for n in wf["status"]["nodes"].values() if n["displayName"] == "generate-artifact")
    [art] = generate["outputs"]["artifacts"]
    assert (
        art["s3"]["key"]
        == f"e2e/{executor_rbac}/exec-artifacts/{created[0]['metadata']['name']}/hello-art.tgz"
    )
    logs = kubectl("logs", created[1]["metadata"]["name"], "-n", executor_rbac, "-c", "main")
    assert logs == "hello world\n"


def test_resource_template_pod_creates_an_owned_configmap(kubectl, executor_rbac, argo_examples):
    """Argo's k8s-set-owner-reference example as a pod: main is `sluice executor resource create` in the
    executor image, with the workflow's service account (here allowed to create ConfigMaps)."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "workflow-configmaps", "namespace": executor_rbac},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "get"]}],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "workflow-configmaps", "namespace": executor_rbac},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "workflow-configmaps"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}],
    }
    kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [role, binding]})
    )
    example = yaml.safe_load((argo_examples / "k8s-set-owner-reference.yaml").read_text())
    wf = stored_workflow(kubectl, executor_rbac, example, "exec-owned")
    config = EngineConfig(executor_image=EXECUTOR_IMAGE, executor_image_pull_policy="IfNotPresent")
    wf, created = drive(kubectl, executor_rbac, wf, config)
    if wf["status"]["phase"] != "Succeeded":
        logs = kubectl(
            "logs", created[0]["metadata"]["name"], "-n", executor_rbac, "--all-containers", check=False
        )
        raise AssertionError(f"{wf['status'].get('message')}\n{logs}")
    maps = json.loads(kubectl("get", "configmaps", "-n", executor_rbac, "-o", "json"))["items"]
    owned = [m for m in maps if m["metadata"]["name"].startswith("owned-eg-")]
    assert len(owned) == 1
    assert owned[0]["metadata"]["ownerReferences"][0]["uid"] == wf["metadata"]["uid"]


def test_container_set_workspace_output(kubectl, executor_rbac, argo_examples, own_cluster):
    """Argo's container-set-template/workspace-workflow.yaml: member `a` writes /workspace/out on the set's
    shared volume; `wait` reads it through its mirror at /mainctrfs/workspace and reports it as the
    parameter and as the artifact it uploads."""
    repo = minio_repository(kubectl, executor_rbac, own_cluster)
    example = yaml.safe_load((argo_examples / "container-set-template/workspace-workflow.yaml").read_text())
    wf = stored_workflow(kubectl, executor_rbac, example, "exec-workspace")
    config = EngineConfig(
        executor_image=EXECUTOR_IMAGE,
        executor_image_pull_policy="IfNotPresent",
        artifact_repository=repo,
        images={"argoproj/argosay:v2": {"entrypoint": ["/argosay"]}},
    )
    wf, created = drive(kubectl, executor_rbac, wf, config, max_pods=1)
    node = next(n for n in wf["status"]["nodes"].values() if n["type"] == "Pod")
    assert wf["status"]["phase"] == "Succeeded", node.get("message")
    assert node["outputs"]["parameters"][0]["value"] == "hi"
    [art] = node["outputs"]["artifacts"]
    assert art["s3"]["key"] == f"e2e/{executor_rbac}/exec-workspace/{created[0]['metadata']['name']}/out.tgz"
