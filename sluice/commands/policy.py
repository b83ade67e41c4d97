"""`sluice policy test POLICY FILE...`: evaluate WorkflowPolicies against files, offline.

The same code path as the webhook's /validate (an AdmissionRequest built from each document), so a
policy that passes here passes at admission. Exit 0 when nothing is denied, 1 when a document is
denied (or a policy does not compile), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("policy", help="work with WorkflowPolicies offline")
    sub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    t = sub.add_parser("test", help="evaluate policies against workflow files, as the webhook would")
    t.add_argument("policy", type=Path, help="a WorkflowPolicy file (or a directory of them)")
    t.add_argument("files", type=Path, nargs="+", metavar="FILE", help="Workflows, CronWorkflows, templates")
    t.add_argument(
        "--templates",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="where templateRefs resolve from (the FILEs' own templates always count)",
    )
    t.add_argument("--namespace", default="default", help="namespace of documents that name none")
    t.add_argument("--user", default="sluice-policy-test", help="request.userInfo.username")
    t.add_argument("--operation", choices=("CREATE", "UPDATE"), default="CREATE")
    t.add_argument("--evaluator", choices=("cel-rust", "cel-python"), default="cel-rust")
    t.set_defaults(run=run)
    p.set_defaults(run=lambda args: (p.print_help(sys.stderr), 2)[1])


def run(args: argparse.Namespace) -> int:
    from webhook.policy_test import run_policy_test

    missing = [str(p) for p in [args.policy, *args.files, *args.templates] if not p.exists()]
    if missing:
        print(f"sluice policy test: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    return run_policy_test(
        policy=args.policy,
        files=args.files,
        templates=args.templates,
        namespace=args.namespace,
        user=args.user,
        operation=args.operation,
        evaluator_name=args.evaluator,
        out=sys.stdout,
    )
