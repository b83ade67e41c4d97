"""`sprig.*` in Argo expressions: sprig's generic functions (minus `env`/`expandenv`, as in Argo).

Argument order is sprig's (the subject comes last, for template pipelines): `sprig.replace(old, new, s)`,
`sprig.contains(substr, s)`, `sprig.trunc(n, s)`. Number functions convert as sprig does (cast.ToInt64:
"42" is 42, "4.2" is 0, 4.9 is 4) and return Go int64 or float64. Date functions format the time they are
given; a non-time argument means "now", which is the time the caller injected (or an error without one).
This module holds the registry and the string, conversion and default functions; sprig_data.py holds
numbers, lists and dicts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from workflow.expr.errors import ExprRuntimeError
from workflow.expr.regex import go_regex, replace_all
from workflow.expr.times import format_layout, location, parse_layout
from workflow.expr.values import (
    format_duration,
    from_json,
    go_quote,
    is_int,
    is_list,
    is_number,
    sprint,
    to_json,
    type_name,
)


class SprigFunction:
    __slots__ = ("name", "fn", "lo", "hi", "needs_now")

    def __init__(
        self, name: str, fn: Callable[..., object], lo: int, hi: int, needs_now: bool = False
    ) -> None:
        self.name, self.fn, self.lo, self.hi, self.needs_now = name, fn, lo, hi, needs_now

    def __call__(self, *args: object, now: datetime | None = None) -> object:
        if not self.lo <= len(args) <= self.hi:
            raise ExprRuntimeError(f"wrong number of arguments to call sprig.{self.name}")
        return self.fn(*args, now=now) if self.needs_now else self.fn(*args)

    def __repr__(self) -> str:
        return f"sprig.{self.name}"


SPRIG: dict[str, SprigFunction] = {}
VARIADIC = 1 << 16


_F = TypeVar("_F", bound=Callable[..., object])


def sprig(
    name: str, lo: int, hi: int | None = None, *aliases: str, needs_now: bool = False
) -> Callable[[_F], _F]:
    def register(fn: _F) -> _F:
        for n in (name, *aliases):
            SPRIG[n] = SprigFunction(n, fn, lo, lo if hi is None else hi, needs_now)
        return fn

    return register


def strval(v: object) -> str:
    """sprig's strval: strings as they are, everything else as Go's %v."""
    return v if isinstance(v, str) else sprint(v)


def need_str(name: str, v: object) -> str:
    if not isinstance(v, str):
        raise ExprRuntimeError(f"sprig.{name}: cannot use {type_name(v)} as argument (type string)")
    return v


def need_int(name: str, v: object) -> int:
    if is_int(v):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise ExprRuntimeError(f"sprig.{name}: cannot use {type_name(v)} as argument (type int)")


def _num(v: object) -> str:
    """cast.ToInt64's view of a string: `1.0` loses its zero decimals, then Go base prefixes apply."""
    return re.sub(r"\.0*$", "", v.strip()) if isinstance(v, str) else ""


