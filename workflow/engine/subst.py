"""The engine's one door to templating and expressions (workflow.templating, workflow.expr).

Everything the engine substitutes or evaluates goes through these functions, which turn the library's
errors into EngineError (a node message) and skip the work when there is nothing to do.
"""

from __future__ import annotations

import json
from collections import ChainMap
from datetime import datetime
from typing import Any

from workflow.engine.defs import EngineError
from workflow.expr import (
    ExpressionError,
    compile_expr,
    dependencies_as_depends,
    evaluate_when,
    expand_scope,
    parse_depends,
)
from workflow.templating import render_json

NOW = "__now__"  # the step's `now` travels in the globals, for `now()` and sprig's date functions


def has_tags(value: Any) -> bool:
    return _has_tags(value)


def _has_tags(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, dict):
        return any(_has_tags(v) or (isinstance(k, str) and "{{" in k) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_tags(v) for v in value)
    return False


_TEXT_GLOBALS: dict[int, tuple[dict[str, Any], int, dict[str, Any]]] = {}


def _text_scope(globals_: dict[str, Any], local: dict[str, Any]) -> Any:
    """Globals and locals without the values that are not text (artifacts, the clock).

    The filtered globals are remembered for as long as the globals dict keeps its size (they only grow).
    """
    cached = _TEXT_GLOBALS.get(id(globals_))
    if cached is None or cached[0] is not globals_ or cached[1] != len(globals_):
        filtered = {k: v for k, v in globals_.items() if not isinstance(v, (dict, list, datetime))}
        _TEXT_GLOBALS.clear()
        _TEXT_GLOBALS[id(globals_)] = cached = (globals_, len(globals_), filtered)
    if not local:
        return cached[2]
    text_local = {k: v for k, v in local.items() if not isinstance(v, (dict, list, datetime))}
    return ChainMap(text_local, cached[2])


def _scope(globals_: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    if not globals_:
        return local
    if not local:
        return globals_
    merged = dict(globals_)
    merged.update(local)
    return merged


def render(value: Any, globals_: dict[str, Any], local: dict[str, Any]) -> Any:
    """`value` (a JSON-like object) with every `{{tag}}` / `{{= expr}}` that the scope knows replaced.

    Unknown tags are left as they are (later scopes resolve them: `{{item}}`, `{{steps.x...}}`).
    """
    if isinstance(value, str) and "{{" not in value:
        return value

    # Artifacts (dicts) are not text: their tags stay for artifact resolution (`from:`), as in Argo.
    scope = _text_scope(globals_, local)
    try:
        return render_json(value, scope, strict=False, now=globals_.get(NOW))
    except ExpressionError as exc:
        raise EngineError(str(exc)) from None


def render_dict(value: dict[str, Any], globals_: dict[str, Any], local: dict[str, Any]) -> dict[str, Any]:
    """`render` of an object (a template, a step, arguments): the result is an object too."""
    rendered = render(value, globals_, local)
    assert isinstance(rendered, dict)
    return rendered


def evaluate(source: str, globals_: dict[str, Any], local: dict[str, Any]) -> Any:
    """An expr-lang expression over the scope (dotted keys expanded into maps)."""

    env = expand_scope(_scope(globals_, local))
    item = local.get("__item__") if local else None
    if item is not None:
        env["item"] = item
    try:
        return compile_expr(source).run(env, now=globals_.get(NOW))
    except ExpressionError as exc:
        raise EngineError(f"failed to evaluate expression {source!r}: {exc}") from None


def evaluate_bool(source: str, globals_: dict[str, Any], local: dict[str, Any]) -> bool:
    result = evaluate(source, globals_, local)
    if not isinstance(result, bool):
        raise EngineError(
            f"expression {source!r} did not evaluate to a boolean: {json.dumps(result, default=str)}"
        )
    return result


def when(text: str) -> bool:
    """A step's or task's `when`, already substituted, evaluated with govaluate's rules."""

    try:
        return bool(evaluate_when(text))
    except ExpressionError as exc:
        raise EngineError(str(exc)) from None


def task_dependencies(task: dict[str, Any], continue_on: dict[str, Any]) -> tuple[list[str], Any]:
    """(the tasks a DAG task depends on, its parsed depends logic or None)."""

    depends = task.get("depends")
    deps = task.get("dependencies")
    try:
        if isinstance(depends, str) and depends.strip():
            logic = parse_depends(depends)
        elif isinstance(deps, list) and deps:
            logic = parse_depends(dependencies_as_depends([str(d) for d in deps], continue_on))
        else:
            return [], None
    except ExpressionError as exc:
        raise EngineError(f"invalid depends of task {task.get('name')}: {exc}") from None
    return list(logic.tasks()), logic


def evaluate_depends(logic: Any, results: dict[str, Any]) -> bool:

    try:
        return bool(logic.evaluate(results.get))
    except ExpressionError as exc:
        raise EngineError(f"unable to evaluate depends '{logic.source}': {exc}") from None
