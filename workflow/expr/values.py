"""Go's view of values, which expr-lang, sprig and Argo's templating all inherit.

Python values stand for Go's: None is nil, bool, int (Go's 64-bit int), float (float64), str, list (a slice),
dict (a map with string keys), datetime (time.Time) and timedelta (time.Duration). What differs from
Python, and is implemented here, is how Go compares them (`1 == true` is false), prints them (`%v`, where
1e6 prints as `1e+06`) and marshals them to JSON (sorted keys, `<` escaped as `\\u003c`, 8.0 as `8`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeGuard, TypeVar

from workflow.expr.errors import ExprRuntimeError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v: object) -> TypeGuard[int | float]:
    return (isinstance(v, (int, float))) and not isinstance(v, bool)


def is_list(v: object) -> TypeGuard[list[object] | tuple[object, ...]]:
    return isinstance(v, (list, tuple))


_Ordered = TypeVar("_Ordered", float, str)


def ordered(op: str, a: _Ordered, b: _Ordered) -> bool:
    """`a op b` for one of `<`, `<=`, `>`, `>=` (two numbers or two strings)."""
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    raise ExprRuntimeError(f"unknown comparison {op}")


def type_name(v: object) -> str:
    """Go's `%T` for the value, as Go error messages print it."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if is_list(v):
        return "[]interface {}"
    if isinstance(v, Mapping):
        return "map[string]interface {}"
    if isinstance(v, datetime):
        return "time.Time"
    if isinstance(v, timedelta):
        return "time.Duration"
    if callable(v):
        return "func"
    return type(v).__name__


def kind_name(v: object) -> str:
    """expr-lang's `type(v)`."""
    names = {"<nil>": "nil", "float64": "float", "[]interface {}": "array", "map[string]interface {}": "map"}
    t = type_name(v)
    return names.get(t, t)


def equal(a: object, b: object) -> bool:
    """expr-lang's `==`: numbers compare by value across int and float; other types must match."""
    if is_number(a) and is_number(b):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    return deep_equal(a, b)


def deep_equal(a: object, b: object) -> bool:
    """Go's reflect.DeepEqual over the value model: an int never equals a float inside a container."""
    if is_list(a) and is_list(b):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if type(a) is not type(b):
        return False
    return a == b


# ---- numbers as Go prints them ------------------------------------------------------------------------


def _digits(f: float) -> tuple[str, int]:
    """The shortest round-trip digits of |f| and the decimal point position: |f| = 0.DIGITS x 10**dp."""
    mantissa, _, exponent = repr(abs(f)).partition("e")
    whole, _, frac = mantissa.partition(".")
    raw = whole + frac
    stripped = raw.lstrip("0")
    dp = len(whole) + (int(exponent) if exponent else 0) - (len(raw) - len(stripped))
    digits = stripped.rstrip("0")
    return (digits, dp) if digits else ("0", 1)


def _fmt_e(digits: str, dp: int) -> str:
    exp = dp - 1
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _fmt_f(digits: str, dp: int) -> str:
    if dp <= 0:
        return "0." + "0" * -dp + digits
    if dp >= len(digits):
        return digits + "0" * (dp - len(digits))
    return digits[:dp] + "." + digits[dp:]


def format_float(f: float) -> str:
    """Go's `%v` (strconv 'g', shortest): 1e+06, 123456, 1.5, 1e-05."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    digits, dp = _digits(f)
    sign = "-" if f < 0 else ""
    exp = dp - 1
    return sign + (_fmt_e(digits, dp) if exp < -4 or exp >= 6 else _fmt_f(digits, dp))


def json_float(f: float) -> str:
    """encoding/json's float64: fixed notation between 1e-6 and 1e21, else e-notation with `e-7`."""
    if math.isnan(f) or math.isinf(f):
        raise ExprRuntimeError(f"json: unsupported value: {format_float(f)}")
    if f == 0:
        return "0" if math.copysign(1, f) > 0 else "-0"
    digits, dp = _digits(f)
    sign = "-" if f < 0 else ""
    if 1e-6 <= abs(f) < 1e21:
        return sign + _fmt_f(digits, dp)
    text = _fmt_e(digits, dp)
    mantissa, _, exp = text.partition("e")
    return f"{sign}{mantissa}e{exp[0]}{int(exp[1:])}"


def fixed_float(f: float) -> str:
    """A float in plain decimal notation, shortest digits (strconv 'f', -1)."""
    digits, dp = _digits(f)
    return ("-" if f < 0 else "") + _fmt_f(digits, dp)


# ---- %v -----------------------------------------------------------------------------------------------


def format_time(t: datetime) -> str:
    """time.Time's String(): `2006-01-02 15:04:05.999999999 -0700 MST`; a naive datetime is UTC."""
    base = t.strftime("%Y-%m-%d %H:%M:%S")
    if t.microsecond:
        base += "." + f"{t.microsecond:06d}".rstrip("0")
    off = t.utcoffset() or timedelta(0)
    mins = abs(int(off.total_seconds())) // 60
    zone = f"{'-' if off < timedelta(0) else '+'}{mins // 60:02d}{mins % 60:02d}"
    name = t.tzname() if t.tzinfo else "UTC"
    if not name or name.startswith("UTC+") or name.startswith("UTC-"):
        name = "UTC" if off == timedelta(0) else zone  # Go names a bare offset by the offset
    return f"{base} {zone} {name}"


