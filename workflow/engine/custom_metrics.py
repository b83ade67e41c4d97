"""Custom metrics from `metrics.prometheus` as EmitMetric actions.

Run once per step, after the tree was executed (operate.py), like Argo's computeMetrics: the phases the
step started with are compared with the ones it ends with. A node that completed in this step emits its
template's metrics with the metric variables (`status`, `duration`, `exitCode`, `inputs.parameters.*`,
`outputs.parameters.*`, `outputs.result`, `resourcesDuration.*`, `retries`); a node created in this step
starts its template's real-time gauges. The workflow's own `spec.metrics` do the same with
`workflow.status` and `workflow.duration` when the workflow starts and completes. On the driver's first
look at a workflow (`Observed.first_look`: a new controller) the running nodes' real-time gauges start
again, from their own start, since the driver kept them in memory only.

A metric whose `when` is false is skipped; one that cannot be computed (its value is not a number, its
`when` does not evaluate) is reported in the workflow's `MetricsError` condition, as Argo does, and the
run goes on.
"""

from __future__ import annotations

import re
from typing import Any

from workflow.engine import clock, subst
from workflow.engine.defs import COMPLETED, EngineError, fulfilled
from workflow.engine.model import EmitMetric
from workflow.engine.state import Operation
from workflow.engine.templates import Templates, node_template

# Node types that are not a template's own node: groups, containerSet members.
NOT_TEMPLATE_NODES = ("StepGroup", "TaskGroup", "Container")
ATTEMPT = re.compile(r"\(\d+\)$")  # a retry's attempt `name(N)`: its template's metrics belong to the parent


def uses_metrics(spec: dict[str, Any], status: dict[str, Any]) -> bool:
    """Whether any template this workflow can reach declares metrics (cheap: no node is looked at)."""
    if _prometheus(spec):
        return True
    given = status.get("storedTemplates")
    stored: dict[str, Any] = given if isinstance(given, dict) else {}
    return any(
        isinstance(t, dict) and _prometheus(t) for t in [*(spec.get("templates") or ()), *stored.values()]
    )


def emit(op: Operation, spec: dict[str, Any]) -> None:
    old_phase = (op.workflow.get("status") or {}).get("phase") or ""
    again = op.observed.first_look
    if not again and not op.nodes.changed and op.status.get("phase") == old_phase:
        return  # no node was created or changed: nothing started or completed (the common step)
    if not uses_metrics(spec, op.status):
        return
    templates = Templates(op, spec)
    before = (op.workflow.get("status") or {}).get("nodes") or {}
    # A node nobody wrote in this step is the one it started with (the store copies on write): it can
    # have neither completed nor started now, so only the written ones are compared, unless a first look
    # starts every running node's real-time gauges again. In the store's order, as actions must be.
    written = op.nodes.written
    nodes = op.nodes.items() if again else ((i, n) for i, n in op.nodes.items() if i in written)
    errors: list[str] = []
    for node_id, node in nodes:
        old = before.get(node_id)
        done_now = fulfilled(node) and (old is None or not fulfilled(old))
        started_now = (old is None or again) and not fulfilled(node)
        if not (done_now or started_now) or not _template_node(op, node):
            continue
        metrics = _prometheus(node_template(templates, node))
        if not metrics:
            continue
        if done_now:
            scope = _node_scope(op, node)
            for metric in metrics:
                _emit(op, metric, scope, errors)
        else:
            _start_realtime(op, metrics, node.get("startedAt"), errors)
    _workflow_metrics(op, spec, errors)
    if errors:
        _metrics_error(op, errors)


def _workflow_metrics(op: Operation, spec: dict[str, Any], errors: list[str]) -> None:
    metrics = _prometheus(spec)
    if not metrics:
        return
    old_phase = ((op.workflow.get("status") or {}).get("phase")) or ""
    phase = op.status.get("phase") or ""
    if phase in COMPLETED and old_phase not in COMPLETED:
        scope = {"workflow.status": phase, "workflow.duration": _seconds(op.status)}
        for metric in metrics:
            _emit(op, metric, scope, errors)
    elif phase == "Running" and (old_phase in ("", "Pending") or op.observed.first_look):
        _start_realtime(op, metrics, op.status.get("startedAt"), errors)


def _template_node(op: Operation, node: dict[str, Any]) -> bool:
    if node.get("type") in NOT_TEMPLATE_NODES or node.get("phase") in ("Skipped", "Omitted"):
        return False
    name = str(node.get("name") or "")
    if ATTEMPT.search(name):
        parent = op.nodes.by(name[: name.rfind("(")])
        if parent is not None and parent.get("type") == "Retry":
            return False
    return True


