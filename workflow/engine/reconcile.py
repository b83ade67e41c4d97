"""How an observed pod (and its task result) updates its node (Argo's podReconciliation,
assessNodeStatus and inferFailedReason).

Pod phase → node phase: Pending → Pending (message: the first waiting container's reason, else the
pod's message, where observe.py puts the Unschedulable condition), Running → Running (a daemon becomes
`daemoned` once every container is ready), Succeeded → Succeeded (Failed for a daemon), Failed → Argo's inferFailedReason (`infer_failure`: the pod's own message, e.g.
Evicted or DeadlineExceeded, wins; then init containers, the main containers, `wait`, sidecars), any other
phase → Error. The node stays at its old phase while `wait` still runs; outputs come from the
WorkflowTaskResult named by the node ID, `outputs.exitCode` from `main`'s terminated state.

Nothing waits forever: a started node whose pod vanished becomes Error "pod deleted" after
`EngineConfig.recently_started_pod_seconds`; a finished node whose task result stays incomplete stops
waiting for it after `EngineConfig.task_result_timeout_seconds` (Argo's TASK_RESULT_TIMEOUT_DURATION),
and a node that had succeeded becomes Error, since its outputs never arrived. The engine asks to be woken
at each of these moments (`Operation.wake`), so a driver that sees no new event still comes back.
The tables of cases are tests/unit/engine/test_pod_*.py (rows built by tests/unit/engine/pod_rows.py).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from workflow.engine import clock
from workflow.engine.defs import COMPLETED, ERROR, FAILED, PENDING, RUNNING, SUCCEEDED, fulfilled
from workflow.engine.model import ContainerObservation, PodObservation, TaskResultObservation
from workflow.engine.scope import export_global_outputs

if TYPE_CHECKING:
    from workflow.engine.execute import Engine
    from workflow.engine.state import Operation

# Waiting reasons of a pod on its normal way up; any other reason explains why a pod is stuck.
QUIET_WAITING = ("ContainerCreating", "PodInitializing")
# Waiting reasons about the image: the message must name it (the kubelet's usually does).
IMAGE_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"})
# Exit codes of a sidecar that was killed after main finished (SIGKILL, SIGTERM): not a failure.
KILLED_EXIT_CODES = (137, 143)
MAIN = ("main",)
DAEMON_EXITED = "daemon exited before the steps or DAG it serves ended"


def _exit_message(c: ContainerObservation) -> str:
    text = f"{c.name}: {c.reason or 'Error'} (exit code {c.exit_code})"
    if c.message:
        text += f": {c.message}"
    return text


def member_message(c: ContainerObservation) -> str:
    """A containerSet member's node message, as Argo writes it: unlike the pod node's (`_exit_message`), the
    termination message always follows ": ", so an empty one leaves it at the end (`b: Error (exit code
    1): `), and the reason is the container's own, even when empty."""
    return f"{c.name}: {c.reason} (exit code {c.exit_code}): {c.message}"


def _waiting_message(c: ContainerObservation) -> str:
    text = f"{c.reason}: {c.message}" if c.message else c.reason
    if c.reason in IMAGE_REASONS and c.image and c.image not in c.message:
        text += f' (image "{c.image}")'
    return text


def infer_failure(
    pod: PodObservation, main_names: Collection[str] = MAIN, namespace: str = ""
) -> tuple[str, str]:
    """Argo's inferFailedReason: (phase, message) for a pod in phase Failed.

    `main_names` are the containers that run the user's command (`main`, or a containerSet's members).
    A failed init/`wait` container is Error (the system failed), a failed main container is Failed, a
    sidecar killed with 137/143 is ignored. A Failed pod in which main and `wait` both exited 0 (a sidecar
    was killed) is Succeeded.
    """
    if pod.message:
        return FAILED, pod.message
    if not pod.containers and not pod.init_containers:
        where = f" namespace {namespace}" if namespace else ""
        return FAILED, f"can't find failed message for pod {pod.name}{where}"
    ordered = sorted(
        pod.containers, key=lambda c: 0 if c.name in main_names else 1 if c.name == "wait" else 2
    )
    main_ok = False
    wait_ok = pod.container("wait") is None  # resource/data pods have no `wait`
    for c in (*pod.init_containers, *ordered):
        if c.state == "waiting":
            return ERROR, f"Pod failed before {c.name} container starts due to {c.reason}: {c.message}"
        if c.state != "terminated":
            continue
        if not c.exit_code:
            if c.name in main_names:
                main_ok = True
            elif c.name == "wait":
                wait_ok = True
            continue
        if c.name in ("init", "wait"):
            return ERROR, _exit_message(c)
        if c.name in main_names:
            return FAILED, _exit_message(c)
        if c.exit_code not in KILLED_EXIT_CODES:
            return FAILED, _exit_message(c)
    if main_ok and wait_ok:
        return SUCCEEDED, ""
    if main_ok:
        return FAILED, "pod failed: wait container did not complete successfully"
    if wait_ok:
        return FAILED, "pod failed: main container did not complete successfully"
    return FAILED, "pod failed: neither main nor wait container completed successfully"


