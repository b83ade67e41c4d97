"""Time in expressions, without a clock: Go's layouts, durations and the methods of time.Time/Duration.

The core never reads the clock (docs/architecture.md, contract 7): `now()` returns the time the caller passed to
`Program.run(..., now=...)`, and fails with a clear message when none was given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflow.expr.errors import ExprRuntimeError
from workflow.expr.values import duration_ns, format_duration, format_time, is_int, is_number

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)")


def parse_duration(s: str) -> timedelta:
    """time.ParseDuration: `1h30m`, `-1.5s`, `300ms`; a bare `0` is allowed."""
    text, sign = s, 1
    if text[:1] in "+-" and text:
        sign, text = (-1 if text[0] == "-" else 1), text[1:]
    if text == "0":
        return timedelta(0)
    if not text:
        raise ExprRuntimeError(f'time: invalid duration "{s}"')
    total, pos = 0.0, 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m or m.group(1) in ("", "."):
            raise ExprRuntimeError(f'time: invalid duration "{s}"')
        if m.group(2) not in _UNITS:
            raise ExprRuntimeError(f'time: unknown unit "{m.group(2)}" in duration "{s}"')
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return timedelta(microseconds=sign * total / 1000)


# ---- Go layouts -----------------------------------------------------------------------------------------

_LAYOUT_TOKENS = (
    "January", "Monday", "2006", "-07:00:00", "Z07:00:00", "-07:00", "Z07:00", "-0700", "Z0700", "-07", "Z07",
    "Jan", "Mon", "MST", "002", "__2", "_2", "01", "02", "03", "04", "05", "06", "15", "PM", "pm",
    "1", "2", "3", "4", "5",
)  # fmt: skip
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_FRACTION = re.compile(r"[.,](0+|9+)(?![0-9])")


def _layout(layout: str) -> list[str]:
    parts, i = [], 0
    while i < len(layout):
        frac = _FRACTION.match(layout, i)
        if frac and i > 0 and layout[i - 1].isdigit():
            parts.append(frac.group())
            i = frac.end()
            continue
        for tok in _LAYOUT_TOKENS:
            if layout.startswith(tok, i):
                parts.append(tok)
                i += len(tok)
                break
        else:
            parts.append(layout[i])
            i += 1
    return parts


def _zone(t: datetime, tok: str) -> str:
    off = t.utcoffset() or timedelta(0)
    if tok.startswith("Z") and off == timedelta(0):
        return "Z"
    secs = int(off.total_seconds())
    sign = "-" if secs < 0 else "+"
    h, rem = divmod(abs(secs), 3600)
    m, s = divmod(rem, 60)
    body = tok.lstrip("Z-")
    if body == "07":
        return f"{sign}{h:02d}"
    if body == "0700":
        return f"{sign}{h:02d}{m:02d}"
    if body == "07:00:00":
        return f"{sign}{h:02d}:{m:02d}:{s:02d}"
    return f"{sign}{h:02d}:{m:02d}"


def format_layout(t: datetime, layout: str) -> str:
    """time.Time.Format with a Go reference layout (`2006-01-02T15:04:05Z07:00`)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    hour12, yday = t.hour % 12 or 12, t.timetuple().tm_yday
    fields = {
        "2006": f"{t.year:04d}", "06": f"{t.year % 100:02d}", "January": _MONTHS[t.month - 1],
        "Jan": _MONTHS[t.month - 1][:3], "01": f"{t.month:02d}", "1": str(t.month), "Monday": _DAYS[t.weekday()],
        "Mon": _DAYS[t.weekday()][:3], "02": f"{t.day:02d}", "2": str(t.day), "_2": f"{t.day:2d}",
        "002": f"{yday:03d}", "__2": f"{yday:3d}", "15": f"{t.hour:02d}", "03": f"{hour12:02d}", "3": str(hour12),
        "04": f"{t.minute:02d}", "4": str(t.minute), "05": f"{t.second:02d}", "5": str(t.second),
        "PM": "PM" if t.hour >= 12 else "AM", "pm": "pm" if t.hour >= 12 else "am", "MST": _zone_name(t),
    }  # fmt: skip
    out = []
    for tok in _layout(layout):
        if tok in fields:
            out.append(fields[tok])
        elif tok[:1] in "Z-" and len(tok) > 1 and tok[1:2] == "0":
            out.append(_zone(t, tok))
        elif _FRACTION.fullmatch(tok):
            digits = f"{t.microsecond:06d}000"[: len(tok) - 1]
            if tok[1] == "9":
                digits = digits.rstrip("0")
            out.append(tok[0] + digits if digits else "")
        else:
            out.append(tok)
    return "".join(out)


