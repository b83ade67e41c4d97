"""Kubernetes objects as the API returns them (JSON dicts) -> the engine's observations (model.py).

Pure conversions, used by the controller (controller/) on what its informers hold:

* `pod_observation(pod)`: a Pod -> `PodObservation`, found by its `workflows.argoproj.io/node-id`
  annotation (workflow/engine/pods.py writes it); container states as `containerStatuses[]` and
  `initContainerStatuses[]` say, with each container's image from the spec (so an image-pull message
  can name it); a pod being deleted (`deletionTimestamp`) is `deleting`. A Pending pod with no waiting
  container takes its message from an Unschedulable `PodScheduled` condition, as Argo's
  getPendingReason does, so the node shows why it waits.
* `task_result_observation(obj)`: a WorkflowTaskResult (named by node ID, outputs and progress at the
  top level, label `workflows.argoproj.io/report-outputs-completed`) -> `TaskResultObservation`.

Anything malformed is read as absent rather than raising: these objects come from a cluster the
controller does not control.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from workflow.engine.model import ContainerObservation, PodObservation, TaskResultObservation
from workflow.labels import ANN_NODE_ID, LABEL_OUTPUTS_COMPLETED, LABEL_WORKFLOW

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def container_observation(status: dict[str, Any]) -> ContainerObservation:
    """One entry of `containerStatuses[]`: its current state (waiting when it says nothing)."""
    state = _dict(status.get("state"))
    name = _str(status.get("name"))
    ready = status.get("ready") is True
    terminated = state.get("terminated")
    if isinstance(terminated, dict):
        code = terminated.get("exitCode")
        return ContainerObservation(
            name=name,
            state="terminated",
            exit_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            reason=_str(terminated.get("reason")),
            message=_str(terminated.get("message")),
            started_at=terminated.get("startedAt") or None,
            finished_at=terminated.get("finishedAt") or None,
            ready=ready,
        )
    running = state.get("running")
    if isinstance(running, dict):
        return ContainerObservation(
            name=name, state="running", started_at=running.get("startedAt") or None, ready=ready
        )
    waiting = _dict(state.get("waiting"))
    return ContainerObservation(
        name=name,
        state="waiting",
        reason=_str(waiting.get("reason")),
        message=_str(waiting.get("message")),
        ready=ready,
    )


def _with_image(observation: ContainerObservation, images: dict[str, str]) -> ContainerObservation:
    # The spec's image, so an image-pull message can name it (workflow/engine/reconcile.py).
    image = images.get(observation.name)
    return replace(observation, image=image) if image else observation


def _unschedulable(status: dict[str, Any]) -> str:
    for cond in _list(status.get("conditions")):
        if cond.get("reason") == "Unschedulable":
            message = _str(cond.get("message"))
            return f"Unschedulable: {message}" if message else "Unschedulable"
    return ""


def node_id_of(pod: dict[str, Any]) -> str:
    return _str(_dict(_dict(pod.get("metadata")).get("annotations")).get(ANN_NODE_ID))


def workflow_of(obj: dict[str, Any]) -> str:
    """The workflow a pod or task result belongs to (its `workflows.argoproj.io/workflow` label)."""
    return _str(_dict(_dict(obj.get("metadata")).get("labels")).get(LABEL_WORKFLOW))


def pod_observation(pod: dict[str, Any]) -> PodObservation | None:
    """The engine's view of `pod`; None for a pod without the node-id annotation (not one of ours)."""
    node_id = node_id_of(pod)
    if not node_id:
        return None
    meta = _dict(pod.get("metadata"))
    spec = _dict(pod.get("spec"))
    status = _dict(pod.get("status"))
    phase = _str(status.get("phase")) or "Pending"
    if phase not in PHASES:
        phase = "Unknown"
    images = {
        _str(c.get("name")): _str(c.get("image"))
        for c in (*_list(spec.get("initContainers")), *_list(spec.get("containers")))
    }
    containers = tuple(
        _with_image(container_observation(c), images) for c in _list(status.get("containerStatuses"))
    )
    inits = tuple(
        _with_image(container_observation(c), images) for c in _list(status.get("initContainerStatuses"))
    )
    message = _str(status.get("message"))
    if phase == "Pending" and not message:
        message = _unschedulable(status)
    return PodObservation(
        name=_str(meta.get("name")),
        node_id=node_id,
        phase=phase,
        containers=containers,
        init_containers=inits,
        message=message,
        reason=_str(status.get("reason")),
        host_node_name=_str(spec.get("nodeName")),
        pod_ip=_str(status.get("podIP")),
        started_at=status.get("startTime") or None,
        deleting=bool(meta.get("deletionTimestamp")),
    )


def task_result_observation(obj: dict[str, Any]) -> TaskResultObservation | None:
    """The engine's view of a WorkflowTaskResult; None when it has no name (no node to give it to)."""
    meta = _dict(obj.get("metadata"))
    node_id = _str(meta.get("name"))
    if not node_id:
        return None
    outputs = obj.get("outputs")
    completed = _dict(meta.get("labels")).get(LABEL_OUTPUTS_COMPLETED) != "false"
    return TaskResultObservation(
        node_id=node_id,
        outputs=outputs if isinstance(outputs, dict) and outputs else None,
        completed=completed,
        progress=_str(obj.get("progress")),
    )
