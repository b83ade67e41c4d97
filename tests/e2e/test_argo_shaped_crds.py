"""Status writes where Workflow and CronWorkflow have no status subresource (manifests/overlays/argo-crds,
for clusters shared with Argo's own controller).

A private kube-apiserver (tests/e2e/private_apiserver.py) serves the overlay's CRDs, so the shared
cluster keeps its own. There `.../status` answers 404 while the object exists, and writers fall back
to the object itself (kube/rest.py): `sluice resume` of an approval gate, and the controller's
CronWorkflow loop (controller/cron.py), run here in-process on an injected clock. The same server shows
the loop's SubmissionError: a controller that may not create Workflows is refused, and says so.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import REPO, kubectl_for
from .private_apiserver import PrivateApiServer

NS = "argo-shaped"
NO_CREATE = "cron-no-create"  # a user who may run CronWorkflows but not create Workflows


@pytest.fixture(scope="module")
def private(tmp_path_factory):
    server = PrivateApiServer(tmp_path_factory.mktemp("apiserver"), users=(NO_CREATE,))
    try:
        server.start()
        kubectl = kubectl_for(server.kubeconfig)
        crds = [f"{kind}.argoproj.io" for kind in ("workflows", "cronworkflows")]
        kubectl(
            "apply",
            "--server-side",
            *[f"--filename={REPO / 'crds' / f'{c}.yaml'}" for c in crds],
            timeout=300,
        )
        # shaped as the overlay shapes them: only their status subresource removed (the same JSON patch;
        # tests/unit/test_crds_manifests.py checks the overlay does nothing else)
        remove = json.dumps([{"op": "remove", "path": "/spec/versions/0/subresources"}])
        for crd in crds:
            kubectl("patch", "crd", crd, "--type=json", "-p", remove, timeout=120)
        kubectl(
            "wait", "--for=condition=Established", "--timeout=240s", *[f"crd/{c}" for c in crds], timeout=250
        )
        for crd in crds:
            stored = json.loads(kubectl("get", "crd", crd, "-o", "json", timeout=120))
            assert "subresources" not in stored["spec"]["versions"][0], crd
        kubectl("create", "namespace", NS)
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        logs = server.tail("kube-apiserver")
        server.stop()
        raise AssertionError(f"private API server set-up failed: {exc}\n{logs}") from None
    try:
        yield server, kubectl
    finally:
        server.stop()


def test_resume_approves_a_gate_by_writing_the_workflow(private, tmp_path):
    server, kubectl = private
    gate = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "gate", "namespace": NS},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
        # Without the subresource, status is stored with the object, as Argo's controller writes it.
        "status": {
            "phase": "Running",
            "nodes": {
                "gate": {
                    "id": "gate",
                    "name": "gate",
                    "displayName": "gate",
                    "type": "Steps",
                    "phase": "Running",
                },
                "gate-1": {
                    "id": "gate-1",
                    "name": "gate[0].approve",
                    "displayName": "approve",
                    "type": "Suspend",
                    "phase": "Running",
                    "outputs": {"parameters": [{"name": "answer", "valueFrom": {"supplied": {}}}]},
                },
            },
        },
    }
    kubectl("create", "-f", "-", input=json.dumps(gate))
    assert (
        kubectl(
            "get", "--raw", f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/workflows/gate/status", check=False
        )
        == ""
    )
    result = subprocess.run(
        [sys.executable, "-m", "sluice", "resume", "gate", "--node", "approve", "-p", "answer=yes"]
        + ["-n", NS, "--kubeconfig", str(server.kubeconfig)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    node = json.loads(kubectl("get", "workflow", "gate", "-n", NS, "-o", "json"))["status"]["nodes"]["gate-1"]
    assert node["phase"] == "Succeeded"
    assert node["outputs"]["parameters"][0]["value"] == "yes"


def test_the_cron_loop_creates_the_child_and_writes_status_with_the_object(private):
    server, kubectl = private
    cron = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "every-minute", "namespace": NS},
        "spec": {
            "schedules": ["* * * * *"],
            "workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
        },
    }
    hit = _create_cron(kubectl, cron)
    asyncio.run(_reconcile_once(server.kubeconfig, "every-minute", hit + timedelta(seconds=5)))

    child = json.loads(
        kubectl("get", "workflow", f"every-minute-{int(hit.timestamp())}", "-n", NS, "-o", "json")
    )
    assert child["metadata"]["labels"]["workflows.argoproj.io/cron-workflow"] == "every-minute"
    status = json.loads(kubectl("get", "cronworkflow", "every-minute", "-n", NS, "-o", "json"))["status"]
    assert status["lastScheduledTime"] == hit.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [(r["name"], r["uid"]) for r in status["active"]] == [
        (child["metadata"]["name"], child["metadata"]["uid"])
    ]
    assert status["phase"] == "Active" and status["succeeded"] == 0


def test_a_refused_child_is_the_submission_error_condition(private):
    server, kubectl = private
    rules = [
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["cronworkflows", "cronworkflows/status"],
            "verbs": ["*"],
        },
        {"apiGroups": ["argoproj.io"], "resources": ["workflows"], "verbs": ["get", "list", "watch"]},
    ]
    kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "rbac.authorization.k8s.io/v1",
                        "kind": "Role",
                        "metadata": {"name": NO_CREATE, "namespace": NS},
                        "rules": rules,
                    },
                    {
                        "apiVersion": "rbac.authorization.k8s.io/v1",
                        "kind": "RoleBinding",
                        "metadata": {"name": NO_CREATE, "namespace": NS},
                        "roleRef": {
                            "apiGroup": "rbac.authorization.k8s.io",
                            "kind": "Role",
                            "name": NO_CREATE,
                        },
                        "subjects": [
                            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": NO_CREATE}
                        ],
                    },
                ],
            }
        ),
    )
    cron = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "refused", "namespace": NS},
        "spec": {
            "schedules": ["* * * * *"],
            "workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
        },
    }
    hit = _create_cron(kubectl, cron)
    asyncio.run(_reconcile_once(server.kubeconfig_for(NO_CREATE), "refused", hit + timedelta(seconds=5)))

    assert (
        kubectl(
            "get", "workflows", "-n", NS, "-l", "workflows.argoproj.io/cron-workflow=refused", "-o", "name"
        )
        == ""
    )
    status = json.loads(kubectl("get", "cronworkflow", "refused", "-n", NS, "-o", "json"))["status"]
    (condition,) = status["conditions"]
    assert condition["type"] == "SubmissionError" and condition["status"] == "True"
    assert (
        condition["message"].startswith("Failed to submit Workflow: ") and "forbidden" in condition["message"]
    )
    assert status["active"] == [] and "lastScheduledTime" not in status  # nothing ran


def _create_cron(kubectl, cron: dict) -> datetime:
    """Create `cron`; its first schedule hit (`* * * * *`: the next minute after it was created)."""
    stored = json.loads(kubectl("create", "-o", "json", "-f", "-", input=json.dumps(cron)))
    created = datetime.fromisoformat(stored["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    return created.replace(second=0) + timedelta(minutes=1)


async def _reconcile_once(kubeconfig, name: str, now: datetime) -> None:
    from controller.cron import CronLoop
    from controller.reconciler import Templates
    from kube.client import api_client
    from kube.informer import Store
    from kube.rest import Rest

    api = await api_client(str(kubeconfig))
    try:
        rest = Rest(api)
        loop = CronLoop(rest, Store(), Templates(Store(), Store()), now=lambda: now)
        loop.crons.apply("ADDED", await rest.get("argoproj.io/v1alpha1", "CronWorkflow", NS, name))
        key = await loop.queue.get()  # as a worker takes it
        assert key == f"{NS}/{name}"
        await loop.reconcile(key)
        loop.queue.done(key)
        # the loop sleeps until the next hit (55 s after `now`), not polling
        wake = loop.queue.core.due[key] - asyncio.get_running_loop().time()
        assert 50 < wake <= 55
    finally:
        await api.close()


def test_replace_history_and_stop_strategy_hit_after_hit(private):
    """Replace terminates the running child, the failed one is counted and deleted (failedJobsHistoryLimit
    0), and stopStrategy then stops the CronWorkflow for good; the children's phases are written here as
    a controller would write them."""
    server, kubectl = private
    cron = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "replaced", "namespace": NS},
        "spec": {
            "schedules": ["* * * * *"],
            "concurrencyPolicy": "Replace",
            "failedJobsHistoryLimit": 0,
            "stopStrategy": {"expression": "cronworkflow.failed >= 1"},
            "workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
        },
    }
    hit = _create_cron(kubectl, cron)
    first, second = f"replaced-{int(hit.timestamp())}", f"replaced-{int(hit.timestamp()) + 60}"

    def phase(name: str, status: dict) -> None:
        kubectl("patch", "workflow", name, "-n", NS, "--type=merge", "-p", json.dumps({"status": status}))

    def after(step: int) -> None:
        if step == 0:
            phase(first, {"phase": "Running"})
        elif step == 1:
            assert json.loads(kubectl("get", "workflow", first, "-n", NS, "-o", "json"))["spec"][
                "shutdown"
            ] == ("Terminate")
            phase(first, {"phase": "Failed", "finishedAt": _stamp(hit + timedelta(seconds=66))})
            phase(second, {"phase": "Running"})

    times = [
        hit + timedelta(seconds=5),
        hit + timedelta(seconds=65),
        hit + timedelta(seconds=70),
        hit + timedelta(seconds=125),
    ]
    asyncio.run(_reconcile_at(server.kubeconfig, "replaced", times, after))

    got = json.loads(kubectl("get", "cronworkflow", "replaced", "-n", NS, "-o", "json"))
    status = got["status"]
    assert (
        status["phase"] == "Stopped"
        and got["metadata"]["labels"]["cronworkflows.argoproj.io/completed"] == "true"
    )
    assert status["failed"] == 1 and status["succeeded"] == 0
    assert [r["name"] for r in status["active"]] == [second]
    assert status["lastScheduledTime"] == _stamp(hit + timedelta(seconds=60))
    children = kubectl(
        "get", "workflows", "-n", NS, "-l", "workflows.argoproj.io/cron-workflow=replaced", "-o", "name"
    )
    assert children.split() == [f"workflow.argoproj.io/{second}"]  # the failed one deleted, no third


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _reconcile_at(kubeconfig, name: str, times: list[datetime], after) -> None:
    """The cron loop reconciling `name` at each of `times` (its caches refreshed first, as its informers
    would), with `after(i)` run between."""
    from controller.cron import CronLoop
    from controller.reconciler import Templates
    from kube.client import api_client
    from kube.informer import Store
    from kube.rest import Rest

    clock = [times[0]]
    api = await api_client(str(kubeconfig))
    try:
        rest = Rest(api)
        workflows = Store()
        loop = CronLoop(rest, workflows, Templates(Store(), Store()), now=lambda: clock[0])
        for i, t in enumerate(times):
            clock[0] = t
            listed = await rest.request(
                "GET",
                f"/apis/argoproj.io/v1alpha1/namespaces/{NS}/workflows",
                query={"labelSelector": f"workflows.argoproj.io/cron-workflow={name}"},
            )
            workflows.replace(listed.get("items") or [])
            loop.crons.replace([await rest.get("argoproj.io/v1alpha1", "CronWorkflow", NS, name)])
            await loop.reconcile(f"{NS}/{name}")
            await asyncio.to_thread(after, i)
    finally:
        await api.close()