def to_int64(v: object) -> int:
    """cast.ToInt64 as sprig uses it: failures are 0, floats truncate, "0x10" is 16, "010" is 8."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if is_int(v):
        return v
    if isinstance(v, float):
        return int(v) if v == v and abs(v) < 2**63 else 0
    if isinstance(v, str):
        text = _num(v)
        m = re.fullmatch(r"([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|[1-9][0-9]*|0)", text)
        if not m:
            return 0
        digits = m.group(2)
        base = 8 if len(digits) > 1 and digits[0] == "0" and digits[1] in "01234567oO" else 0
        value = int(digits.replace("o", "").replace("O", ""), base) if base else int(digits, 0)
        return -value if m.group(1) == "-" else value
    return 0


def to_float64(v: object) -> float:
    """cast.ToFloat64: failures are 0."""
    if v is None:
        return 0.0
    if isinstance(v, bool) or is_number(v):
        return float(v)
    if isinstance(v, str):
        try:
            if re.fullmatch(r"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)\s*", v):
                return float(v)
        except ValueError:
            pass
    return 0.0


# ---- strings ------------------------------------------------------------------------------------------

sprig("trim", 1)(lambda s: need_str("trim", s).strip())
sprig("trimAll", 2)(lambda cut, s: need_str("trimAll", s).strip(need_str("trimAll", cut)))
sprig("trimPrefix", 2)(lambda p, s: need_str("trimPrefix", s).removeprefix(need_str("trimPrefix", p)))
sprig("trimSuffix", 2)(lambda p, s: need_str("trimSuffix", s).removesuffix(need_str("trimSuffix", p)))
sprig("upper", 1)(lambda s: need_str("upper", s).upper())
sprig("lower", 1)(lambda s: need_str("lower", s).lower())
sprig("title", 1)(
    lambda s: re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), need_str("title", s))
)
sprig("untitle", 1)(
    lambda s: re.sub(r"(^|\s)(\w)", lambda m: m.group(1) + m.group(2).lower(), need_str("untitle", s))
)
sprig("contains", 2)(lambda sub, s: need_str("contains", sub) in need_str("contains", s))
sprig("hasPrefix", 2)(lambda p, s: need_str("hasPrefix", s).startswith(need_str("hasPrefix", p)))
sprig("hasSuffix", 2)(lambda p, s: need_str("hasSuffix", s).endswith(need_str("hasSuffix", p)))
sprig("replace", 3)(
    lambda old, new, s: need_str("replace", s).replace(need_str("replace", old), need_str("replace", new))
)
sprig("repeat", 2)(lambda n, s: need_str("repeat", s) * max(0, need_int("repeat", n)))
sprig("nospace", 1)(lambda s: re.sub(r"\s", "", need_str("nospace", s)))
sprig("swapcase", 1)(lambda s: need_str("swapcase", s).swapcase())
sprig("snakecase", 1)(
    lambda s: re.sub(
        r"[\s\-]+", "_", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", need_str("snakecase", s))
    ).lower()
)
sprig("kebabcase", 1)(
    lambda s: re.sub(
        r"[\s_]+", "-", re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", need_str("kebabcase", s))
    ).lower()
)
sprig("camelcase", 1)(
    lambda s: "".join(w[:1].upper() + w[1:] for w in re.split(r"[_\-\s]+", need_str("camelcase", s)))
)
sprig("initials", 1)(lambda s: "".join(w[0] for w in need_str("initials", s).split()))
sprig("quote", 0, VARIADIC)(lambda *xs: " ".join(go_quote(strval(x)) for x in xs if x is not None))
sprig("squote", 0, VARIADIC)(lambda *xs: " ".join(f"'{strval(x)}'" for x in xs if x is not None))
sprig("cat", 0, VARIADIC)(lambda *xs: " ".join(strval(x) for x in xs if x is not None))
sprig("indent", 2)(
    lambda n, s: (
        " " * need_int("indent", n) + need_str("indent", s).replace("\n", "\n" + " " * need_int("indent", n))
    )
)
sprig("nindent", 2)(lambda n, s: "\n" + strval(SPRIG["indent"](n, s)))
sprig("plural", 3)(lambda one, many, n: one if need_int("plural", n) == 1 else many)
sprig("toString", 1)(strval)
sprig("toStrings", 1)(lambda xs: [strval(x) for x in _items("toStrings", xs)])
sprig("splitList", 2)(
    lambda sep, s: (
        need_str("splitList", s).split(need_str("splitList", sep)) if sep else list(need_str("splitList", s))
    )
)
sprig("split", 2)(
    lambda sep, s: {f"_{i}": p for i, p in enumerate(_items("split", SPRIG["splitList"](sep, s)))}
)
sprig("join", 2)(
    lambda sep, xs: need_str("join", sep).join(strval(x) for x in _items("join", xs) if x is not None)
)
sprig("sortAlpha", 1)(lambda xs: sorted(strval(x) for x in _items("sortAlpha", xs)))


@sprig("trunc", 2)
def trunc(n: object, s: object) -> str:
    count, text = need_int("trunc", n), need_str("trunc", s)
    if count < 0 and len(text) + count > 0:
        return text[len(text) + count :]
    if count >= 0 and len(text) > count:
        return text[:count]
    return text


@sprig("substr", 3)
def substr(start: object, end: object, s: object) -> str:
    a, b, text = need_int("substr", start), need_int("substr", end), need_str("substr", s)
    if a < 0:
        return text[:b]
    if b < 0 or b > len(text):
        return text[a:]
    return text[a:b]


@sprig("abbrev", 2)
def abbrev(width: object, s: object) -> str:
    w, text = need_int("abbrev", width), need_str("abbrev", s)
    return text if w < 4 or len(text) <= w else text[: w - 3] + "..."


@sprig("wrap", 2)
def wrap(width: object, s: object) -> str:
    w, words, lines, line = need_int("wrap", width), need_str("wrap", s).split(" "), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > w:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])


def _items(name: str, v: object) -> list[object]:
    if v is None:
        return []
    if is_list(v):
        return list(v)
    raise ExprRuntimeError(f"sprig.{name}: cannot use {type_name(v)} as a list")


# ---- encodings and hashes -----------------------------------------------------------------------------

sprig("b64enc", 1)(lambda s: base64.b64encode(strval(s).encode()).decode())
sprig("b32enc", 1)(lambda s: base64.b32encode(strval(s).encode()).decode())


def _decode(name: str, decoder: Callable[[str], bytes]) -> Callable[[object], str]:
    def decode(s: object) -> str:
        try:
            return decoder(strval(s)).decode("utf-8", "replace")
        except (binascii.Error, ValueError) as e:
            return str(e)  # sprig returns the error text instead of failing

    return decode


sprig("b64dec", 1)(_decode("b64dec", lambda s: base64.b64decode(s, validate=True)))
sprig("b32dec", 1)(_decode("b32dec", lambda s: base64.b32decode(s)))
sprig("sha1sum", 1)(lambda s: hashlib.sha1(strval(s).encode()).hexdigest())
sprig("sha256sum", 1)(lambda s: hashlib.sha256(strval(s).encode()).hexdigest())
sprig("sha512sum", 1)(lambda s: hashlib.sha512(strval(s).encode()).hexdigest())
sprig("adler32sum", 1)(lambda s: str(zlib.adler32(strval(s).encode())))


# ---- regular expressions ------------------------------------------------------------------------------

sprig("regexMatch", 2, None, "mustRegexMatch")(
    lambda rx, s: go_regex(need_str("regexMatch", rx)).matches(need_str("regexMatch", s))
)


@sprig("regexFind", 2, None, "mustRegexFind")
def regex_find(rx: object, s: object) -> str:
    return go_regex(need_str("regexFind", rx)).find(need_str("regexFind", s)) or ""


@sprig("regexFindAll", 3, None, "mustRegexFindAll")
def regex_find_all(rx: object, s: object, n: object) -> list[str]:
    limit = need_int("regexFindAll", n)
    return go_regex(need_str("regexFindAll", rx)).find_all(need_str("regexFindAll", s), limit)


sprig("regexReplaceAll", 3, None, "mustRegexReplaceAll")(
    lambda rx, s, repl: replace_all(
        need_str("regexReplaceAll", rx), need_str("regexReplaceAll", s), need_str("regexReplaceAll", repl)
    )
)
sprig("regexReplaceAllLiteral", 3, None, "mustRegexReplaceAllLiteral")(
    lambda rx, s, repl: replace_all(
        need_str("regexReplaceAllLiteral", rx),
        need_str("regexReplaceAllLiteral", s),
        need_str("regexReplaceAllLiteral", repl),
        literal=True,
    )
)


@sprig("regexSplit", 3, None, "mustRegexSplit")
def regex_split(rx: object, s: object, n: object) -> list[str]:
    limit, text = need_int("regexSplit", n), need_str("regexSplit", s)
    return go_regex(need_str("regexSplit", rx)).split(text, limit)


sprig("regexQuoteMeta", 1)(lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", need_str("regexQuoteMeta", s)))


# ---- defaults, types, JSON ----------------------------------------------------------------------------


def empty(v: object) -> bool:
    """sprig's empty: nil, false, 0, "" and empty collections are empty; times and structs never."""
    if v is None or v is False:
        return True
    if is_number(v):
        return v == 0
    if isinstance(v, (str, list, tuple, Mapping)):
        return len(v) == 0
    return False


