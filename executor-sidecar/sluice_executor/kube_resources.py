"""ResourceAPI (resource.py) on the cluster: kubernetes_asyncio's dynamic client, so any kind the API
server serves works (discovered, not listed here). Runs with the pod's own service account, which for
a resource template is the workflow's: never the controller's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sluice_executor.resource import NotFoundError, ResourceError, describe

TIMEOUT = 60  # seconds for one API call
# kubectl's short names for the common kinds (discovery here does not list them)
SHORT_NAMES = {
    "cm": "configmap",
    "po": "pod",
    "svc": "service",
    "deploy": "deployment",
    "sts": "statefulset",
    "ds": "daemonset",
    "rs": "replicaset",
    "ns": "namespace",
    "sa": "serviceaccount",
    "pvc": "persistentvolumeclaim",
    "pv": "persistentvolume",
    "ing": "ingress",
    "cj": "cronjob",
    "wf": "workflow",
    "wftmpl": "workflowtemplate",
    "cwf": "cronworkflow",
    "cwft": "clusterworkflowtemplate",
}
PATCH_TYPES = {
    "strategic": "application/strategic-merge-patch+json",
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
}


class KubeResources:
    def __init__(self, api_client: Any, dynamic: Any):
        self._api_client = api_client
        self._dynamic = dynamic

    @classmethod
    async def connect(cls, kubeconfig: str | None = None) -> KubeResources:
        from kubernetes_asyncio.dynamic import DynamicClient

        from kube.client import api_client

        client = await api_client(kubeconfig)
        return cls(client, await DynamicClient(client))

    async def close(self) -> None:
        await self._api_client.close()

    async def _resource(self, obj: dict[str, Any]) -> Any:
        from kubernetes_asyncio.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError
        from kubernetes_asyncio.dynamic.resource import ResourceList

        kind, version = str(obj.get("kind") or ""), str(obj.get("apiVersion") or "")
        if version:
            try:
                return await self._dynamic.resources.get(kind=kind, api_version=version)
            except (ResourceNotFoundError, ResourceNotUniqueError):
                raise ResourceError(f"the API server serves no resource {version} {kind}") from None
        # a kind as kubectl takes it from flags: Kind, singular, plural or a short name
        word = SHORT_NAMES.get(kind.lower(), kind.lower())
        hits = [
            r
            for r in await self._dynamic.resources.search()
            if not isinstance(r, ResourceList)
            and word in (r.kind.lower(), getattr(r, "singular_name", ""), getattr(r, "name", ""))
        ]
        hits.sort(key=lambda r: not getattr(r, "preferred", False))
        if not hits:
            raise ResourceError(f"the API server serves no resource {kind!r}")
        return hits[0]

    async def _call(self, verb: str, obj: dict[str, Any], call) -> Any:
        from kubernetes_asyncio.client.exceptions import ApiException
        from kubernetes_asyncio.dynamic.exceptions import DynamicApiError

        try:
            result = await asyncio.wait_for(call, timeout=TIMEOUT)
        except (ApiException, DynamicApiError) as exc:
            status = getattr(exc, "status", 0)
            message = _message(exc)
            if status == 404:
                raise NotFoundError(f"{verb} {describe(obj)}: not found") from None
            if status == 403:
                raise ResourceError(
                    f"{verb} {describe(obj)}: forbidden for the workflow's service account: {message}"
                ) from None
            raise ResourceError(f"{verb} {describe(obj)}: {message}") from None
        except TimeoutError:
            raise ResourceError(
                f"{verb} {describe(obj)}: the API server did not answer within {TIMEOUT} s"
            ) from None
        data = result.to_dict() if hasattr(result, "to_dict") else result
        if isinstance(data, dict) and data.get("kind") == "Status" and data.get("status") == "Failure":
            # the dynamic client reads the body without checking the status code: a failure is a Status
            status, message = int(data.get("code") or 0), str(data.get("message") or data.get("reason"))
            if status == 404:
                raise NotFoundError(f"{verb} {describe(obj)}: not found")
            if status == 403:
                raise ResourceError(
                    f"{verb} {describe(obj)}: forbidden for the workflow's service account: {message}"
                )
            raise ResourceError(f"{verb} {describe(obj)}: {message}")
        return data

    def _where(self, resource: Any, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        where: dict[str, Any] = {"name": meta.get("name")}
        if resource.namespaced:
            where["namespace"] = meta.get("namespace")
        return where

    async def get(self, obj: dict[str, Any]) -> dict[str, Any]:
        resource = await self._resource(obj)
        return await self._call("get", obj, self._dynamic.get(resource, **self._where(resource, obj)))

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        resource = await self._resource(obj)
        namespace = (obj.get("metadata") or {}).get("namespace") if resource.namespaced else None
        return await self._call("create", obj, self._dynamic.create(resource, body=obj, namespace=namespace))

    async def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        resource = await self._resource(obj)
        call = self._dynamic.server_side_apply(
            resource, body=obj, field_manager="sluice", force_conflicts=True, **self._where(resource, obj)
        )
        return await self._call("apply", obj, call)

    async def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        resource = await self._resource(obj)
        current = await self.get(obj)
        body = json.loads(json.dumps(obj))
        body.setdefault("metadata", {})["resourceVersion"] = (current.get("metadata") or {}).get(
            "resourceVersion"
        )
        return await self._call(
            "replace", obj, self._dynamic.replace(resource, body=body, **self._where(resource, obj))
        )

    async def patch(self, obj: dict[str, Any], body: Any, patch_type: str) -> dict[str, Any]:
        resource = await self._resource(obj)
        call = self._dynamic.patch(
            resource, body=body, content_type=PATCH_TYPES[patch_type], **self._where(resource, obj)
        )
        return await self._call("patch", obj, call)

    async def delete(self, obj: dict[str, Any]) -> None:
        resource = await self._resource(obj)
        await self._call("delete", obj, self._dynamic.delete(resource, **self._where(resource, obj)))


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    try:
        return str(json.loads(body).get("message") or body)
    except (TypeError, ValueError, AttributeError):
        return str(getattr(exc, "summary", lambda: exc)()) if hasattr(exc, "summary") else str(exc)
