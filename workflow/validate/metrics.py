"""Custom Prometheus metrics (and the CRD's limits)."""

from __future__ import annotations

from typing import Any

from workflow.errors import child
from workflow.validate.context import Ctx, Job
from workflow.validate.util import METRIC_NAME_RE, get_list, get_map, get_str, named

MAX_METRICS = 100
GAUGE_OPERATIONS = ("Set", "Add", "Sub")
MAX_GAUGE_VALUE = 256


def check_metrics(ctx: Ctx, job: Job | None, metrics: dict[str, Any] | None, path: str) -> None:
    if metrics is None:
        return
    items = get_list(metrics, "prometheus")
    list_path = child(path, "prometheus")
    if items and len(items) > MAX_METRICS:
        ctx.error(job, list_path, f"too many metrics: {len(items)}, at most {MAX_METRICS}")
    for i, metric in named(items):
        _check_metric(ctx, job, metric, child(list_path, i))


def _check_metric(ctx: Ctx, job: Job | None, metric: dict[str, Any], at: str) -> None:
    name = get_str(metric, "name")
    if not METRIC_NAME_RE.match(name):
        ctx.error(
            job,
            child(at, "name"),
            f"metric name '{name}' is invalid. Metric names must contain alphanumeric characters or '_'",
        )
    for j, label in named(get_list(metric, "labels")):
        key = get_str(label, "key")
        if not METRIC_NAME_RE.match(key):
            ctx.error(
                job,
                child(child(child(at, "labels"), j), "key"),
                f"metric label '{key}' is invalid: keys may only contain alphanumeric characters or '_'",
            )
    if not get_str(metric, "help"):
        ctx.error(job, child(at, "help"), f"metric '{name}' must contain a help string under 'help: ' field")
    kinds = [k for k in ("gauge", "counter", "histogram") if metric.get(k) is not None]
    if not kinds:
        ctx.error(job, at, f"metric '{name}' error: metric must be one of: gauge, counter or histogram")
    elif len(kinds) > 1:
        ctx.error(job, at, f"metric '{name}' error: only one of gauge, counter or histogram can be defined")
    for kind in kinds:
        body = get_map(metric, kind)
        if body is None:
            continue
        value = get_str(body, "value")
        if not value:
            ctx.error(job, child(child(at, kind), "value"), f"metric '{name}' error: missing {kind}.value")
        if kind == "gauge":
            if len(value) > MAX_GAUGE_VALUE:
                ctx.error(
                    job,
                    child(child(at, kind), "value"),
                    f"metric '{name}' error: gauge.value must be at most {MAX_GAUGE_VALUE} characters",
                )
            if body.get("realtime") is True and "resourcesDuration." in value:
                ctx.error(
                    job,
                    child(child(at, kind), "value"),
                    f"metric '{name}' error: 'resourcesDuration.*' metrics cannot be used in real-time gauges",
                )
            operation = body.get("operation")
            if isinstance(operation, str) and operation and operation not in GAUGE_OPERATIONS:
                ctx.error(
                    job,
                    child(child(at, kind), "operation"),
                    f"metric '{name}' error: operation must be one of Set, Add, Sub",
                )
        if kind == "histogram" and not get_list(body, "buckets"):
            ctx.error(
                job, child(child(at, kind), "buckets"), f"metric '{name}' error: histogram must have buckets"
            )