sprig("empty", 1)(empty)
sprig("default", 1, VARIADIC)(lambda d, *given: d if not given or empty(given[0]) else given[0])
sprig("coalesce", 0, VARIADIC)(lambda *xs: next((x for x in xs if not empty(x)), None))
sprig("all", 0, VARIADIC)(lambda *xs: all(not empty(x) for x in xs))
sprig("any", 0, VARIADIC)(lambda *xs: any(not empty(x) for x in xs))
sprig("ternary", 3)(lambda vt, vf, cond: vt if cond is True else vf)
sprig("typeOf", 1)(type_name)
sprig("typeIs", 2)(lambda t, v: t == type_name(v))
sprig("kindOf", 1)(lambda v: _kind(v))
sprig("kindIs", 2)(lambda k, v: k == _kind(v))
sprig("toJson", 1, None, "mustToJson")(lambda v: to_json(v))
sprig("toPrettyJson", 1, None, "mustToPrettyJson")(lambda v: to_json(v, indent="  "))
sprig("toRawJson", 1, None, "mustToRawJson")(lambda v: to_json(v, escape_html=False))


def _kind(v: object) -> str:
    t = type_name(v)
    return {"[]interface {}": "slice", "map[string]interface {}": "map", "<nil>": "invalid", "time.Time": "struct",
            "time.Duration": "int64"}.get(t, t)  # fmt: skip


