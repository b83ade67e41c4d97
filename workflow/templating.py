"""`{{ }}` substitution with Argo's semantics, on strings and on whole templates.

Simple tags (`{{inputs.parameters.x}}`, whitespace inside the braces trimmed) are replaced from a flat scope
of strings. Expression tags (`{{= expr }}`) are evaluated with expr-lang over the scope expanded into
nested maps (workflow.expr.expand_scope); a string result is inserted as it is, anything else as JSON.

How a tag that cannot be resolved is treated (Argo's util/template):

* a simple tag absent from the scope stays as written, unless `strict` and its name starts with one of
  Argo's checked prefixes (item. steps. inputs. outputs. pod. workflow. tasks.): then it is an error
  ("failed to resolve {{...}}"), except `*.outputs.artifacts.*`, which artifact resolution handles later;
* a scope value of None is an absent optional (the output of a skipped node with no default): a simple
  tag is then an error, an expression sees nil (so `?? 'fallback'` works);
* late-bound names (`item`, `retries`, `lastRetry.*`, `workflow.status`, `workflow.failures`) that are not
  in the scope yet leave their tag untouched, so that a later pass can fill them;
* an expression that reads a name the scope lacks stays as written if it fails or gives nil; one whose
  names are all present must evaluate (an error is an error), and with `strict` a missing root among the
  checked ones (`inputs`, `steps`...) is an error ("failed to evaluate expression: inputs is missing").

`render_json` substitutes through a whole structure (a template, a step): Argo does it on the JSON text,
with every value JSON-escaped so that the text re-parses. Sluice renders each string (map keys included) in
place instead, which gives the same values for quotes, backslashes, newlines and unicode. Where Argo's
text would not re-parse (a value holding a control character such as \\a, \\v or \\x01, which Go's quoting
writes in a form JSON rejects) Sluice raises the same error Argo does. A `{{` without `}}` is left as text
(Argo would pair it with a `}}` further on in the JSON, or fail); `find_tags(text, strict=True)` reports it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from workflow.expr.errors import ExprRuntimeError, ExprSyntaxError, TemplateError, TemplateSyntaxError
from workflow.expr.govaluate import evaluate_when
from workflow.expr.program import Program, compile_expr
from workflow.expr.scope import expand_scope, has_path
from workflow.expr.tags import EXPRESSION, SIMPLE, Tag, find_tags, scan
from workflow.expr.values import to_json

__all__ = [
    "CHECKED_PREFIXES",
    "EXPRESSION",
    "LATE_BOUND",
    "SIMPLE",
    "Tag",
    "TemplateError",
    "TemplateSyntaxError",
    "find_tags",
    "render",
    "render_json",
    "resolve_var",
]

CHECKED_PREFIXES = ("item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks.")
LATE_BOUND = frozenset(
    {"item", "retries", "lastRetry.exitCode", "lastRetry.status", "lastRetry.duration", "lastRetry.message",
     "workflow.status", "workflow.failures"}
)  # fmt: skip
# Go's strconv.Quote writes these as \a, \v, \x01...: escapes that JSON rejects.
_NOT_JSON_SAFE = re.compile(r"[\x00-\x07\x0b\x0e-\x1f\x7f]")


class _Renderer:
    """One substitution pass: the scope, its expanded form (built on first need) and the options."""

    __slots__ = ("scope", "strict", "late_bound", "now", "_envs")

    def __init__(
        self,
        scope: Mapping[str, Any],
        strict: bool | Collection[str],
        late_bound: Collection[str],
        now: datetime | None,
    ) -> None:
        self.scope = scope
        self.strict: tuple[str, ...] = (
            CHECKED_PREFIXES if strict is True else () if strict is False else tuple(strict)
        )
        self.late_bound = late_bound if type(late_bound) is frozenset else frozenset(late_bound)
        self.now = now
        self._envs: dict[frozenset[str] | None, dict[str, Any]] = {}

    def env(self, roots: frozenset[str] | None) -> dict[str, Any]:
        """The scope expanded under `roots` only (None: all of it); a scope can hold thousands of keys."""
        env = self._envs.get(roots)
        if env is None:
            env = self._envs[roots] = expand_scope(self.scope, roots)
        return env

    def render(self, text: str) -> str:
        if "{{" not in text:
            return text
        tags, _ = scan(text)
        if not tags:
            return text
        out: list[str] = []
        last = 0
        for tag in tags:
            out.append(text[last : tag.start])
            out.append(self.simple(tag) if tag.kind == SIMPLE else self.expression(tag, text))
            last = tag.end
        out.append(text[last:])
        return "".join(out)

    def late(self, name: str) -> bool:
        return any(name == n or name.startswith(n + ".") for n in self.late_bound)

    def simple(self, tag: Tag) -> str:
        name = tag.body
        if name in self.scope:
            return _insert(tag.raw, self.scope[name])
        nested_at = tag.raw.rfind("{{")
        if nested_at > 0:  # `{{ {{x}}`: the literal `{{ ` stays, the inner tag resolves (Argo does so)
            inner = tag.raw[nested_at + 2 :]
            if inner in self.scope:
                return "{{" + tag.raw[:nested_at] + _insert(tag.raw, self.scope[inner])
        if self.late(name):
            return "{{" + tag.raw + "}}"
        if any(name.startswith(p) for p in self.strict) and ".outputs.artifacts." not in name:
            raise TemplateError(f"failed to resolve {{{{{tag.raw}}}}}")
        return "{{" + tag.raw + "}}"

    def expression(self, tag: Tag, text: str) -> str:
        program = _compile(tag, text)
        roots, late_reads = _needs(program, self.late_bound)
        env = self.env(roots)
        unresolved = "{{" + tag.raw + "}}"
        for name in late_reads:
            if not self.present(name, env):
                return unresolved
        missing = [p for p in program.paths() if not self.present(p, env)]
        for path in missing:
            root = path.split(".")[0]
            if not self.present(root, env) and any(p == "" or p.split(".")[0] == root for p in self.strict):
                raise TemplateError(f"failed to evaluate expression: {root} is missing")
        try:
            result = program.run(env, now=self.now)
        except ExprRuntimeError as e:
            if missing:
                return unresolved
            raise TemplateError(f"failed to evaluate expression: {e}") from None
        if result is None:
            if missing:
                return unresolved
            raise TemplateError(f"failed to evaluate expression {tag.body!r}: the result is nil")
        if isinstance(result, str):
            return result
        try:
            return to_json(result)
        except ExprRuntimeError as e:
            raise TemplateError(f"failed to marshal evaluated expression: {e}") from None

    def present(self, path: str, env: dict[str, Any]) -> bool:
        return path in self.scope or has_path(env, path)

    def walk(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.render(obj)
        if isinstance(obj, Mapping):
            return {self.render(k) if isinstance(k, str) else k: self.walk(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self.walk(v) for v in obj]
        return obj


def _insert(raw: str, value: Any) -> str:
    if value is None:
        raise TemplateError(
            f"unable to substitute {{{{{raw}}}}}: output is an absent optional (skipped/omitted node with no default)"
        )
    if not isinstance(value, str):
        raise TemplateError(f"failed to resolve {{{{{raw}}}}} to string")
    if _NOT_JSON_SAFE.search(value):
        raise TemplateError("cannot finish template replacement because the result was invalid JSON")
    return value


def _compile(tag: Tag, text: str) -> Program:
    try:
        return compile_expr(tag.body)
    except ExprSyntaxError as e:
        raise TemplateSyntaxError(e.message, text, tag.body_start + e.pos) from None


@lru_cache(maxsize=4096)
def _needs(program: Program, late_bound: frozenset[str]) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    """What evaluating `program` needs of a scope, worked out once per program (not per tag rendered): the
    scope roots to expand (None: all of them) and the late-bound names it reads."""
    roots = None if program.reads_whole_env() else program.names() | {n.split(".")[0] for n in late_bound}
    return roots, tuple(name for name in late_bound if _reads(program, name))


def _reads(program: Program, name: str) -> bool:
    if "." not in name:
        return name in program.names()
    return any(p == name or p.startswith(name + ".") for p in program.paths())


def render(
    text: str,
    scope: Mapping[str, Any],
    *,
    strict: bool | Collection[str] = False,
    late_bound: Collection[str] = LATE_BOUND,
    now: datetime | None = None,
) -> str:
    """Substitute every tag of `text` from the flat `scope` (see the module docstring for the rules).

    `strict`: True for Argo's checked prefixes, or the prefixes to check ("" checks every name).
    `late_bound`: names left for a later pass when absent; pass () on the last pass.
    `now`: the time `now()` returns in expressions (the core reads no clock)."""
    return _Renderer(scope, strict, late_bound, now).render(text)


def render_json(
    obj: Any,
    scope: Mapping[str, Any],
    *,
    strict: bool | Collection[str] = False,
    late_bound: Collection[str] = LATE_BOUND,
    now: datetime | None = None,
) -> Any:
    """`render` over a JSON-like structure: every string, map keys included; a new structure is returned."""
    return _Renderer(scope, strict, late_bound, now).walk(obj)


def resolve_var(text: str, scope: Mapping[str, Any], *, now: datetime | None = None) -> Any:
    """A field that is exactly one tag (`from: "{{steps.a.outputs.artifacts.x}}"`, an output parameter's
    `valueFrom.parameter`): its value as it is, not as text (Argo's ResolveVar)."""
    inner = text.strip().removeprefix("{{").removesuffix("}}").strip()
    if inner.startswith("="):
        try:
            program = compile_expr(inner[1:])
        except ExprSyntaxError:
            raise TemplateError(f"Unable to compile: {inner[1:]!r}") from None
        try:
            result = program.run(expand_scope(scope), now=now)
        except ExprRuntimeError:
            raise TemplateError(f"Invalid expression: {inner[1:]!r}") from None
        if result is None:
            raise TemplateError(f"Unable to resolve: {inner!r}")
        return result
    if inner not in scope:
        raise TemplateError(f"Unable to resolve: {inner!r}")
    return scope[inner]


def when_holds(source: str, scope: Mapping[str, Any], **render_options: Any) -> bool:
    """A step's or task's `when`: its tags substituted from `scope` (as `render`), then decided with
    govaluate's rules (workflow/expr/govaluate.py). Here, not in expr: templating builds on expr."""
    return evaluate_when(render(source, scope, **render_options))
