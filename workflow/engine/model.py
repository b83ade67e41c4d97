"""The engine's inputs and outputs as plain data (docs/architecture.md, contract 1).

`step(workflow, observed, now) -> Decision(status, actions, requeue_after)`:

* `Observed` is what the world says: pods by node ID, task results, ConfigMaps, lock state, the
  memoization cache, resume/stop requests, the templates a `templateRef` may name, controller settings.
* `actions` are data the driver applies: create or delete a pod, terminate a running one, create or patch
  an object, emit an event, take or release a lock, save a cache entry.
* `requeue_after` is how many seconds from `now` the engine wants to look again even if nothing is
  observed (a backoff, a suspend duration, a deadline); None when only a new observation matters.

Everything is frozen dataclasses over JSON-ready values, so a driver can log, diff or serialise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.resolve.sources import (
    TemplateSource as TemplateSource,  # the one protocol, re-exported (workflow.engine)
)

# --- observations ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContainerObservation:
    """One container's state, as a pod's `status.containerStatuses[]` / `initContainerStatuses[]` says."""

    name: str
    state: str = "waiting"  # "waiting" | "running" | "terminated"
    exit_code: int | None = None
    reason: str = ""
    message: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    ready: bool = False
    image: str = ""  # spec image, so an image-pull message can name it even when the kubelet's does not


@dataclass(frozen=True, slots=True)
class PodObservation:
    """A pod of this workflow, found by its `workflows.argoproj.io/node-id` annotation."""

    name: str
    node_id: str
    phase: str = "Pending"  # Pending | Running | Succeeded | Failed | Unknown
    containers: tuple[ContainerObservation, ...] = ()
    init_containers: tuple[ContainerObservation, ...] = ()
    message: str = ""
    reason: str = ""
    host_node_name: str = ""
    pod_ip: str = ""
    started_at: str | None = None
    deleting: bool = False  # metadata.deletionTimestamp is set
    # Resource durations the driver measured (e.g. {"cpu": 3, "memory": 3}); optional.
    resources_duration: dict[str, int] | None = None

    def container(self, name: str) -> ContainerObservation | None:
        for c in self.containers:
            if c.name == name:
                return c
        return None


@dataclass(frozen=True, slots=True)
class TaskResultObservation:
    """A WorkflowTaskResult (named by node ID): the executor's outputs for that node."""

    node_id: str
    outputs: dict[str, Any] | None = None  # Argo's Outputs JSON: parameters, artifacts, result
    completed: bool = True  # label workflows.argoproj.io/report-outputs-completed
    progress: str = ""


