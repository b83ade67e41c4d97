"""`sluice template create|list|get|delete|lint`: WorkflowTemplates on a cluster (sluice/resources.py)."""

from __future__ import annotations

import argparse

from sluice.resources import Verbs, add_lint_verb, name_age_rows

VERBS = Verbs("template", "WorkflowTemplate", "workflow template", name_age_rows)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("template", help="manage WorkflowTemplates on a cluster")
    sub = p.add_subparsers(dest="template_verb", metavar="VERB", required=True)
    VERBS.register(sub)
    add_lint_verb(sub, "WorkflowTemplate")
