"""Plain JSON calls to the API server for any kind, over a kubernetes_asyncio ApiClient.

The typed clients cover built-in kinds only and pick patch content types by guessing; the controller
creates, patches and deletes whatever a workflow names (pods, PVCs, custom objects), so it speaks the
REST paths directly: `/api/v1/namespaces/<ns>/pods/<name>`, `/apis/<group>/<version>/...`. Plurals
come from API discovery (one request per group/version, cached), with a fallback for kinds discovery
does not know yet.

Every call has a timeout; errors are `ApiError(status, reason, message)`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
DEFAULT_TIMEOUT = 30.0

# Kinds the controller uses itself: no discovery round-trip for them.
KNOWN_PLURALS = {
    ("v1", "Pod"): "pods",
    ("v1", "ConfigMap"): "configmaps",
    ("v1", "Event"): "events",
    ("v1", "PersistentVolumeClaim"): "persistentvolumeclaims",
    ("v1", "Secret"): "secrets",
    ("v1", "Service"): "services",
    ("policy/v1", "PodDisruptionBudget"): "poddisruptionbudgets",
    ("coordination.k8s.io/v1", "Lease"): "leases",
    ("argoproj.io/v1alpha1", "Workflow"): "workflows",
    ("argoproj.io/v1alpha1", "WorkflowTaskResult"): "workflowtaskresults",
    ("argoproj.io/v1alpha1", "WorkflowTemplate"): "workflowtemplates",
    ("argoproj.io/v1alpha1", "ClusterWorkflowTemplate"): "clusterworkflowtemplates",
    ("argoproj.io/v1alpha1", "CronWorkflow"): "cronworkflows",
}


class ApiError(Exception):
    def __init__(
        self, status: int, reason: str, message: str, causes: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message
        # Status.details.causes: one per field path (a webhook's 422 lists every problem there)
        self.causes = causes or []


def _api_error(status: int, reason: str, body: Any) -> ApiError:
    """The API server's refusal as an ApiError: reason, message and causes from its Status body."""
    message, causes = "", []
    try:
        status_body = json.loads(body or "{}")
        reason = status_body.get("reason") or reason
        message = status_body.get("message") or ""
        causes = (status_body.get("details") or {}).get("causes") or []
    except (TypeError, ValueError, AttributeError):
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
        message = text[:300]
    return ApiError(status, reason, message, causes if isinstance(causes, list) else [])


def _guess_plural(kind: str) -> str:
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


class Rest:
    def __init__(self, api_client: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.client = api_client
        self.timeout = timeout
        self._plurals: dict[tuple[str, str], str] = dict(KNOWN_PLURALS)
        self._discovered: set[str] = set()

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, Any] | None = None,
        content_type: str = "application/json",
        decode: bool = True,
    ) -> dict[str, Any]:
        """One call; the answer's JSON as a dict, or `{}` when `decode` is False (the body is read and
        dropped: a created pod's JSON is ~10 KB the caller would never look at)."""
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            result = await self.client.call_api(
                path,
                method,
                query_params=[(k, v) for k, v in (query or {}).items() if v is not None],
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                body=body,
                auth_settings=["BearerToken"],
                response_types_map={200: "object", 201: "object", 202: "object"},
                _return_http_data_only=True,
                _request_timeout=self.timeout,
                _preload_content=decode,
            )
        except ApiException as exc:
            raise _api_error(exc.status or 0, exc.reason or "", exc.body) from None
        if not decode:  # the raw response: the client checks nothing then
            try:
                data = await result.read()
            finally:
                result.release()
            if not 200 <= result.status <= 299:
                raise _api_error(result.status, result.reason or "", data)
            return {}
        return result if isinstance(result, dict) else {}

    # --- paths --------------------------------------------------------------------------------------

    async def plural(self, api_version: str, kind: str) -> str:
        key = (api_version, kind)
        if key not in self._plurals and api_version not in self._discovered:
            self._discovered.add(api_version)
            base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                found = await self.request("GET", base)
            except ApiError:
                found = {}
            for res in found.get("resources") or ():
                if "/" not in res.get("name", "") and res.get("kind"):
                    self._plurals.setdefault((api_version, res["kind"]), res["name"])
        return self._plurals.get(key) or _guess_plural(kind)

    async def path(self, api_version: str, kind: str, namespace: str | None, name: str | None = None) -> str:
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += "/" + await self.plural(api_version, kind)
        if name:
            base += "/" + quote(name, safe="")
        return base

    # --- verbs --------------------------------------------------------------------------------------

    async def create(
        self, obj: dict[str, Any], namespace: str | None = None, *, decode: bool = True
    ) -> dict[str, Any]:
        ns = namespace or (obj.get("metadata") or {}).get("namespace")
        path = await self.path(obj["apiVersion"], obj["kind"], ns)
        return await self.request("POST", path, obj, decode=decode)

    async def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        return await self.request("GET", await self.path(api_version, kind, namespace, name))

    async def replace(self, obj: dict[str, Any], subresource: str = "") -> dict[str, Any]:
        meta = obj["metadata"]
        path = await self.path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        return await self.request("PUT", path + (f"/{subresource}" if subresource else ""), obj)

    async def merge_patch(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        patch: dict[str, Any],
        subresource: str = "",
        *,
        decode: bool = True,
    ) -> dict[str, Any]:
        path = await self.path(api_version, kind, namespace, name)
        return await self.request(
            "PATCH",
            path + (f"/{subresource}" if subresource else ""),
            patch,
            content_type=MERGE_PATCH,
            decode=decode,
        )

    async def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        *,
        grace: int | None = None,
        propagation: str | None = "Background",
    ) -> None:
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if grace is not None:
            body["gracePeriodSeconds"] = grace
        if propagation:
            body["propagationPolicy"] = propagation
        await self.request("DELETE", await self.path(api_version, kind, namespace, name), body, decode=False)

    async def delete_collection(
        self, api_version: str, kind: str, namespace: str | None, selector: str
    ) -> None:
        await self.request(
            "DELETE",
            await self.path(api_version, kind, namespace),
            query={"labelSelector": selector},
            decode=False,
        )

    # --- status, with or without the subresource ------------------------------------------------------
    # Argo-shaped CRDs (manifests/overlays/argo-crds) have no status subresource: `.../status` answers
    # 404 while the object exists. Then status is written with the object itself. The GET between tells
    # that case from an object that is gone (its 404 is raised).

    async def replace_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT the status subresource; without one, the whole object (status included) is written."""
        try:
            return await self.replace(obj, subresource="status")
        except ApiError as exc:
            meta = obj["metadata"]
            if exc.status != 404:
                raise
            await self.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        return await self.replace(obj)

    async def merge_patch_status(
        self, api_version: str, kind: str, namespace: str | None, name: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        """A merge patch of the status subresource; without one, the same patch of the whole object."""
        try:
            return await self.merge_patch(api_version, kind, namespace, name, patch, subresource="status")
        except ApiError as exc:
            if exc.status != 404:
                raise
            await self.get(api_version, kind, namespace, name)
        return await self.merge_patch(api_version, kind, namespace, name, patch)
