"""Template and the two composite bodies that call other templates: steps and DAG."""

from __future__ import annotations

from workflow.types.artifacts import ArtifactLocation, Metadata
from workflow.types.base import JSON, ArgoStruct, IntOrString, Plugin
from workflow.types.control import ContinueOn, LifecycleHooks, RetryStrategy, Sequence, TemplateRef
from workflow.types.k8s import (
    Affinity,
    Container,
    HostAlias,
    PodResourceClaim,
    PodSecurityContext,
    ResourceRequirements,
    Toleration,
    Volume,
)
from workflow.types.leaf import (
    HTTP,
    ContainerSetTemplate,
    Data,
    ResourceTemplate,
    ScriptTemplate,
    SuspendTemplate,
    UserContainer,
)
from workflow.types.params import Arguments, Inputs, Outputs
from workflow.types.sync import Memoize, Metrics, Synchronization


class ExecutorConfig(ArgoStruct):
    service_account_name: str | None = None


class WorkflowStep(ArgoStruct):
    """One step of a step group (`steps[i][j]`)."""

    name: str | None = None
    template: str | None = None
    inline: Template | None = None
    arguments: Arguments | None = None
    template_ref: TemplateRef | None = None
    with_items: list[JSON] | None = None
    with_param: str | None = None
    with_sequence: Sequence | None = None
    when: str | None = None
    continue_on: ContinueOn | None = None
    on_exit: str | None = None
    hooks: LifecycleHooks | None = None


class DAGTask(ArgoStruct):
    name: str | None = None
    template: str | None = None
    inline: Template | None = None
    arguments: Arguments | None = None
    template_ref: TemplateRef | None = None
    dependencies: list[str] | None = None
    with_items: list[JSON] | None = None
    with_param: str | None = None
    with_sequence: Sequence | None = None
    when: str | None = None
    continue_on: ContinueOn | None = None
    on_exit: str | None = None
    depends: str | None = None
    hooks: LifecycleHooks | None = None


class DAGTemplate(ArgoStruct):
    target: str | None = None
    tasks: list[DAGTask] | None = None
    fail_fast: bool | None = None


class Template(ArgoStruct):
    """A unit of work. Exactly one of container, script, resource, suspend, steps, dag, containerSet,
    data, http or plugin is set (checked by validation, not by parsing)."""

    name: str | None = None
    inputs: Inputs | None = None
    outputs: Outputs | None = None
    node_selector: dict[str, str] | None = None
    affinity: Affinity | None = None
    metadata: Metadata | None = None
    daemon: bool | None = None
    steps: list[list[WorkflowStep]] | None = None
    container: Container | None = None
    container_set: ContainerSetTemplate | None = None
    script: ScriptTemplate | None = None
    resource: ResourceTemplate | None = None
    dag: DAGTemplate | None = None
    suspend: SuspendTemplate | None = None
    data: Data | None = None
    http: HTTP | None = None
    plugin: Plugin | None = None
    volumes: list[Volume] | None = None
    init_containers: list[UserContainer] | None = None
    sidecars: list[UserContainer] | None = None
    archive_location: ArtifactLocation | None = None
    active_deadline_seconds: IntOrString | None = None
    retry_strategy: RetryStrategy | None = None
    parallelism: int | None = None
    fail_fast: bool | None = None
    tolerations: list[Toleration] | None = None
    scheduler_name: str | None = None
    priority_class_name: str | None = None
    # Argo v3's pod priority (deprecated, removed in v4): accepted with a warning.
    priority: int | None = None
    service_account_name: str | None = None
    automount_service_account_token: bool | None = None
    executor: ExecutorConfig | None = None
    host_aliases: list[HostAlias] | None = None
    security_context: PodSecurityContext | None = None
    pod_spec_patch: str | None = None
    metrics: Metrics | None = None
    synchronization: Synchronization | None = None
    memoize: Memoize | None = None
    timeout: str | None = None
    # v4.1: maximum time the node may stay Pending (a duration string)
    pending_timeout: str | None = None
    annotations: dict[str, str] | None = None
    # v4.1: pod-level resources and DRA claims
    pod_resources: ResourceRequirements | None = None
    resource_claims: list[PodResourceClaim] | None = None
