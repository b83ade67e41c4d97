"""What the scale benchmark sees from the client side, the same way for both controllers.

`Observer` watches the pods and workflows of a few namespaces and stamps each change with this process's
monotonic clock: a pod's creation, its start, its end; a workflow's completion. When pods are kwok's
(nothing runs in them), it writes each pod's WorkflowTaskResult as the executor's `wait` would (named by
the node ID, labelled with the workflow and `report-outputs-completed: "true"`, owned by the workflow)
as soon as the pod is seen running, before kwok ends it: both controllers wait for that result.

`figures` turns the stamps of one batch into the benchmark's figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from scale_workloads import Shape

log = logging.getLogger("bench-scale")

DONE = ("Succeeded", "Failed", "Error")
NODE_ID = "workflows.argoproj.io/node-id"
NODE_NAME = "workflows.argoproj.io/node-name"
WF_LABEL = "workflows.argoproj.io/workflow"
INSTANCE_LABEL = "workflows.argoproj.io/controller-instanceid"
RESULT_WRITERS = 8


@dataclass(slots=True)
class PodSeen:
    workflow: str
    node_name: str
    created: float
    running: float | None = None
    finished: float | None = None
    phase: str = ""


@dataclass(slots=True)
class Observer:
    api: Any
    namespaces: list[str]
    write_results: bool
    pods: dict[str, PodSeen] = field(default_factory=dict)
    done: dict[str, tuple[float, str]] = field(default_factory=dict)  # workflow -> (seen done, phase)
    live: dict[str, float] = field(default_factory=dict)  # workflow -> seen waiting at a suspend step
    submitted: dict[str, float] = field(default_factory=dict)
    results_written: int = 0
    result_errors: int = 0
    _results: asyncio.Queue = field(default_factory=asyncio.Queue)
    _written: set[str] = field(default_factory=set)
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        from kubernetes_asyncio import client

        core = client.CoreV1Api(self.api)
        custom = client.CustomObjectsApi(self.api)
        wf_args = {"group": "argoproj.io", "version": "v1alpha1", "plural": "workflows"}
        for ns in self.namespaces:
            pods = self._watch(core.list_namespaced_pod, {"namespace": ns}, self._pod)
            wfs = self._watch(
                custom.list_namespaced_custom_object, {**wf_args, "namespace": ns}, self._workflow
            )
            self._tasks += [asyncio.create_task(pods), asyncio.create_task(wfs)]
        if self.write_results:
            self._tasks += [asyncio.create_task(self._write_results(custom)) for _ in range(RESULT_WRITERS)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _watch(self, fn, args: dict[str, Any], handle) -> None:
        from kubernetes_asyncio import watch
        from kubernetes_asyncio.client.exceptions import ApiException

        version: str | None = None
        while True:
            try:
                w = watch.Watch(return_type="object")  # plain dicts: no model objects per event
                async with w.stream(fn, **args, resource_version=version, timeout_seconds=300) as stream:
                    async for event in stream:
                        handle(event["type"], event["raw_object"])
                        version = w.resource_version or version
            except ApiException as exc:
                if exc.status == 410:  # too old: start again from a fresh list
                    version = None
                    continue
                log.warning("watch failed; again in 1 s: %s", exc)
                await asyncio.sleep(1)
            except Exception as exc:  # a dropped connection (aiohttp's errors are not OSErrors)
                log.warning("watch connection lost; again in 1 s: %r", exc)
                await asyncio.sleep(1)

    def _pod(self, kind: str, pod: dict[str, Any]) -> None:
        now = time.monotonic()
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        wf = labels.get(WF_LABEL)
        if not wf or kind == "DELETED":
            return
        name = meta["name"]
        seen = self.pods.get(name)
        if seen is None:
            seen = self.pods[name] = PodSeen(wf, annotations.get(NODE_NAME, ""), now)
        phase = (pod.get("status") or {}).get("phase") or ""
        if phase == "Running" and seen.running is None:
            seen.running = now
        if phase in ("Succeeded", "Failed") and seen.finished is None:
            seen.finished, seen.phase = now, phase
        node_id = annotations.get(NODE_ID)
        if (
            self.write_results
            and node_id
            and phase in ("Running", "Succeeded")
            and node_id not in self._written
        ):
            self._written.add(node_id)
            owners = meta.get("ownerReferences") or []
            self._results.put_nowait((meta["namespace"], node_id, wf, labels.get(INSTANCE_LABEL), owners))

    def _workflow(self, kind: str, wf: dict[str, Any]) -> None:
        status = wf.get("status") or {}
        phase = status.get("phase")
        name = wf["metadata"]["name"]
        if phase in DONE and name not in self.done:
            self.done[name] = (time.monotonic(), phase)
            self._changed.set()
        if phase == "Running" and name not in self.live:
            nodes = status.get("nodes") or {}
            if any(n.get("type") == "Suspend" and n.get("phase") == "Running" for n in nodes.values()):
                self.live[name] = time.monotonic()
                self._changed.set()

    async def _write_results(self, custom) -> None:
        from kubernetes_asyncio.client.exceptions import ApiException

        while True:
            namespace, node_id, wf, instance, owners = await self._results.get()
            labels = {WF_LABEL: wf, "workflows.argoproj.io/report-outputs-completed": "true"}
            if instance:
                labels[INSTANCE_LABEL] = instance
            body = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "WorkflowTaskResult",
                "metadata": {
                    "name": node_id,
                    "labels": labels,
                    "ownerReferences": [o for o in owners if o.get("kind") == "Workflow"],
                },
                "outputs": {"exitCode": "0"},
            }
            try:
                await custom.create_namespaced_custom_object(
                    "argoproj.io", "v1alpha1", namespace, "workflowtaskresults", body
                )
                self.results_written += 1
            except ApiException as exc:
                if exc.status != 409:
                    self.result_errors += 1
                    log.warning("task result %s: %s", node_id, exc.reason)

    async def wait_done(self, names: list[str], timeout: float, live: bool = False) -> bool:
        """Until every workflow of `names` is done (`live`: waits at its suspend step), or `timeout`."""
        seen: dict[str, Any] = self.live if live else self.done
        deadline = time.monotonic() + timeout
        while not all(n in seen for n in names):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 5))
        return True


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def figures(obs: Observer, shape: Shape, names: list[str]) -> dict[str, Any]:
    """The figures of one batch of workflows (`names`, all of `shape`)."""
    wanted = set(names)
    by_wf: dict[str, list[PodSeen]] = {}
    for pod in obs.pods.values():
        if pod.workflow in wanted:
            by_wf.setdefault(pod.workflow, []).append(pod)
    first_pod = [
        min(p.created for p in by_wf[n]) - obs.submitted[n]
        for n in names
        if n in by_wf and n in obs.submitted
    ]
    delays: list[float] = []
    for pods in by_wf.values():
        groups: dict[int, list[PodSeen]] = {}
        for p in pods:
            groups.setdefault(shape.group(p.node_name), []).append(p)
        for g, members in groups.items():
            before = groups.get(g - 1)
            if not before or any(b.finished is None for b in before):
                continue
            ended = max(b.finished for b in before if b.finished is not None)
            delays += [m.created - ended for m in members]
    if shape.live:  # counted once waiting at the suspend step: "completed" means live here
        finished = [(obs.live[n], "Live") for n in names if n in obs.live]
    else:
        finished = [obs.done[n] for n in names if n in obs.done]
    start = min(obs.submitted[n] for n in names)
    last = max((t for t, _ in finished), default=start)
    phases: dict[str, int] = {}
    for _, phase in finished:
        phases[phase] = phases.get(phase, 0) + 1
    return {
        "shape": shape.name,
        "workflows": len(names),
        "completed": len(finished),
        "phases": phases,
        "pods": sum(len(v) for v in by_wf.values()),
        "seconds": last - start,
        "workflows_per_minute": len(finished) / (last - start) * 60 if last > start else None,
        "create_to_first_pod_s": {"p50": pct(first_pod, 50), "p99": pct(first_pod, 99), "n": len(first_pod)},
        "step_delay_s": {"p50": pct(delays, 50), "p99": pct(delays, 99), "n": len(delays)},
    }
