"""First smoke test: a CRD, a busybox pod, its logs through the API, deletion."""

from __future__ import annotations

import asyncio
import time
import uuid

from kubernetes_asyncio import client
from kubernetes_asyncio.client.rest import ApiException

from .kube import api_client, pod_manifest, wait_pod_done

GROUP = "e2e.sluice.dev"


def crd_manifest(plural: str) -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": plural[:-1], "kind": "Smoke" + plural[5:-1].capitalize()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "properties": {"message": {"type": "string"}}}
                            },
                        }
                    },
                }
            ],
        },
    }


async def test_crd_pod_logs_delete(kubeconfig, namespace):
    plural = f"smoke{uuid.uuid4().hex[:6]}s"
    async with api_client(kubeconfig) as api:
        ext = client.ApiextensionsV1Api(api)
        custom = client.CustomObjectsApi(api)
        core = client.CoreV1Api(api)

        # 1. a CRD, served once Established; an object of it round-trips.
        await ext.create_custom_resource_definition(crd_manifest(plural))
        try:
            deadline = time.monotonic() + 60
            while True:
                crd = await ext.read_custom_resource_definition(f"{plural}.{GROUP}")
                if any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or []):
                    break
                assert time.monotonic() < deadline, "CRD not Established after 60 s"
                await asyncio.sleep(0.5)
            kind = crd.spec.names.kind
            for attempt in range(20):  # discovery can lag a moment behind Established
                try:
                    await custom.create_namespaced_custom_object(
                        GROUP,
                        "v1",
                        namespace,
                        plural,
                        {
                            "apiVersion": f"{GROUP}/v1",
                            "kind": kind,
                            "metadata": {"name": "one"},
                            "spec": {"message": "hi"},
                        },
                    )
                    break
                except ApiException as e:
                    if e.status != 404 or attempt == 19:
                        raise
                    await asyncio.sleep(0.5)
            obj = await custom.get_namespaced_custom_object(GROUP, "v1", namespace, plural, "one")
            assert obj["spec"]["message"] == "hi"
        finally:
            await ext.delete_custom_resource_definition(f"{plural}.{GROUP}")

        # 2. a busybox pod runs; its logs are read through the API server; it is deleted.
        manifest = pod_manifest(
            "smoke", "busybox:1.36", command=["sh", "-c", "echo hello from sluice e2e; echo to-stderr >&2"]
        )
        await core.create_namespaced_pod(namespace, manifest)
        pod = await wait_pod_done(core, namespace, "smoke")
        assert pod.status.phase == "Succeeded", pod.status
        logs = await core.read_namespaced_pod_log("smoke", namespace)
        assert "hello from sluice e2e" in logs and "to-stderr" in logs
        await core.delete_namespaced_pod("smoke", namespace, grace_period_seconds=0)
        deadline = time.monotonic() + 60
        while True:
            try:
                await core.read_namespaced_pod("smoke", namespace)
            except ApiException as e:
                assert e.status == 404
                break
            assert time.monotonic() < deadline, "pod still there 60 s after delete"
            await asyncio.sleep(0.5)