def pending_message(pod: PodObservation) -> str:
    """Why a Pending pod is not running yet: a stuck container (init containers first: an executor image
    that cannot be pulled shows as such, not as `PodInitializing`), else the pod's message (observe.py puts
    the Unschedulable condition there), else the first container's ordinary reason (ContainerCreating,
    PodInitializing), as Argo shows it."""
    for c in (*pod.init_containers, *pod.containers):
        if c.state == "waiting" and c.reason and c.reason not in QUIET_WAITING:
            return _waiting_message(c)
    if pod.message:
        return pod.message
    for c in pod.containers:
        if c.state == "waiting" and c.reason:
            return _waiting_message(c)
    return ""


def _latest_finish(pod: PodObservation) -> str | None:
    # RFC 3339 UTC stamps of one format compare as strings.
    stamps = [c.finished_at for c in (*pod.init_containers, *pod.containers) if c.finished_at]
    return max(stamps) if stamps else None


def _merge_outputs(
    old: dict[str, Any] | None, reported: dict[str, Any] | None, exit_code: str | None
) -> dict[str, Any] | None:
    outputs = dict(old or {})
    if reported:
        for key, value in reported.items():
            if key != "exitCode" and value is not None:
                outputs[key] = value
    if exit_code is not None:
        outputs["exitCode"] = exit_code
    return outputs or None


def _container_children(op: Operation, node: dict[str, Any]) -> list[dict[str, Any]]:
    if not node.get("children"):
        return []
    return [c for c in op.nodes.children_of(node) if c.get("type") == "Container"]


def _container_nodes(op: Operation, children: list[dict[str, Any]], pod: PodObservation) -> None:
    """A containerSet's Container nodes follow their containers (exit 64 is the launcher's own failure)."""
    for child in children:
        if fulfilled(child):
            continue
        c = pod.container(child["name"].rsplit(".", 1)[-1])
        if c is not None and c.state == "terminated":
            code = c.exit_code or 0
            op.nodes.update(child["id"], outputs={"exitCode": str(code)})
            phase = SUCCEEDED if code == 0 else ERROR if code == 64 else FAILED
            op.nodes.mark(child["id"], phase, "" if code == 0 else member_message(c))
        elif pod.phase == "Failed":
            op.nodes.mark(child["id"], FAILED, "Pod Failed whilst container running")
        elif c is not None and c.state == "running":
            op.nodes.mark(child["id"], RUNNING)
        elif c is not None and c.state == "waiting":
            op.nodes.mark(child["id"], PENDING)


def _result_overdue(
    op: Operation, node: dict[str, Any], finished: str | None, pod_gone: bool
) -> float | None:
    """The limit (seconds) a finished node's incomplete task result has outlived, or None (and a wake-up
    at the moment it will have)."""
    limit: float = op.config.task_result_timeout_seconds
    if pod_gone:
        limit = max(limit, op.config.recently_deleted_pod_seconds)
    since = clock.parse_stamp(finished) or clock.parse_stamp(node.get("startedAt")) or op.now
    deadline = clock.add_seconds(since, limit)
    if op.now >= deadline:
        return limit
    op.wake(deadline)
    return None


def _result_timeout_message(limit: float, pod_gone: bool) -> str:
    after = "the pod was deleted" if pod_gone else "the pod finished"
    return (
        f"outputs never reported: the task result was still incomplete {clock.go_duration_text(limit)} "
        f"after {after}"
    )


