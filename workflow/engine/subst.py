"""The engine's one door to templating and expressions (workflow.templating, workflow.expr).

Everything the engine substitutes or evaluates goes through these functions, which turn the library's
errors into EngineError (a node message) and skip the work when there is nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
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


_NOT_TEXT = (dict, list, datetime)


_ABSENT = object()


class _TextScope(Mapping[str, Any]):
    """The locals over the globals, without the values that are not text (artifacts, the clock), read
    through to the globals dict: the step writes globals as it walks the tree, and a value changed under a
    key already there is seen as it is now (a filtered copy remembered between renders saw only new keys)."""

    __slots__ = ("_globals", "_local")

    def __init__(self, globals_: dict[str, Any], local: dict[str, Any]):
        self._globals = globals_
        self._local = local  # text values only

    def __getitem__(self, key: str) -> Any:
        if key in self._local:
            return self._local[key]
        value = self._globals[key]
        if isinstance(value, _NOT_TEXT):
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        if key in self._local:
            return True
        value = self._globals.get(key, _ABSENT) if isinstance(key, str) else _ABSENT
        return value is not _ABSENT and not isinstance(value, _NOT_TEXT)

    def __iter__(self) -> Iterator[str]:
        yield from self._local
        for key, value in self._globals.items():
            if key not in self._local and not isinstance(value, _NOT_TEXT):
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _text_scope(globals_: dict[str, Any], local: dict[str, Any]) -> Mapping[str, Any]:
    """Globals and locals without the values that are not text (artifacts, the clock)."""
    text_local = {k: v for k, v in local.items() if not isinstance(v, _NOT_TEXT)} if local else {}
    return _TextScope(globals_, text_local)


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
