"""Applying the engine's actions (workflow/engine/model.py) to the cluster, each one idempotent.

* CreatePod: deterministic names; AlreadyExists is success; an expectation is recorded so the pod is
  never asked for again before the informer shows it (controller/expectations.py).
* DeletePod / DeleteObject / DeleteCollection: NotFound is success.
* TerminatePod: without `pods/exec`: `spec.activeDeadlineSeconds` is lowered to 1, so the kubelet stops
  the pod's containers (SIGTERM, then SIGKILL after the pod's grace period) and the pod fails with
  DeadlineExceeded; its logs stay readable.
* CreateObject (PVCs, PDBs) / PatchObject (merge patches: the Workflow's labels, pods' completed label).
* Event: a core/v1 Event with the Workflow as involved object (the node in annotations, as Argo does),
  queued and sent off the reconcile path (controller/event_sender.py).
* AcquireLock / ReleaseLock: the lock manager (controller/locks.py); workflows whose turn came are
  requeued at once.
* EmitMetric: the custom-metric registry (controller/custom_metrics.py), served on /metrics.
* SaveCache: the memoization ConfigMap (label `workflows.argoproj.io/configmap-type: Cache`), created
  when missing, `data[key]` merge-patched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kube.rest import ApiError
from workflow.engine import (
    AcquireLock,
    CreateObject,
    CreatePod,
    DeleteCollection,
    DeleteObject,
    DeletePod,
    EmitMetric,
    Event,
    PatchObject,
    ReleaseLock,
    SaveCache,
    TerminatePod,
)
from workflow.engine.clock import stamp
from workflow.labels import LABEL_CONFIGMAP_TYPE
from workflow.types import API_VERSION

if TYPE_CHECKING:
    from controller.reconciler import Controller

log = logging.getLogger("sluice.controller")


async def _ignore(status: int, call) -> bool:
    """Run `call`; True when it succeeded, False when the API said `status` (already done)."""
    try:
        await call
        return True
    except ApiError as exc:
        if exc.status == status:
            return False
        raise


async def apply_actions(ctl: Controller, wf: dict[str, Any], actions: list[Any], now: datetime) -> None:
    meta = wf["metadata"]
    ns, name = meta["namespace"], meta["name"]
    key = f"{ns}/{name}"
    rest = ctl.rest
    creates: list[CreatePod] = []
    for index, action in enumerate(actions):
        if isinstance(action, CreatePod):
            # A run of pod creations (a fan-out's pods, created in one step) goes out concurrently: one
            # at a time, a 1,000-item withItems took minutes of round trips (benchmarks/bench_scale.py).
            creates.append(action)
            following = actions[index + 1] if index + 1 < len(actions) else None
            if not isinstance(following, CreatePod):
                await create_pods(ctl, key, ns, creates)
                creates = []
        elif isinstance(action, DeletePod):
            grace = ctl.config.pod_gc_grace_seconds
            await _ignore(404, rest.delete("v1", "Pod", ns, action.name, grace=grace))
            ctl.metrics.pods_deleted.inc()
        elif isinstance(action, TerminatePod):
            patch = {"spec": {"activeDeadlineSeconds": 1}}
            try:
                await rest.merge_patch("v1", "Pod", ns, action.name, patch, decode=False)
            except ApiError as exc:
                if exc.status == 404:
                    continue
                if exc.status == 422:  # already at or below 1 second, or finished: nothing left to stop
                    log.info(
                        "pod not terminated",
                        extra={"workflow": key, "pod": action.name, "error": exc.message},
                    )
                    continue
                raise
        elif isinstance(action, CreateObject):
            obj = action.obj
            target_ns = (obj.get("metadata") or {}).get("namespace") or ns
            await _ignore(409, rest.create(obj, target_ns, decode=False))
        elif isinstance(action, PatchObject):
            if action.kind == "Workflow" and action.name == name:
                updated = await rest.merge_patch(action.api_version, "Workflow", ns, name, action.patch)
                ctl.wrote(key, updated)
            else:
                await _ignore(
                    404,
                    rest.merge_patch(
                        action.api_version,
                        action.kind,
                        action.namespace or ns,
                        action.name,
                        action.patch,
                        decode=False,
                    ),
                )
        elif isinstance(action, DeleteObject):
            await _ignore(
                404, rest.delete(action.api_version, action.kind, action.namespace or ns, action.name)
            )
        elif isinstance(action, DeleteCollection):
            await _ignore(
                404,
                rest.delete_collection(
                    action.api_version, action.kind, action.namespace or ns, action.label_selector
                ),
            )
        elif isinstance(action, Event):
            await emit_event(ctl, wf, action, now)
        elif isinstance(action, AcquireLock):
            if ctl.locks.acquire(action.lock, action.holder, action.limit, action.priority):
                ctl.queue.add(key)
        elif isinstance(action, ReleaseLock):
            for other in ctl.locks.release(action.lock, action.holder):
                ctl.queue.add(other)
        elif isinstance(action, SaveCache):
            await save_cache(ctl, action.namespace or ns, action)
        elif isinstance(action, EmitMetric):
            refused = ctl.metrics.custom.apply(action, key)
            if refused is not None:
                ctl.metrics.errors.inc(cause=f"CustomMetric{refused.capitalize()}")
                log.warning(
                    "custom metric refused", extra={"workflow": key, "metric": action.name, "error": refused}
                )


POD_CREATES_IN_FLIGHT = 8  # per reconcile; the workers and the API server's own limits bound the rest


async def create_pods(ctl: Controller, key: str, ns: str, creates: list[CreatePod]) -> None:
    """Create the pods of `creates` with up to POD_CREATES_IN_FLIGHT requests at once; every one is tried,
    then the first failure (if any) is raised so the reconcile is retried, as a single create's would be."""
    if len(creates) == 1:
        await create_pod(ctl, key, ns, creates[0])
        return
    pending = iter(creates)
    failures: list[BaseException] = []

    async def worker() -> None:
        for action in pending:
            try:
                await create_pod(ctl, key, ns, action)
            except Exception as exc:  # the others still go out; the reconcile fails after
                failures.append(exc)

    await asyncio.gather(*(worker() for _ in range(min(POD_CREATES_IN_FLIGHT, len(creates)))))
    if failures:
        raise failures[0]