def format_duration(d: timedelta) -> str:
    """time.Duration's String(): 1h2m3.5s, 1.5ms, 0s."""
    ns = duration_ns(d)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_trim(ns / 1000)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{_trim(ns / 1_000_000)}ms"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = rest / 10**9
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return sign + out + f"{_trim(seconds)}s"


def _trim(x: float) -> str:
    return format(Decimal(repr(x)).normalize(), "f")


def duration_ns(d: timedelta) -> int:
    return (d.days * 86400 + d.seconds) * 10**9 + d.microseconds * 1000


def sprint(v: object) -> str:
    """Go's `fmt.Sprintf("%v", v)` over the value model: [a b], map[k:v], <nil>, 1e+06."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, str):
        return v
    if is_list(v):
        return "[" + " ".join(sprint(x) for x in v) + "]"
    if isinstance(v, Mapping):
        items = sorted(v.items(), key=lambda kv: _key_order(kv[0]))
        return "map[" + " ".join(f"{sprint(k)}:{sprint(x)}" for k, x in items) + "]"
    if isinstance(v, datetime):
        return format_time(v)
    if isinstance(v, timedelta):
        return format_duration(v)
    return str(v)


def _key_order(k: object) -> tuple[int, object]:
    return (0, k) if is_number(k) else (1, sprint(k))


# ---- JSON as encoding/json writes it ------------------------------------------------------------------

_HTML = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_string(s: str, *, escape_html: bool = True) -> str:
    out = json.dumps(s, ensure_ascii=False)
    return out.translate(_HTML) if escape_html else out


def to_json(v: object, *, indent: str | None = None, escape_html: bool = True) -> str:
    """json.Marshal (or MarshalIndent with `indent`): map keys sorted, HTML-safe, Go's float text."""
    parts: list[str] = []
    _encode(v, parts, indent, "", escape_html, 0)
    return "".join(parts)


def _encode(v: object, out: list[str], indent: str | None, pad: str, html: bool, depth: int) -> None:
    if depth > 1000:
        raise ExprRuntimeError("json: value nested too deeply")
    if v is None:
        out.append("null")
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, float):
        out.append(json_float(v))
    elif isinstance(v, str):
        out.append(json_string(v, escape_html=html))
    elif isinstance(v, datetime):
        out.append(json_string(rfc3339(v, nano=True)))
    elif isinstance(v, timedelta):
        out.append(str(duration_ns(v)))
    elif isinstance(v, Mapping):
        items = sorted(((k if isinstance(k, str) else sprint(k)), x) for k, x in v.items())
        _container(out, "{", "}", items, indent, pad, html, depth, is_map=True)
    elif isinstance(v, Sequence):
        _container(out, "[", "]", list(v), indent, pad, html, depth, is_map=False)
    else:
        raise ExprRuntimeError(f"json: unsupported type: {type_name(v)}")


def _container(
    out: list[str],
    open_: str,
    close: str,
    items: Sequence[object],
    indent: str | None,
    pad: str,
    html: bool,
    depth: int,
    *,
    is_map: bool,
) -> None:
    """A JSON array, or (`is_map`) an object whose `items` are (key, value) pairs."""
    if not items:
        out.append(open_ + close)
        return
    inner = pad + indent if indent is not None else ""
    out.append(open_)
    for i, item in enumerate(items):
        if i:
            out.append(",")
        if indent is not None:
            out.append("\n" + inner)
        if is_map and isinstance(item, tuple):
            out.append(json_string(item[0], escape_html=html) + (": " if indent is not None else ":"))
            _encode(item[1], out, indent, inner, html, depth + 1)
        else:
            _encode(item, out, indent, inner, html, depth + 1)
    if indent is not None:
        out.append("\n" + pad)
    out.append(close)


def from_json(text: str) -> object:
    """json.Unmarshal into interface{}: every number becomes a float64, as in Go."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise ExprRuntimeError(f"invalid JSON: {e}") from None


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def rfc3339(t: datetime, *, nano: bool = False) -> str:
    """time.RFC3339 / RFC3339Nano text; a naive datetime is taken as UTC."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if nano and t.microsecond:
        text += "." + f"{t.microsecond:06d}".rstrip("0")
    off = t.utcoffset() or timedelta(0)
    if off == timedelta(0):
        return text + "Z"
    sign = "-" if off < timedelta(0) else "+"
    mins = abs(int(off.total_seconds())) // 60
    return f"{text}{sign}{mins // 60:02d}:{mins % 60:02d}"


# ---- strconv.Quote ------------------------------------------------------------------------------------

_SHORT = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """strconv.Quote: Go string syntax, printable runes kept, others escaped."""
    out = ['"']
    for ch in s:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in _SHORT:
            out.append(_SHORT[ch])
        elif ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)
