"""CronWorkflow checks: schedules, timezone, policies, when and stopStrategy."""

from __future__ import annotations

import zoneinfo
from typing import Any

from workflow.errors import child
from workflow.validate.context import Ctx
from workflow.validate.cronspec import CRD_PATTERN, schedule_error
from workflow.validate.specfields import check_label_values
from workflow.validate.tags import check_expression, check_tags
from workflow.validate.util import get_list, get_map

CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace", "")
MAX_NAME = 52


def timezone_error(name: str) -> str | None:
    if not name:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        return f'invalid timezone "{name}": {exc}'
    return None


def validate_cron(ctx: Ctx, spec: dict[str, Any], path: str) -> None:
    schedules = get_list(spec, "schedules")  # v3's `schedule` is already in it (workflow/parse/normalise.py)
    items: list[tuple[str, Any]] = [
        (child(child(path, "schedules"), i), s) for i, s in enumerate(schedules or [])
    ]
    if not items:
        ctx.error(None, child(path, "schedules"), "cron workflow must have at least one schedule")
    for at, schedule in items:
        if not isinstance(schedule, str):
            continue
        problem, tz = schedule_error(schedule)
        if problem:
            ctx.error(None, at, f"cron schedule {schedule} is malformed: {problem}")
            continue
        if tz is not None:
            tz_problem = timezone_error(tz)
            if tz_problem:
                ctx.error(None, at, f"cron schedule {schedule} is malformed: {tz_problem}")
        if not CRD_PATTERN.match(schedule.strip()):
            ctx.error(
                None,
                at,
                f'cron schedule "{schedule}" does not match the pattern the CRD allows '
                "(five fields, a @descriptor or @every <duration>; set the time zone in spec.timezone)",
            )
    timezone = spec.get("timezone")
    if isinstance(timezone, str):
        problem = timezone_error(timezone)
        if problem:
            ctx.error(None, child(path, "timezone"), problem)
    policy = spec.get("concurrencyPolicy")
    if isinstance(policy, str) and policy not in CONCURRENCY_POLICIES:
        ctx.error(None, child(path, "concurrencyPolicy"), f"'{policy}' is not a valid concurrencyPolicy")
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int) and not isinstance(deadline, bool) and deadline < 0:
        ctx.error(None, child(path, "startingDeadlineSeconds"), "startingDeadlineSeconds must be positive")
    for field in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        value = spec.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            ctx.error(None, child(path, field), f"{field} must not be negative")
    when = spec.get("when")
    if isinstance(when, str) and when.strip():
        check_tags(ctx, None, when, child(path, "when"), None)
        if "{{" not in when:
            from workflow.validate.expressions import when_error

            problem = when_error(when)
            if problem:
                ctx.error(None, child(path, "when"), f"invalid 'when' expression: {problem}")
    # Labels put on every Workflow the cron creates: each value is checked, whatever it holds.
    check_label_values(
        ctx,
        get_map(get_map(spec, "workflowMetadata"), "labels"),
        child(child(path, "workflowMetadata"), "labels"),
        templated=False,
    )
    stop = get_map(spec, "stopStrategy")
    if stop is not None:
        check_expression(
            ctx,
            None,
            stop.get("expression"),
            child(child(path, "stopStrategy"), "expression"),
            "stopStrategy.expression",
        )


def check_name(ctx: Ctx, name: str | None) -> None:
    if isinstance(name, str) and len(name) > MAX_NAME:
        ctx.error(
            None,
            "metadata.name",
            f'cron workflow name "{name}" must not be more than {MAX_NAME} characters long (currently {len(name)})',
        )
