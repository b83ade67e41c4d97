"""Every image the project builds runs a pod to completion, and its logs are readable.

On the project's own cluster the images come from cluster/build-images.sh; on another cluster they
must have been loaded (README: `kind load image-archive .cluster/images/images.tar`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from .kube import api_client, exit_code, pod_manifest, run_pod

SLUICE_IMAGE = "sluice.local/sluice:dev"
MINIO_VERSION = next(
    line.split("=", 1)[1].strip()
    for line in (Path(__file__).resolve().parents[2] / "cluster" / "versions.sh").read_text().splitlines()
    if line.startswith("MINIO_VERSION=")
)

CASES = {
    # name: (image, command, args, expected exit code, text expected in the logs)
    "busybox": ("busybox:1.36", ["sh", "-c"], ["echo busybox-ok; uname -s"], 0, "busybox-ok\nLinux"),
    "alpine-name": ("alpine:3.23", ["sh", "-c"], ["echo alpine-ok"], 0, "alpine-ok"),
    # `busybox` with no tag means pull policy Always: served by the project's loopback registry.
    "busybox-always-pull": ("busybox", ["echo"], ["pulled-ok"], 0, "pulled-ok"),
    "argosay-echo": ("argoproj/argosay:v2", None, ["echo", "hello argo says"], 0, "hello argo says"),
    "argosay-default": ("argoproj/argosay:v2", None, None, 0, "hello argo"),
    "argosay-exit": ("argoproj/argosay:v2", None, ["exit", "3"], 3, ""),
    "argosay-files": (
        "argoproj/argosay:v2",
        ["sh", "-c"],
        [
            "/argosay echo 'some text' /tmp/x/out.txt && /argosay assert_contains /tmp/x/out.txt text && "
            "/argosay cat /tmp/x/out.txt && /argosay sleep 0.1s"
        ],
        0,
        "some text",
    ),
    "python": (
        "python:alpine3.23",
        ["python", "-c"],
        ["import sys, json; print(json.dumps(sys.version_info[:2]))"],
        0,
        "[3, 11]",
    ),
    "debian-name": ("debian:bookworm", ["sh", "-c"], ["cat /etc/debian_version"], 0, "12"),
    "sluice": (
        SLUICE_IMAGE,
        ["python3", "-c"],
        [
            "import os, sluice, workflow, kubernetes_asyncio, aiohttp, msgspec, jq, asyncinotify; "
            "print('uid', os.getuid())"
        ],
        0,
        "uid 1000",
    ),
    "sluice-cli": (SLUICE_IMAGE, ["sluice"], ["--version"], 0, "sluice "),
    # the quick-start overlay's MinIO (cluster/build-images.sh builds it from the node's MinIO server)
    "minio": (f"sluice.local/minio:{MINIO_VERSION}", None, ["--version"], 0, "minio version"),
}


# The tier runs beside the Argo examples batch (~100 pods at once): at load 100 a Python or MinIO
# start took over 120 s in a pod, though each takes a second on a quiet node.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("case", list(CASES))
async def test_image_runs(case, kubeconfig, namespace):
    image, command, args, code, expected = CASES[case]
    async with api_client(kubeconfig) as api:
        manifest = pod_manifest(f"img-{case}", image, command, args)
        pod, logs = await run_pod(api, namespace, manifest, timeout=480)
    assert exit_code(pod) == code, (pod.status.phase, logs)
    assert pod.status.phase == ("Succeeded" if code == 0 else "Failed")
    assert expected in logs


async def test_pause_sandbox_and_delete(kubeconfig, namespace):
    """The pause image is every pod's sandbox: a long-running pod is Running, then deleted at once."""
    async with api_client(kubeconfig) as api:
        core = client.CoreV1Api(api)
        await core.create_namespaced_pod(
            namespace, pod_manifest("sleeper", "busybox:1.36", ["sleep"], ["300"])
        )
        try:
            deadline = time.monotonic() + 90
            while (await core.read_namespaced_pod("sleeper", namespace)).status.phase != "Running":
                assert time.monotonic() < deadline, "pod not Running after 90 s"
                await asyncio.sleep(0.5)
        finally:
            await core.delete_namespaced_pod("sleeper", namespace, grace_period_seconds=0)