@dataclass(frozen=True, slots=True)
class LockObservation:
    """The state of one lock (semaphore or mutex) across all workflows.

    `name` is Argo's lock key (`<ns>/ConfigMap/<cm>/<key>`, `<ns>/Mutex/<name>`, `<ns>/Database/<key>`),
    `limit` its capacity (1 for a mutex; a semaphore's from its ConfigMap), `holders` the holder keys
    (`<ns>/<wf>` or `<ns>/<wf>/<nodeID>`), `queue` the waiting holder keys in priority order (first
    served first); a holder absent from the queue may take a free slot.
    """

    name: str
    limit: int = 1
    holders: tuple[str, ...] = ()
    queue: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """One memoization entry: `data[<key>]` of a `workflows.argoproj.io/configmap-type: Cache` ConfigMap."""

    node_id: str
    outputs: dict[str, Any] | None
    creation_timestamp: str
    last_hit_timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class ResumeRequest:
    """`sluice resume` / `argo resume|stop|set` on suspend nodes.

    `node`: a node ID, name or display name; None means every active suspend node (and `spec.suspend`).
    `action`: "resume" marks the nodes Succeeded, "stop" marks them Failed.
    `parameters`: values for outputs with `valueFrom.supplied`.
    """

    node: str | None = None
    action: str = "resume"
    parameters: dict[str, str] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Controller settings that change decisions."""

    pod_name_version: str = "v2"
    instance_id: str = ""
    executor_image: str = "sluice/executor:latest"
    executor_image_pull_policy: str = ""
    # The executor's containers (init, wait) and main (workflow/engine/pods.py; the
    # controller ConfigMap's `executor`, `mainContainer`, `images`, `artifactRepository`). None: pods.py's defaults.
    executor_resources: dict[str, Any] | None = None
    executor_security_context: dict[str, Any] | None = None
    # `executor.env`: extra variables for init and wait (e.g. STORAGE_EMULATOR_HOST for a GCS endpoint);
    # they never replace the pod's own ARGO_* variables
    executor_env: tuple[dict[str, Any], ...] = ()
    main_container: dict[str, Any] | None = None  # strategically merged under every main container
    images: dict[str, dict[str, Any]] = field(default_factory=dict)  # image -> {entrypoint, cmd}
    require_command: bool = True  # False: the driver knows entrypoints itself (sluice run)
    # A processed template longer than this travels in a ConfigMap named after the pod instead of the
    # ARGO_TEMPLATE variable (Linux refuses an environment string over 128 KiB); None: never (sluice run)
    template_offload_bytes: int | None = 128 * 1024
    artifact_repository: dict[str, Any] | None = None  # the default; the workflow's resolved ref wins
    max_recursion_depth: int = 100
    recently_started_pod_seconds: float = 10.0
    default_requeue_seconds: float = 10.0
    node_events: bool = True
    workflow_events: bool = True
    # Extra transient-error regex (TRANSIENT_ERROR_PATTERN).
    transient_error_pattern: str = ""
    # How long a finished pod's WorkflowTaskResult may stay incomplete before the node stops waiting for
    # it (Argo's TASK_RESULT_TIMEOUT_DURATION, 10m; RECENTLY_DELETED_POD_DURATION, 2m, once the pod is gone).
    task_result_timeout_seconds: float = 600.0
    recently_deleted_pod_seconds: float = 120.0
    # The spec of the controller's `workflowDefaults`, joined under the Workflow and its WorkflowTemplate:
    # Workflow > WorkflowTemplate > defaults (workflow/engine/templates.py execution_spec).
    workflow_defaults: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Observed:
    pods: dict[str, PodObservation] = field(default_factory=dict)  # by node ID
    task_results: dict[str, TaskResultObservation] = field(default_factory=dict)  # by node ID
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)  # "<ns>/<name>" -> data
    locks: dict[str, LockObservation] = field(default_factory=dict)  # by lock key
    cache: dict[str, dict[str, CacheEntry]] = field(default_factory=dict)  # ConfigMap name -> key -> entry
    resume: tuple[ResumeRequest, ...] = ()
    templates: TemplateSource | None = None
    config: EngineConfig = field(default_factory=EngineConfig)
    # The driver's first step of this workflow since it started (a new controller or leader): what it
    # kept in memory only, the real-time metrics of running nodes, is emitted again.
    first_look: bool = False
    # The driver has run workflow.check's `check_object` on this very workflow (this spec, the config's
    # workflowDefaults under it, these templates) and it passed, so a new workflow's first step does not
    # check it again (workflow/engine/operate.py `_validate`). False: the engine checks it itself.
    checked: bool = False


# --- actions --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreatePod:
    """Create this pod (a Kubernetes Pod as a dict). AlreadyExists is success: the engine re-asks until it
    observes the pod."""

    node_id: str
    pod: dict[str, Any]

    @property
    def name(self) -> str:
        name: str = self.pod["metadata"]["name"]
        return name


@dataclass(frozen=True, slots=True)
class DeletePod:
    name: str
    node_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class TerminatePod:
    """Stop a running pod's containers: SIGTERM to `main` (and sidecars), SIGKILL after the grace period."""

    name: str
    node_id: str
    reason: str = ""
    grace_seconds: int = 30


@dataclass(frozen=True, slots=True)
class CreateObject:
    obj: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PatchObject:
    """A JSON merge patch on an object (the Workflow's own labels and annotations go this way)."""

    api_version: str
    kind: str
    namespace: str | None
    name: str
    patch: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeleteObject:
    api_version: str
    kind: str
    namespace: str | None
    name: str


@dataclass(frozen=True, slots=True)
class DeleteCollection:
    api_version: str
    kind: str
    namespace: str | None
    label_selector: str


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str
    node_id: str | None = None
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AcquireLock:
    """Ask the driver's lock manager for a slot; the engine proceeds once the holder is observed."""

    lock: str
    holder: str
    limit: int = 1
    priority: int = 0


@dataclass(frozen=True, slots=True)
class ReleaseLock:
    lock: str
    holder: str


@dataclass(frozen=True, slots=True)
class SaveCache:
    """Upsert `data[key]` of the Cache ConfigMap `config_map` (created with the Cache label if missing)."""

    namespace: str | None
    config_map: str
    key: str
    entry: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EmitMetric:
    """A custom metric from `metrics.prometheus` for the driver's registry, emitted
    when a node (or the workflow) completes. A real-time gauge is also emitted when it starts, with
    `since` (its start stamp): the driver reports the seconds since then until a final value replaces
    it. Counters add `value`; gauges Set/Add/Sub it; histograms observe it into `buckets`."""

    name: str
    help: str
    kind: str  # "counter" | "gauge" | "histogram"
    value: float = 0.0
    labels: tuple[tuple[str, str], ...] = ()
    operation: str = "Set"
    buckets: tuple[float, ...] = ()
    since: str | None = None


Action = (
    CreatePod
    | DeletePod
    | TerminatePod
    | CreateObject
    | PatchObject
    | DeleteObject
    | DeleteCollection
    | Event
    | AcquireLock
    | ReleaseLock
    | SaveCache
    | EmitMetric
)


@dataclass(frozen=True, slots=True)
class Decision:
    """What one engine step decided: the new `status` (Argo's JSON form), what to do, when to look again."""

    status: dict[str, Any]
    actions: list[Action] = field(default_factory=list)
    requeue_after: float | None = None

    @property
    def phase(self) -> str:
        return self.status.get("phase") or ""

    @property
    def nodes(self) -> dict[str, dict[str, Any]]:
        return self.status.get("nodes") or {}

    def pods_to_create(self) -> list[CreatePod]:
        return [a for a in self.actions if isinstance(a, CreatePod)]
