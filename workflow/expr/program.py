"""`compile_expr(src) -> Program`: parse and compile an expr-lang expression once, run it many times."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from workflow.expr import ast
from workflow.expr.errors import ExprRuntimeError, ExprSyntaxError
from workflow.expr.evaluator import NAMESPACES, Compiler, Context, Fn
from workflow.expr.parser import parse

MAX_SOURCE = 64 * 1024


class Program:
    """A compiled expression. Immutable and safe to share; `run` never mutates the environment."""

    __slots__ = ("source", "tree", "_fn", "_names", "_paths", "_whole_env")

    def __init__(self, source: str, tree: ast.Node, fn: Fn) -> None:
        self.source = source
        self.tree = tree
        self._fn = fn
        names: set[str] = set()
        paths: set[str] = set()
        _collect(tree, frozenset(), names, paths)
        self._whole_env = "$env" in names
        names.discard("$env")
        self._names = frozenset(names)
        self._paths = frozenset(paths)

    def run(self, env: Mapping[str, Any] | None = None, *, now: datetime | None = None) -> Any:
        """Evaluate over `env` (nested maps: see expand_scope). `now` is what `now()` returns."""
        try:
            return self._fn(Context(env if env is not None else {}, now))
        except RecursionError:
            raise ExprRuntimeError("expression nested too deeply") from None

    def names(self) -> frozenset[str]:
        """The root identifiers read from the environment (`inputs`, `steps`, `item`...)."""
        return self._names

    def reads_whole_env(self) -> bool:
        """Whether it looks at `$env` as a whole (`'x' in $env`): then names() cannot bound what it reads."""
        return self._whole_env

    def paths(self) -> frozenset[str]:
        """The dotted constant paths read: `inputs.parameters.my-param` for `inputs.parameters['my-param']`."""
        return self._paths

    def __repr__(self) -> str:
        return f"Program({self.source!r})"


@lru_cache(maxsize=4096)
def compile_expr(src: str) -> Program:
    """Parse and compile; raises ExprSyntaxError (message and column) for anything expr-lang would reject."""
    if len(src) > MAX_SOURCE:
        raise ExprSyntaxError(f"expression is longer than {MAX_SOURCE} characters", src, 0)
    try:
        tree = parse(src)
        return Program(src, tree, Compiler(src).compile(tree))
    except RecursionError:
        raise ExprSyntaxError("expression nested too deeply", src, 0) from None


def _constant_path(node: ast.Node) -> list[str] | None:
    """`a.b['c']` as ['a', 'b', 'c'] when every step is a constant string; None otherwise."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Chain):
            node = node.node
        elif isinstance(node, ast.Member):
            if not (isinstance(node.prop, ast.Literal) and isinstance(node.prop.value, str)):
                return None
            parts.append(node.prop.value)
            node = node.obj
        elif isinstance(node, ast.Ident):
            parts.append(node.name)
            return parts[::-1]
        else:
            return None


def _collect(node: ast.Node, bound: frozenset[str], names: set[str], paths: set[str]) -> None:
    # With a stack, not recursion: a flat run of 1,000 operators is a tree 1,000 deep.
    stack: list[tuple[ast.Node, frozenset[str]]] = [(node, bound)]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, ast.Ident):
            _add_path([node.name], bound, names, paths)
            continue
        if isinstance(node, (ast.Member, ast.Chain)):
            path = _constant_path(node)
            if path is not None:
                _add_path(path, bound, names, paths)
                continue
        if isinstance(node, ast.Let):
            stack.append((node.body, bound | {node.name}))
            stack.append((node.value, bound))
            continue
        if isinstance(node, ast.Call):
            callee = node.callee
            for arg in reversed(node.args):
                stack.append((arg, bound))
            if isinstance(callee, ast.Member):  # a method call: the receiver is read, the method name is not
                stack.append((callee.obj, bound))
            elif not isinstance(callee, ast.Ident):
                stack.append((callee, bound))
            continue
        stack.extend((child, bound) for child in reversed(list(ast.children(node))))


def _add_path(path: list[str], bound: frozenset[str], names: set[str], paths: set[str]) -> None:
    root = path[0]
    if root == "$env":
        path = path[1:]
        if not path:
            names.add("$env")  # the whole environment: noted, then removed from names() by the caller
            return
        root = path[0]
    elif root in bound or root in NAMESPACES:
        return
    names.add(root)
    paths.add(".".join(path))
