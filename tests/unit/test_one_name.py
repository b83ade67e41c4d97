"""One name for one thing (issue 9, item 6): the protocol and constants every program shares exist once."""

from __future__ import annotations

import ast
from pathlib import Path

import workflow.check
import workflow.engine
import workflow.resolve.sources
import workflow.types

REPO = Path(__file__).resolve().parents[2]


def test_one_template_source_protocol():
    assert workflow.check.TemplateSource is workflow.resolve.sources.TemplateSource
    assert workflow.engine.TemplateSource is workflow.resolve.sources.TemplateSource


def test_one_argo_group():
    assert f"{workflow.types.ARGO_GROUP}/{workflow.types.ARGO_VERSION}" == workflow.types.API_VERSION
    assert workflow.check.ARGO_GROUP is workflow.types.ARGO_GROUP
    # Nobody defines the group again (a constant assigned "argoproj.io" or "argoproj.io/").
    again = []
    for package in ("workflow", "webhook", "sluice"):
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.value, ast.Constant)
                    and node.value.value in ("argoproj.io", "argoproj.io/")
                ):
                    again.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert again == ["workflow/types/workflow.py:11"]


def test_the_two_contexts_have_distinct_names():
    from workflow.engine.templates import TemplateBase
    from workflow.validate.context import Ctx

    assert TemplateBase.__name__ != Ctx.__name__
