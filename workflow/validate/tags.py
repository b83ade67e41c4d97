"""Checking every `{{ }}` in a value: simple tags against a Scope, expression tags for syntax."""

from __future__ import annotations

from typing import Any

import msgspec

from workflow.expr.tags import _JSON_RAW_SPACES, EXPRESSION, tag_bodies
from workflow.validate.context import Ctx, Job
from workflow.validate.expressions import expr_error, expr_paths
from workflow.validate.util import walk_strings
from workflow.validate.variables import Scope, unresolved_message

_encode = msgspec.json.Encoder().encode


def check_tags(ctx: Ctx, job: Job | None, value: Any, path: str, scope: Scope | None) -> None:
    """Every tag in `value` (at `path`) must resolve in `scope` (None: only syntax is checked)."""
    kind = type(value)
    if (kind is dict or kind is list) and _quiet(value, scope):
        return
    for at, text in walk_strings(value, path):  # every text holds `{{`
        for warning, message in _text_problems(text, scope):
            if warning:
                ctx.warn(job, at, message)
            else:
                ctx.error(job, at, message)


def _quiet(value: dict[Any, Any] | list[Any], scope: Scope | None) -> bool:
    """No tag in `value` has a problem: then no path needs to be built, nor the value walked in Python.

    The value is encoded to JSON (in C) and every string holding `{{` is checked as the walk would check
    it. Without a backslash in the JSON no string holds a quote, so each `"..."` is one string, as
    written. The strings seen are all those walk_strings yields and maybe more (keys under a non-string
    key, str subclasses), so "quiet" here means quiet there. Anything unusual (escapes, values JSON
    cannot hold) answers False, and the walk decides, in its own order."""
    try:
        data = _encode(value)
    except Exception:  # non-string keys, surrogates, nesting too deep...: the walk's business
        return False
    if b"{{" not in data:
        return True
    if b"\\" in data:
        return False
    # `{{` is only ever inside a string (JSON's own braces are never doubled): the quotes around it are
    # the string's. Each string is read once, however many tags it holds.
    pos = data.find(b"{{")
    while pos >= 0:
        end = data.find(b'"', pos)
        text = data[data.rfind(b'"', 0, pos) + 1 : end].decode()
        pos = data.find(b"{{", end)
        # The common text, one simple tag and nothing else, without tag_bodies (same scan, same trim).
        if (
            scope is not None
            and text[:2] == "{{"
            and text.find("}}", 2) == len(text) - 2
            and text[2:3] != "="
        ):
            if scope.check(text[2:-2].strip(_JSON_RAW_SPACES).strip()) is not None:
                return False
        elif _text_problems(text, scope):
            return False
    return True


def _text_problems(text: str, scope: Scope | None) -> list[tuple[bool, str]]:
    """(warning, message) of every problem of the tags in `text`, in order."""
    found: list[tuple[bool, str]] = []
    # tags_in without its FoundTags: a `{{` left open is literal text, so the scan cannot fail.
    for kind, body in tag_bodies(text):
        body = body.strip()
        if kind == EXPRESSION:
            # The body is the text after `{{=`, trimmed: what the renderer compiles.
            problem = expr_error(body)
            if problem:
                found.append((False, f"invalid expression in {{{{={body}}}}}: {problem}"))
            elif scope is not None:
                found.extend((True, message) for message in _read_problems(body, scope))
        elif scope is not None:
            reason = scope.check(body)
            if reason is not None:
                found.append((False, unresolved_message(body, reason)))
    return found


def check_expression(ctx: Ctx, job: Job | None, source: Any, path: str, what: str) -> None:
    """A brace-less expr-lang field (hook expression, retryStrategy.expression, fromExpression...)."""
    if not isinstance(source, str) or not source.strip() or "{{" in source:
        return  # tags are substituted before evaluation: the text to parse is only known at runtime
    problem = expr_error(source)
    if problem:
        ctx.error(job, path, f"invalid {what}: {problem}")


def _read_problems(source: str, scope: Scope) -> list[str]:
    """Names an expression reads that cannot exist here: a warning (Argo does not check expressions, and
    an expression may guard a missing name with `??`), with the same reasons as for simple tags."""
    found = []
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
            found.append(
                f"expression reads {path}, which will not resolve here" + (f": {reason}" if reason else "")
            )
    return found
