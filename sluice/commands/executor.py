"""`sluice executor {init,wait}`: the in-pod executor's entry points (executor-sidecar/sluice_executor).

workflow/engine/pods.py runs them as the `init` and `wait` containers of every pod; they read the pod's
`ARGO_*` environment, never command-line input from the workflow.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from sluice_executor.__main__ import build_parser

    p = subparsers.add_parser("executor", help="the in-pod executor (init: before main, wait: after main)")
    build_parser(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sluice_executor.__main__ import run as run_executor

    return run_executor(args)
