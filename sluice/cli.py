"""The `sluice` command: a kubectl/argo-like front door to the core, the local runner and the servers.

Each sub-command lives in its own module under sluice/commands/ and exposes `register(subparsers)`;
the module is imported only when listed here, so `sluice lint` never pays for aiohttp.
Exit codes: 0 success, 1 the work failed (invalid object, failed workflow), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sluice import __version__

COMMANDS: list[str] = ["lint", "webhook", "controller", "policy", "run", "resume", "executor"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
