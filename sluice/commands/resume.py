"""`sluice resume [NAME]`: resume the suspend steps of a workflow that `sluice run` runs in another shell.

    sluice resume [NAME] [--node NODE] [-p NAME=VALUE]... [--stop]

NAME may be left out when exactly one run is active. `--node` picks one suspend node (ID, name or
display name); `-p` supplies values for outputs with `valueFrom.supplied`; `--stop` fails the node(s)
instead of resuming them.
"""

from __future__ import annotations

import argparse
import sys

from sluice.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("resume", help="resume a suspended workflow run by `sluice run`")
    p.add_argument("name", nargs="?", help="the workflow's name (default: the only active run)")
    p.add_argument("--node", help="only this suspend node (ID, name or display name)")
    p.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="a value for a supplied output parameter (repeatable)")
    p.add_argument("--stop", action="store_true", help="stop (fail) the suspend node(s) instead")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
        matching = [n for n in waiting if args.node in (None, n.get("id"), n.get("name"), n.get("displayName"))]
        if not matching:
            what = f"no suspended node {args.node!r}" if args.node else "nothing suspended"
            print(f"sluice resume: {name} has {what} right now", file=sys.stderr)
            return EXIT_FAILED
    state.request_resume(name, args.node, params, "stop" if args.stop else "resume")
    print(f"{'stop' if args.stop else 'resume'} requested for {name}")
    return EXIT_OK
