"""Workflow status as Argo writes it: WorkflowStatus, NodeStatus and their parts.

Times are RFC 3339 strings, exactly as on the wire (Argo writes `null` for an unset time, which parses
as None). Nodes are keyed by node ID.
"""

from __future__ import annotations

from workflow.types.artifacts import ArtifactRepositoryRefStatus
from workflow.types.base import ArgoStruct, field
from workflow.types.control import TemplateRef
from workflow.types.k8s import Volume
from workflow.types.params import Inputs, Outputs
from workflow.types.spec import WorkflowSpec
from workflow.types.template import Template


class Condition(ArgoStruct):
    type: str | None = None
    status: str | None = None
    message: str | None = None


class NodeFlag(ArgoStruct):
    hooked: bool | None = None
    retried: bool | None = None


class MemoizationStatus(ArgoStruct):
    hit: bool = False
    key: str = ""
    cache_name: str = ""


class NodeSynchronizationStatus(ArgoStruct):
    waiting: str | None = None


class NodeStatus(ArgoStruct, kw_only=True):
    id: str
    name: str
    display_name: str | None = None
    # Pod | Container | Steps | StepGroup | DAG | TaskGroup | Retry | Skipped | Suspend | HTTP | Plugin
    type: str
    template_name: str | None = None
    template_ref: TemplateRef | None = None
    template_scope: str | None = None
    # Pending | Running | Succeeded | Skipped | Failed | Error | Omitted
    phase: str | None = None
    boundary_id: str | None = field("boundaryID")
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    estimated_duration: int | None = None
    progress: str | None = None
    resources_duration: dict[str, int] | None = None
    pod_ip: str | None = field("podIP")
    daemoned: bool | None = None
    node_flag: NodeFlag | None = None
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    children: list[str] | None = None
    outbound_nodes: list[str] | None = None
    host_node_name: str | None = None
    memoization_status: MemoizationStatus | None = None
    synchronization_status: NodeSynchronizationStatus | None = None
    task_result_synced: bool | None = None
    # v4.1 automatic pod restarts
    failed_pod_restarts: int | None = None
    restarting_pod_uid: str | None = field("restartingPodUID")


class SemaphoreHolding(ArgoStruct):
    semaphore: str | None = None
    holders: list[str] | None = None


class SemaphoreStatus(ArgoStruct):
    holding: list[SemaphoreHolding] | None = None
    waiting: list[SemaphoreHolding] | None = None


class MutexHolding(ArgoStruct):
    mutex: str | None = None
    holder: str | None = None


class MutexStatus(ArgoStruct):
    holding: list[MutexHolding] | None = None
    waiting: list[MutexHolding] | None = None


class SynchronizationStatus(ArgoStruct):
    semaphore: SemaphoreStatus | None = None
    mutex: MutexStatus | None = None


class ArtGCStatus(ArgoStruct):
    strategies_processed: dict[str, bool] | None = None
    pods_recouped: dict[str, bool] | None = None
    not_specified: bool | None = None


class WorkflowStatus(ArgoStruct):
    # "" | Pending | Running | Succeeded | Failed | Error
    phase: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    estimated_duration: int | None = None
    progress: str | None = None
    message: str | None = None
    # base64 of gzip'ed JSON nodes (see workflow.types.compress.decode_compressed_nodes)
    compressed_nodes: str | None = None
    nodes: dict[str, NodeStatus] | None = None
    offload_node_status_version: str | None = None
    stored_templates: dict[str, Template] | None = None
    persistent_volume_claims: list[Volume] | None = None
    outputs: Outputs | None = None
    conditions: list[Condition] | None = None
    resources_duration: dict[str, int] | None = None
    stored_workflow_template_spec: WorkflowSpec | None = None
    synchronization: SynchronizationStatus | None = None
    artifact_repository_ref: ArtifactRepositoryRefStatus | None = None
    artifact_gc_status: ArtGCStatus | None = field("artifactGCStatus")
    # Legacy (v3.5): read only; per-node taskResultSynced replaced it.
    task_results_completion_status: dict[str, bool] | None = None
