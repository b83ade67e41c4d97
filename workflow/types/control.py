"""Control-flow building blocks shared by steps, DAG tasks and templates."""

from __future__ import annotations

from workflow.types.base import ArgoStruct, IntOrString
from workflow.types.params import Arguments


class TemplateRef(ArgoStruct):
    """A template of a (Cluster)WorkflowTemplate, called from a step, task, hook or exit handler."""

    name: str | None = None
    template: str | None = None
    cluster_scope: bool | None = None


class ContinueOn(ArgoStruct):
    error: bool | None = None
    failed: bool | None = None


class Sequence(ArgoStruct):
    """withSequence: `count` or `end` (not both), `start`, printf `format`. Numbers may be strings."""

    count: IntOrString | None = None
    start: IntOrString | None = None
    end: IntOrString | None = None
    format: str | None = None


class LifecycleHook(ArgoStruct):
    """A hook (`hooks.<name>`): a template to run when `expression` turns true, or on exit (`exit`)."""

    template: str | None = None
    arguments: Arguments | None = None
    template_ref: TemplateRef | None = None
    expression: str | None = None


LifecycleHooks = dict[str, LifecycleHook]


class Backoff(ArgoStruct):
    duration: str | None = None
    factor: IntOrString | None = None
    max_duration: str | None = None
    cap: str | None = None


class RetryNodeAntiAffinity(ArgoStruct):
    """Retry on a different host than the failed attempts (no fields)."""


class RetryAffinity(ArgoStruct):
    node_anti_affinity: RetryNodeAntiAffinity | None = None


class RetryStrategy(ArgoStruct):
    limit: IntOrString | None = None
    # Always | OnFailure | OnError | OnTransientError
    retry_policy: str | None = None
    backoff: Backoff | None = None
    affinity: RetryAffinity | None = None
    expression: str | None = None
