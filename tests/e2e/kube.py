"""Small helpers over kubernetes_asyncio for the e2e tests."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from pathlib import Path

from kubernetes_asyncio import client, config


@asynccontextmanager
async def api_client(kubeconfig: Path):
    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        yield api


def pod_manifest(
    name: str, image: str, command: list[str] | None = None, args: list[str] | None = None, **spec
) -> dict:
    container: dict = {"name": "main", "image": image}
    if command is not None:
        container["command"] = command
    if args is not None:
        container["args"] = args
    if not image.endswith(":latest") and ":" in image.rsplit("/", 1)[-1]:
        container["imagePullPolicy"] = "IfNotPresent"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "sluice-e2e"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [container],
            "terminationGracePeriodSeconds": 1,
            **spec,
        },
    }


async def wait_pod_done(
    core: client.CoreV1Api, namespace: str, name: str, timeout: float = 120
) -> client.V1Pod:
    """Wait until the pod Succeeded or Failed; fail early (with the reason) on image or sandbox errors."""
    deadline = time.monotonic() + timeout
    pod = None
    while time.monotonic() < deadline:
        pod = await core.read_namespaced_pod(name, namespace)
        if pod.status.phase in ("Succeeded", "Failed"):
            return pod
        for cs in pod.status.container_statuses or []:
            waiting = cs.state.waiting if cs.state else None
            if waiting and waiting.reason in (
                "ErrImagePull",
                "ImagePullBackOff",
                "InvalidImageName",
                "CreateContainerError",
            ):
                raise AssertionError(f"pod {name}: {waiting.reason}: {waiting.message}")
        await asyncio.sleep(0.5)
    events = await core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
    raise AssertionError(
        f"pod {name} not done after {timeout}s: phase={pod and pod.status.phase}; events: "
        + "; ".join(f"{e.reason}: {e.message}" for e in events.items)
    )


async def run_pod(
    api: client.ApiClient, namespace: str, manifest: dict, timeout: float = 240
) -> tuple[client.V1Pod, str]:
    """Create a pod, wait for it to finish, return (pod, logs) and delete it."""
    core = client.CoreV1Api(api)
    name = manifest["metadata"]["name"]
    await core.create_namespaced_pod(namespace, manifest)
    try:
        pod = await wait_pod_done(core, namespace, name, timeout)
        logs = await core.read_namespaced_pod_log(name, namespace, container="main")
        return pod, logs
    finally:
        await core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def exit_code(pod: client.V1Pod) -> int:
    (cs,) = pod.status.container_statuses
    return cs.state.terminated.exit_code
