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
import os
import sys

from sluice import __version__

COMMANDS: list[str] = [
    "lint",
    "webhook",
    "controller",
    "policy",
    "run",
    "resume",
    "executor",
    # the cluster verbs (sluice/cluster.py)
    "submit",
    "list",
    "get",
    "delete",
    "wait",
    "control",
    "logs",
    "retry",
    "template",
    "cron",
    "completion",
    "ui",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_UNREACHABLE = 0, 1, 2, 3, 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sluice",
        description="Run Argo Workflows' YAML, stricter and faster.",
        epilog="exit codes: 0 success, 1 the workflow failed or the object was refused, 2 usage error, "
        "3 not found, 4 no cluster, unreachable or forbidden",
    )
    parser.add_argument("--version", action="version", version=f"sluice {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"sluice.commands.{name}").register(subparsers)
    from sluice.help_text import complete  # noqa: PLC0415

    complete(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    missing = _missing_inputs(args)
    if missing:
        for path in missing:
            print(f"sluice {args.command}: {path}: no such file or directory", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


# The positional input arguments of every command (sluice/commands/*.py): checked here, once, so a
# missing file is the same usage error (exit 2) for every command, before any cluster is contacted.
# `--templates` only as a repeated option (run, policy test): the webhook's single --templates DIR is
# the server's own concern.
INPUT_ARGS = ("policy", "file", "files", "paths", "templates")


def _missing_inputs(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for name in INPUT_ARGS:
        value = getattr(args, name, None)
        if name == "templates" and not isinstance(value, list):
            continue
        for path in value if isinstance(value, list) else [value] if value is not None else []:
            text = str(path)
            if text != "-" and not os.path.exists(text):
                out.append(text)
    return out


if __name__ == "__main__":
    sys.exit(main())
