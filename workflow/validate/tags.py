"""Checking every `{{ }}` in a value: simple tags against a Scope, expression tags for syntax."""

from __future__ import annotations

from typing import Any

from workflow.validate.context import Ctx, Job
from workflow.validate.expressions import expr_error, tags_in
from workflow.validate.util import walk_strings
from workflow.validate.variables import Scope, unresolved_message


def check_tags(ctx: Ctx, job: Job | None, value: Any, path: str, scope: Scope | None) -> None:
    """Every tag in `value` (at `path`) must resolve in `scope` (None: only syntax is checked)."""
    for at, text in walk_strings(value, path):
        if "{{" not in text:
            continue
        found, error = tags_in(text)
        if error:
            ctx.error(job, at, error)
            continue
        for tag in found:
            if tag.kind == "expression":
                body = tag.body[1:] if tag.body.startswith("=") else tag.body
                problem = expr_error(body.strip())
                if problem:
                    ctx.error(job, at, f"invalid expression in {{{{={body.strip()}}}}}: {problem}")
            elif scope is not None:
                reason = scope.check(tag.body)
                if reason is not None:
                    ctx.error(job, at, unresolved_message(tag.body, reason))


def check_expression(ctx: Ctx, job: Job | None, source: Any, path: str, what: str) -> None:
    """A brace-less expr-lang field (hook expression, retryStrategy.expression, fromExpression...)."""
    if not isinstance(source, str) or not source.strip() or "{{" in source:
        return  # tags are substituted before evaluation: the text to parse is only known at runtime
    problem = expr_error(source)
    if problem:
        ctx.error(job, path, f"invalid {what}: {problem}")
