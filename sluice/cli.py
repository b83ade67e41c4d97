"""The `sluice` command: a kubectl/argo-like front door to the core, the local runner and the servers.

Each sub-command lives in its own module under sluice/commands/ and exposes `register(subparsers)`;
the module is imported only when listed here, so `sluice lint` never pays for aiohttp.
One module may register several verbs (sluice/commands/control.py: suspend, stop, terminate).

Exit codes (scripts may rely on them):
  0  success (for `submit --wait`, `wait`, `watch`: the workflow Succeeded)
  1  the work failed: the workflow ended Failed or Error, an object is invalid (lint, the API server's
     or the webhook's 422), or the server refused the change (conflict, already exists)
  2  usage error: bad flags or arguments, unreadable or unparsable input files
  3  not found: the named workflow, template or node does not exist
  4  the cluster could not be used: no kubeconfig, unreachable, timed out, unauthorized or forbidden
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sluice import __version__

COMMANDS: list[str] = ["lint", "webhook", "controller", "policy", "run", "resume", "executor",
                       # the cluster verbs (sluice/cluster.py)
                       "submit", "list", "get", "delete", "wait", "control", "logs", "retry", "template", "cron",
                       "completion"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_UNREACHABLE = 0, 1, 2, 3, 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sluice", description="Run Argo Workflows' YAML, stricter and faster.")
    parser.add_argument("--version", action="version", version=f"sluice {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"sluice.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
