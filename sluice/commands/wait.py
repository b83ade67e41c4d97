"""`sluice wait NAME...` and `sluice watch NAME`: block until workflows end (sluice/follow.py).

The exit code follows the phase: 0 when every workflow Succeeded, 1 otherwise or on `--timeout`.
"""

from __future__ import annotations

import argparse
import sys

from sluice.cli import EXIT_FAILED, EXIT_OK
from sluice.cluster import Cluster, add_cluster_args, run_verb


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("wait", help="wait for workflows on a cluster to end")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--timeout", type=float, help="give up after this many seconds (exit 1)")
    add_cluster_args(p)
    p.set_defaults(run=lambda args: run_verb("wait", args, lambda c: wait(c, args)))
    w = subparsers.add_parser("watch", help="draw a workflow's tree until it ends")
    w.add_argument("name")
    w.add_argument("--timeout", type=float, help="give up after this many seconds (exit 1)")
    add_cluster_args(w)
    w.set_defaults(run=lambda args: run_verb("watch", args, lambda c: watch(c, args)))


async def wait(cluster: Cluster, args: argparse.Namespace) -> int:
    from sluice.follow import exit_code, until_done  # noqa: PLC0415

    code = EXIT_OK
    for name in args.names:
        wf = await until_done(cluster, name, timeout=args.timeout)
        if wf is None:
            print(f"{name} still running after {args.timeout:g}s", file=sys.stderr)
            code = EXIT_FAILED
            continue
        status = wf.get("status") or {}
        print(f"{name} {status.get('phase')}" + (f": {status['message']}" if status.get("message") else ""))
        code = max(code, exit_code(wf))
    return code


async def watch(cluster: Cluster, args: argparse.Namespace) -> int:
    from sluice.follow import TreeView, exit_code, until_done  # noqa: PLC0415

    wf = await until_done(cluster, args.name, timeout=args.timeout, on_change=TreeView())
    return EXIT_FAILED if wf is None else exit_code(wf)
