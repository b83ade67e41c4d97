"""DAG `depends`: boolean logic over the results of other tasks.

`A && (B.Failed || !C.Succeeded)`: names are task names (`-` allowed), results are Succeeded, Failed,
Errored, Skipped, Omitted, Daemoned, AnySucceeded, AllFailed; a bare `A` means
`(A.Succeeded || A.Skipped || A.Daemoned)`; operators are `&&`, `||`, `!` and parentheses, the ones
Argo documents. Argo extracts names with a regular expression and hands the text to expr-lang, so a
word like `and` is a task name there too; this parser agrees, and points at the character when the text
is malformed.

Evaluation asks a `lookup(task) -> TaskState` for each task it reads: the node's phase, whether it is a
daemon, and for an expanded task (a TaskGroup) its children's phases. The engine only evaluates once all
the tasks are fulfilled, as Argo does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from workflow.expr.errors import DependsSyntaxError, ExprRuntimeError

RESULTS = ("Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed")
BARE = ("Succeeded", "Skipped", "Daemoned")


@dataclass(frozen=True, slots=True)
class TaskState:
    """What `depends` needs to know about a finished task.

    phase: the node phase (Succeeded, Failed, Error, Skipped, Omitted, Running...).
    daemoned: the node is a daemon that is up.
    children: for an expanded task (withItems/withParam/withSequence), the phases of its children, None
    where a child's phase is unknown; None for a task that is not expanded.
    """

    phase: str
    daemoned: bool = False
    children: tuple[str | None, ...] | None = None

    def result(self, name: str) -> bool:
        return _RESULT[name](self)

    def results(self) -> dict[str, bool]:
        return {name: test(self) for name, test in _RESULT.items()}


_RESULT: dict[str, Callable[[TaskState], bool]] = {
    "Succeeded": lambda s: s.phase == "Succeeded",
    "Failed": lambda s: s.phase == "Failed",
    "Errored": lambda s: s.phase == "Error",
    "Skipped": lambda s: s.phase == "Skipped",
    "Omitted": lambda s: s.phase == "Omitted",
    "Daemoned": lambda s: s.daemoned and s.phase != "Pending",
    "AnySucceeded": lambda s: any(p == "Succeeded" for p in s.children or ()),
    "AllFailed": lambda s: bool(s.children) and all(p == "Failed" for p in s.children or ()),
}
States = dict[str, TaskState]
_Eval = Callable[[States], bool]


class Depends:
    """A parsed `depends`. Immutable; `evaluate` may be called on every reconcile."""

    __slots__ = ("source", "_pairs", "_tasks", "_fn", "_text")

    def __init__(self, source: str, pairs: tuple[tuple[str, str | None], ...], fn: _Eval, text: str) -> None:
        self.source = source
        self._pairs = pairs
        self._tasks = tuple(dict.fromkeys(task for task, _ in pairs))
        self._fn = fn
        self._text = text

    def tasks(self) -> tuple[str, ...]:
        """The tasks it depends on, in order of first mention."""
        return self._tasks

    def task_results(self) -> tuple[tuple[str, str], ...]:
        """Every (task, result) read; a bare task reads Succeeded, Skipped and Daemoned."""
        out: list[tuple[str, str]] = []
        for task, result in self._pairs:
            out.extend((task, r) for r in ((result,) if result else BARE))
        return tuple(dict.fromkeys(out))

    def item_tasks(self) -> frozenset[str]:
        """Tasks read through AnySucceeded or AllFailed (Argo's DependencyTypeItems)."""
        return frozenset(t for t, r in self._pairs if r in ("AnySucceeded", "AllFailed"))

    def expanded(self) -> str:
        """The logic with bare names spelled out, as Argo shows it in messages."""
        return self._text

    def evaluate(self, lookup: Callable[[str], TaskState | None]) -> bool:
        states: States = {}
        for task in self.tasks():
            state = lookup(task)
            if state is None:
                raise ExprRuntimeError(f"depends: task '{task}' has no result yet")
            states[task] = state
        return self._fn(states)

    def __repr__(self) -> str:
        return f"Depends({self.source!r})"


@lru_cache(maxsize=4096)
def parse_depends(src: str) -> Depends:
    """Parse `depends`; raises DependsSyntaxError with the position of the offending character."""
    if not src.strip():
        return Depends(src, (), lambda results: True, "")
    parser = _Parser(src)
    fn, text = parser.parse()
    return Depends(src, tuple(parser.pairs), fn, text)


_TOKEN = re.compile(
    r"\s*(?:(?P<op>&&|\|\||[!()])|(?P<name>[A-Za-z0-9_][-A-Za-z0-9_]*)(?P<dot>\.(?P<result>[A-Za-z_][A-Za-z0-9_]*)?)?"
    r"|(?P<other>\S))"
)
_Tok = tuple[str, str, int, "re.Match[str]"]  # (kind, text, position, the match)


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens: list[_Tok] = []
        for m in _TOKEN.finditer(src):
            kind = m.lastgroup if m.lastgroup != "result" and m.lastgroup != "dot" else "name"
            if kind is not None:
                self.tokens.append((kind, m.group(kind), m.start(kind), m))
        self.i = 0
        self.pairs: list[tuple[str, str | None]] = []

    def error(self, message: str, pos: int) -> DependsSyntaxError:
        return DependsSyntaxError(message, self.src, pos)

    def at(self, op: str) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i][0] == "op" and self.tokens[self.i][1] == op

    def parse(self) -> tuple[_Eval, str]:
        fn, text = self.disjunction()
        if self.i < len(self.tokens):
            pos = self.tokens[self.i][2]
            raise self.error(f"unexpected {self.src[pos]!r}", pos)
        return fn, text

    def disjunction(self) -> tuple[_Eval, str]:
        # Operands are gathered into one any()/all() so that a chain over hundreds of tasks stays flat.
        fns, texts = self.chain("||", self.conjunction)
        if len(fns) == 1:
            return fns[0], texts[0]
        return (lambda r: any(f(r) for f in fns)), " || ".join(texts)

    def conjunction(self) -> tuple[_Eval, str]:
        fns, texts = self.chain("&&", self.negation)
        if len(fns) == 1:
            return fns[0], texts[0]
        return (lambda r: all(f(r) for f in fns)), " && ".join(texts)

    def chain(self, op: str, operand: Callable[[], tuple[_Eval, str]]) -> tuple[list[_Eval], list[str]]:
        fn, text = operand()
        fns, texts = [fn], [text]
        while self.at(op):
            self.i += 1
            fn, text = operand()
            fns.append(fn)
            texts.append(text)
        return fns, texts

    def negation(self) -> tuple[_Eval, str]:
        if self.at("!"):
            self.i += 1
            inner, text = self.negation()
            return (lambda r: not inner(r)), f"!{text}"
        return self.primary()

    def primary(self) -> tuple[_Eval, str]:
        if self.i >= len(self.tokens):
            raise self.error("unexpected end of depends: a task name is missing", len(self.src))
        kind, text, pos, m = self.tokens[self.i]
        self.i += 1
        if kind == "op" and text == "(":
            fn, inner = self.disjunction()
            if not self.at(")"):
                at = self.tokens[self.i][2] if self.i < len(self.tokens) else len(self.src)
                raise self.error(f"missing ) to close the ( at column {pos + 1}", at)
            self.i += 1
            return fn, f"({inner})"
        if kind != "name":
            raise self.error(f"unexpected {self.src[pos]!r}: expected a task name", pos)
        task, result = text, m.group("result")
        if m.group("dot") is not None:
            if result is None:
                raise self.error(f"expected a task result after '{task}.'", m.end("dot"))
            if result not in RESULTS:
                raise self.error(f"task result '{result}' for task '{task}' is invalid", m.start("result"))
            self.pairs.append((task, result))
            test = _RESULT[result]
            return (lambda states: test(states[task])), f"{task}.{result}"
        self.pairs.append((task, None))
        return (lambda states: _bare(states[task])), "(" + " || ".join(f"{task}.{r}" for r in BARE) + ")"


def _bare(s: TaskState) -> bool:
    return s.phase == "Succeeded" or s.phase == "Skipped" or (s.daemoned and s.phase != "Pending")


def dependencies_as_depends(deps: Sequence[str], continue_on: Mapping[str, object] | None = None) -> str:
    """The legacy `dependencies: [A, B]` as a depends: each task Succeeded, Skipped or Daemoned, and also
    Errored/Failed when that task's own `continueOn` has `error`/`failed` (a dict or an object)."""
    parts = []
    for dep in deps:
        results = list(BARE)
        flags = (continue_on or {}).get(dep)
        if _flag(flags, "error"):
            results.append("Errored")
        if _flag(flags, "failed"):
            results.append("Failed")
        parts.append("(" + " || ".join(f"{dep}.{r}" for r in results) + ")")
    return " && ".join(parts)


def _flag(obj: object, name: str) -> bool:
    if obj is None:
        return False
    if isinstance(obj, Mapping):
        return bool(obj.get(name))
    return bool(getattr(obj, name, False))