def assess(
    eng: Engine, node: dict[str, Any], pod: PodObservation, result: TaskResultObservation | None
) -> None:
    op = eng.op
    node_id = node["id"]
    old_phase = node.get("phase")
    containers = _container_children(op, node)
    main_names = tuple(c["name"].rsplit(".", 1)[-1] for c in containers) or MAIN
    message: str | None
    if pod.phase == "Pending":
        phase, message = PENDING, pending_message(pod)
    elif pod.phase == "Running":
        # Leaving Pending clears the pending reason (Argo clears an unchanged message).
        phase, message = RUNNING, "" if old_phase == PENDING else None
    elif pod.phase == "Succeeded" and eng.is_daemon(node):
        # A daemon serves until its steps or DAG end (then the engine stops it): exiting is a failure.
        phase, message = FAILED, DAEMON_EXITED
    elif pod.phase == "Succeeded":
        phase, message = SUCCEEDED, ""
    elif pod.phase == "Failed":
        phase, message = infer_failure(pod, main_names, op.namespace)
    else:
        phase, message = ERROR, f"Unexpected pod phase for {pod.name}: {pod.phase}"
    wait = pod.container("wait")
    if phase in COMPLETED and wait is not None and wait.state != "terminated" and pod.phase != "Failed":
        # `wait` may still be saving outputs: the node is not done before it is.
        phase, message = RUNNING, "" if old_phase == PENDING else None
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
            op.nodes.daemons.add(node_id)
    finished = node.get("finishedAt")
    if phase in COMPLETED:
        if node.get("daemoned"):
            fields["daemoned"] = None
            fields["podIP"] = None
            op.nodes.daemons.discard(node_id)
        if not finished:
            finished = fields["finishedAt"] = _latest_finish(pod) or op.now_s
    synced = _task_result_synced(pod, wait, result)
    if not synced and phase in COMPLETED:
        limit = _result_overdue(op, node, finished, pod_gone=False)
        if limit is not None:
            synced = True
            if phase == SUCCEEDED:
                phase, message = ERROR, _result_timeout_message(limit, pod_gone=False)
    if node.get("taskResultSynced") is not synced:
        fields["taskResultSynced"] = synced
    node = op.nodes.change(node_id, fields, phase, message)
    if containers:
        _container_nodes(op, containers, pod)
    if phase == SUCCEEDED and fulfilled(node):
        export_global_outputs(op, node.get("outputs"))


def _task_result_synced(
    pod: PodObservation, wait: ContainerObservation | None, result: TaskResultObservation | None
) -> bool:
    """Whether the node has all its task result will ever say (Argo's taskResultSynced)."""
    if result is None or result.completed:
        return True
    if wait is not None and wait.state == "terminated" and wait.exit_code:
        return True  # `wait` failed: it will never complete its report
    # An evicted pod whose `wait` status is gone will not report either.
    return pod.phase == "Failed" and pod.reason == "Evicted" and wait is None


def _pod_gone(eng: Engine, node: dict[str, Any]) -> None:
    """The node's pod is not observed (deleted, or evicted and garbage-collected)."""
    op = eng.op
    node_id = node["id"]
    phase = node.get("phase")
    if phase == RUNNING:
        # A grace period for a driver whose cache has not seen the new pod yet (Argo's recentlyStarted).
        started = clock.parse_stamp(node.get("startedAt")) or op.now
        deadline = clock.add_seconds(started, op.config.recently_started_pod_seconds)
        if op.now <= deadline:
            op.wake(clock.add_seconds(deadline, 1))
            return
        op.nodes.change(
            node_id,
            {"taskResultSynced": True} if node.get("taskResultSynced") is False else {},
            ERROR,
            "pod deleted",
        )
        for child in _container_children(op, node):
            if not fulfilled(child):
                op.nodes.mark(child["id"], ERROR, "container deleted")
    elif phase in COMPLETED and node.get("taskResultSynced") is False:
        limit = _result_overdue(op, node, node.get("finishedAt"), pod_gone=True)
        if limit is None:
            return
        if phase == SUCCEEDED:
            op.nodes.change(
                node_id, {"taskResultSynced": True}, ERROR, _result_timeout_message(limit, pod_gone=True)
            )
        else:
            op.nodes.update(node_id, taskResultSynced=True)
    # A Pending node without its pod: the engine asks for the pod again (execute.py).


def reconcile_pods(eng: Engine) -> None:
    op = eng.op
    pods = op.observed.pods
    results = op.observed.task_results
    for node_id in op.nodes.live_pods:
        node = op.nodes[node_id]
        pod = pods.get(node_id)
        if pod is None:
            _pod_gone(eng, node)
        else:
            assess(eng, node, pod, results.get(node_id))
