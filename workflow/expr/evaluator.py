"""Compiles an expression tree into nested Python closures, once; running a program is calling one.

Closures avoid re-dispatching on node types at every evaluation, which keeps a `{{= }}` tag or a `depends`
cheap when the engine re-evaluates it on each reconcile. Name resolution order is expr-lang's: `let`
variables, then the environment, then `$env` and the namespaces every Argo expression has (`sprig`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from workflow.expr import ast
from workflow.expr import operators as ops
from workflow.expr.builtins import BUILTINS, sort_values
from workflow.expr.errors import ExpressionError, ExprRuntimeError, ExprSyntaxError
from workflow.expr.regex import go_regex
from workflow.expr.sprig import SPRIG, SprigFunction
from workflow.expr.times import method
from workflow.expr.values import equal, is_list, sprint, type_name

Fn = Callable[["Context"], object]
NAMESPACES: dict[str, object] = {"sprig": SPRIG}
_MISSING = object()


class Context:
    __slots__ = ("env", "now", "lets", "scope")

    def __init__(self, env: Mapping[str, object], now: datetime | None) -> None:
        self.env = env
        self.now = now
        self.lets: dict[str, object] = {}
        self.scope: list[object] | None = None  # [element, index, accumulator] inside a predicate


class _NilChain(Exception):
    """`?.` met nil: the enclosing chain evaluates to nil."""


_BINARY: dict[str, Callable[[object, object], object]] = {
    "+": ops.add, "-": ops.sub, "*": ops.mul, "/": ops.div, "%": ops.mod, "**": ops.power, "^": ops.power,
    "==": equal, "!=": lambda a, b: not equal(a, b), "<": ops.less, "<=": ops.less_eq, ">": ops.greater,
    ">=": ops.greater_eq, "in": ops.member_of, "contains": ops.contains, "startsWith": ops.starts_with,
    "endsWith": ops.ends_with, "matches": ops.matches, "..": ops.make_range,
}  # fmt: skip


# Operators a run of which is evaluated in a loop (Compiler._operator_run): every plain one, and the logical
# ones; not `??` nor `matches` (compiled on their own: a constant pattern is checked when compiled).
_FOLDABLE = (frozenset(_BINARY) - {"matches"}) | {"&&", "and", "||", "or"}


def _bool(op: str, v: object) -> bool:
    if v is True or v is False:
        return v
    raise ExprRuntimeError(f"invalid operation: {op} (non-bool operand of type {type_name(v)})")


def call_safely(name: str, fn: Callable[..., object], args: list[object]) -> object:
    """Call a function value; a failure inside it is an ExprRuntimeError naming it, never a traceback."""
    try:
        return fn(*args)
    except ExpressionError:
        raise
    except (
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        ZeroDivisionError,
        OverflowError,
        AttributeError,
    ) as e:
        raise ExprRuntimeError(f"{name}: {e}") from None
    except RecursionError:
        raise ExprRuntimeError(f"{name}: value nested too deeply") from None


class Compiler:
    def __init__(self, src: str) -> None:
        self.src = src
        self.lets: list[str] = []  # let names in scope while compiling

    def error(self, message: str, node: ast.Node) -> ExprSyntaxError:
        return ExprSyntaxError(message, self.src, node.pos)

    def compile(self, node: ast.Node) -> Fn:
        handler: Callable[[ast.Node], Fn] = getattr(self, "_" + type(node).__name__.lower())
        return handler(node)

    # -- leaves ---------------------------------------------------------------------------------------

    def _literal(self, node: ast.Literal) -> Fn:
        value = node.value
        return lambda ctx: value

    def _ident(self, node: ast.Ident) -> Fn:
        name = node.name

        def ident(ctx: Context) -> object:
            if name in ctx.lets:
                return ctx.lets[name]
            value = ctx.env.get(name, _MISSING)
            if value is not _MISSING:
                return value
            if name == "$env":
                return ctx.env
            if name in NAMESPACES:
                return NAMESPACES[name]
            raise ExprRuntimeError(f"unknown name {name}")

        return ident

    def _pointer(self, node: ast.Pointer) -> Fn:
        slot = {"": 0, "index": 1, "acc": 2}.get(node.name)
        if slot is None:
            raise self.error(f"unknown pointer #{node.name}", node)

        def pointer(ctx: Context) -> object:
            assert ctx.scope is not None  # the parser allows pointers only inside predicates
            return ctx.scope[slot]

        return pointer

    # -- access ---------------------------------------------------------------------------------------

    def _member(self, node: ast.Member) -> Fn:
        obj = self.compile(node.obj)
        optional = node.optional
        if isinstance(node.prop, ast.Literal):
            key = node.prop.value

            def member(ctx: Context) -> object:
                base = obj(ctx)
                if type(base) is dict:
                    return base.get(key)
                if base is None and optional:
                    raise _NilChain
                return ops.fetch(base, key)

            return member
        prop = self.compile(node.prop)

        def index(ctx: Context) -> object:
            base = obj(ctx)
            if base is None and optional:
                raise _NilChain
            return ops.fetch(base, prop(ctx))

        return index

    def _chain(self, node: ast.Chain) -> Fn:
        inner = self.compile(node.node)

        def chain(ctx: Context) -> object:
            try:
                return inner(ctx)
            except _NilChain:
                return None

        return chain

    def _slice(self, node: ast.Slice) -> Fn:
        obj = self.compile(node.obj)
        lo = self.compile(node.lo) if node.lo else (lambda ctx: None)
        hi = self.compile(node.hi) if node.hi else (lambda ctx: None)
        return lambda ctx: ops.slice_of(obj(ctx), lo(ctx), hi(ctx))

    # -- calls ----------------------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> Fn:
        args = [self.compile(a) for a in node.args]
        if isinstance(node.callee, ast.Ident):
            return self._call_name(node, node.callee.name, args)
        if isinstance(node.callee, ast.Member) and isinstance(node.callee.prop, ast.Literal):
            return self._call_method(node.callee, args)
        callee = self.compile(node.callee)

        def call_value(ctx: Context) -> object:
            fn = callee(ctx)
            if not callable(fn):
                raise ExprRuntimeError(f"cannot call a value of type {type_name(fn)}")
            return call_safely("function", fn, [a(ctx) for a in args])

        return call_value

    def _call_name(self, node: ast.Call, name: str, args: list[Fn]) -> Fn:
        entry = BUILTINS.get(name) if name not in self.lets else None
        if entry is not None:
            fn, lo, hi = entry
            if not lo <= len(args) <= hi:
                few = "not enough" if len(args) < lo else "too many"
                raise self.error(f"{few} arguments to call {name}", node)
            if name == "now":
                return lambda ctx: fn(ctx.now)

        def call_name(ctx: Context) -> object:
            target = ctx.lets[name] if name in ctx.lets else ctx.env.get(name, _MISSING)
            if not callable(target):
                if entry is None:
                    raise ExprRuntimeError(
                        f"unknown function {name}" if target is _MISSING else f"{name} is not a function"
                    )
                target = entry[0]
            return call_safely(name, target, [a(ctx) for a in args])

        return call_name

    def _call_method(self, callee: ast.Member, args: list[Fn]) -> Fn:
        prop = callee.prop
        name = str(prop.value) if isinstance(prop, ast.Literal) else ""
        if isinstance(callee.obj, ast.Ident) and callee.obj.name == "sprig" and "sprig" not in self.lets:
            self._check_sprig(callee, name, len(args))
        obj = self.compile(callee.obj)
        optional = callee.optional

        def call_method(ctx: Context) -> object:
            base = obj(ctx)
            if base is None:
                if optional:
                    raise _NilChain
                raise ExprRuntimeError(f"cannot call {name} on <nil>")
            fn = base.get(name) if isinstance(base, Mapping) else method(base, name)
            if fn is None or not callable(fn):
                raise ExprRuntimeError(f"{type_name(base)} has no function or method {name}")
            if isinstance(fn, SprigFunction) and fn.needs_now:
                now, sprig_fn = ctx.now, fn
                return call_safely(name, lambda *a: sprig_fn(*a, now=now), [a(ctx) for a in args])
            return call_safely(name, fn, [a(ctx) for a in args])

        return call_method

    def _check_sprig(self, node: ast.Node, name: str, count: int) -> None:
        fn = SPRIG.get(name)
        if fn is None:
            raise self.error(f"unknown function sprig.{name}", node)
        if not fn.lo <= count <= fn.hi:
            few = "not enough" if count < fn.lo else "too many"
            raise self.error(f"{few} arguments to call sprig.{name}", node)

    def _builtin(self, node: ast.Builtin) -> Fn:
        source = self.compile(node.args[0])
        pred = node.args[1] if len(node.args) > 1 else None
        body = self.compile(pred.body) if isinstance(pred, ast.Predicate) else None
        extra = self.compile(node.args[2]) if len(node.args) > 2 else None
        apply = _PREDICATES[node.name]
        name = node.name

        def predicate_builtin(ctx: Context) -> object:
            items = source(ctx)
            if not is_list(items):
                raise ExprRuntimeError(f"{name}: cannot iterate {type_name(items)}")
            saved = ctx.scope
            try:
                return apply(ctx, list(items), body, extra)
            finally:
                ctx.scope = saved

        return predicate_builtin

    # -- operators ------------------------------------------------------------------------------------

    def _unary(self, node: ast.Unary) -> Fn:
        operand = self.compile(node.operand)
        if node.op == "not":
            return lambda ctx: not _bool("!", operand(ctx))
        fn = ops.negate if node.op == "-" else ops.plus
        return lambda ctx: fn(operand(ctx))

    def _binary(self, node: ast.Binary) -> Fn:
        if node.op in _FOLDABLE and isinstance(node.left, ast.Binary) and node.left.op in _FOLDABLE:
            return self._operator_run(node)
        left, right, op = self.compile(node.left), self.compile(node.right), node.op
        if op in ("&&", "and"):
            return lambda ctx: _bool(op, left(ctx)) and _bool(op, right(ctx))
        if op in ("||", "or"):
            return lambda ctx: _bool(op, left(ctx)) or _bool(op, right(ctx))
        if op == "??":

            def coalesce(ctx: Context) -> object:
                value = left(ctx)
                return right(ctx) if value is None else value

            return coalesce
        if op == "matches" and isinstance(node.right, ast.Literal) and isinstance(node.right.value, str):
            pattern = node.right.value
            try:
                rx = go_regex(pattern)
            except ExprRuntimeError as e:
                raise self.error(e.message, node.right) from None

            def match_const(ctx: Context) -> object:
                value = left(ctx)
                if not isinstance(value, str):
                    raise ops.mismatch("matches", value, pattern)
                return rx.matches(value)

            return match_const
        fn = _BINARY[op]
        return lambda ctx: fn(left(ctx), right(ctx))

    def _operator_run(self, node: ast.Binary) -> Fn:
        """A left-leaning run of operators (`1 + 1 + ...`, `a && b && ...`) compiled and evaluated in a
        loop, left to right as the tree says: 500 terms are flat for expr-lang, not nested too deeply."""
        steps: list[tuple[str, ast.Node]] = []
        start: ast.Node = node
        while isinstance(start, ast.Binary) and start.op in _FOLDABLE:
            steps.append((start.op, start.right))
            start = start.left
        first = self.compile(start)
        compiled = [(op, _BINARY.get(op), self.compile(right)) for op, right in reversed(steps)]

        def run(ctx: Context) -> object:
            acc = first(ctx)
            for op, fn, right in compiled:
                if fn is not None:
                    acc = fn(acc, right(ctx))
                elif op in ("&&", "and"):
                    acc = _bool(op, acc) and _bool(op, right(ctx))
                else:
                    acc = _bool(op, acc) or _bool(op, right(ctx))
            return acc

        return run

    def _conditional(self, node: ast.Conditional) -> Fn:
        cond, then, otherwise = self.compile(node.cond), self.compile(node.then), self.compile(node.otherwise)

        def conditional(ctx: Context) -> object:
            c = cond(ctx)
            if c is True:
                return then(ctx)
            if c is False:
                return otherwise(ctx)
            raise ExprRuntimeError(f"non-bool expression (type {type_name(c)}) used as condition")

        return conditional

    def _array(self, node: ast.Array) -> Fn:
        items = [self.compile(n) for n in node.items]
        return lambda ctx: [i(ctx) for i in items]

    def _maplit(self, node: ast.MapLit) -> Fn:
        pairs = [(self.compile(k), self.compile(v)) for k, v in node.pairs]
        return lambda ctx: {_map_key(k(ctx)): v(ctx) for k, v in pairs}

    def _let(self, node: ast.Let) -> Fn:
        value = self.compile(node.value)
        self.lets.append(node.name)
        body = self.compile(node.body)
        self.lets.pop()
        name = node.name

        def let(ctx: Context) -> object:
            had, old = name in ctx.lets, ctx.lets.get(name)
            ctx.lets[name] = value(ctx)
            try:
                return body(ctx)
            finally:
                if had:
                    ctx.lets[name] = old
                else:
                    del ctx.lets[name]

        return let

    def _predicate(self, node: ast.Predicate) -> Fn:
        raise self.error("a predicate is only allowed as an argument of a builtin", node)


def _map_key(k: object) -> object:
    try:
        hash(k)
    except TypeError:
        return sprint(k)
    return k


# ---- builtins that take a predicate -------------------------------------------------------------------


def _each(ctx: Context, items: list[object], body: Fn | None) -> Iterator[tuple[object, object]]:
    """(item, what the predicate says of it); without a predicate (`count`, `sum`), the item itself."""
    for i, item in enumerate(items):
        if body is None:
            yield item, item
            continue
        ctx.scope = [item, i, None]
        yield item, body(ctx)


def _test(name: str, v: object) -> bool:
    if v is True or v is False:
        return v
    raise ExprRuntimeError(f"{name}: predicate should return a boolean, got {type_name(v)}")


def _all(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return all(_test("all", r) for _, r in _each(ctx, items, body))


def _any(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return any(_test("any", r) for _, r in _each(ctx, items, body))


def _none(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return not any(_test("none", r) for _, r in _each(ctx, items, body))


def _one(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return sum(1 for _, r in _each(ctx, items, body) if _test("one", r)) == 1


def _filter(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return [x for x, r in _each(ctx, items, body) if _test("filter", r)]


def _map(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return [r for _, r in _each(ctx, items, body)]


def _count(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return sum(1 for _, r in _each(ctx, items, body) if _test("count", r))


def _sum(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    total: object = 0
    for _, v in _each(ctx, items, body):
        total = ops.add(total, v)
    return total


def _find(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return next((x for x, r in _each(ctx, items, body) if _test("find", r)), None)


def _find_index(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    return next((i for i, (_, r) in enumerate(_each(ctx, items, body)) if _test("findIndex", r)), -1)


def _find_last(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    found = [x for x, r in _each(ctx, items, body) if _test("findLast", r)]
    return found[-1] if found else None


def _find_last_index(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    found = [i for i, (_, r) in enumerate(_each(ctx, items, body)) if _test("findLastIndex", r)]
    return found[-1] if found else -1


def _group_by(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    groups: dict[object, list[object]] = {}
    for x, key in _each(ctx, items, body):
        groups.setdefault(_map_key(key), []).append(x)
    return groups


def _sort_by(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    order = extra(ctx) if extra else "asc"
    if order not in ("asc", "desc"):
        raise ExprRuntimeError(f'sortBy: unknown order "{order}", use "asc" or "desc"')
    keys = [r for _, r in _each(ctx, items, body)]
    return sort_values(items, desc=order == "desc", keys=keys)


def _reduce(ctx: Context, items: list[object], body: Fn | None, extra: Fn | None) -> object:
    if extra is not None:
        acc, start = extra(ctx), 0
    elif items:
        acc, start = items[0], 1
    else:
        raise ExprRuntimeError("reduce: empty array and no initial value")
    if body is None:  # the parser requires one (parser.PREDICATE_BUILTINS)
        raise ExprRuntimeError("reduce: no predicate")
    for i in range(start, len(items)):
        ctx.scope = [items[i], i, acc]
        acc = body(ctx)
    return acc


_PREDICATES: dict[str, Callable[[Context, list[object], Fn | None, Fn | None], object]] = {
    "all": _all, "any": _any, "none": _none, "one": _one, "filter": _filter, "map": _map, "count": _count,
    "sum": _sum, "find": _find, "findIndex": _find_index, "findLast": _find_last,
    "findLastIndex": _find_last_index, "groupBy": _group_by, "sortBy": _sort_by, "reduce": _reduce,
}  # fmt: skip
