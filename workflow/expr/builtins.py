"""expr-lang's built-in functions (those without predicates), plus the ones Argo adds to every expression:
`asInt`/`asFloat` (aliases of `int`/`float`), `toJson` (compact json.Marshal), `jsonpath(json, path)`.

Each function takes evaluated arguments. `BUILTINS[name] = (function, min_args, max_args)`; the arity is
checked when the expression is compiled, so `len()` is a lint error, not a run-time surprise.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from workflow.expr.errors import ExprRuntimeError
from workflow.expr.jsonpath import query as jsonpath_query
from workflow.expr.operators import fetch, less
from workflow.expr.times import location, parse_date, parse_duration
from workflow.expr.values import (
    INT64_MAX,
    INT64_MIN,
    equal,
    from_json,
    is_int,
    is_list,
    is_number,
    kind_name,
    sprint,
    to_json,
    type_name,
)

BUILTINS: dict[str, tuple[Callable[..., object], int, int]] = {}
NEEDS_NOW = frozenset({"now"})  # evaluated by the evaluator, which holds the injected time


_F = TypeVar("_F", bound=Callable[..., object])


def builtin(name: str, lo: int, hi: int | None = None) -> Callable[[_F], _F]:
    def register(fn: _F) -> _F:
        BUILTINS[name] = (fn, lo, lo if hi is None else hi)
        return fn

    return register


def _str(name: str, v: object) -> str:
    if not isinstance(v, str):
        raise ExprRuntimeError(f"{name}: cannot use {type_name(v)} as argument (type string)")
    return v


def _list(name: str, v: object) -> list[object]:
    if not is_list(v):
        raise ExprRuntimeError(f"{name}: cannot use {type_name(v)} as an array")
    return list(v)


def _int(name: str, v: object) -> int:
    if is_int(v):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise ExprRuntimeError(f"{name}: cannot use {type_name(v)} as argument (type int)")


def _map(name: str, v: object) -> Mapping[object, object]:
    if not isinstance(v, Mapping):
        raise ExprRuntimeError(f"{name}: cannot use {type_name(v)} as a map")
    return v


# ---- conversions --------------------------------------------------------------------------------------

_ATOI = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)", re.I
)


@builtin("int", 1)
def to_int(v: object) -> int:
    """expr-lang's int(): numbers truncate; strings must be decimal integers (strconv.Atoi)."""
    if is_int(v):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            return INT64_MIN
        return int(v)
    if isinstance(v, str):
        if not _ATOI.fullmatch(v):
            raise ExprRuntimeError(f"invalid operation: int({v})")
        n = int(v)
        if not INT64_MIN <= n <= INT64_MAX:
            raise ExprRuntimeError(f"invalid operation: int({v})")
        return n
    raise ExprRuntimeError(f"invalid operation: int({type_name(v)})")


@builtin("float", 1)
def to_float(v: object) -> float:
    """expr-lang's float(): numbers convert; strings parse as strconv.ParseFloat does."""
    if is_number(v):
        return float(v)
    if isinstance(v, str):
        if not _FLOAT.fullmatch(v):
            raise ExprRuntimeError(f"invalid operation: float({v})")
        return float(v)
    raise ExprRuntimeError(f"invalid operation: float({type_name(v)})")


BUILTINS["asInt"] = BUILTINS["int"]
BUILTINS["asFloat"] = BUILTINS["float"]
builtin("string", 1)(sprint)
builtin("type", 1)(kind_name)


@builtin("toJSON", 1)
def to_json_indented(v: object) -> str:
    return to_json(v, indent="  ")


@builtin("toJson", 1)
def to_json_compact(v: object) -> str:
    return to_json(v)


@builtin("fromJSON", 1)
def parse_json(v: object) -> object:
    return from_json(_str("fromJSON", v))


BUILTINS["fromJson"] = BUILTINS["fromJSON"]


@builtin("jsonpath", 2)
def jsonpath(document: object, path: object) -> object:
    """Argo's jsonpath(json, path): the JSON text is parsed, then queried."""
    return jsonpath_query(from_json(_str("jsonpath", document)), _str("jsonpath", path))


@builtin("toBase64", 1)
def to_base64(v: object) -> str:
    return base64.b64encode(_str("toBase64", v).encode()).decode()


