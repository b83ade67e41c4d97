"""`sluice template create|list|get|delete|lint`: WorkflowTemplates on a cluster (sluice/resources.py)."""

from __future__ import annotations

import argparse

from sluice.resources import Verbs, name_age_rows

VERBS = Verbs("template", "WorkflowTemplate", "workflow template", name_age_rows)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("template", help="manage WorkflowTemplates on a cluster")
    sub = p.add_subparsers(dest="template_verb", metavar="VERB", required=True)
    VERBS.register(sub)
    lint = sub.add_parser("lint", help="validate WorkflowTemplate files (as `sluice lint`)")
    lint.add_argument("paths", nargs="+", metavar="PATH")
    lint.add_argument("-o", "--output", choices=["pretty", "json"], default="pretty")
    lint.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    lint.set_defaults(run=_lint)


def _lint(args: argparse.Namespace) -> int:
    from sluice.commands import lint  # noqa: PLC0415

    return lint.run(args)
