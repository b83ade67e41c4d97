"""`sluice delete`: workflows by name, or every one matching `--all`, `--completed`, `--older`, `-l`.

    sluice delete NAME... [-n NS]
    sluice delete (--all | --completed | --older 1d | -l SELECTOR | --status PHASE)... [--dry-run]

Deletion propagates in the background to the workflow's pods (owner references), as `argo delete`.
"""

from __future__ import annotations

import argparse
import sys
import time

from sluice.cli import EXIT_OK, EXIT_USAGE
from sluice.cluster import ARGO, Cluster, add_cluster_args, run_verb


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("delete", help="delete workflows on a cluster")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all", action="store_true", help="every workflow (of the namespace)")
    p.add_argument("--completed", action="store_true", help="finished workflows (Succeeded, Failed, Error)")
    p.add_argument("--running", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--status", "--phase", dest="status", help="workflows in these phases (comma-separated)")
    p.add_argument("--older", help="workflows finished more than this long ago (e.g. 1h, 7d)")
    p.add_argument("--since", help=argparse.SUPPRESS)
    p.add_argument("-l", "--selector", help="label selector")
    p.add_argument("--dry-run", action="store_true", help="print what would be deleted")
    p.add_argument(
        "--local", action="store_true", help="runs of `sluice run` on this machine (their directories)"
    )
    add_cluster_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    filtering = args.all or args.completed or args.status or args.older or args.selector
    if bool(args.names) == bool(filtering):
        print(
            "sluice delete: give NAME(s) or one of --all, --completed, --status, --older, -l", file=sys.stderr
        )
        return EXIT_USAGE
    if args.local:
        from sluice.cluster import run_local  # noqa: PLC0415

        return run_local("delete", lambda: delete_local(args))
    return run_verb("delete", args, lambda c: delete(c, args))


def delete_local(args: argparse.Namespace) -> int:
    from sluice import localruns  # noqa: PLC0415
    from sluice.commands.list import select  # noqa: PLC0415
    from sluice.runner import state  # noqa: PLC0415

    if args.names:
        names = list(args.names)
    else:
        active = set(state.active_runs())
        found = select(localruns.labelled(localruns.all_runs(), args.selector), args, time.time())
        names = [wf["metadata"]["name"] for wf in found if wf["metadata"]["name"] not in active]
    for name in names:
        if not args.dry_run:
            localruns.delete(name)
        print(f"local run {name} deleted{' (dry run)' if args.dry_run else ''}")
    return EXIT_OK


async def delete(cluster: Cluster, args: argparse.Namespace) -> int:
    from sluice.commands.list import fetch, select  # noqa: PLC0415

    args.all_namespaces = False
    if args.names:
        names = list(args.names)
    else:
        found = select(await fetch(cluster, args.selector), args, time.time())
        names = [wf["metadata"]["name"] for wf in found]
    for name in names:
        if not args.dry_run:
            await cluster.rest.delete(ARGO, "Workflow", cluster.namespace, name)
        print(f"workflow.argoproj.io/{name} deleted{' (dry run)' if args.dry_run else ''}")
    return EXIT_OK
