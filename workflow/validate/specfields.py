"""Spec-level fields that are not templates (and the CRD's rules for them)."""

from __future__ import annotations

import re
from typing import Any

from workflow.errors import child
from workflow.validate import artifacts, metrics
from workflow.validate.context import Ctx
from workflow.validate.durations import duration_error
from workflow.validate.leaf import check_pull_policies
from workflow.validate.tags import check_expression
from workflow.validate.templates import RETRY_POLICIES
from workflow.validate.util import LABEL_VALUE_RE, enum_message, get_list, get_map, get_str, key_child, named

POD_GC_STRATEGIES = ("", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess")
VOLUME_CLAIM_GC = ("", "OnWorkflowCompletion", "OnWorkflowSuccess")
SHUTDOWN = ("", "Terminate", "Stop")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
MAX_TEMPLATES = 200
LABEL_KEY_RE = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$"
)


def label_value_error(value: str) -> str | None:
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not LABEL_VALUE_RE.match(value):
        return (
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def check_label_values(ctx: Ctx, labels: dict[str, Any] | None, path: str, *, templated: bool) -> None:
    """Label values as Kubernetes accepts them. `templated`: a value holding `{{` is only known at runtime."""
    for key, value in (labels or {}).items():
        if not isinstance(value, str) or (templated and "{{" in value):
            continue
        problem = label_value_error(value)
        if problem:
            ctx.error(
                None, key_child(path, str(key)), f'invalid label value "{value}" for label "{key}": {problem}'
            )


def check_spec_fields(ctx: Ctx, spec: dict[str, Any], path: str) -> None:
    """The checks of the spec as the user wrote it (not of templates)."""
    templates = get_list(spec, "templates")
    if templates and len(templates) > MAX_TEMPLATES:
        ctx.error(
            None, child(path, "templates"), f"too many templates: {len(templates)}, at most {MAX_TEMPLATES}"
        )
    parallelism = spec.get("parallelism")
    if isinstance(parallelism, int) and not isinstance(parallelism, bool) and parallelism < 1:
        ctx.error(None, child(path, "parallelism"), "parallelism must be at least 1")
    _check_pod_gc(ctx, get_map(spec, "podGC"), child(path, "podGC"))
    _enum(
        ctx,
        get_map(spec, "volumeClaimGC"),
        "strategy",
        VOLUME_CLAIM_GC,
        child(child(path, "volumeClaimGC"), "strategy"),
    )
    _enum(ctx, spec, "shutdown", SHUTDOWN, child(path, "shutdown"))
    check_pull_policies(ctx, None, get_map(spec, "templateDefaults"), child(path, "templateDefaults"))
    _enum(
        ctx,
        get_map(spec, "artifactGC"),
        "strategy",
        artifacts.GC_STRATEGIES,
        child(child(path, "artifactGC"), "strategy"),
    )
    retry = get_map(spec, "retryStrategy")
    policy = retry.get("retryPolicy") if retry else None
    if isinstance(policy, str) and policy not in RETRY_POLICIES:
        ctx.error(
            None, child(child(path, "retryStrategy"), "retryPolicy"), f"{policy} is not a valid RetryPolicy"
        )
    if retry:
        check_expression(
            ctx,
            None,
            retry.get("expression"),
            child(child(path, "retryStrategy"), "expression"),
            "retryStrategy.expression",
        )
    if spec.get("podResources") is not None:
        artifacts.check_pod_resources(ctx, None, spec.get("podResources"), child(path, "podResources"))
    _check_plugins(ctx, get_list(spec, "executorPlugins"), child(path, "executorPlugins"))
    _check_workflow_metadata(ctx, get_map(spec, "workflowMetadata"), child(path, "workflowMetadata"))
    artifacts.check_synchronization(
        ctx, None, get_map(spec, "synchronization"), child(path, "synchronization")
    )
    metrics.check_metrics(ctx, None, get_map(spec, "metrics"), child(path, "metrics"))
    for i, tmpl in named(templates):
        at = child(child(path, "templates"), i)
        if tmpl.get("arguments") not in (None, {}):
            ctx.warn(
                None, child(at, "arguments"), "template.arguments is deprecated and its contents are ignored"
            )
        if tmpl.get("template") or tmpl.get("templateRef") is not None:
            ctx.warn(
                None,
                at,
                'Referencing/calling other templates directly on a "template" is deprecated; '
                'they should be referenced in a "steps" or a "dag" template',
            )


def _enum(ctx: Ctx, obj: dict[str, Any] | None, key: str, allowed: tuple[str, ...], at: str) -> None:
    value = obj.get(key) if obj else None
    if isinstance(value, str) and value not in allowed:
        ctx.error(None, at, enum_message(value, allowed))


def _check_pod_gc(ctx: Ctx, gc: dict[str, Any] | None, path: str) -> None:
    if gc is None:
        return
    strategy = gc.get("strategy")
    if isinstance(strategy, str) and strategy not in POD_GC_STRATEGIES:
        ctx.error(None, child(path, "strategy"), f"podGC.strategy unknown strategy '{strategy}'")
    selector = get_map(gc, "labelSelector")
    if selector is not None:
        problem = selector_error(selector)
        if problem:
            ctx.error(None, child(path, "labelSelector"), f"podGC.labelSelector invalid: {problem}")
    delay = gc.get("deleteDelayDuration")
    if isinstance(delay, str) and delay:
        problem = duration_error(delay)
        if problem:
            ctx.error(None, child(path, "deleteDelayDuration"), problem)


def selector_error(selector: dict[str, Any]) -> str | None:
    """metav1.LabelSelectorAsSelector's checks: valid keys and values, known operators, values rules."""
    for key, value in (get_map(selector, "matchLabels") or {}).items():
        if not LABEL_KEY_RE.match(str(key)):
            return f'invalid label key "{key}"'
        if isinstance(value, str) and label_value_error(value):
            return f'invalid label value: "{value}": {label_value_error(value)}'
    for _, expr in named(get_list(selector, "matchExpressions")):
        op = get_str(expr, "operator")
        values = get_list(expr, "values") or []
        if op not in SELECTOR_OPERATORS:
            return f'"{op}" is not a valid label selector operator'
        if op in ("In", "NotIn") and not values:
            return f"for '{op}' operators, values set can't be empty"
        if op in ("Exists", "DoesNotExist") and values:
            return f"values set must be empty for {op}"
        if not LABEL_KEY_RE.match(get_str(expr, "key")):
            return f'invalid label key "{get_str(expr, "key")}"'
    return None


def _check_plugins(ctx: Ctx, plugins: list[Any] | None, path: str) -> None:
    for i, plugin in named(plugins):
        at = child(path, i)
        if not get_str(get_map(plugin, "metadata"), "name"):
            ctx.error(
                None, child(child(at, "metadata"), "name"), "executor plugin metadata name is mandatory"
            )
        container = get_map(get_map(get_map(plugin, "spec"), "sidecar"), "container")
        if container is None:
            ctx.error(None, child(at, "spec"), "executor plugin needs spec.sidecar.container")
        elif not get_str(container, "image"):
            ctx.error(
                None,
                child(child(child(child(at, "spec"), "sidecar"), "container"), "image"),
                "executor plugin sidecar container image is required",
            )


def _check_workflow_metadata(ctx: Ctx, meta: dict[str, Any] | None, path: str) -> None:
    if meta is None:
        return
    check_label_values(ctx, get_map(meta, "labels"), child(path, "labels"), templated=True)
    for key, source in (get_map(meta, "labelsFrom") or {}).items():
        at = key_child(child(path, "labelsFrom"), str(key))
        if not isinstance(source, dict) or not get_str(source, "expression"):
            ctx.error(None, child(at, "expression"), f'labelsFrom "{key}": expression is required')
            continue
        check_expression(
            ctx, None, source.get("expression"), child(at, "expression"), "labelsFrom expression"
        )