def _from_json(s: object) -> object:
    return from_json(need_str("fromJson", s))


sprig("fromJson", 1, None, "mustFromJson")(_from_json)


# ---- dates (formatting only: no clock is read here) ---------------------------------------------------


def date_of(v: object, now: datetime | None) -> datetime:
    """sprig formats time.Time and Unix seconds; anything else (a string, say) means the current time."""
    if isinstance(v, datetime):
        return v
    if is_int(v):
        return datetime.fromtimestamp(v, UTC)
    if now is None:
        raise ExprRuntimeError(
            "sprig date functions need the current time, and this evaluation was given none"
        )
    return now


sprig("now", 0, needs_now=True)(lambda *, now: date_of(None, now))
sprig("date", 2, needs_now=True)(lambda fmt, d, *, now: format_layout(date_of(d, now), need_str("date", fmt)))
sprig("dateInZone", 3, needs_now=True)(
    lambda fmt, d, zone, *, now: format_layout(
        date_of(d, now).astimezone(location(need_str("dateInZone", zone))), need_str("dateInZone", fmt)
    )
)
sprig("htmlDate", 1, needs_now=True)(lambda d, *, now: format_layout(date_of(d, now), "2006-01-02"))
sprig("unixEpoch", 1)(lambda d: str(int(date_of(d, None).timestamp())))
sprig("toDate", 2)(lambda layout, s: parse_layout(need_str("toDate", s), need_str("toDate", layout)))
sprig("duration", 1)(lambda secs: format_duration(timedelta(seconds=to_int64(secs))))


from workflow.expr import sprig_data  # noqa: E402,F401  (registers numbers, lists and dicts)
