"""The controller's Prometheus series: Argo's names where Argo has one (`argo_workflows_*`), ours
(`sluice_controller_*`) for what Argo does not measure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from controller.custom_metrics import CustomMetrics
from kube.metrics import Counter, Gauge, Histogram, render

STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(slots=True)
class Metrics:
    gauge: Gauge = field(
        default_factory=lambda: Gauge("argo_workflows_gauge", "Workflows the controller holds, by phase.")
    )
    workers_busy: Gauge = field(
        default_factory=lambda: Gauge("argo_workflows_workers_busy_count", "Workers busy reconciling.")
    )
    queue_depth: Gauge = field(
        default_factory=lambda: Gauge(
            "argo_workflows_queue_depth_gauge", "Keys waiting in the work queue (ready and delayed)."
        )
    )
    queue_adds: Counter = field(
        default_factory=lambda: Counter("argo_workflows_queue_adds_count", "Keys added to the work queue.")
    )
    total: Counter = field(
        default_factory=lambda: Counter(
            "argo_workflows_total_count", "Workflows that reached a phase, by phase."
        )
    )
    errors: Counter = field(
        default_factory=lambda: Counter("argo_workflows_error_count", "Reconciles that failed, by cause.")
    )
    operation_duration: Histogram = field(
        default_factory=lambda: Histogram(
            "argo_workflows_operation_duration_seconds",
            "Time of one reconcile (engine step and writes).",
            bounds=STEP_BUCKETS,
        )
    )
    pods_created: Counter = field(
        default_factory=lambda: Counter("sluice_controller_pods_created_total", "Pods created.")
    )
    pods_already_existed: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_pods_already_existed_total", "Pod creations answered AlreadyExists (success)."
        )
    )
    pods_deleted: Counter = field(
        default_factory=lambda: Counter("sluice_controller_pods_deleted_total", "Pods deleted (pod GC).")
    )
    status_conflicts: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_status_conflicts_total", "Status writes refused for a stale resourceVersion."
        )
    )
    status_too_large: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_status_too_large_total",
            "Workflows ended in Error because their status could not be stored (over MAX_WORKFLOW_SIZE "
            "compressed, or refused by the API server for its size).",
        )
    )
    cache_checks: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_cache_checks_total", "Informer caches compared with a fresh list, by resource."
        )
    )
    cache_drift: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_cache_drift_total",
            "Objects an informer cache had wrong (missing, extra, stale) when compared with a fresh list; "
            "each check that finds some relists that informer.",
        )
    )
    step_delay: Histogram = field(
        default_factory=lambda: Histogram(
            "sluice_controller_step_delay_seconds",
            "From an observed change (pod or task result event) to the reconcile that acted on it.",
            bounds=STEP_BUCKETS,
        )
    )
    engine_seconds: Histogram = field(
        default_factory=lambda: Histogram(
            "sluice_controller_engine_step_seconds", "Time inside workflow.engine.step.", bounds=STEP_BUCKETS
        )
    )
    events_dropped: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_events_dropped_total",
            "Kubernetes Events dropped because too many were waiting to be sent (controller/event_sender.py).",
        )
    )
    events_filtered: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_events_filtered_total",
            "Kubernetes Events not sent, by rule (`spam`: over the per-workflow limit; "
            "controller/event_correlator.py).",
        )
    )
    events_merged: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_events_merged_total",
            "Kubernetes Events folded into another, by rule (`combined`: into an Event of similar ones; "
            "`counted`: a repeat, as a count; `coalesced`: into a write still waiting to be sent).",
        )
    )
    leader: Gauge = field(
        default_factory=lambda: Gauge(
            "sluice_controller_leader", "1 while this replica holds the leader Lease."
        )
    )
    # Argo's argo_workflows_k8s_request_total counts the same thing: benchmarks/bench_scale.py reads both.
    k8s_requests: Counter = field(
        default_factory=lambda: Counter(
            "sluice_controller_k8s_requests_total",
            "Requests sent to the Kubernetes API server, by verb (GET, WATCH, POST, PUT, PATCH, DELETE) and "
            "resource (`pods`, `workflows/status`, `events`, ...).",
        )
    )

    # The series templates declare (metrics.prometheus), after the controller's own.
    custom: CustomMetrics = field(default_factory=CustomMetrics)

    # Called before each scrape (the workflow gauge counts the informer's cache then, not on every event).
    before_render: Callable[[], None] | None = None

    def render(self) -> str:
        if self.before_render is not None:
            self.before_render()
        return render(
            self.gauge,
            self.workers_busy,
            self.queue_depth,
            self.queue_adds,
            self.total,
            self.errors,
            self.operation_duration,
            self.pods_created,
            self.pods_already_existed,
            self.pods_deleted,
            self.status_conflicts,
            self.status_too_large,
            self.cache_checks,
            self.cache_drift,
            self.step_delay,
            self.engine_seconds,
            self.events_dropped,
            self.events_filtered,
            self.events_merged,
            self.leader,
            self.k8s_requests,
        ) + "".join(line + "\n" for line in self.custom.render())
