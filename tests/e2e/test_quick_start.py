"""The literal quick-start on the e2e cluster: `kubectl apply --server-side -k manifests/overlays/quick-start`
installs the webhook, the controller (two leader-elected replicas, in-cluster, with its own RBAC) and
MinIO into `sluice`; then workflows created with kubectl in another namespace are checked by the
webhook and run by the installed controller.

The programs act cluster-wide, so this module removes them again at the end (everything the overlay
added except the CRDs, which other tests share): later tests must not find an uninvited controller
running their workflows.
"""

from __future__ import annotations

import json
import uuid

import pytest

from .controller_support import eventually, wait_done
from .test_install import QUICK_START, as_list, ensure_minio_image, image_of, render

PROGRAMS = ("sluice-controller", "sluice-webhook", "minio")


@pytest.fixture(scope="module")
def installed(kubectl, own_cluster):
    docs = render(kubectl)
    if own_cluster:
        ensure_minio_image(image_of(docs, "minio"))
    kubectl("apply", "--server-side", "--force-conflicts", "-k", str(QUICK_START), timeout=300)
    # A re-run on a cluster whose image was just rebuilt (cluster/up.sh): start the programs afresh.
    kubectl("rollout", "restart", "-n", "sluice", "deployment/sluice-controller", "deployment/sluice-webhook")
    try:
        for name in PROGRAMS:
            kubectl("rollout", "status", f"deployment/{name}", "-n", "sluice", "--timeout=300s", timeout=320)
        yield docs
    finally:
        mine = [d for d in docs if d["kind"] != "CustomResourceDefinition"]
        kubectl(
            "delete",
            "--ignore-not-found",
            "--wait=false",
            "-f",
            "-",
            input=as_list(mine),
            check=False,
            timeout=240,
        )


@pytest.fixture(scope="module")
def user_namespace(kubectl, installed):
    """A namespace for workflows, whose default service account may report task results."""
    name = f"qs-user-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    kubectl(
        "create",
        "rolebinding",
        "sluice-executor",
        "--clusterrole=sluice-executor",
        f"--serviceaccount={name}:default",
        "-n",
        name,
    )
    kubectl(
        "wait",
        "--for=jsonpath={.metadata.name}=default",
        "serviceaccount/default",
        "-n",
        name,
        "--timeout=60s",
    )
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_the_programs_run_ready_and_one_controller_leads(kubectl, installed):
    for name in ("sluice-controller", "sluice-webhook"):
        dep = json.loads(kubectl("get", "deployment", name, "-n", "sluice", "-o", "json"))
        assert dep["status"].get("readyReplicas") == dep["spec"]["replicas"] == 2, name
    pods = json.loads(
        kubectl("get", "pods", "-n", "sluice", "-l", "app.kubernetes.io/name=sluice-controller", "-o", "json")
    )["items"]
    running = {
        p["metadata"]["name"]
        for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    }

    def led_by_a_running_replica():
        lease = json.loads(kubectl("get", "lease", "sluice-controller", "-n", "sluice", "-o", "json"))
        holder = lease["spec"].get("holderIdentity") or ""
        return holder if any(holder.startswith(p + "-") for p in running) else None

    eventually(led_by_a_running_replica, 90, 1, "the Lease held by a running controller replica")


def test_the_webhook_refuses_an_invalid_workflow_with_its_field_path(kubectl, user_namespace):
    bad = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "bad"},
        "spec": {
            "entrypoint": "main",
            "templates": [{"name": "main", "steps": [[{"name": "a", "template": "missing"}]]}],
        },
    }
    with pytest.raises(AssertionError) as err:
        kubectl("create", "-n", user_namespace, "-f", "-", input=json.dumps(bad))
    assert "spec.templates[0].steps[0][0].template" in str(err.value)
    assert "is invalid" in str(err.value)
    # Refused at admission: the object was never stored (the controller would only fail it later).
    assert kubectl("get", "workflow", "bad", "-n", user_namespace, "--ignore-not-found", "-o", "name") == ""


def test_the_installed_controller_runs_a_workflow(kubectl, user_namespace):
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "approve-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [[{"name": "gate", "template": "gate"}]]},
                {"name": "gate", "suspend": {"duration": "1"}},
            ],
        },
    }
    name = kubectl("create", "-n", user_namespace, "-o", "name", "-f", "-", input=json.dumps(wf)).strip()
    name = name.split("/", 1)[1]
    done = wait_done(kubectl, user_namespace, name, timeout=180)
    assert done["status"]["phase"] == "Succeeded", done["status"].get("message")
    assert done["metadata"]["labels"]["workflows.argoproj.io/completed"] == "true"
