"""`sluice cron create|list|get|delete|suspend|resume|lint`: CronWorkflows on a cluster.

suspend/resume set `spec.suspend` (the controller then creates no children); `list` shows argo's
columns with the next run computed as the controller computes it (workflow/cron_schedule.py: robfig's
schedules, daylight saving as robfig handles it).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from sluice.cli import EXIT_OK
from sluice.cluster import ARGO, Cluster, add_cluster_args, run_verb
from sluice.output import age, human, stamp
from sluice.resources import Verbs, add_lint_verb


def schedules(cron: dict[str, Any]) -> list[str]:
    spec = cron.get("spec") or {}
    found = list(spec.get("schedules") or [])
    if spec.get("schedule"):
        found.insert(0, spec["schedule"])
    return found


def next_run(cron: dict[str, Any], now: float) -> float | None:
    """The earliest next time any schedule fires (None if none parses)."""
    from workflow.cron_schedule import ScheduleError, next_hit, parse, zone  # noqa: PLC0415

    try:
        tz = zone((cron.get("spec") or {}).get("timezone"))
    except ScheduleError:
        return None
    parsed = []
    for text in schedules(cron):
        try:
            parsed.append(parse(text))
        except ScheduleError:
            continue
    hit = next_hit(parsed, tz, datetime.fromtimestamp(now, UTC))
    return hit.timestamp() if hit else None


def rows(items: list[dict[str, Any]], now: float) -> list[list[str]]:
    out = [["NAME", "AGE", "LAST RUN", "NEXT RUN", "SCHEDULES", "TIMEZONE", "SUSPENDED"]]
    for cron in items:
        spec, status = cron.get("spec") or {}, cron.get("status") or {}
        last = stamp(status.get("lastScheduledTime"))
        upcoming = None if spec.get("suspend") else next_run(cron, now)
        out.append(
            [
                cron["metadata"]["name"],
                age(cron, now),
                human(now - last) if last else "N/A",
                human(upcoming - now) if upcoming else "N/A",
                ",".join(schedules(cron)),
                spec.get("timezone") or "",
                "true" if spec.get("suspend") else "false",
            ]
        )
    return out


VERBS = Verbs("cron", "CronWorkflow", "cron workflow", rows)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("cron", help="manage CronWorkflows on a cluster")
    sub = p.add_subparsers(dest="cron_verb", metavar="VERB", required=True)
    VERBS.register(sub)
    for verb, value in (("suspend", True), ("resume", None)):
        s = sub.add_parser(verb, help=f"{verb} cron workflows (spec.suspend)")
        s.add_argument("names", nargs="+", metavar="NAME")
        add_cluster_args(s)
        s.set_defaults(
            run=lambda args, verb=verb, value=value: run_verb(
                f"cron {verb}", args, lambda c: set_suspend(c, args.names, value, verb)
            )
        )
    add_lint_verb(sub, "CronWorkflow")


async def set_suspend(cluster: Cluster, names: list[str], value: bool | None, verb: str) -> int:
    for name in names:
        await cluster.rest.merge_patch(
            ARGO, "CronWorkflow", cluster.namespace, name, {"spec": {"suspend": value}}
        )
        print(f"cronworkflow.argoproj.io/{name} {verb}{'ed' if verb == 'suspend' else 'd'}")
    return EXIT_OK
