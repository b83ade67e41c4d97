"""reconcile(key) = `workflow.engine.step` on what the informers hold, then write and apply
(docs/architecture.md contract 1; the order of Argo's operator).

1. The Workflow from the cache (hydrated: `compressedNodes` read back); the engine joins the
   workflowDefaults under it and its WorkflowTemplate (Workflow > template > defaults). A workflow the
   core finds invalid before it ever ran (checked with the defaults under it) fails with the same
   messages admission gives (the webhook may have been off; controller/spec_check.py).
2. Observations: its pods and task results (informer indexes by the workflow label), pods created
   but not yet seen (expectations) as Pending, ConfigMaps, locks, the memoization caches, templates.
3. `step(workflow, observed, now)`.
4. The new status is written first, through the status subresource with the resourceVersion read
   (optimistic concurrency): a conflict means the cache was stale, so nothing is applied and the key
   is retried on the fresher object. Without a status subresource (Argo-shaped CRDs) the whole object
   is replaced, with the same check. Big status is compressed (controller/status.py); writing it is
   controller/status_write.py.
5. Then the actions (controller/apply.py), so a pod is deleted or a lock released only once the
   status that says why is stored.
6. `requeue_after` schedules the next look; pod and task-result events bring it sooner.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

from controller import artifacts, status_write
from controller.apply import apply_actions
from controller.cached import slim_pod
from controller.config import ControllerConfig
from controller.config_map_view import ConfigMapData
from controller.event_sender import EventSender
from controller.expectations import Expectations
from controller.locks import LockManager
from controller.metrics import Metrics
from controller.queue import WorkQueue
from controller.spec_check import SpecChecks
from controller.status import MAX_WORKFLOW_SIZE, hydrate
from kube.informer import Store, strip_managed_fields
from kube.rest import ApiError, Rest
from workflow.engine import CacheEntry, Observed, PodObservation, step
from workflow.engine.clock import stamp
from workflow.engine.defs import EngineError
from workflow.engine.observe import node_id_of, pod_observation, task_result_observation, workflow_of
from workflow.engine.templates import run_spec as joined_spec
from workflow.labels import LABEL_CONFIGMAP_TYPE
from workflow.merge import join_workflow_spec

log = logging.getLogger("sluice.controller")

DONE = ("Succeeded", "Failed", "Error")
POSTPONED = "Workflow processing has been postponed because too many workflows are already running"


def _wf_index(obj: dict[str, Any]) -> str | None:
    wf = workflow_of(obj)
    return f"{(obj.get('metadata') or {}).get('namespace') or ''}/{wf}" if wf else None


class Templates:
    """workflow.engine.TemplateSource over the template informers' stores."""

    def __init__(self, namespaced: Store, cluster: Store) -> None:
        self.namespaced, self.cluster = namespaced, cluster

    def workflow_template(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.namespaced.get(namespace or "", name)

    def cluster_workflow_template(self, name: str) -> dict[str, Any] | None:
        return self.cluster.get("", name)


class Controller:
    def __init__(
        self,
        rest: Rest,
        *,
        executor_image: str,
        identity: str = "sluice-controller",
        status_subresource: str = "auto",
        metrics: Metrics | None = None,
        max_workflow_size: int = MAX_WORKFLOW_SIZE,
    ) -> None:
        self.rest = rest
        self.max_workflow_size = max_workflow_size
        self.executor_image = executor_image
        self.identity = identity
        self.status_subresource = status_subresource  # "auto" | "on" | "off"
        self.metrics = metrics or Metrics()
        self.config = ControllerConfig()
        # what each cache keeps: controller/cached.py
        self.workflows = Store(transform=strip_managed_fields)
        self.pods = Store(indexers={"wf": _wf_index}, transform=slim_pod)
        self.results = Store(indexers={"wf": _wf_index}, transform=strip_managed_fields)
        self.templates = Templates(*(Store(transform=strip_managed_fields) for _ in range(2)))
        self.config_maps = Store(
            indexers={
                "cache": lambda o: (
                    "1"
                    if ((o.get("metadata") or {}).get("labels") or {}).get(LABEL_CONFIGMAP_TYPE) == "Cache"
                    else None
                )
            },
            transform=strip_managed_fields,
        )
        self.queue = WorkQueue()
        self.events = EventSender(rest, self.metrics)
        self.expectations = Expectations()
        self.locks = LockManager()
        self._written: dict[str, str] = {}  # key -> resourceVersion this controller wrote last
        self._changed_at: dict[str, float] = {}  # key -> monotonic time of the first unhandled pod change
        self._stepped: set[str] = set()  # keys this process has stepped (Observed.first_look)
        self.spec_checks = SpecChecks()
        self.pod_errors: dict[str, dict[str, str]] = {}  # key -> node ID -> why its pod cannot be created
        self.postponed: set[str] = set()
        self.workflows.handlers.append(self._on_workflow)
        self.pods.handlers.append(self._on_pod)
        self.results.handlers.append(self._on_child)
        self.config_maps.handlers.append(self._on_config_map)

    # --- clocks (one place, so tests and benchmarks can see them) -------------------------------------

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    # --- events -----------------------------------------------------------------------------------

    def _on_workflow(self, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        if kind == "DELETED":
            self.expectations.forget(key)
            self.spec_checks.forget(key)
            self._stepped.discard(key)
            self._written.pop(key, None)
            self._changed_at.pop(key, None)
            self.pod_errors.pop(key, None)
            self.postponed.discard(key)
            self.metrics.custom.forget_workflow(key)
            for other in self.locks.drop_workflow(key):
                self.queue.add(other)
            return
        if self._written.get(key) == meta.get("resourceVersion"):
            return  # the echo of our own write: nothing new to look at
        self.queue.add(key)
        self.metrics.queue_adds.inc()

    def _on_pod(self, kind: str, obj: dict[str, Any]) -> None:
        key = _wf_index(obj)
        node_id = node_id_of(obj)
        if key is not None and node_id:
            self.expectations.observed(key, node_id)
        self._on_child(kind, obj)

    def _on_child(self, kind: str, obj: dict[str, Any]) -> None:
        key = _wf_index(obj)
        if key is None:
            return
        self._changed_at.setdefault(key, self.monotonic())
        self.queue.add(key)
        self.metrics.queue_adds.inc()

    def _on_config_map(self, kind: str, obj: dict[str, Any]) -> None:
        """A semaphore's ConfigMap changed: its waiters look again at once. A raised limit frees slots
        that no release would announce; the lock manager still grants them in priority order, whichever
        waiter reconciles first (controller/locks.py)."""
        if kind == "DELETED":
            return
        meta = obj.get("metadata") or {}
        for key in self.locks.waiting_on_config_map(meta.get("namespace") or "", meta.get("name") or ""):
            self.queue.add(key)
            self.metrics.queue_adds.inc()

    def wrote(self, key: str, obj: dict[str, Any]) -> None:
        """Write-through: the object the API server returned replaces the cached one at once."""
        meta = obj.get("metadata") or {}
        if not meta.get("name"):
            return
        self._written[key] = meta.get("resourceVersion") or ""
        self.workflows.objects[(meta.get("namespace") or "", meta["name"])] = strip_managed_fields(obj)

    # --- reconcile --------------------------------------------------------------------------------

    def observed(self, key: str, ns: str, first_look: bool = False, checked: bool = False) -> Observed:
        pods: dict[str, PodObservation] = {}
        for obj in self.pods.by_index("wf", key):
            obs = pod_observation(obj)
            if obs is not None:
                pods[obs.node_id] = obs
        for node_id, pod_name in self.expectations.pending(key, self.monotonic()).items():
            pods.setdefault(node_id, PodObservation(name=pod_name, node_id=node_id, phase="Pending"))
        results = {}
        for obj in self.results.by_index("wf", key):
            obs = task_result_observation(obj)
            if obs is not None:
                results[obs.node_id] = obs
        config_maps = ConfigMapData(self.config_maps)
        cache: dict[str, dict[str, CacheEntry]] = {}
        for cm in self.config_maps.by_index("cache", "1"):
            if cm["metadata"].get("namespace") != ns:
                continue
            entries = {}
            for k, text in (cm.get("data") or {}).items():
                try:
                    entry = json.loads(text)
                except (TypeError, ValueError):
                    continue
                if isinstance(entry, dict):
                    entries[k] = CacheEntry(
                        node_id=str(entry.get("nodeID") or ""),
                        outputs=entry.get("outputs"),
                        creation_timestamp=str(entry.get("creationTimestamp") or ""),
                        last_hit_timestamp=entry.get("lastHitTimestamp"),
                    )
            cache[cm["metadata"]["name"]] = entries
        return Observed(
            pods=pods,
            task_results=results,
            config_maps=config_maps,
            locks=self.locks.observation(),
            cache=cache,
            templates=self.templates,
            config=self.config.engine(self.executor_image),
            first_look=first_look,
            checked=checked,
        )

    def _running_count(self, ns: str | None = None) -> int:
        return sum(
            1
            for wf in self.workflows
            if (wf.get("status") or {}).get("phase") == "Running"
            and (ns is None or wf["metadata"].get("namespace") == ns)
        )

    def _postpone(self, key: str, wf: dict[str, Any]) -> bool:
        """Parallelism (global and per namespace): a workflow that has not started waits its turn."""
        cfg = self.config
        if (wf.get("status") or {}).get("phase") not in (None, "", "Pending"):
            return False
        ns = wf["metadata"]["namespace"]
        if cfg.parallelism and self._running_count() >= cfg.parallelism:
            self.postponed.add(key)
            return True
        if cfg.namespace_parallelism and self._running_count(ns) >= cfg.namespace_parallelism:
            self.postponed.add(key)
            return True
        self.postponed.discard(key)
        return False

    def _engine_view(self, wf: dict[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(hydrate(wf))
        status = view.get("status") if isinstance(view.get("status"), dict) else {}
        if "artifactRepositoryRef" not in status and status.get("phase") not in DONE:
            # Resolved once, when the workflow starts, and kept (a ConfigMap edit never moves a running
            # workflow's artifacts). A reference that does not resolve fails the workflow.
            run_view = {**view, "spec": self.run_spec(view)}
            ref = artifacts.resolve(run_view, self.config_maps.get, self.config.artifact_repository)
            if ref is not None:
                view["status"] = {**status, "artifactRepositoryRef": ref}
        self._fail_uncreatable(wf, view)
        return view

    def run_spec(self, wf: dict[str, Any]) -> dict[str, Any]:
        """What the controller itself reads of the spec it runs (ttlStrategy, artifactRepositoryRef): the
        stored join of a workflowTemplateRef once there is one, else the join the engine will make
        (Workflow > WorkflowTemplate > defaults), so a WorkflowTemplate's artifactRepositoryRef counts
        from the first step."""
        stored = (wf.get("status") or {}).get("storedWorkflowTemplateSpec")
        if isinstance(stored, dict):
            return stored
        defaults = self.config.defaults_spec()
        try:
            return joined_spec(wf, self.templates, defaults)
        except EngineError:  # the template is missing: the engine's step fails the workflow saying so
            spec = wf.get("spec") if isinstance(wf.get("spec"), dict) else {}
            return join_workflow_spec(spec, None, defaults) if defaults else spec

    def _fail_uncreatable(self, wf: dict[str, Any], view: dict[str, Any]) -> None:
        """Nodes whose pod the API server refused: Error with its answer, before the engine looks."""
        meta = wf["metadata"]
        errors = self.pod_errors.pop(f"{meta.get('namespace')}/{meta.get('name')}", None)
        nodes = (view.get("status") or {}).get("nodes") or {}
        for node_id, message in (errors or {}).items():
            node = nodes.get(node_id)
            if node is not None and node.get("phase") in ("Pending", "Running"):
                node.update(phase="Error", message=message, finishedAt=stamp(self.now()))

    async def reconcile(self, key: str) -> None:
        ns, name = key.split("/", 1)
        wf = self.workflows.get(ns, name)
        if wf is None:
            return
        started = self.monotonic()
        phase = (wf.get("status") or {}).get("phase") or ""
        labels = wf["metadata"].get("labels") or {}
        if (
            phase in DONE
            and labels.get("workflows.argoproj.io/completed") == "true"
            and not self.locks.holds(key)
        ):
            await self._after_completion(key, wf)
            return
        now = self.now()
        problems = self.spec_checks.problems(key, wf, self.config.defaults_spec(), self.templates)
        if problems is not None:
            await status_write.fail(self, key, wf, f"invalid spec: {problems}", now)
            return
        try:
            view = self._engine_view(wf)
        except artifacts.RepositoryError as exc:
            await status_write.fail(self, key, wf, str(exc), now)
            return
        if self._postpone(key, wf):
            if (wf.get("status") or {}).get("message") != POSTPONED:
                await status_write.write_status(
                    self, key, wf, {**(wf.get("status") or {}), "phase": "Pending", "message": POSTPONED}
                )
            return
        t0 = time.perf_counter()
        first_look, checked = key not in self._stepped, self.spec_checks.passed(key, wf)
        decision = step(view, self.observed(key, ns, first_look, checked), now)
        self.metrics.engine_seconds.observe(time.perf_counter() - t0)
        changed_at = self._changed_at.pop(key, None)
        if changed_at is not None:
            self.metrics.step_delay.observe(self.monotonic() - changed_at)
        old_status = view.get("status") or {}
        if decision.status != old_status and not await status_write.write_status(
            self, key, wf, decision.status
        ):
            return  # stale: retried on the fresher object; nothing applied
        await apply_actions(self, view, decision.actions, now)
        self._stepped.add(key)  # only once its actions are applied: a stale write looks again
        new_phase = decision.status.get("phase") or ""
        if new_phase != phase and new_phase:
            self.metrics.total.inc(phase=new_phase)
            if new_phase in DONE or (phase in ("", "Pending") and new_phase == "Running"):
                for other in list(self.postponed):  # a slot may have opened
                    self.queue.add(other)
        if decision.requeue_after is not None:
            self.queue.add(key, after=max(decision.requeue_after, 0.05))
        if new_phase in DONE:
            await self._after_completion(key, self.workflows.get(ns, name) or wf)
        self.metrics.operation_duration.observe(self.monotonic() - started)

    async def _after_completion(self, key: str, wf: dict[str, Any]) -> None:
        """Locks shown as held are cleared once released; ttlStrategy deletes the workflow when due."""
        self.expectations.forget(key)
        status = wf.get("status") or {}
        if status.get("synchronization") and not self.locks.holds(key):
            cleared = {k: v for k, v in status.items() if k != "synchronization"}
            if await status_write.write_status(self, key, wf, cleared):
                wf = self.workflows.get(*key.split("/", 1)) or wf
                status = wf.get("status") or {}
        ttl = self.run_spec(wf).get("ttlStrategy") or {}
        phase = status.get("phase")
        seconds = None
        if phase == "Succeeded" and ttl.get("secondsAfterSuccess") is not None:
            seconds = ttl["secondsAfterSuccess"]
        elif phase in ("Failed", "Error") and ttl.get("secondsAfterFailure") is not None:
            seconds = ttl["secondsAfterFailure"]
        elif ttl.get("secondsAfterCompletion") is not None:
            seconds = ttl["secondsAfterCompletion"]
        finished = status.get("finishedAt")
        if seconds is None or not finished or not isinstance(seconds, int):
            return
        try:
            done_at = datetime.strptime(finished, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return
        left = seconds - (self.now() - done_at).total_seconds()
        if left > 0:
            self.queue.add(key, after=left)
            return
        ns, name = key.split("/", 1)
        try:
            await self.rest.delete(status_write.ARGO, "Workflow", ns, name)
            log.info("workflow deleted by its ttlStrategy", extra={"workflow": key})
        except ApiError as exc:
            if exc.status != 404:
                raise
