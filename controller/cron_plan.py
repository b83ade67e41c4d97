"""What the cron loop (controller/cron.py) does for one CronWorkflow at `now`: pure, so every decision
is unit-tested on an injected clock (tests/unit/test_controller_cron_plan.py).

`plan(cron, children, now, cursor)` reads the CronWorkflow, the Workflows labelled as its children
and the loop's in-memory cursor (hits up to it are handled: skipped hits are not written to
`lastScheduledTime`, which, as in Argo, is the time of the last run). It evaluates `stopStrategy` and
`when` (workflow/cron_expr.py), takes the core's decision (workflow/cron_schedule.py `tick`) and
returns the writes: the child to create, the children to terminate (Replace) and delete (history
limits), and the whole new status (`active`, `lastScheduledTime`, `succeeded`, `failed`, `phase`,
conditions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workflow.cron_expr import CronExpressionError, cron_scope, stop_holds, when_allows
from workflow.cron_schedule import Child, child_workflow, outcomes, parse_stamp, tick
from workflow.engine.clock import stamp
from workflow.labels import LABEL_CRON_COMPLETED
from workflow.types import API_VERSION

ARGO = API_VERSION
SPEC_ERROR = "SpecError"
SUBMISSION_ERROR = "SubmissionError"


@dataclass
class Plan:
    create: dict[str, Any] | None = None  # the child Workflow to create
    terminate: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)  # the status to store (if it differs)
    label_completed: bool = False  # stopped: label the CronWorkflow completed
    cursor: datetime | None = None  # hits up to here are handled
    wake: datetime | None = None
    skipped: str = ""


def reference(wf: dict[str, Any]) -> dict[str, Any]:
    """A child as `status.active` lists it (an ObjectReference, as Argo writes it)."""
    meta = wf.get("metadata") or {}
    ref = {
        "apiVersion": ARGO,
        "kind": "Workflow",
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
    }
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    return ref


def child_of(wf: dict[str, Any]) -> Child:
    meta, status = wf.get("metadata") or {}, wf.get("status") or {}
    created = parse_stamp(meta.get("creationTimestamp")) or datetime.min.replace(tzinfo=UTC)
    return Child(
        name=meta.get("name", ""),
        phase=status.get("phase") or "",
        created=created,
        finished=parse_stamp(status.get("finishedAt")),
    )


def set_condition(status: dict[str, Any], kind: str, message: str | None) -> None:
    """Set (with `message`) or clear (None) the condition `kind` in `status.conditions`."""
    kept = [c for c in status.get("conditions") or () if isinstance(c, dict) and c.get("type") != kind]
    if message is not None:
        kept.append({"type": kind, "status": "True", "message": message})
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def plan(
    cron: dict[str, Any],
    children: list[dict[str, Any]],
    now: datetime,
    cursor: datetime | None = None,
    spec_problems: str = "",
) -> Plan:
    """The writes for `cron` at `now` (see the module doc). `spec_problems`: what the core's check of the
    CronWorkflow found (it is then a SpecError and nothing runs)."""
    meta, status = cron.get("metadata") or {}, dict(cron.get("status") or {})
    kids = [child_of(wf) for wf in children]
    by_name = {(wf.get("metadata") or {}).get("name"): wf for wf in children}
    succeeded, failed = outcomes(status, kids)
    scope = cron_scope(cron, succeeded, failed)
    problems: list[str] = [spec_problems] if spec_problems else []
    stop_now = False
    if status.get("phase") != "Stopped" and not problems:
        try:
            stop_now = stop_holds(cron, scope, now)
        except CronExpressionError as exc:
            problems.append(str(exc))

    def when() -> bool:
        try:
            return when_allows(cron, scope, now)
        except CronExpressionError as exc:
            problems.append(str(exc))
            return False

    view = cron
    last = parse_stamp(status.get("lastScheduledTime"))
    if cursor is not None and (last is None or cursor > last):
        view = {**cron, "status": {**status, "lastScheduledTime": stamp(cursor)}}
    if problems:
        view = {**view, "spec": {**(view.get("spec") or {}), "suspend": True}}  # a bad spec never runs
    decision = tick(view, kids, now, when_allows=when, stop_now=stop_now)
    if decision.error:
        problems.append(decision.error)
    out = Plan(
        terminate=decision.terminate,
        delete=decision.delete,
        cursor=decision.cursor,
        wake=decision.wake,
        skipped=decision.skipped,
    )
    active = [reference(by_name[n]) for n in decision.active if n in by_name]
    if decision.create is not None and decision.scheduled is not None and not problems:
        out.create = child_workflow(cron, decision.scheduled)
        active.append(reference(out.create))
    if decision.scheduled is not None and (decision.create is not None or decision.skipped == "exists"):
        status["lastScheduledTime"] = stamp(decision.scheduled)
    status.update(active=active, succeeded=decision.succeeded, failed=decision.failed)
    status["phase"] = "Stopped" if decision.stopped else "Active"
    out.label_completed = decision.stopped and (meta.get("labels") or {}).get(LABEL_CRON_COMPLETED) != "true"
    set_condition(status, SPEC_ERROR, "; ".join(problems) if problems else None)
    out.status = status
    return out
