"""Lint-time syntax of every expression a workflow carries, through the expression languages' own parsers.

`{{= expr }}` tags and the brace-less expr contexts (hook `expression`, `retryStrategy.expression`,
`fromExpression`, `valueFrom.expression`, HTTP `successCondition`, data transformations, `labelsFrom`,
cron `stopStrategy`) are expr-lang; `when` is govaluate after tag substitution; `depends` is Argo's own
boolean language over task results. Each problem message is the parser's, with its column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from workflow.expr import compile_expr, compile_when, parse_depends
from workflow.expr.depends import BARE, RESULTS
from workflow.expr.errors import ExpressionError
from workflow.expr.tags import tag_bodies

_T = TypeVar("_T")


@dataclass(slots=True)
class FoundTag:
    kind: str  # "simple" | "expression"
    body: str  # trimmed


def tags_in(text: str) -> tuple[list[FoundTag], str | None]:
    """The tags in `text`, and the syntax error that stopped the scan (if any)."""
    if "{{" not in text:
        return [], None
    # A `{{` without its `}}` is literal text (find_tags without strict), so the scan never fails.
    return [FoundTag(kind, body.strip()) for kind, body in tag_bodies(text)], None


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


# A `depends` made of operands joined by && and ||, each operand a task name (with or without a result,
# tokenised as depends._TOKEN does) after any `!` and `(` and before any `)`: with its parentheses
# balanced it is a well-formed expression of the parser's grammar, so its pairs are read without parsing.
_DEP = r"[A-Za-z0-9_][-A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?"
_OPERAND = rf"(?:[!(]\s*)*{_DEP}(?:\s*\))*"
_PLAIN_DEPENDS = re.compile(rf"\s*{_OPERAND}(?:\s*(?:&&|\|\|)\s*{_OPERAND})*\s*")
_DEP_PAIR = re.compile(r"([A-Za-z0-9_][-A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?")


def depends_refs(source: str) -> tuple[list[tuple[str, str | None]], str | None]:
    """The (task, result) pairs a `depends` names (result None for a bare task), and its parse error."""
    refs, error, _, _ = depends_summary(source)
    return list(refs), error


def depends_summary(
    source: str,
) -> tuple[tuple[tuple[str, str | None], ...], str | None, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """depends_refs' pairs and error, with the tasks named (first mention first) and the pairs whose result
    is items-based (AnySucceeded, AllFailed): what a DAG checks of every pair, once per text."""
    found = _REFS.get(source)
    if found is None:
        refs, error = _depends_refs(source)
        tasks = tuple(dict.fromkeys(task for task, _ in refs))
        items = tuple((task, result) for task, result in refs if result in ("AnySucceeded", "AllFailed"))
        found = (refs, error, tasks, items)
        if len(source) <= _REFS_TEXT_MAX:
            if len(_REFS) >= _REFS_MAX:
                _REFS.clear()
            _REFS[source] = found
    return found


# depends_summary by text, as parse_depends keeps its programs (a DAG is checked again on every
# admission); bounded in entries and in the length of a text kept.
_REFS: dict[str, tuple[Any, ...]] = {}
_REFS_MAX = 4096
_REFS_TEXT_MAX = 1024


def _balanced(source: str) -> bool:
    if "(" not in source and ")" not in source:
        return True
    depth = 0
    for char in source:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _depends_refs(source: str) -> tuple[tuple[tuple[str, str | None], ...], str | None]:
    if _PLAIN_DEPENDS.fullmatch(source) and _balanced(source):
        pairs = _DEP_PAIR.findall(source)
        if all(result in RESULTS for _, result in pairs if result):
            # Depends.task_results: a bare task reads Succeeded, Skipped and Daemoned; first mention first.
            out: dict[tuple[str, str], None] = {}
            for task, result in pairs:
                if result:
                    out[(task, result)] = None
                else:
                    for bare in BARE:
                        out[(task, bare)] = None
            return tuple(out), None
    parsed, error = _parsed(parse_depends, source)
    if parsed is None:
        return (), error
    return tuple(parsed.task_results()), None
