"""How an observed pod (and its task result) updates its node (argo-anchor.md §2.2 Pod, §2.7, §1.11).

Pod phase → node phase: Pending → Pending (message: the first waiting container's reason), Running →
Running (a daemon becomes `daemoned` once every container is ready), Succeeded → Succeeded, Failed →
Argo's inferFailedReason (pod message; init/`wait` failures are Error; `main` exiting non-zero is Failed
"main: <Reason> (exit code N)"). The node stays at its old phase while `wait` still runs; outputs come
from the WorkflowTaskResult named by the node ID, `outputs.exitCode` from `main`'s terminated state.
A started node whose pod has vanished becomes Error "pod deleted" after a grace period.
"""

from __future__ import annotations

from typing import Any

from workflow.engine import clock
from workflow.engine.model import ContainerObservation, PodObservation, TaskResultObservation
from workflow.engine.scope import export_global_outputs
from workflow.engine.state import (
    COMPLETED,
    ERROR,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    fulfilled,
)

QUIET_WAITING = ("ContainerCreating", "PodInitializing")


def _exit_message(c: ContainerObservation) -> str:
    text = f"{c.name}: {c.reason or 'Error'} (exit code {c.exit_code})"
    if c.message:
        text += f": {c.message}"
    return text


def infer_failure(pod: PodObservation) -> tuple[str, str]:
    """Argo's inferFailedReason: (Failed|Error, message) for a pod in phase Failed."""
    if pod.message:
        return FAILED, pod.message
    for c in pod.init_containers:
        if c.state == "waiting":
            return ERROR, f"Pod failed before {c.name} container starts due to {c.reason}: {c.message}"
        if c.state == "terminated" and c.exit_code not in (0, None):
            return ERROR, _exit_message(c)
    ordered = sorted(pod.containers, key=lambda c: (0 if c.name == "main" else 1 if c.name == "wait" else 2))
    for c in ordered:
        if c.state == "waiting":
            return ERROR, f"Pod failed before {c.name} container starts due to {c.reason}: {c.message}"
        if c.state != "terminated" or c.exit_code in (0, None):
            continue
        if c.name == "main":
            return FAILED, _exit_message(c)
        if c.name == "wait":
            return ERROR, _exit_message(c)
        if c.exit_code in (137, 143):
            continue
        return FAILED, _exit_message(c)
    return FAILED, pod.reason or "pod failed for unknown reason"


def _pending_message(pod: PodObservation) -> str:
    for c in (*pod.init_containers, *pod.containers):
        if c.state == "waiting" and c.reason and c.reason not in QUIET_WAITING:
            return f"{c.reason}: {c.message}" if c.message else c.reason
    return pod.message


def _latest_finish(pod: PodObservation) -> str | None:
    # RFC 3339 UTC stamps of one format compare as strings.
    stamps = [c.finished_at for c in (*pod.init_containers, *pod.containers) if c.finished_at]
    return max(stamps) if stamps else None


def _merge_outputs(old: dict[str, Any] | None, reported: dict[str, Any] | None, exit_code: str | None):
    outputs = dict(old or {})
    if reported:
        for key, value in reported.items():
            if key != "exitCode" and value is not None:
                outputs[key] = value
    if exit_code is not None:
        outputs["exitCode"] = exit_code
    return outputs or None


def _container_nodes(eng, node: dict[str, Any], pod: PodObservation) -> None:
    op = eng.op
    for child in op.children_of(node):
        if child.get("type") != "Container" or fulfilled(child):
            continue
        c = pod.container(child["name"].rsplit(".", 1)[-1])
        if c is None:
            continue
        if c.state == "running" and child.get("phase") == PENDING:
            op.mark(child["id"], RUNNING)
        elif c.state == "terminated":
            code = c.exit_code or 0
            op.update(child["id"], outputs={"exitCode": str(code)})
            phase = SUCCEEDED if code == 0 else ERROR if code == 64 else FAILED
            op.mark(child["id"], phase, "" if code == 0 else _exit_message(c))


def assess(eng, node: dict[str, Any], pod: PodObservation, result: TaskResultObservation | None) -> None:
    op = eng.op
    node_id = node["id"]
    if pod.phase == "Pending":
        phase, message = PENDING, _pending_message(pod)
    elif pod.phase == "Running":
        phase, message = RUNNING, ""
    elif pod.phase == "Succeeded":
        phase, message = SUCCEEDED, ""
    elif pod.phase == "Failed":
        phase, message = infer_failure(pod)
    else:
        phase, message = ERROR, f"Unexpected pod phase for {pod.name}: {pod.phase}"
    wait = pod.container("wait")
    if phase in COMPLETED and wait is not None and wait.state != "terminated" and pod.phase != "Failed":
        phase, message = RUNNING, ""
    main = pod.container("main")
    exit_code = None
    if main is not None and main.state == "terminated" and main.exit_code is not None:
        exit_code = str(main.exit_code)
    fields: dict[str, Any] = {}
    if pod.host_node_name and node.get("hostNodeName") != pod.host_node_name:
        fields["hostNodeName"] = pod.host_node_name
    outputs = _merge_outputs(node.get("outputs"), result.outputs if result else None, exit_code)
    if outputs != node.get("outputs"):
        fields["outputs"] = outputs
    synced = result.completed if result is not None else True
    if node.get("taskResultSynced") is not synced:
        fields["taskResultSynced"] = synced
    if result is not None and result.progress and node.get("progress") != result.progress:
        fields["progress"] = result.progress
    if pod.resources_duration:
        fields["resourcesDuration"] = dict(pod.resources_duration)
    if phase == RUNNING and pod.containers and eng.is_daemon(node):
        ready = all(c.ready for c in pod.containers if c.name != "wait")
        if ready and not node.get("daemoned"):
            fields["daemoned"] = True
            if pod.pod_ip:
                fields["podIP"] = pod.pod_ip
            op.daemons.add(node_id)
    if phase in COMPLETED:
        if node.get("daemoned"):
            fields["daemoned"] = None
            fields["podIP"] = None
            op.daemons.discard(node_id)
        finished = _latest_finish(pod)
        if finished and not node.get("finishedAt"):
            fields["finishedAt"] = finished
    if phase != node.get("phase") or (message and message != node.get("message", "")):
        node = op.change(node_id, fields, phase, message if message or phase in COMPLETED else None)
    elif fields:
        node = op.change(node_id, fields)
    if node.get("children"):
        _container_nodes(eng, node, pod)  # a containerSet's Container nodes (other children are skipped)
    if phase == SUCCEEDED and fulfilled(node):
        export_global_outputs(op, node.get("outputs"))


def reconcile_pods(eng) -> None:
    op = eng.op
    grace = op.config.recently_started_pod_seconds
    pods = op.observed.pods
    results = op.observed.task_results
    for node_id in op.live_pods:
        node = op.nodes[node_id]
        pod = pods.get(node_id)
        if pod is None:
            if node.get("phase") == RUNNING or (node.get("phase") in COMPLETED and node.get("taskResultSynced") is False):
                started = clock.parse_stamp(node.get("startedAt")) or op.now
                if clock.seconds_between(started, op.now) > grace:
                    if node.get("taskResultSynced") is False:
                        op.update(node_id, taskResultSynced=True)
                    else:
                        op.mark(node_id, ERROR, "pod deleted")
            continue
        assess(eng, node, pod, results.get(node_id))
