"""`sluice list`: the workflows of a namespace (or all), filtered as `argo list` filters them.

sluice list [-n NS | -A] [--running | --completed] [--status PHASE[,PHASE]] [-l SELECTOR]
            [--prefix NAME-PREFIX] [--older 1h] [--since 10m] [-o wide|name|json|yaml]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from sluice.cli import EXIT_OK, EXIT_USAGE
from sluice.cluster import ARGO, CliError, Cluster, add_cluster_args, run_verb
from sluice.output import DONE, parse_age, phase, render, stamp, workflow_rows

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Error")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("list", help="list workflows on a cluster")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--running", action="store_true", help="only Pending and Running workflows")
    state.add_argument("--completed", action="store_true", help="only Succeeded, Failed and Error workflows")
    p.add_argument("--status", "--phase", dest="status", help="only these phases (comma-separated)")
    p.add_argument("-l", "--selector", help="label selector (as kubectl's)")
    p.add_argument("--prefix", help="only workflows whose name starts with this")
    p.add_argument("--older", help="only workflows finished more than this long ago (e.g. 1h, 2d)")
    p.add_argument("--since", help="only workflows created less than this long ago (e.g. 10m)")
    p.add_argument("-o", "--output", choices=["wide", "name", "json", "yaml"])
    p.add_argument("--no-headers", action="store_true")
    p.add_argument("--local", action="store_true", help="the runs of `sluice run` on this machine")
    add_cluster_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.local:
        from sluice.cluster import run_local  # noqa: PLC0415

        if args.all_namespaces:
            print("sluice list: --local takes no -A (local runs have no namespaces)", file=sys.stderr)
            return EXIT_USAGE

        return run_local("list", lambda: show(args, _local(args.selector), _local_dir()))
    return run_verb("list", args, lambda c: list_verb(c, args))


def _local_dir() -> str:
    from sluice.runner import state  # noqa: PLC0415

    return str(state.home() / "runs")


def _local(selector: str | None) -> list[dict[str, Any]]:
    from sluice.localruns import all_runs, labelled  # noqa: PLC0415

    return labelled(all_runs(), selector)


def select(workflows: list[dict[str, Any]], args: argparse.Namespace, now: float) -> list[dict[str, Any]]:
    """The filters of `argo list` that the API server cannot apply (pure; tests/unit/test_cli_output.py)."""
    phases: set[str] | None = None
    if args.running:
        phases = {"Pending", "Running"}
    elif args.completed:
        phases = set(DONE)
    if args.status:
        wanted = {p.strip().capitalize() for p in args.status.split(",") if p.strip()}
        unknown = wanted - set(PHASES)
        if unknown:
            raise CliError(
                f"--status: unknown phase {sorted(unknown)[0]!r} (one of {', '.join(PHASES)})", EXIT_USAGE
            )
        phases = wanted if phases is None else phases & wanted
    try:
        older = parse_age(args.older) if args.older else None
        since = parse_age(args.since) if args.since else None
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    prefix = getattr(args, "prefix", None) or ""
    out = []
    for wf in workflows:
        if phases is not None and phase(wf) not in phases:
            continue
        if not (wf.get("metadata") or {}).get("name", "").startswith(prefix):
            continue
        if older is not None:
            finished = stamp((wf.get("status") or {}).get("finishedAt"))
            if phase(wf) not in DONE or finished is None or now - finished < older:
                continue
        if since is not None:
            created = stamp(wf["metadata"].get("creationTimestamp"))
            if created is None or now - created > since:
                continue
        out.append(wf)
    out.sort(key=lambda w: w["metadata"].get("creationTimestamp") or "", reverse=True)
    return out


async def fetch(cluster: Cluster, selector: str | None, all_namespaces: bool = False) -> list[dict[str, Any]]:
    path = await cluster.rest.path(ARGO, "Workflow", None if all_namespaces else cluster.namespace)
    items: list[dict[str, Any]] = []
    token = None
    while True:  # paged: bounded responses on namespaces with thousands of workflows
        page = await cluster.rest.request(
            "GET", path, query={"labelSelector": selector, "limit": 500, "continue": token}
        )
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items


async def list_verb(cluster: Cluster, args: argparse.Namespace) -> int:
    where = "any namespace" if args.all_namespaces else cluster.namespace
    return show(args, await fetch(cluster, args.selector, args.all_namespaces), where)


def show(args: argparse.Namespace, workflows: list[dict[str, Any]], where: str) -> int:
    now = time.time()
    found = select(workflows, args, now)
    if args.output in ("name", "json", "yaml"):
        sys.stdout.write(render(found, args.output, as_list=True))
        return EXIT_OK
    if not found:
        print(f"No workflows found in {where}.", file=sys.stderr)
        return EXIT_OK
    rows = workflow_rows(found, now, wide=args.output == "wide")
    if getattr(args, "all_namespaces", False):
        rows = [
            ("NAMESPACE".ljust(20) if i == 0 else found[i - 1]["metadata"]["namespace"].ljust(20)) + "   " + r
            for i, r in enumerate(rows)
        ]
    print("\n".join(rows[1:] if args.no_headers else rows))
    return EXIT_OK
