"""CronWorkflow."""

from __future__ import annotations

from workflow.types.base import ArgoStruct
from workflow.types.k8s import ObjectMeta, ObjectReference
from workflow.types.spec import WorkflowSpec
from workflow.types.status import Condition


class StopStrategy(ArgoStruct):
    expression: str


class CronWorkflowSpec(ArgoStruct):
    workflow_spec: WorkflowSpec | None = None
    # Argo v3's single schedule (removed in v4.0): parsing moves it into `schedules` with a warning.
    schedule: str | None = None
    schedules: list[str] | None = None
    # Allow | Forbid | Replace
    concurrency_policy: str | None = None
    suspend: bool | None = None
    starting_deadline_seconds: int | None = None
    successful_jobs_history_limit: int | None = None
    failed_jobs_history_limit: int | None = None
    timezone: str | None = None
    workflow_metadata: ObjectMeta | None = None
    stop_strategy: StopStrategy | None = None
    when: str | None = None


class CronWorkflowStatus(ArgoStruct):
    active: list[ObjectReference] | None = None
    last_scheduled_time: str | None = None
    conditions: list[Condition] | None = None
    succeeded: int | None = None
    failed: int | None = None
    # Active | Stopped
    phase: str | None = None


class CronWorkflow(ArgoStruct):
    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta | None = None
    spec: CronWorkflowSpec | None = None
    status: CronWorkflowStatus | None = None
