"""A fake cluster for engine tests: pods finish when the test says, time moves only when told.

`World(workflow)` keeps the workflow object (status written back after each step) and the pods the
engine asked for. `finish(node_name_or_pod, exit_code, outputs)` completes a pod; `run()` steps until the
workflow completes, finishing every pod as `outcome(pod) -> (exit_code, outputs)` decides.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from workflow.engine import (
    ContainerObservation,
    CreatePod,
    Decision,
    DeletePod,
    Observed,
    PodObservation,
    ResumeRequest,
    TaskResultObservation,
    TerminatePod,
    step,
)

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
Outcome = Callable[[dict[str, Any]], tuple[int, dict[str, Any] | None]]


def succeed(pod: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    return 0, None


class World:
    def __init__(self, workflow: dict[str, Any], now: datetime = T0, **observed: Any):
        self.workflow = copy.deepcopy(workflow)
        self.workflow.setdefault("metadata", {}).setdefault("namespace", "default")
        self.now = now
        self.pods: dict[str, PodObservation] = {}  # by node id
        self.pod_specs: dict[str, dict[str, Any]] = {}  # by node id
        self.results: dict[str, TaskResultObservation] = {}
        self.resume: list[ResumeRequest] = []
        self.extra = observed
        self.decisions: list[Decision] = []
        self.created: list[str] = []  # pod names, in order of creation

    @property
    def status(self) -> dict[str, Any]:
        return self.workflow.get("status") or {}

    @property
    def phase(self) -> str:
        return self.status.get("phase") or ""

    def node(self, name: str) -> dict[str, Any]:
        for node in (self.status.get("nodes") or {}).values():
            if node["name"] == name:
                return node
        raise KeyError(name)

    def nodes_by_name(self) -> dict[str, dict[str, Any]]:
        return {n["name"]: n for n in (self.status.get("nodes") or {}).values()}

    def observed(self) -> Observed:
        return Observed(
            pods=dict(self.pods), task_results=dict(self.results), resume=tuple(self.resume), **self.extra
        )

    def step(self) -> Decision:
        decision = step(self.workflow, self.observed(), self.now)
        self.decisions.append(decision)
        self.workflow["status"] = decision.status
        self.resume = []
        for action in decision.actions:
            if isinstance(action, CreatePod) and action.node_id not in self.pods:
                self.pods[action.node_id] = PodObservation(
                    name=action.name, node_id=action.node_id, phase="Pending"
                )
                self.pod_specs[action.node_id] = action.pod
                self.created.append(action.name)
            elif isinstance(action, (DeletePod, TerminatePod)) and action.node_id in self.pods:
                self._set(action.node_id, 143, None, phase="Failed")
        return decision

    def _set(
        self, node_id: str, exit_code: int, outputs: dict[str, Any] | None, phase: str | None = None
    ) -> None:
        pod = self.pods[node_id]
        stamp = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        main = ContainerObservation(
            "main", "terminated", exit_code, "Error" if exit_code else "Completed", finished_at=stamp
        )
        wait = ContainerObservation("wait", "terminated", 0, "Completed", finished_at=stamp)
        self.pods[node_id] = PodObservation(
            name=pod.name,
            node_id=node_id,
            phase=phase or ("Succeeded" if exit_code == 0 else "Failed"),
            containers=(wait, main),
            host_node_name="node-1",
        )
        self.results[node_id] = TaskResultObservation(node_id=node_id, outputs=outputs, completed=True)

    def running(self) -> list[str]:
        """Node IDs of pods not finished yet."""
        return [i for i, p in self.pods.items() if p.phase in ("Pending", "Running")]

    def start_all(self) -> None:
        for node_id in self.running():
            pod = self.pods[node_id]
            self.pods[node_id] = PodObservation(
                name=pod.name,
                node_id=node_id,
                phase="Running",
                containers=(ContainerObservation("wait", "running"), ContainerObservation("main", "running")),
            )

    def finish(self, node_name: str, exit_code: int = 0, outputs: dict[str, Any] | None = None) -> None:
        node = self.node(node_name)
        self._set(node["id"], exit_code, outputs)

    def finish_all(self, outcome: Outcome = succeed) -> None:
        for node_id in self.running():
            exit_code, outputs = outcome(self.pod_specs[node_id])
            self._set(node_id, exit_code, outputs)

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def run(self, outcome: Outcome = succeed, max_steps: int = 200) -> Decision:
        decision = self.step()
        for _ in range(max_steps):
            if self.phase in ("Succeeded", "Failed", "Error"):
                return decision
            self.finish_all(outcome)
            if decision.requeue_after and not self.running():
                self.tick(decision.requeue_after)
            else:
                self.tick(1)
            decision = self.step()
        raise AssertionError(f"workflow did not complete in {max_steps} steps: {self.phase}")
