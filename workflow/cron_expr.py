"""A CronWorkflow's `when` and `stopStrategy.expression`, evaluated as Argo's cron controller does. Pure:
the time `now()` returns is passed in.

Both see the variables `cronworkflow.name`, `.namespace`, `.labels.<k>`, `.annotations.<k>`, `.succeeded`,
`.failed` and `.lastScheduledTime` (nil before the first run, a time otherwise, so that
`(now() - cronworkflow.lastScheduledTime).Seconds()` works).

* `when` is a template: its tags are substituted first (`{{= }}` expressions included), then the
  text is decided with govaluate's rules, as a step's `when` (workflow/templating.py `when_holds`).
* `stopStrategy.expression` is one expr-lang expression that must give a boolean.

Any failure is a `CronExpressionError` whose text the controller shows in the SpecError condition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflow.cron_schedule import parse_stamp
from workflow.expr import ExpressionError, compile_expr, expand_scope
from workflow.templating import when_holds


class CronExpressionError(ValueError):
    pass


def cron_scope(cron: dict[str, Any], succeeded: int, failed: int) -> dict[str, Any]:
    """The flat scope of `cronworkflow.*`, with the counts the caller has brought up to date."""
    meta, status = cron.get("metadata") or {}, cron.get("status") or {}
    scope: dict[str, Any] = {
        "cronworkflow.name": meta.get("name", ""),
        "cronworkflow.namespace": meta.get("namespace", ""),
        "cronworkflow.labels": dict(meta.get("labels") or {}),
        "cronworkflow.annotations": dict(meta.get("annotations") or {}),
        "cronworkflow.succeeded": succeeded,
        "cronworkflow.failed": failed,
        "cronworkflow.lastScheduledTime": parse_stamp(status.get("lastScheduledTime")),
    }
    for kind in ("labels", "annotations"):  # `{{cronworkflow.labels.team}}` as a simple tag too
        for k, v in (meta.get(kind) or {}).items():
            scope[f"cronworkflow.{kind}.{k}"] = v
    return scope


def when_allows(cron: dict[str, Any], scope: dict[str, Any], now: datetime) -> bool:
    """True when `spec.when` is absent or holds at `now`."""
    source = (cron.get("spec") or {}).get("when")
    if not isinstance(source, str) or not source.strip():
        return True
    try:
        return when_holds(source, scope, now=now)
    except ExpressionError as exc:
        raise CronExpressionError(f"failed to evaluate cron workflow when expression: {exc}") from None


def stop_holds(cron: dict[str, Any], scope: dict[str, Any], now: datetime) -> bool:
    """True when `spec.stopStrategy.expression` is set and holds: the CronWorkflow stops for good."""
    stop = (cron.get("spec") or {}).get("stopStrategy")
    source = stop.get("expression") if isinstance(stop, dict) else None
    if not isinstance(source, str) or not source.strip():
        return False
    try:
        result = compile_expr(source).run(expand_scope(scope), now=now)
    except ExpressionError as exc:
        raise CronExpressionError(f"failed to evaluate stop expression: {exc}") from None
    if not isinstance(result, bool):
        raise CronExpressionError(f"stop expression must give a boolean, got {result!r}")
    return result
