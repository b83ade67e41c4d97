"""`sluice resume NAME`: resume a suspended workflow on a cluster, or one `sluice run` runs in another shell.

    sluice resume NAME [-n NS] [--node NODE | --node-field-selector SEL] [-p NAME=VALUE]... [--stop]
    sluice resume [NAME] --local [--node NODE] [-p NAME=VALUE]... [--stop]

A run of that name that `sluice run` is running here is resumed locally (also without `--local`);
otherwise the workflow on the cluster (sluice/commands/control.py says how). `--node` picks one suspend
node (ID, name or display name); `-p` supplies values for outputs with `valueFrom.supplied` (the
approval gate's answer); `--stop` fails the node(s) instead of resuming them.
"""

from __future__ import annotations

import argparse
import sys

from sluice.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from sluice.cluster import add_cluster_args


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "resume", help="resume a suspended workflow (on a cluster, or run by `sluice run`)"
    )
    p.add_argument("name", nargs="?", help="the workflow's name (local: default the only active run)")
    p.add_argument("--node", help="only this suspend node (ID, name or display name)")
    p.add_argument("--node-field-selector", help="only suspend nodes matching (e.g. displayName=approve)")
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a value for a supplied output parameter (repeatable)",
    )
    p.add_argument("--message", default="", help="a message recorded on the node(s)")
    p.add_argument("--stop", action="store_true", help="stop (fail) the suspend node(s) instead")
    p.add_argument("--local", action="store_true", help="a run of `sluice run` on this machine")
    add_cluster_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sluice.cluster import configured, run_verb  # noqa: PLC0415
    from sluice.runner import state  # noqa: PLC0415

    explicit = args.namespace or args.kubeconfig or args.context
    local = (
        args.local or not args.name or args.name in state.active_runs() or not (explicit or configured(args))
    )
    if local:
        return run_local(args)
    from sluice.commands.control import resume_cluster  # noqa: PLC0415

    return run_verb("resume", args, lambda c: resume_cluster(c, args))


def run_local(args: argparse.Namespace) -> int:
    from sluice.runner import state  # noqa: PLC0415

    params = {}
    for value in args.parameter:
        key, sep, text = value.partition("=")
        if not sep or not key:
            print("sluice resume: -p expects NAME=VALUE", file=sys.stderr)
            return EXIT_USAGE
        params[key] = text
    name = args.name
    if not name:
        active = state.active_runs()
        if len(active) != 1:
            found = ", ".join(active) if active else "none"
            print(f"sluice resume: name the workflow (active runs: {found})", file=sys.stderr)
            return EXIT_FAILED
        name = active[0]
    if name not in state.active_runs():
        print(f"sluice resume: no active run named {name!r}", file=sys.stderr)
        return EXIT_FAILED
    waiting = state.suspended_nodes(name)
    if waiting is not None:
        matching = [
            n for n in waiting if args.node in (None, n.get("id"), n.get("name"), n.get("displayName"))
        ]
        if not matching:
            what = f"no suspended node {args.node!r}" if args.node else "nothing suspended"
            print(f"sluice resume: {name} has {what} right now", file=sys.stderr)
            return EXIT_FAILED
    state.request_resume(name, args.node, params, "stop" if args.stop else "resume")
    print(f"{'stop' if args.stop else 'resume'} requested for {name}")
    return EXIT_OK
