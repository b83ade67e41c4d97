"""A local pod as the engine observes it: its PodObservation and TaskResultObservation.

What kube-apiserver would say of the pod (phase, container states with exit codes and times, the
deadline's reason) and what the `wait` container's WorkflowTaskResult would carry, read from a
LocalPod's state (localpod.py). `wait` is reported as a container beside the user's, as on a cluster.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from workflow.engine import ContainerObservation, PodObservation, TaskResultObservation, clock

if TYPE_CHECKING:
    from sluice.runner.localpod import LocalPod

DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


def stamp(moment: float) -> str:
    """A time.time() value as Kubernetes writes times (workflow/engine/clock.py)."""
    return clock.stamp(datetime.fromtimestamp(moment, UTC))


def _containers(pod: LocalPod, started: str, finished: str) -> tuple[ContainerObservation, ...]:
    out = []
    for container in pod.containers:
        name = container.get("name") or "main"
        state, code, began, ended = pod.states.get(name, ("waiting", None, None, None))
        if pod.state == "done" and state != "terminated":
            state, code = "terminated", pod.exit_code if name == pod.result_container else 0
        out.append(
            ContainerObservation(
                name,
                state,
                code if state == "terminated" else None,
                ("Completed" if code == 0 else "Error") if state == "terminated" else "",
                started_at=stamp(began) if began else started,
                finished_at=(stamp(ended) if ended else finished) if state == "terminated" else None,
                ready=state == "running",
            )
        )
    return tuple(out)


def observation(pod: LocalPod) -> PodObservation:
    if pod.state == "pending":
        return PodObservation(name=pod.name, node_id=pod.node_id, phase="Pending")
    started = stamp(pod.started or time.time())
    if pod.state == "running":
        return PodObservation(
            name=pod.name,
            node_id=pod.node_id,
            phase="Running",
            host_node_name="localhost",
            pod_ip="127.0.0.1",
            containers=(
                ContainerObservation("wait", "running", started_at=started),
                *_containers(pod, started, started),
            ),
        )
    finished = stamp(pod.finished or time.time())
    code = pod.exit_code if pod.exit_code is not None else 1
    wait_code = 1 if pod.wait_error else 0
    wait = ContainerObservation(
        "wait",
        "terminated",
        wait_code,
        "Error" if wait_code else "Completed",
        message=pod.wait_error,
        started_at=started,
        finished_at=finished,
    )
    containers = _containers(pod, started, finished)
    if not containers:
        containers = (
            ContainerObservation(
                "main",
                "terminated",
                code,
                "Completed" if code == 0 else "Error",
                started_at=started,
                finished_at=finished,
            ),
        )
    message, reason = pod.message, pod.reason
    if pod.deadline_hit:
        message, reason = DEADLINE_MESSAGE, "DeadlineExceeded"
    failed = any(c.exit_code not in (0, None) for c in containers)
    phase = "Succeeded" if code == 0 and not failed and not pod.wait_error and not message else "Failed"
    return PodObservation(
        name=pod.name,
        node_id=pod.node_id,
        phase=phase,
        containers=(wait, *containers),
        message=message,
        reason=reason,
        host_node_name="localhost",
    )


def task_result(pod: LocalPod) -> TaskResultObservation | None:
    if pod.state != "done":
        return None
    return TaskResultObservation(node_id=pod.node_id, outputs=pod.outputs, completed=True)
