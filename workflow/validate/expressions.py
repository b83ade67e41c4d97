"""Lint-time syntax of every expression a workflow carries, through the expression languages' own parsers.

`{{= expr }}` tags and the brace-less expr contexts (hook `expression`, `retryStrategy.expression`,
`fromExpression`, `valueFrom.expression`, HTTP `successCondition`, data transformations, `labelsFrom`,
cron `stopStrategy`) are expr-lang; `when` is govaluate after tag substitution; `depends` is Argo's own
boolean language over task results. Each problem message is the parser's, with its column.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.expr import compile_expr, compile_when, parse_depends
from workflow.expr.errors import ExpressionError
from workflow.templating import find_tags


@dataclass(slots=True)
class FoundTag:
    kind: str  # "simple" | "expression"
    body: str  # trimmed


def tags_in(text: str) -> tuple[list[FoundTag], str | None]:
    """The tags in `text`, and the syntax error that stopped the scan (if any)."""
    if "{{" not in text:
        return [], None
    try:
        found = find_tags(text)
    except ExpressionError as exc:
        return [], str(exc)
    return [FoundTag(t.kind, t.body.strip()) for t in found], None


def expr_error(source: str) -> str | None:
    """Why an expr-lang expression does not parse (None when it does)."""
    try:
        compile_expr(source)
    except ExpressionError as exc:
        return str(exc)
    except RecursionError:
        return "expression is nested too deeply"
    return None


def expr_paths(source: str) -> frozenset[str]:
    """The dotted constant paths an expression reads (`inputs.parameters.x`); empty when it does not parse."""
    try:
        return compile_expr(source).paths()
    except ExpressionError:
        return frozenset()
    except RecursionError:
        return frozenset()


def when_error(source: str) -> str | None:
    try:
        compile_when(source)
    except ExpressionError as exc:
        return str(exc)
    except RecursionError:
        return "expression is nested too deeply"
    return None


def depends_refs(source: str) -> tuple[list[tuple[str, str | None]], str | None]:
    """The (task, result) pairs a `depends` names (result None for a bare task), and its parse error."""
    try:
        parsed = parse_depends(source)
    except ExpressionError as exc:
        return [], str(exc)
    except RecursionError:
        return [], "expression is nested too deeply"
    return [(task, result) for task, result in parsed.task_results()], None
