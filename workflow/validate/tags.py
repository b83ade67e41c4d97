"""Checking every `{{ }}` in a value: simple tags against a Scope, expression tags for syntax."""

from __future__ import annotations

from typing import Any

from workflow.expr.tags import EXPRESSION, tag_bodies
from workflow.validate.context import Ctx, Job
from workflow.validate.expressions import expr_error, expr_paths
from workflow.validate.util import walk_strings
from workflow.validate.variables import Scope, unresolved_message


def check_tags(ctx: Ctx, job: Job | None, value: Any, path: str, scope: Scope | None) -> None:
    """Every tag in `value` (at `path`) must resolve in `scope` (None: only syntax is checked)."""
    for at, text in walk_strings(value, path):  # every text holds `{{`
        # tags_in without its FoundTags: a `{{` left open is literal text, so the scan cannot fail.
        for kind, body in tag_bodies(text):
            body = body.strip()
            if kind == EXPRESSION:
                # The body is the text after `{{=`, trimmed: what the renderer compiles.
                problem = expr_error(body)
                if problem:
                    ctx.error(job, at, f"invalid expression in {{{{={body}}}}}: {problem}")
                elif scope is not None:
                    _check_reads(ctx, job, at, body, scope)
            elif scope is not None:
                reason = scope.check(body)
                if reason is not None:
                    ctx.error(job, at, unresolved_message(body, reason))


def check_expression(ctx: Ctx, job: Job | None, source: Any, path: str, what: str) -> None:
    """A brace-less expr-lang field (hook expression, retryStrategy.expression, fromExpression...)."""
    if not isinstance(source, str) or not source.strip() or "{{" in source:
        return  # tags are substituted before evaluation: the text to parse is only known at runtime
    problem = expr_error(source)
    if problem:
        ctx.error(job, path, f"invalid {what}: {problem}")


def _check_reads(ctx: Ctx, job: Job | None, at: str, source: str, scope: Scope) -> None:
    """Names an expression reads that cannot exist here: a warning (Argo does not check expressions, and
    an expression may guard a missing name with `??`), with the same reasons as for simple tags."""
    for path in sorted(expr_paths(source)):
        parts = path.split(".")
        if parts[0] in ("inputs", "workflow") and len(parts) >= 3 and parts[1] == "parameters":
            name = ".".join(parts[:3])
        elif parts[0] in ("steps", "tasks") and len(parts) >= 2:
            name = ".".join(parts[:2]) + ".id"  # whether the step or task is there and visible
        else:
            continue
        reason = scope.check(name)
        if reason is not None:
            ctx.warn(job, at, f"expression reads {path}, which will not resolve here" + (f": {reason}" if reason else ""))
