"""Storing a workflow's status, and ending a workflow whose status cannot be stored.

The status is written through the status subresource with the resourceVersion read (optimistic
concurrency): a conflict means the cache was stale, so the caller applies nothing and the key is
retried on the fresher object. Without a status subresource (Argo-shaped CRDs) the whole object is
replaced, with the same check. Big status is compressed first (controller/status.py); a status too big
to store even so ends the workflow in Error. Functions of the reconciler (controller/reconciler.py),
as controller/apply.py's are.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from controller.apply import apply_actions
from controller.status import TooLarge, pack, refused_for_size
from kube.rest import ApiError
from workflow.engine import TerminatePod
from workflow.engine.clock import stamp
from workflow.engine.observe import node_id_of
from workflow.types import API_VERSION

if TYPE_CHECKING:
    from controller.reconciler import Controller

log = logging.getLogger("sluice.controller")


async def write_status(ctl: Controller, key: str, wf: dict[str, Any], status: dict[str, Any]) -> bool:
    """Write `status`; False when it was not written (stale, or too big to store), so the caller
    applies nothing."""
    body = {**wf, "status": status}
    try:
        body = pack(body, limit=ctl.max_workflow_size)
    except TooLarge as exc:
        await fail_too_large(ctl, key, wf, str(exc))
        return False
    try:
        written = await put_status(ctl, body)
    except ApiError as exc:
        if exc.status == 409:
            ctl.metrics.status_conflicts.inc()
            ctl.queue.add(key)
            return False
        if refused_for_size(exc.status, exc.message):
            await fail_too_large(ctl, key, wf, exc.message)
            return False
        raise
    ctl.wrote(key, written)
    return True


async def fail(ctl: Controller, key: str, wf: dict[str, Any], message: str, now: datetime) -> None:
    """A workflow that cannot start: Failed with `message`, labelled completed."""
    ns, name = key.split("/", 1)
    at = stamp(now)
    status = {
        **(wf.get("status") or {}),
        "phase": "Failed",
        "message": message,
        "startedAt": at,
        "finishedAt": at,
        "conditions": [{"type": "Completed", "status": "True"}],
    }
    if await write_status(ctl, key, wf, status):
        labels = {"workflows.argoproj.io/phase": "Failed", "workflows.argoproj.io/completed": "true"}
        updated = await ctl.rest.merge_patch(
            API_VERSION, "Workflow", ns, name, {"metadata": {"labels": labels}}
        )
        ctl.wrote(key, updated)
        ctl.metrics.total.inc(phase="Failed")


async def fail_too_large(ctl: Controller, key: str, wf: dict[str, Any], message: str) -> None:
    """A status that cannot be stored ends the workflow in Error with the reason, as Argo does without
    node offloading. The nodes are what does not fit, so they are dropped; its locks are freed and
    its running pods stopped (nothing would read their results), and it is labelled completed, so
    it is never retried on a refusal that would repeat for ever."""
    ns, name = key.split("/", 1)
    ctl.metrics.status_too_large.inc()
    log.error("workflow status too large to store", extra={"workflow": key, "error": message})
    at = stamp(ctl.now())
    old = wf.get("status") or {}
    status = {
        "phase": "Error",
        "message": message,
        "startedAt": old.get("startedAt") or at,
        "finishedAt": at,
        "conditions": [{"type": "Completed", "status": "True"}],
    }
    try:
        written = await put_status(ctl, {**wf, "status": status})
    except ApiError as exc:
        if exc.status == 409:
            ctl.queue.add(key)
            return
        if refused_for_size(exc.status, exc.message):  # the spec alone: nothing smaller to write
            log.error("workflow too large to store even without its status", extra={"workflow": key})
            return
        raise
    ctl.wrote(key, written)
    labels = {"workflows.argoproj.io/phase": "Error", "workflows.argoproj.io/completed": "true"}
    ctl.wrote(
        key, await ctl.rest.merge_patch(API_VERSION, "Workflow", ns, name, {"metadata": {"labels": labels}})
    )
    ctl.metrics.total.inc(phase="Error")
    for other in ctl.locks.drop_workflow(key):
        ctl.queue.add(other)
    stop = [
        TerminatePod(name=pod["metadata"]["name"], node_id=node_id_of(pod) or "", reason=message)
        for pod in ctl.pods.by_index("wf", key)
        if (pod.get("status") or {}).get("phase") in ("Pending", "Running")
    ]
    if stop:
        await apply_actions(ctl, wf, stop, ctl.now())


async def put_status(ctl: Controller, body: dict[str, Any]) -> dict[str, Any]:
    """PUT the status subresource (`ctl.status_subresource`: "auto", "on" or "off"); in "auto", the
    first 404 of a workflow that exists switches to whole-object writes for good."""
    if ctl.status_subresource != "off":
        try:
            return await ctl.rest.replace(body, subresource="status")
        except ApiError as exc:
            if exc.status != 404 or ctl.status_subresource == "on":
                raise
            # 404: no status subresource (Argo-shaped CRDs), or the workflow was deleted meanwhile. A
            # GET tells (as kube/rest.py replace_status does): gone, its 404 is raised and the mode
            # stays; there, the whole object is written from now on (with the subresource on, a
            # whole-object write would drop the status silently).
            meta = body["metadata"]
            await ctl.rest.get(API_VERSION, "Workflow", meta.get("namespace"), meta["name"])
            log.info("the Workflow CRD has no status subresource; writing whole objects")
            ctl.status_subresource = "off"
    return await ctl.rest.replace(body)
