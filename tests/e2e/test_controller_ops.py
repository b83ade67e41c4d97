"""The controller's operational behaviour against the real kube-apiserver, each test with its own
`sluice controller` process on this host (tests/e2e/controller_support.py): semaphores that follow
their ConfigMap."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from .controller_support import LocalController, eventually, get_wf, workflow


@pytest.fixture
def instance() -> str:
    return f"e2e-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def controller(kubeconfig: Path, namespace: str, instance: str, tmp_path):
    ctl = LocalController(kubeconfig, namespace, instance, tmp_path)
    try:
        ctl.wait_ready()
        yield ctl
    finally:
        code = ctl.stop()
        assert code == 0, f"controller exited {code} on SIGTERM:\n{ctl.tail()}"


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
