"""expr-lang's operators over the value model (values.py): arithmetic, comparison, membership, fetch.

Semantics follow expr-lang's runtime: int op int stays int except `/` (always float) and `**`/`^` (always
float); `%` takes ints only and keeps the sign of the dividend as Go does; `==` compares numbers across int
and float and never equals values of different kinds; `+` also concatenates strings and adds a duration
to a time. Errors read like expr-lang's (`invalid operation: + (mismatched types string and int)`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeGuard

from workflow.expr.errors import ExprRuntimeError
from workflow.expr.regex import go_regex
from workflow.expr.values import equal, is_int, is_list, is_number, type_name


def mismatch(op: str, a: object, b: object) -> ExprRuntimeError:
    return ExprRuntimeError(f"invalid operation: {op} (mismatched types {type_name(a)} and {type_name(b)})")


def add(a: object, b: object) -> object:
    if is_number(a) and is_number(b):
        return a + b
    if isinstance(a, str) and isinstance(b, str):
        return a + b
    if isinstance(a, datetime) and isinstance(b, timedelta):
        return a + b
    if isinstance(a, timedelta) and isinstance(b, (timedelta, datetime)):
        return a + b
    raise mismatch("+", a, b)


def sub(a: object, b: object) -> object:
    if is_number(a) and is_number(b):
        return a - b
    if isinstance(a, datetime) and isinstance(b, (datetime, timedelta)):
        return a - b
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return a - b
    raise mismatch("-", a, b)


def mul(a: object, b: object) -> object:
    if is_number(a) and is_number(b):
        return a * b
    if isinstance(a, timedelta) and is_number(b):
        return a * b
    if is_number(a) and isinstance(b, timedelta):
        return b * a
    raise mismatch("*", a, b)


def div(a: object, b: object) -> float:
    if not (is_number(a) and is_number(b)):
        raise mismatch("/", a, b)
    x, y = float(a), float(b)
    if y == 0:  # Go's float division: no panic, an infinity or NaN
        return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1, y)
    return x / y


def mod(a: object, b: object) -> int:
    if not (is_int(a) and is_int(b)):
        raise mismatch("%", a, b)
    if b == 0:
        raise ExprRuntimeError("integer divide by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def power(a: object, b: object) -> float:
    if not (is_number(a) and is_number(b)):
        raise mismatch("**", a, b)
    try:
        return math.pow(float(a), float(b))
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def negate(a: object) -> object:
    if is_number(a):
        return -a
    if isinstance(a, timedelta):
        return -a
    raise ExprRuntimeError(f"invalid operation: - {type_name(a)}")


def plus(a: object) -> object:
    if is_number(a):
        return a
    raise ExprRuntimeError(f"invalid operation: + {type_name(a)}")


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...
    def __gt__(self, other: Any, /) -> bool: ...
    def __ge__(self, other: Any, /) -> bool: ...


def _orderable(a: object, b: object) -> TypeGuard[_Ordered]:
    """Whether `a` orders against `b` as Go's (and expr-lang's) `<` does: numbers, or two of one kind."""
    if is_number(a) and is_number(b):
        return True
    return type(a) is type(b) and isinstance(a, (str, datetime, timedelta))


def less(a: object, b: object) -> bool:
    if not _orderable(a, b):
        raise mismatch("<", a, b)
    return a < b


def less_eq(a: object, b: object) -> bool:
    if not _orderable(a, b):
        raise mismatch("<=", a, b)
    return a <= b


def greater(a: object, b: object) -> bool:
    if not _orderable(a, b):
        raise mismatch(">", a, b)
    return a > b


def greater_eq(a: object, b: object) -> bool:
    if not _orderable(a, b):
        raise mismatch(">=", a, b)
    return a >= b


def member_of(needle: object, haystack: object) -> bool:
    """`in`: list membership by `==`, or a map key."""
    if haystack is None:
        return False
    if is_list(haystack):
        return any(equal(x, needle) for x in haystack)
    if isinstance(haystack, Mapping):
        try:
            return needle in haystack
        except TypeError:
            return False
    raise ExprRuntimeError(f'operator "in" not defined on {type_name(haystack)}')


def _strings(op: str, a: object, b: object) -> tuple[str, str]:
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    raise mismatch(op, a, b)


def contains(a: object, b: object) -> bool:
    x, y = _strings("contains", a, b)
    return y in x


def starts_with(a: object, b: object) -> bool:
    x, y = _strings("startsWith", a, b)
    return x.startswith(y)


def ends_with(a: object, b: object) -> bool:
    x, y = _strings("endsWith", a, b)
    return x.endswith(y)


def matches(a: object, b: object) -> bool:
    x, y = _strings("matches", a, b)
    return go_regex(y).matches(x)


def make_range(a: object, b: object) -> list[int]:
    if not (is_int(a) and is_int(b)):
        raise mismatch("..", a, b)
    if b - a > 10_000_000:
        raise ExprRuntimeError("range is too large")
    return list(range(a, b + 1))


def to_index(i: object) -> int:
    if is_int(i):
        return i
    if isinstance(i, float) and math.isfinite(i):
        return int(i)
    raise ExprRuntimeError(f"invalid operation: int({type_name(i)})")


def fetch(obj: object, key: object) -> object:
    """`obj.key` / `obj[key]`: a map's value (nil when absent), an element (negative counts from the end)."""
    if isinstance(obj, Mapping):
        try:
            return obj.get(key)
        except TypeError:
            raise ExprRuntimeError(f"cannot fetch {key!r} from {type_name(obj)}") from None
    if isinstance(obj, (list, tuple, str)):
        if isinstance(key, str):
            raise ExprRuntimeError(f"cannot fetch {key} from {type_name(obj)}")
        i = to_index(key)
        n = len(obj)
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise ExprRuntimeError(f"index out of range: {i} (array length is {n})")
        return obj[j]
    if obj is None:
        raise ExprRuntimeError(f"cannot fetch {key} from <nil>")
    raise ExprRuntimeError(f"cannot fetch {key} from {type_name(obj)}")


def slice_of(obj: object, lo: object, hi: object) -> object:
    if not isinstance(obj, (list, tuple, str)):
        raise ExprRuntimeError(f"cannot slice {type_name(obj)}")
    n = len(obj)
    a = 0 if lo is None else to_index(lo)
    b = n if hi is None else to_index(hi)
    a = max(0, a + n if a < 0 else a)
    b = min(n, max(0, b + n if b < 0 else b))
    return list(obj[min(a, b) : b]) if not isinstance(obj, str) else obj[min(a, b) : b]
