"""The WorkflowTaskResult the executor reports a node's outputs through (Argo's `WorkflowTaskResult`, one per node, named after it).

Named by the node ID, labelled `workflows.argoproj.io/workflow=<wf>` and
`workflows.argoproj.io/report-outputs-completed=false|true` (and the instance ID when set), owned by the
Workflow. `wait` creates it first with `false`, merge-patches the outputs (and progress) in, and always
ends by setting the label to `true`, also when collecting failed, so the controller never waits on it.

The API is a seam (`ResultAPI`): `KubeResultAPI` talks to the cluster with kubernetes_asyncio; unit
tests hand in a recorder. Transient failures (connection errors, 429, 5xx) are retried with backoff
within a bounded number of attempts.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sluice_executor.podenv import PodEnv
from workflow.labels import LABEL_INSTANCE, LABEL_OUTPUTS_COMPLETED, LABEL_WORKFLOW

GROUP, VERSION, PLURAL = "argoproj.io", "v1alpha1", "workflowtaskresults"
ATTEMPTS = 6
FIRST_BACKOFF = 0.2  # seconds, doubled each attempt: 0.2 + 0.4 + ... + 6.4 ≈ 12.6 s at most


class ResultAPIError(Exception):
    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500


class ResultAPI(Protocol):
    async def create(self, namespace: str, body: dict[str, Any]) -> None:
        """Create the object; ResultAPIError(status=409) when it exists."""
        ...

    async def patch(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        """JSON merge patch."""
        ...


def body(env: PodEnv) -> dict[str, Any]:
    labels = {LABEL_WORKFLOW: env.workflow_name, LABEL_OUTPUTS_COMPLETED: "false"}
    if env.instance_id:
        labels[LABEL_INSTANCE] = env.instance_id
    meta: dict[str, Any] = {"name": env.node_id, "namespace": env.namespace, "labels": labels}
    if env.workflow_uid:
        meta["ownerReferences"] = [
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "Workflow",
                "name": env.workflow_name,
                "uid": env.workflow_uid,
            }
        ]
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkflowTaskResult", "metadata": meta}


class Reporter:
    """Create, fill and finalise one node's task result."""

    def __init__(
        self, api: ResultAPI, env: PodEnv, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ):
        self.api = api
        self.env = env
        self.sleep = sleep
        self.created = False

    async def _retry(self, call: Callable[[], Awaitable[None]]) -> None:
        delay = FIRST_BACKOFF
        for attempt in range(ATTEMPTS):
            try:
                await call()
                return
            except ResultAPIError as exc:
                if not exc.transient or attempt == ATTEMPTS - 1:
                    raise
            await self.sleep(delay)
            delay *= 2

    async def start(self) -> None:
        """Create the task result with `report-outputs-completed=false` (an existing one is reset to it)."""
        initial = body(self.env)

        async def create() -> None:
            try:
                await self.api.create(self.env.namespace, copy.deepcopy(initial))
            except ResultAPIError as exc:
                if exc.status != 409:
                    raise
                await self.api.patch(
                    self.env.namespace,
                    self.env.node_id,
                    {"metadata": {"labels": {LABEL_OUTPUTS_COMPLETED: "false"}}},
                )

        await self._retry(create)
        self.created = True

    async def report(self, outputs: dict[str, Any] | None = None, progress: str | None = None) -> None:
        patch: dict[str, Any] = {}
        if outputs:
            patch["outputs"] = outputs
        if progress:
            patch["progress"] = progress
        if patch:
            await self._ensure()
            await self._retry(lambda: self.api.patch(self.env.namespace, self.env.node_id, patch))

    async def finish(self) -> None:
        """Set `report-outputs-completed=true`: always the executor's last word."""
        await self._ensure()
        patch = {"metadata": {"labels": {LABEL_OUTPUTS_COMPLETED: "true"}}}
        await self._retry(lambda: self.api.patch(self.env.namespace, self.env.node_id, patch))

    async def _ensure(self) -> None:
        if not self.created:
            await self.start()


class KubeResultAPI:
    """ResultAPI on kubernetes_asyncio (in-cluster service account, or a kubeconfig for tests)."""

    def __init__(self, api_client: Any):
        from kubernetes_asyncio import client

        self._client = api_client
        self._custom = client.CustomObjectsApi(api_client)

    @classmethod
    async def connect(cls, kubeconfig: str | None = None) -> KubeResultAPI:
        from kube.client import api_client

        return cls(await api_client(kubeconfig))

    async def close(self) -> None:
        await self._client.close()

    async def create(self, namespace: str, body: dict[str, Any]) -> None:
        await self._call(
            self._custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
        )

    async def patch(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        await self._call(
            self._custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, name, patch, _content_type="application/merge-patch+json"
            )
        )

    async def _call(self, call: Awaitable[Any]) -> None:
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            await asyncio.wait_for(call, timeout=30)
        except ApiException as exc:
            raise ResultAPIError(f"{exc.status} {exc.reason}: {_api_message(exc)}", exc.status or 0) from None
        except (OSError, TimeoutError) as exc:
            raise ResultAPIError(f"the API server is not reachable: {exc}") from None
        except Exception as exc:  # aiohttp's ClientError (not importable here: layering) and friends
            if type(exc).__module__.startswith("aiohttp"):
                raise ResultAPIError(f"the API server is not reachable: {exc}") from None
            raise


def _api_message(exc: Any) -> str:
    import json

    try:
        return str(json.loads(exc.body).get("message") or exc.body)
    except (ValueError, TypeError, AttributeError):
        return str(exc.body)