def _zone_name(t: datetime) -> str:
    name = t.tzname() or "UTC"
    return "UTC" if name in ("UTC+00:00", "UTC") else name


_PARSE_PATTERNS = {
    "2006": r"(?P<Y>\d{4})", "06": r"(?P<y>\d{2})", "01": r"(?P<m>\d{2})", "1": r"(?P<m>\d{1,2})",
    "Jan": r"(?P<b>[A-Za-z]{3})", "January": r"(?P<B>[A-Za-z]+)", "02": r"(?P<d>\d{2})", "2": r"(?P<d>\d{1,2})",
    "_2": r" ?(?P<d>\d{1,2})", "15": r"(?P<H>\d{2})", "03": r"(?P<I>\d{2})", "3": r"(?P<I>\d{1,2})",
    "04": r"(?P<M>\d{2})", "4": r"(?P<M>\d{1,2})", "05": r"(?P<S>\d{2})", "5": r"(?P<S>\d{1,2})",
    "PM": r"(?P<p>AM|PM)", "pm": r"(?P<p>am|pm)", "Mon": r"[A-Za-z]{3}", "Monday": r"[A-Za-z]+", "MST": r"(?P<Z>[A-Z]{3,5})",
}  # fmt: skip


def parse_layout(value: str, layout: str, tz: timezone | ZoneInfo = UTC) -> datetime:
    """time.ParseInLocation for the common layout elements."""
    pattern = []
    for tok in _layout(layout):
        if tok in _PARSE_PATTERNS:
            pattern.append(_PARSE_PATTERNS[tok])
        elif tok[:1] in "Z-" and len(tok) > 1 and tok[1:2] == "0":
            z = r"Z|" if tok.startswith("Z") else ""
            pattern.append(rf"(?P<z>{z}[+-]\d{{2}}(?::?\d{{2}}(?::?\d{{2}})?)?)")
        elif _FRACTION.fullmatch(tok):
            pattern.append(r"(?:[.,](?P<f>\d+))" + ("?" if tok[1] == "9" else ""))
        else:
            pattern.append(re.escape(tok))
    m = re.fullmatch("".join(pattern), value)
    if not m:
        raise ExprRuntimeError(f'parsing time "{value}" as "{layout}": cannot parse')
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    try:
        year = (
            int(g["Y"])
            if "Y" in g
            else (2000 + int(g["y"]) if int(g.get("y", 0)) < 69 else 1900 + int(g["y"]))
            if "y" in g
            else 0
        )
        month = int(g["m"]) if "m" in g else _month(g.get("B") or g.get("b") or "January")
        hour = int(g.get("H", 0))
        if "I" in g:
            hour = int(g["I"]) % 12 + (12 if g.get("p", "").lower() == "pm" else 0)
        micro = int((g.get("f", "") + "000000")[:6])
        out = datetime(
            year or 1, month, int(g.get("d", 1)), hour, int(g.get("M", 0)), int(g.get("S", 0)), micro, tz
        )
    except (ValueError, KeyError) as e:
        raise ExprRuntimeError(f'parsing time "{value}": {e}') from None
    if "z" in g:
        out = out.replace(tzinfo=_offset(g["z"]))
    return out


def _month(name: str) -> int:
    for i, full in enumerate(_MONTHS):
        if full.lower().startswith(name.lower()) and len(name) >= 3:
            return i + 1
    raise ValueError(f"month out of range: {name}")


def _offset(z: str) -> timezone:
    if z == "Z":
        return UTC
    digits = z[1:].replace(":", "")
    secs = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60 + int(digits[4:6] or 0)
    return timezone(timedelta(seconds=-secs if z[0] == "-" else secs))


_DEFAULT_LAYOUTS = ("2006-01-02", "15:04:05", "2006-01-02 15:04:05", "02 Jan 06 15:04 MST",
                    "Monday, 02-Jan-06 15:04:05 MST", "Mon, 02 Jan 2006 15:04:05 MST")  # fmt: skip


