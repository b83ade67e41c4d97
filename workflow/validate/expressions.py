"""Lint-time syntax of every expression a workflow carries, through the expression languages' own parsers.

`{{= expr }}` tags and the brace-less expr contexts (hook `expression`, `retryStrategy.expression`,
`fromExpression`, `valueFrom.expression`, HTTP `successCondition`, data transformations, `labelsFrom`,
cron `stopStrategy`) are expr-lang; `when` is govaluate after tag substitution; `depends` is Argo's own
boolean language over task results. Each problem message is the parser's, with its column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from workflow.expr import compile_expr, compile_when, parse_depends
from workflow.expr.errors import ExpressionError
from workflow.templating import find_tags

_T = TypeVar("_T")


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


def _parsed(parse: Callable[[str], _T], source: str) -> tuple[_T | None, str | None]:
    """What `parse` makes of `source`, or (None, why it refuses it)."""
    try:
        return parse(source), None
    except ExpressionError as exc:
        return None, str(exc)
    except RecursionError:
        return None, "expression is nested too deeply"


def expr_error(source: str) -> str | None:
    """Why an expr-lang expression does not parse (None when it does)."""
    return _parsed(compile_expr, source)[1]


def expr_paths(source: str) -> frozenset[str]:
    """The dotted constant paths an expression reads (`inputs.parameters.x`); empty when it does not parse."""
    program, _ = _parsed(compile_expr, source)
    return program.paths() if program is not None else frozenset()


def when_error(source: str) -> str | None:
    return _parsed(compile_when, source)[1]


def depends_refs(source: str) -> tuple[list[tuple[str, str | None]], str | None]:
    """The (task, result) pairs a `depends` names (result None for a bare task), and its parse error."""
    parsed, error = _parsed(parse_depends, source)
    if parsed is None:
        return [], error
    return [(task, result) for task, result in parsed.task_results()], None