async def create_pod(ctl: Controller, key: str, ns: str, action: CreatePod) -> None:
    pod = action.pod
    pod_name = pod["metadata"]["name"]
    if action.node_id in ctl.expectations.pending(key, ctl.monotonic()) or ctl.pods.get(ns, pod_name):
        return
    try:
        # the created pod's JSON is read only to hand an offloaded template's ConfigMap to it
        offloaded = _offloaded(pod)
        created = await ctl.rest.create(pod, ns, decode=offloaded)
        ctl.metrics.pods_created.inc()
        if offloaded:
            await own_template_config_map(ctl, ns, pod, created)
    except ApiError as exc:
        if exc.status in (400, 422):
            # The API server will never take this pod (an invalid spec, e.g. a bad podSpecPatch): the node
            # fails with its answer, as Argo's does, instead of the create being retried for ever.
            ctl.pod_errors.setdefault(key, {})[action.node_id] = (
                f"failed to create pod {pod_name}: {exc.message}"
            )
            ctl.queue.add(key)
            return
        if exc.status != 409:
            raise
        ctl.metrics.pods_already_existed.inc()
    ctl.expectations.expect(key, action.node_id, pod_name, ctl.monotonic())


def _offloaded(pod: dict[str, Any]) -> bool:
    return any(v.get("name") == "argo-env-config" for v in pod["spec"].get("volumes") or ())


async def own_template_config_map(ctl: Controller, ns: str, pod: dict[str, Any], created: Any) -> None:
    """An offloaded template's ConfigMap (workflow/engine/pod_offload.py `template_config_map`, created just
    before the pod, owned by the Workflow) is handed to the pod once it exists, so pod GC removes it
    with the pod instead of it staying in etcd for the Workflow's life. Called for pods that mount one
    (`_offloaded`), with the created pod's JSON."""
    uid = ((created or {}).get("metadata") or {}).get("uid") if isinstance(created, dict) else None
    if not uid:
        return
    name = pod["metadata"]["name"]
    owner = {"apiVersion": "v1", "kind": "Pod", "name": name, "uid": uid}
    patch = {"metadata": {"ownerReferences": [owner]}}
    await _ignore(404, ctl.rest.merge_patch("v1", "ConfigMap", ns, name, patch, decode=False))


async def emit_event(ctl: Controller, wf: dict[str, Any], ev: Event, now: datetime) -> None:
    meta = wf["metadata"]
    at = stamp(now)
    annotations = dict(ev.annotations)
    if ev.node_id:
        node = ((wf.get("status") or {}).get("nodes") or {}).get(ev.node_id) or {}
        annotations.setdefault("workflows.argoproj.io/node-id", ev.node_id)
        if node.get("name"):
            annotations.setdefault("workflows.argoproj.io/node-name", node["name"])
        if node.get("type"):
            annotations.setdefault("workflows.argoproj.io/node-type", node["type"])
    body = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{secrets.token_hex(8)}",
            "namespace": meta["namespace"],
            "annotations": annotations,
        },
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": "Workflow",
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": ev.reason,
        "message": ev.message[:1024],
        "type": ev.type if ev.type in ("Normal", "Warning") else "Normal",
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
        "source": {"component": "workflow-controller"},
        "reportingComponent": "workflow-controller",
        "reportingInstance": ctl.identity,
    }
    await ctl.events.send(body)  # queued: controller/event_sender.py


async def save_cache(ctl: Controller, ns: str, action: SaveCache) -> None:
    value = json.dumps(action.entry, separators=(",", ":"))
    patch = {"metadata": {"labels": {LABEL_CONFIGMAP_TYPE: "Cache"}}, "data": {action.key: value}}
    try:
        await ctl.rest.merge_patch("v1", "ConfigMap", ns, action.config_map, patch)
        return
    except ApiError as exc:
        if exc.status != 404:
            raise
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": action.config_map, "namespace": ns, "labels": {LABEL_CONFIGMAP_TYPE: "Cache"}},
        "data": {action.key: value},
    }
    if not await _ignore(409, ctl.rest.create(body, ns)):  # created meanwhile by another workflow
        await ctl.rest.merge_patch("v1", "ConfigMap", ns, action.config_map, patch)
