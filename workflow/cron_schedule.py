"""When a CronWorkflow runs, and what its controller does at a tick. Pure: the
clock is passed in (`now`), so every policy is tested without waiting (tests/unit/test_cron_schedule.py).

Schedules are robfig/cron's (what Argo uses): five fields, descriptors (`@daily`, ...) and `@every
<duration>`, in `spec.timezone` (UTC when unset: the controller's zone is not part of the object).
Daylight saving follows robfig, which walks real time and reads the wall clock: a time in the skipped
hour does not happen that day (`30 2 * * *` in America/New_York skips the spring-forward day), a time
in the repeated hour happens twice (`30 1 * * *` runs at 01:30 EDT and again at 01:30 EST).

`tick(...)` is the cron controller's decision at `now`: the schedule hit due (the latest one after the
cursor, at most one catch-up run, only within `startingDeadlineSeconds` when late), whether `suspend`,
`when`, `stopStrategy` or `concurrencyPolicy` (Allow / Forbid / Replace) let it run, which children to
terminate (Replace) and delete (history limits), and when to wake next. The caller evaluates `when` and
`stopStrategy.expression` (tags and expressions) and passes their results, and performs the actions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflow.labels import ANN_SCHEDULED, LABEL_CRON
from workflow.validate.cronspec import schedule_error
from workflow.validate.durations import parse_duration

DONE = ("Succeeded", "Failed", "Error")
ON_TIME_SECONDS = 60.0  # a hit seen this late is on time (the controller's loop period and slack)
SEARCH_YEARS = 5  # as robfig: a schedule that matches nothing within five years never fires
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_NAMES = {
    3: {
        m: i + 1
        for i, m in enumerate(
            ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        )
    },
    4: {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


class ScheduleError(ValueError):
    """A schedule or timezone that cannot be used (the message is robfig's or zoneinfo's reason)."""


@dataclass(frozen=True)
class Schedule:
    """One parsed schedule: five sets of allowed values (and star flags), or a constant period."""

    text: str
    fields: tuple[frozenset[int], ...] = ()
    dom_star: bool = False
    dow_star: bool = False
    every: float | None = None  # seconds, for `@every`


def _field(text: str, index: int) -> tuple[frozenset[int], bool]:
    low, high = _BOUNDS[index]
    names = _NAMES.get(index, {})
    values: set[int] = set()
    star = False
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            start, end = low, high
            star = star or not step_text
        else:
            first, dash, last = base.partition("-")
            start = names[first.lower()] if first.lower() in names else int(first)
            if dash:
                end = names[last.lower()] if last.lower() in names else int(last)
            else:
                end = high if step_text else start
        values.update(range(start, end + 1, step))
    return frozenset(values), star


def parse(text: str) -> Schedule:
    """A schedule as robfig's ParseStandard reads it (after workflow/validate/cronspec.py accepts it)."""
    problem, tz = schedule_error(text)
    if problem:
        raise ScheduleError(problem)
    if tz is not None:
        raise ScheduleError("set the time zone in spec.timezone, not as a TZ= prefix")
    spec = DESCRIPTORS.get(text.strip(), text.strip())
    if spec.startswith("@every"):
        seconds = parse_duration(spec[len("@every") :].strip())
        return Schedule(text, every=max(1.0, float(round(seconds or 0))))
    parsed = [_field(f, i) for i, f in enumerate(spec.split())]
    return Schedule(text, tuple(p[0] for p in parsed), dom_star=parsed[2][1], dow_star=parsed[4][1])


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError, OSError) as exc:
        raise ScheduleError(f'invalid timezone "{name}": {exc}') from None


def _day_matches(s: Schedule, local: datetime) -> bool:
    if local.month not in s.fields[3]:
        return False
    dom = local.day in s.fields[2]
    dow = (local.isoweekday() % 7) in s.fields[4]
    # robfig: with either day field a plain '*', both must match; otherwise either may
    return (dom and dow) if (s.dom_star or s.dow_star) else (dom or dow)