@builtin("fromBase64", 1)
def from_base64(v: object) -> str:
    try:
        return base64.b64decode(_str("fromBase64", v), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as e:
        raise ExprRuntimeError(f"fromBase64: {e}") from None


# ---- numbers ------------------------------------------------------------------------------------------


@builtin("len", 1)
def length(v: object) -> int:
    if isinstance(v, str):
        return len(v.encode())  # Go counts bytes
    if is_list(v) or isinstance(v, Mapping):
        return len(v)
    raise ExprRuntimeError(f"invalid argument for len (type {type_name(v)})")


@builtin("abs", 1)
def absolute(v: object) -> object:
    if not is_number(v):
        raise ExprRuntimeError(f"invalid argument for abs (type {type_name(v)})")
    return abs(v)


def _float_of(name: str, v: object) -> float:
    if not is_number(v):
        raise ExprRuntimeError(f"invalid argument for {name} (type {type_name(v)})")
    return float(v)


builtin("ceil", 1)(
    lambda v: float(math.ceil(_float_of("ceil", v))) if math.isfinite(_float_of("ceil", v)) else v
)
builtin("floor", 1)(
    lambda v: float(math.floor(_float_of("floor", v))) if math.isfinite(_float_of("floor", v)) else v
)


@builtin("round", 1)
def round_half_away(v: object) -> float:
    x = _float_of("round", v)
    if not math.isfinite(x):
        return x
    return math.copysign(math.floor(abs(x) + 0.5), x)


def _numbers(name: str, args: tuple[object, ...]) -> list[int | float]:
    flat: list[object] = []
    for a in args:
        flat.extend(a if is_list(a) else [a])
    if not flat:
        raise ExprRuntimeError(f"not enough arguments to call {name}")
    numbers: list[int | float] = []
    for x in flat:
        if not is_number(x):
            raise ExprRuntimeError(f"invalid argument for {name} (type {type_name(x)})")
        numbers.append(x)
    return numbers


# Python's max/min keep the first of equal values and replace only on a true `>`/`<`, as expr-lang's loop
# does (so a NaN is kept only when it comes first).
@builtin("max", 1, 1 << 16)
def maximum(*args: object) -> object:
    return max(_numbers("max", args))


@builtin("min", 1, 1 << 16)
def minimum(*args: object) -> object:
    return min(_numbers("min", args))


@builtin("mean", 1, 1 << 16)
def mean(*args: object) -> float:
    nums = _numbers("mean", args)
    return float(sum(nums)) / len(nums)


@builtin("median", 1, 1 << 16)
def median(*args: object) -> float:
    nums = sorted(_numbers("median", args))
    mid = len(nums) // 2
    return float(nums[mid]) if len(nums) % 2 else (nums[mid - 1] + nums[mid]) / 2


def _bits(name: str, fn: Callable[..., int], arity: int) -> None:
    def op(*args: object) -> int:
        if not all(is_int(a) for a in args):
            raise ExprRuntimeError(f"invalid argument for {name}")
        return fn(*args)

    builtin(name, arity)(op)


_bits("bitand", lambda a, b: a & b, 2)
_bits("bitor", lambda a, b: a | b, 2)
_bits("bitxor", lambda a, b: a ^ b, 2)
_bits("bitnand", lambda a, b: a & ~b, 2)
_bits("bitnot", lambda a: ~a, 1)
_bits("bitshl", lambda a, b: ((a << b) + 2**63) % 2**64 - 2**63, 2)
_bits("bitshr", lambda a, b: a >> b, 2)
_bits("bitushr", lambda a, b: (a % 2**64) >> b, 2)


# ---- strings ------------------------------------------------------------------------------------------


@builtin("trim", 1, 2)
def trim(s: object, chars: object = None) -> str:
    text = _str("trim", s)
    return text.strip() if chars is None else text.strip(_str("trim", chars))


builtin("trimPrefix", 2)(lambda s, p: _str("trimPrefix", s).removeprefix(_str("trimPrefix", p)))
builtin("trimSuffix", 2)(lambda s, p: _str("trimSuffix", s).removesuffix(_str("trimSuffix", p)))
builtin("upper", 1)(lambda s: _str("upper", s).upper())
builtin("lower", 1)(lambda s: _str("lower", s).lower())
builtin("hasPrefix", 2)(lambda s, p: _str("hasPrefix", s).startswith(_str("hasPrefix", p)))
builtin("hasSuffix", 2)(lambda s, p: _str("hasSuffix", s).endswith(_str("hasSuffix", p)))


def go_split(s: str, sep: str, n: int = -1, *, after: bool = False) -> list[str]:
    """strings.SplitN / SplitAfterN: n < 0 means all pieces, n == 0 none, n > 0 at most n."""
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        return chars if n < 0 or n >= len(chars) else chars[: n - 1] + ["".join(chars[n - 1 :])]
    pieces = s.split(sep) if n < 0 else s.split(sep, n - 1)
    if after:
        pieces = [p + sep for p in pieces[:-1]] + pieces[-1:]
    return pieces


@builtin("split", 2, 3)
def split(s: object, sep: object, n: object = -1) -> list[str]:
    return go_split(_str("split", s), _str("split", sep), _int("split", n))


@builtin("splitAfter", 2, 3)
def split_after(s: object, sep: object, n: object = -1) -> list[str]:
    return go_split(_str("splitAfter", s), _str("splitAfter", sep), _int("splitAfter", n), after=True)


builtin("replace", 3)(
    lambda s, old, new: _str("replace", s).replace(_str("replace", old), _str("replace", new))
)


@builtin("repeat", 2)
def repeat(s: object, n: object) -> str:
    count = _int("repeat", n)
    if count < 0:
        raise ExprRuntimeError("strings: negative Repeat count")
    return _str("repeat", s) * count


@builtin("join", 1, 2)
def join(items: object, sep: object = "") -> str:
    parts: list[str] = []
    for p in _list("join", items):
        if not isinstance(p, str):
            raise ExprRuntimeError(f"join: cannot use {type_name(p)} as a string")
        parts.append(p)
    return _str("join", sep).join(parts)


def _byte_index(s: str, i: int) -> int:
    return -1 if i < 0 else len(s[:i].encode())


builtin("indexOf", 2)(
    lambda s, sub: _byte_index(_str("indexOf", s), _str("indexOf", s).find(_str("indexOf", sub)))
)
builtin("lastIndexOf", 2)(
    lambda s, sub: _byte_index(_str("lastIndexOf", s), _str("lastIndexOf", s).rfind(_str("lastIndexOf", sub)))
)


# ---- arrays and maps ----------------------------------------------------------------------------------


@builtin("first", 1)
def first(v: object) -> object:
    if v is None:
        return None
    items = _list("first", v)
    return items[0] if items else None


@builtin("last", 1)
def last(v: object) -> object:
    if v is None:
        return None
    items = _list("last", v)
    return items[-1] if items else None


@builtin("get", 2)
def get(v: object, key: object) -> object:
    try:
        return fetch(v, key)
    except ExprRuntimeError:
        return None


builtin("take", 2)(lambda v, n: _list("take", v)[: max(0, _int("take", n))])


def _sorted_keys(m: Mapping[object, object]) -> list[object]:
    # Go iterates maps in random order; Sluice answers in key order so that results are reproducible.
    return sorted(m, key=lambda k: (not isinstance(k, str), sprint(k)))


builtin("keys", 1)(lambda m: _sorted_keys(_map("keys", m)))
builtin("values", 1)(lambda m: [_map("values", m)[k] for k in _sorted_keys(_map("values", m))])
builtin("toPairs", 1)(lambda m: [[k, _map("toPairs", m)[k]] for k in _sorted_keys(_map("toPairs", m))])


@builtin("fromPairs", 1)
def from_pairs(v: object) -> dict[object, object]:
    out: dict[object, object] = {}
    for pair in _list("fromPairs", v):
        if not is_list(pair) or len(pair) != 2:
            raise ExprRuntimeError("fromPairs: expected pairs of [key, value]")
        out[pair[0]] = pair[1]
    return out


@builtin("sort", 1, 2)
def sort(v: object, order: object = "asc") -> list[object]:
    items = _list("sort", v)
    if order not in ("asc", "desc"):
        raise ExprRuntimeError(f'sort: unknown order "{order}", use "asc" or "desc"')
    return sort_values(items, desc=order == "desc")


def sort_values(items: list[object], *, desc: bool = False, keys: list[object] | None = None) -> list[object]:
    # Any: the keys are values that `less` orders, checked pairwise below
    keyed: list[tuple[Any, object]] = list(zip(keys if keys is not None else items, items, strict=True))
    for (a, _), (b, _) in zip(keyed, keyed[1:], strict=False):
        less(a, b)  # raises on a mixture that Go cannot order
    keyed.sort(key=lambda kv: kv[0], reverse=desc)
    return [item for _, item in keyed]


@builtin("concat", 1, 1 << 16)
def concat(*arrays: object) -> list[object]:
    out: list[object] = []
    for a in arrays:
        out.extend(_list("concat", a))
    return out


@builtin("flatten", 1)
def flatten(v: object) -> list[object]:
    out: list[object] = []
    for x in _list("flatten", v):
        if is_list(x):
            out.extend(flatten(x))
        else:
            out.append(x)
    return out


@builtin("uniq", 1)
def uniq(v: object) -> list[object]:
    out: list[object] = []
    for x in _list("uniq", v):
        if not any(equal(x, y) for y in out):
            out.append(x)
    return out


builtin("reverse", 1)(lambda v: _list("reverse", v)[::-1])


# ---- time ---------------------------------------------------------------------------------------------


@builtin("duration", 1)
def duration(v: object) -> object:
    return parse_duration(_str("duration", v))


builtin("date", 1, 3)(parse_date)
builtin("timezone", 1)(lambda name: location(_str("timezone", name)))


def now_builtin(now: datetime | None) -> datetime:
    if now is None:
        raise ExprRuntimeError("now() is not available here: this evaluation was given no current time")
    return now


BUILTINS["now"] = (now_builtin, 0, 0)
