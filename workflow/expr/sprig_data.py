"""sprig's number, list and dict functions (registered into sprig.SPRIG on import).

Integer functions work in int64 after cast.ToInt64 (`add("1", 2.9)` is 3); `div` and `mod` truncate
toward zero like Go. Functions that would mutate a dict (`set`, `unset`, `merge`) work on a copy so that
an expression never changes the scope it reads. `keys`/`values` are returned in key order, where Go's
order is random.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping

from workflow.expr.errors import ExprRuntimeError
from workflow.expr.sprig import VARIADIC, empty, need_int, need_str, sprig, strval, to_float64, to_int64
from workflow.expr.values import deep_equal, is_list, type_name


def _wrap64(n: int) -> int:
    return (n + 2**63) % 2**64 - 2**63


# ---- numbers ------------------------------------------------------------------------------------------


def _go_div(a: int, b: int) -> int:
    if b == 0:
        raise ExprRuntimeError("runtime error: integer divide by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _go_mod(a: int, b: int) -> int:
    if b == 0:
        raise ExprRuntimeError("runtime error: integer divide by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


sprig("add", 0, VARIADIC)(lambda *xs: _wrap64(sum(to_int64(x) for x in xs)))
sprig("add1", 1)(lambda x: _wrap64(to_int64(x) + 1))
sprig("sub", 2)(lambda a, b: _wrap64(to_int64(a) - to_int64(b)))
sprig("div", 2)(lambda a, b: _go_div(to_int64(a), to_int64(b)))
sprig("mod", 2)(lambda a, b: _go_mod(to_int64(a), to_int64(b)))
sprig("mul", 1, VARIADIC)(lambda a, *xs: _wrap64(math.prod([to_int64(a), *(to_int64(x) for x in xs)])))
sprig("max", 1, VARIADIC)(lambda a, *xs: max([to_int64(a), *(to_int64(x) for x in xs)]))
sprig("min", 1, VARIADIC)(lambda a, *xs: min([to_int64(a), *(to_int64(x) for x in xs)]))
sprig("addf", 0, VARIADIC)(lambda *xs: float(sum(to_float64(x) for x in xs)))
sprig("add1f", 1)(lambda x: to_float64(x) + 1)
sprig("subf", 1, VARIADIC)(lambda a, *xs: to_float64(a) - sum(to_float64(x) for x in xs))
sprig("mulf", 1, VARIADIC)(lambda a, *xs: math.prod([to_float64(a), *(to_float64(x) for x in xs)]))
sprig("maxf", 1, VARIADIC)(lambda a, *xs: max([to_float64(a), *(to_float64(x) for x in xs)]))
sprig("minf", 1, VARIADIC)(lambda a, *xs: min([to_float64(a), *(to_float64(x) for x in xs)]))


@sprig("divf", 1, VARIADIC)
def divf(a: object, *xs: object) -> float:
    out = to_float64(a)
    for x in xs:
        d = to_float64(x)
        out = out / d if d else (math.nan if out == 0 else math.copysign(math.inf, out))
    return out


sprig("floor", 1)(lambda x: float(math.floor(to_float64(x))))
sprig("ceil", 1)(lambda x: float(math.ceil(to_float64(x))))


@sprig("round", 2, 3)
def round_places(a: object, places: object, round_on: object = 0.5) -> float:
    """sprig's round: at `places` decimals, up from `round_on` (0.5), by truncating the scaled value."""
    value, pow10 = to_float64(a), math.pow(10, to_float64(places))
    digit = pow10 * value
    frac = math.modf(digit)[0]
    rounded = math.ceil(digit) if frac >= to_float64(round_on) else math.floor(digit)
    return rounded / pow10


@sprig("atoi", 1)
def atoi(s: object) -> int:
    text = need_str("atoi", s)
    try:
        return int(text) if text.strip() == text and "_" not in text else 0
    except ValueError:
        return 0


sprig("int", 1)(to_int64)
sprig("int64", 1)(to_int64)
sprig("float64", 1)(to_float64)


@sprig("toDecimal", 1)
def to_decimal(v: object) -> int:
    try:
        return int(strval(v), 8)
    except ValueError:
        return 0