def location(name: str) -> timezone | ZoneInfo:
    if name in ("", "UTC", "Local"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExprRuntimeError(f"unknown time zone {name}") from None


def parse_date(value: object, layout: object = None, tz: object = None) -> datetime:
    """expr-lang's `date(str[, layout[, timezone]])`."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ExprRuntimeError(f"cannot use {value!r} as a date")
    zone = location(tz) if isinstance(tz, str) else UTC
    if isinstance(layout, str):
        return parse_layout(value, layout, zone)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    except ValueError:
        pass
    for candidate in _DEFAULT_LAYOUTS:
        try:
            return parse_layout(value, candidate, zone)
        except ExprRuntimeError:
            continue
    raise ExprRuntimeError(f'cannot parse "{value}" as a date')


# ---- methods ------------------------------------------------------------------------------------------


def _need_time(v: object, method: str) -> datetime:
    if not isinstance(v, datetime):
        raise ExprRuntimeError(f"{method}: expected a time, got {v!r}")
    return v


def _need_duration(v: object, method: str) -> timedelta:
    if isinstance(v, timedelta):
        return v
    if is_int(v):
        return timedelta(microseconds=v / 1000)
    raise ExprRuntimeError(f"{method}: expected a duration, got {v!r}")


def _unix(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


TIME_METHODS: dict[str, Callable[..., object]] = {
    "Year": lambda t: t.year, "Month": lambda t: t.month, "Day": lambda t: t.day, "Hour": lambda t: t.hour,
    "Minute": lambda t: t.minute, "Second": lambda t: t.second, "Nanosecond": lambda t: t.microsecond * 1000,
    "YearDay": lambda t: t.timetuple().tm_yday, "Weekday": lambda t: (t.weekday() + 1) % 7,
    "Unix": lambda t: int(_unix(t) // 1), "UnixMilli": lambda t: int(_unix(t) * 1000),
    "UnixNano": lambda t: int(round(_unix(t) * 1e6)) * 1000, "UTC": lambda t: t.astimezone(UTC),
    "Local": lambda t: t.astimezone(UTC), "IsZero": lambda t: t.year == 1 and t.month == 1 and t.day == 1,
    "Format": lambda t, layout: format_layout(t, layout), "String": format_time,
    "Add": lambda t, d: t + _need_duration(d, "Add"), "Sub": lambda t, u: t - _need_time(u, "Sub"),
    "AddDate": lambda t, y, m, d: _add_date(t, y, m, d), "Before": lambda t, u: t < _need_time(u, "Before"),
    "After": lambda t, u: t > _need_time(u, "After"), "Equal": lambda t, u: t == _need_time(u, "Equal"),
    "In": lambda t, loc: t.astimezone(loc if not isinstance(loc, str) else location(loc)),
}  # fmt: skip

DURATION_METHODS: dict[str, Callable[..., object]] = {
    "Hours": lambda d: d.total_seconds() / 3600, "Minutes": lambda d: d.total_seconds() / 60,
    "Seconds": lambda d: d.total_seconds(), "Milliseconds": lambda d: duration_ns(d) // 1_000_000,
    "Microseconds": lambda d: duration_ns(d) // 1000, "Nanoseconds": duration_ns, "String": format_duration,
    "Abs": abs,
}  # fmt: skip


def _add_date(t: datetime, years: object, months: object, days: object) -> datetime:
    if not (is_number(years) and is_number(months) and is_number(days)):
        raise ExprRuntimeError("AddDate: expected numbers")
    total = t.month - 1 + int(months)
    y, m = t.year + int(years) + total // 12, total % 12 + 1
    base = datetime(y, m, 1, t.hour, t.minute, t.second, t.microsecond, t.tzinfo)
    # Go normalises overflowing days (Jan 31 + 1 month = Mar 3), which adding days from the 1st reproduces.
    return base + timedelta(days=t.day - 1 + int(days))


def method(value: object, name: str) -> Callable[..., object] | None:
    """The bound method `name` of a time or duration value, or None."""
    table = (
        TIME_METHODS
        if isinstance(value, datetime)
        else DURATION_METHODS
        if isinstance(value, timedelta)
        else None
    )
    fn = table.get(name) if table else None
    if fn is None:
        return None
    return lambda *args: fn(value, *args)