def next_after(s: Schedule, after: datetime, tz: ZoneInfo) -> datetime | None:
    """The first time strictly after `after` (aware) when `s` fires in `tz`; None within five years."""
    if s.every is not None:
        return after + timedelta(seconds=s.every)
    t = after.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = after + timedelta(days=366 * SEARCH_YEARS)
    minutes = sorted(s.fields[0])
    while t < end:
        local = t.astimezone(tz)
        if not _day_matches(s, local):
            # jump to the next local midnight (real time), never backwards
            midnight = datetime(local.year, local.month, local.day, tzinfo=tz) + timedelta(days=1)
            jump = midnight.astimezone(UTC)
            t = jump if jump > t else t + timedelta(hours=1)
            continue
        if local.hour in s.fields[1]:
            for minute in minutes:
                if minute >= local.minute:
                    return t + timedelta(minutes=minute - local.minute)
        t += timedelta(minutes=60 - local.minute)  # the next wall-clock hour, in real time
    return None


def latest_due(schedules: list[Schedule], tz: ZoneInfo, cursor: datetime, now: datetime) -> datetime | None:
    """The latest hit of any schedule in (cursor, now], or None (hits before it are superseded)."""
    latest = None
    for s in schedules:
        t = next_after(s, cursor, tz)
        if t is None or t > now:
            continue
        if s.every is not None:  # constant period: straight to the last hit before now
            t += timedelta(seconds=s.every * int((now - t).total_seconds() // s.every))
        else:
            while (after := next_after(s, t, tz)) is not None and after <= now:
                t = after
        latest = t if latest is None or t > latest else latest
    return latest


def next_hit(schedules: list[Schedule], tz: ZoneInfo, after: datetime) -> datetime | None:
    times = [t for t in (next_after(s, after, tz) for s in schedules) if t is not None]
    return min(times) if times else None


# --- the controller's decision ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Child:
    """A Workflow the CronWorkflow created (labelled workflows.argoproj.io/cron-workflow=<cron>)."""

    name: str
    phase: str  # "" while the controller has not started it
    created: datetime
    finished: datetime | None = None


@dataclass
class Decision:
    create: str | None = None  # the child's name, `<cron>-<unix seconds of the scheduled time>`
    scheduled: datetime | None = None  # the hit it runs (its scheduled-time annotation): lastScheduledTime
    terminate: list[str] = field(default_factory=list)  # Replace: spec.shutdown=Terminate on these
    delete: list[str] = field(default_factory=list)  # beyond the history limits
    cursor: datetime | None = None  # lastScheduledTime to store: hits up to here are handled
    skipped: str = ""  # why the due hit did not run (suspend, when, Forbid, missed, stopped, exists)
    stopped: bool = False  # stopStrategy held: status.phase=Stopped, no more runs
    active: list[str] = field(default_factory=list)  # status.active
    succeeded: int = 0
    failed: int = 0
    wake: datetime | None = None  # when to look again (the next hit)
    error: str = ""  # SpecError condition text


def child_name(cron_name: str, scheduled: datetime) -> str:
    return f"{cron_name}-{int(scheduled.timestamp())}"


def _history(children: list[Child], spec: dict[str, Any]) -> list[str]:
    def limit(key: str, default: int) -> int:
        value = spec.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default

    out: list[str] = []
    for phases, keep in (
        (("Succeeded",), limit("successfulJobsHistoryLimit", 3)),
        (("Failed", "Error"), limit("failedJobsHistoryLimit", 1)),
    ):
        done = sorted(
            (c for c in children if c.phase in phases),
            key=lambda c: (c.finished or c.created, c.name),
            reverse=True,
        )
        out += [c.name for c in done[keep:]]
    return sorted(out)


def outcomes(status: dict[str, Any], children: list[Child]) -> tuple[int, int]:
    """`status.succeeded` and `status.failed` once the children listed in `status.active` that have
    finished are counted (as Argo counts them: a child is counted when it leaves the active list, so a
    child that vanished is not counted, and none is counted twice)."""
    succeeded, failed = _count(status.get("succeeded")), _count(status.get("failed"))
    was_active = {ref.get("name") for ref in status.get("active") or () if isinstance(ref, dict)}
    for c in children:
        if c.name in was_active and c.phase == "Succeeded":
            succeeded += 1
        elif c.name in was_active and c.phase in ("Failed", "Error"):
            failed += 1
    return succeeded, failed


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def tick(
    cron: dict[str, Any],
    children: list[Child],
    now: datetime,
    *,
    when_allows: bool | Callable[[], bool] = True,
    stop_now: bool = False,
) -> Decision:
    """What the cron controller does for `cron` at `now`, given its children (see the module doc).
    `when_allows` may be a function: it is then called only when a hit is due (`when` may read `now()`)."""
    meta, spec, status = cron.get("metadata") or {}, cron.get("spec") or {}, cron.get("status") or {}
    decision = Decision(delete=_history(children, spec))
    active = [c for c in children if c.phase not in DONE]
    decision.active = [c.name for c in active]
    decision.succeeded, decision.failed = outcomes(status, children)
    if status.get("phase") == "Stopped" or stop_now:
        decision.stopped, decision.skipped = True, "stopped"
        return decision
    texts = list(spec.get("schedules") or ([spec["schedule"]] if spec.get("schedule") else []))
    try:
        tz = zone(spec.get("timezone"))
        schedules = [parse(t) for t in texts]
        if not schedules:
            raise ScheduleError("cron workflow must have at least one schedule")
    except ScheduleError as exc:
        decision.error = str(exc)
        return decision
    created = parse_stamp(meta.get("creationTimestamp")) or now
    cursor = parse_stamp(status.get("lastScheduledTime")) or created
    decision.cursor = cursor
    deadline = spec.get("startingDeadlineSeconds")
    deadline = deadline if isinstance(deadline, int) and not isinstance(deadline, bool) else None
    # Hits older than any run could still use are not enumerated (bounded work after long downtime).
    window_start = now - timedelta(seconds=max(deadline or 0, ON_TIME_SECONDS) + ON_TIME_SECONDS)
    due = latest_due(schedules, tz, max(cursor, window_start), now)
    decision.wake = next_hit(schedules, tz, now)
    if due is None:
        first = next_hit(schedules, tz, cursor)
        if cursor < window_start and first is not None and first <= window_start:
            decision.cursor, decision.skipped = window_start, "missed"
        return decision
    decision.cursor = due  # this hit is handled, run or not: it is never looked at again
    late = (now - due).total_seconds()
    name = child_name(meta.get("name", ""), due)
    if any(c.name == name for c in children):
        # Already run (a retried reconcile whose status write was lost): never again, never replaced.
        decision.skipped, decision.scheduled = "exists", due
    elif late > ON_TIME_SECONDS and not (deadline is not None and late <= deadline):
        decision.skipped = "missed"
    elif spec.get("suspend"):
        decision.skipped = "suspend"
    elif not (when_allows() if callable(when_allows) else when_allows):
        decision.skipped = "when"
    elif active and spec.get("concurrencyPolicy") == "Forbid":
        decision.skipped = "Forbid"
    else:
        if spec.get("concurrencyPolicy") == "Replace":
            decision.terminate = [c.name for c in active]
        decision.create, decision.scheduled = name, due
    return decision


def child_workflow(cron: dict[str, Any], scheduled: datetime) -> dict[str, Any]:
    """The Workflow a CronWorkflow creates for the hit at `scheduled`, named and labelled as Argo does."""
    meta, spec = cron.get("metadata") or {}, cron.get("spec") or {}
    wf_meta = spec.get("workflowMetadata") or {}
    labels = {**(wf_meta.get("labels") or {}), LABEL_CRON: meta.get("name", "")}
    instance = (meta.get("labels") or {}).get("workflows.argoproj.io/controller-instanceid")
    if instance:
        labels["workflows.argoproj.io/controller-instanceid"] = instance
    annotations = {
        **(wf_meta.get("annotations") or {}),
        ANN_SCHEDULED: scheduled.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    owner = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": child_name(meta.get("name", ""), scheduled),
            "namespace": meta.get("namespace"),
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner],
        },
        "spec": dict(spec.get("workflowSpec") or {}),
    }


_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_stamp(text: Any) -> datetime | None:
    if not isinstance(text, str) or not _STAMP.match(text):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
