"""WorkflowSpec: the body shared by Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow."""

from __future__ import annotations

from workflow.types.artifacts import ArtifactRepositoryRef, Metadata, WorkflowLevelArtifactGC
from workflow.types.base import ArgoStruct, field
from workflow.types.control import LifecycleHooks, RetryStrategy
from workflow.types.k8s import (
    Affinity,
    Container,
    HostAlias,
    LabelSelector,
    LocalObjectReference,
    ObjectMeta,
    PersistentVolumeClaim,
    PodDisruptionBudgetSpec,
    PodDNSConfig,
    PodResourceClaim,
    PodSecurityContext,
    ResourceRequirements,
    Toleration,
    Volume,
)
from workflow.types.params import Arguments
from workflow.types.sync import Metrics, Synchronization
from workflow.types.template import ExecutorConfig, Template


class PodGC(ArgoStruct):
    # "" | OnPodCompletion | OnPodSuccess | OnWorkflowCompletion | OnWorkflowSuccess
    strategy: str | None = None
    label_selector: LabelSelector | None = None
    delete_delay_duration: str | None = None


class TTLStrategy(ArgoStruct):
    seconds_after_completion: int | None = None
    seconds_after_success: int | None = None
    seconds_after_failure: int | None = None


class VolumeClaimGC(ArgoStruct):
    # OnWorkflowCompletion | OnWorkflowSuccess
    strategy: str | None = None


class WorkflowTemplateRef(ArgoStruct):
    name: str | None = None
    cluster_scope: bool | None = None


class LabelValueFrom(ArgoStruct):
    expression: str


class WorkflowMetadata(ArgoStruct):
    """Labels and annotations copied onto the Workflow object at its first reconcile."""

    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    labels_from: dict[str, LabelValueFrom] | None = None


class Sidecar(ArgoStruct):
    container: Container | None = None
    automount_service_account_token: bool | None = None


class ExecutorPluginSpec(ArgoStruct):
    sidecar: Sidecar | None = None


class ExecutorPlugin(ArgoStruct):
    """v4.1 workflow-level executor plugin (`spec.executorPlugins[]`)."""

    metadata: ObjectMeta | None = None
    spec: ExecutorPluginSpec | None = None


class WorkflowSpec(ArgoStruct):
    templates: list[Template] | None = None
    entrypoint: str | None = None
    arguments: Arguments | None = None
    service_account_name: str | None = None
    automount_service_account_token: bool | None = None
    executor: ExecutorConfig | None = None
    volumes: list[Volume] | None = None
    volume_claim_templates: list[PersistentVolumeClaim] | None = None
    parallelism: int | None = None
    artifact_repository_ref: ArtifactRepositoryRef | None = None
    suspend: bool | None = None
    node_selector: dict[str, str] | None = None
    affinity: Affinity | None = None
    tolerations: list[Toleration] | None = None
    image_pull_secrets: list[LocalObjectReference] | None = None
    host_network: bool | None = None
    dns_policy: str | None = field("dnsPolicy")
    dns_config: PodDNSConfig | None = field("dnsConfig")
    on_exit: str | None = None
    ttl_strategy: TTLStrategy | None = field("ttlStrategy")
    active_deadline_seconds: int | None = None
    priority: int | None = None
    scheduler_name: str | None = None
    pod_gc: PodGC | None = field("podGC")
    pod_priority_class_name: str | None = None
    # Argo v3's pod priority (removed in v4.0): accepted with a warning.
    pod_priority: int | None = None
    host_aliases: list[HostAlias] | None = None
    security_context: PodSecurityContext | None = None
    pod_spec_patch: str | None = None
    pod_disruption_budget: PodDisruptionBudgetSpec | None = None
    metrics: Metrics | None = None
    # Stop | Terminate
    shutdown: str | None = None
    workflow_template_ref: WorkflowTemplateRef | None = None
    synchronization: Synchronization | None = None
    volume_claim_gc: VolumeClaimGC | None = field("volumeClaimGC")
    retry_strategy: RetryStrategy | None = None
    pod_metadata: Metadata | None = None
    template_defaults: Template | None = None
    archive_logs: bool | None = None
    hooks: LifecycleHooks | None = None
    workflow_metadata: WorkflowMetadata | None = None
    artifact_gc: WorkflowLevelArtifactGC | None = field("artifactGC")
    # v4.1
    executor_plugins: list[ExecutorPlugin] | None = None
    pod_resources: ResourceRequirements | None = None
    resource_claims: list[PodResourceClaim] | None = None