@sprig("untilStep", 3)
def until_step(start: object, stop: object, step: object) -> list[int]:
    a, b, by = need_int("untilStep", start), need_int("untilStep", stop), need_int("untilStep", step)
    if by == 0 or (by > 0 and a >= b) or (by < 0 and a <= b):
        return []
    if abs((b - a) // by) > 1_000_000:
        raise ExprRuntimeError("sprig.untilStep: too many values")
    return list(range(a, b, by))


sprig("until", 1)(lambda n: until_step(0, n, 1 if need_int("until", n) >= 0 else -1))


@sprig("seq", 1, 3)
def seq(*args: object) -> str:
    nums = [need_int("seq", a) for a in args]
    start, step, end = (
        (1, 1, nums[0]) if len(nums) == 1 else (nums[0], 1, nums[1]) if len(nums) == 2 else tuple(nums)
    )
    if len(nums) < 3 and end < start:
        step = -1
    if step == 0 or (step > 0 and start > end) or (step < 0 and start < end):
        return ""
    return " ".join(str(i) for i in range(start, end + (1 if step > 0 else -1), step))


# ---- lists --------------------------------------------------------------------------------------------


def _list(name: str, v: object) -> list[object]:
    if is_list(v):
        return list(v)
    raise ExprRuntimeError(f"sprig.{name}: cannot find {name} on type {type_name(v)}")


sprig("list", 0, VARIADIC)(lambda *xs: list(xs))
sprig("first", 1, None, "mustFirst")(lambda v: (_list("first", v) or [None])[0])
sprig("last", 1, None, "mustLast")(lambda v: (_list("last", v) or [None])[-1])
sprig("rest", 1, None, "mustRest")(lambda v: _list("rest", v)[1:])
sprig("initial", 1, None, "mustInitial")(lambda v: _list("initial", v)[:-1])
sprig("append", 2, None, "push", "mustAppend", "mustPush")(lambda v, x: [*_list("append", v), x])
sprig("prepend", 2, None, "mustPrepend")(lambda v, x: [x, *_list("prepend", v)])
sprig("reverse", 1, None, "mustReverse")(lambda v: _list("reverse", v)[::-1])
sprig("concat", 0, VARIADIC)(lambda *vs: [x for v in vs for x in _list("concat", v)])
sprig("compact", 1, None, "mustCompact")(lambda v: [x for x in _list("compact", v) if not empty(x)])
sprig("has", 2, None, "mustHas")(
    lambda needle, v: v is not None and any(deep_equal(x, needle) for x in _list("has", v))
)
sprig("without", 1, VARIADIC, "mustWithout")(
    lambda v, *omit: [x for x in _list("without", v) if not any(deep_equal(x, o) for o in omit)]
)


@sprig("uniq", 1, None, "mustUniq")
def uniq(v: object) -> list[object]:
    out: list[object] = []
    for x in _list("uniq", v):
        if not any(deep_equal(x, y) for y in out):
            out.append(x)
    return out


@sprig("slice", 1, 3, "mustSlice")
def slice_(v: object, *bounds: object) -> list[object]:
    items = _list("slice", v)
    lo = need_int("slice", bounds[0]) if bounds else 0
    hi = need_int("slice", bounds[1]) if len(bounds) > 1 else len(items)
    if not 0 <= lo <= hi <= len(items):
        raise ExprRuntimeError(f"sprig.slice: bounds [{lo}:{hi}] out of range for length {len(items)}")
    return items[lo:hi]


@sprig("chunk", 2, None, "mustChunk")
def chunk(size: object, v: object) -> list[list[object]]:
    n, items = need_int("chunk", size), _list("chunk", v)
    if n <= 0:
        raise ExprRuntimeError("sprig.chunk: size must be positive")
    return [items[i : i + n] for i in range(0, len(items), n)]


# ---- dicts --------------------------------------------------------------------------------------------


def _dict(name: str, v: object) -> dict[object, object]:
    if isinstance(v, Mapping):
        return dict(v)
    raise ExprRuntimeError(f"sprig.{name}: cannot use {type_name(v)} as a dict")


@sprig("dict", 0, VARIADIC)
def make_dict(*kv: object) -> dict[str, object]:
    items = list(kv) + ([""] if len(kv) % 2 else [])
    return {strval(items[i]): items[i + 1] for i in range(0, len(items), 2)}


sprig("get", 2)(lambda d, k: _dict("get", d).get(need_str("get", k), ""))
sprig("set", 3)(lambda d, k, v: {**_dict("set", d), need_str("set", k): v})
sprig("unset", 2)(
    lambda d, k: {key: x for key, x in _dict("unset", d).items() if key != need_str("unset", k)}
)
sprig("hasKey", 2)(lambda d, k: need_str("hasKey", k) in _dict("hasKey", d))
sprig("keys", 1, VARIADIC)(lambda *ds: sorted({k for d in ds for k in _dict("keys", d)}, key=strval))
sprig("values", 1)(lambda d: [x for _, x in sorted(_dict("values", d).items(), key=lambda kv: strval(kv[0]))])
sprig("pick", 1, VARIADIC)(lambda d, *ks: {k: x for k, x in _dict("pick", d).items() if k in ks})
sprig("omit", 1, VARIADIC)(lambda d, *ks: {k: x for k, x in _dict("omit", d).items() if k not in ks})
sprig("pluck", 1, VARIADIC)(lambda k, *ds: [_dict("pluck", d)[k] for d in ds if k in _dict("pluck", d)])
sprig("deepCopy", 1, None, "mustDeepCopy")(copy.deepcopy)


def _merge(dst: dict[object, object], src: Mapping[object, object], overwrite: bool) -> dict[object, object]:
    out = dict(dst)
    for k, v in src.items():
        current = out.get(k)
        if isinstance(current, Mapping) and isinstance(v, Mapping):
            out[k] = _merge(dict(current), v, overwrite)
        elif k not in out or (overwrite and not empty(v)) or (not overwrite and empty(out[k])):
            out[k] = copy.deepcopy(v)
    return out


def _merger(name: str, overwrite: bool) -> Callable[..., dict[object, object]]:
    def merge_all(dst: object, *srcs: object) -> dict[object, object]:
        out = _dict(name, dst)
        for src in srcs:
            out = _merge(out, _dict(name, src), overwrite)
        return out

    return merge_all


merge = sprig("merge", 1, VARIADIC, "mustMerge")(_merger("merge", overwrite=False))
merge_overwrite = sprig("mergeOverwrite", 1, VARIADIC, "mustMergeOverwrite")(
    _merger("mergeOverwrite", overwrite=True)
)


@sprig("dig", 3, VARIADIC)
def dig(*args: object) -> object:
    *path, default, d = args
    node: object = _dict("dig", d)
    for key in path:
        if not isinstance(node, Mapping) or need_str("dig", key) not in node:
            return default
        node = node[key]
    return node