def _prometheus(holder: dict[str, Any]) -> list[dict[str, Any]]:
    metrics = holder.get("metrics")
    items = metrics.get("prometheus") if isinstance(metrics, dict) else None
    return [m for m in items or () if isinstance(m, dict) and m.get("name")]


def _seconds(holder: dict[str, Any]) -> str:
    start = clock.parse_stamp(holder.get("startedAt"))
    end = clock.parse_stamp(holder.get("finishedAt"))
    if start is None or end is None:
        return "0"
    return f"{clock.seconds_between(start, end):.6f}"


def _node_scope(op: Operation, node: dict[str, Any]) -> dict[str, Any]:
    scope: dict[str, Any] = {"status": node.get("phase") or "", "duration": _seconds(node)}
    outputs: dict[str, Any] = node["outputs"] if isinstance(node.get("outputs"), dict) else {}
    if outputs.get("exitCode") is not None:
        scope["exitCode"] = str(outputs["exitCode"])
    if outputs.get("result") is not None:
        scope["outputs.result"] = str(outputs["result"])
    for param in outputs.get("parameters") or ():
        if isinstance(param, dict) and param.get("name") and param.get("value") is not None:
            scope[f"outputs.parameters.{param['name']}"] = str(param["value"])
    inputs: dict[str, Any] = node["inputs"] if isinstance(node.get("inputs"), dict) else {}
    for param in inputs.get("parameters") or ():
        if isinstance(param, dict) and param.get("name") and param.get("value") is not None:
            scope[f"inputs.parameters.{param['name']}"] = str(param["value"])
    for resource, amount in (node.get("resourcesDuration") or {}).items():
        scope[f"resourcesDuration.{resource}"] = str(amount)
    retries = 0
    if node.get("type") == "Retry":
        retries = max(len(node.get("children") or ()) - 1, 0)
    scope["retries"] = str(retries)
    return scope


def _labels(metric: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (str(label.get("key")), str(label.get("value") if label.get("value") is not None else ""))
        for label in metric.get("labels") or ()
        if isinstance(label, dict) and label.get("key")
    )


def _emit(op: Operation, metric: dict[str, Any], scope: dict[str, Any], errors: list[str]) -> None:
    name = str(metric["name"])
    try:
        rendered = subst.render(metric, op.globals, scope)
        when = rendered.get("when")
        if isinstance(when, str) and when.strip() and not subst.when(when):
            return
        kind = next(k for k in ("counter", "gauge", "histogram") if isinstance(rendered.get(k), dict))
        body = rendered[kind]
        value = _number(body.get("value"), name)
        buckets = (
            tuple(sorted(_number(b, name) for b in body.get("buckets") or ())) if kind == "histogram" else ()
        )
    except (EngineError, StopIteration) as exc:
        errors.append(f"metric '{name}': {exc or 'no gauge, counter or histogram'}")
        return
    operation = str(body.get("operation") or "Set") if kind == "gauge" else "Set"
    op.act(
        EmitMetric(
            name=name,
            help=str(rendered.get("help") or ""),
            kind=kind,
            value=value,
            labels=_labels(rendered),
            operation=operation,
            buckets=buckets,
        )
    )


def _start_realtime(op: Operation, metrics: list[dict[str, Any]], since: Any, errors: list[str]) -> None:
    """Real-time gauges count from the node's (or workflow's) start; only `duration` can be real time
    (validation refuses anything else), so the driver needs just the start."""
    if not isinstance(since, str) or not since:
        return
    for metric in metrics:
        gauge = metric.get("gauge")
        if not isinstance(gauge, dict) or gauge.get("realtime") is not True:
            continue
        try:
            labels = _labels(subst.render(metric, op.globals, {}))
        except EngineError as exc:
            errors.append(f"metric '{metric['name']}': {exc}")
            continue
        op.act(
            EmitMetric(
                name=str(metric["name"]),
                help=str(metric.get("help") or ""),
                kind="gauge",
                labels=labels,
                since=since,
            )
        )


def _number(value: Any, name: str) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise EngineError(f"value {str(value)[:64]!r} is not a number") from None


def _metrics_error(op: Operation, errors: list[str]) -> None:
    """Argo's MetricsError condition: the messages appended with ", "."""
    conditions = list(op.status.get("conditions") or ())
    for i, cond in enumerate(conditions):
        if cond.get("type") == "MetricsError":
            old = cond.get("message") or ""
            conditions[i] = {**cond, "message": ", ".join([old, *errors]) if old else ", ".join(errors)}
            break
    else:
        conditions.append({"type": "MetricsError", "status": "True", "message": ", ".join(errors)})
    op.status["conditions"] = conditions
