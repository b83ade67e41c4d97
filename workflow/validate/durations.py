"""Go's time.ParseDuration, for the duration strings Argo parses (timeouts, backoff, maxAge, @every...)."""

from __future__ import annotations

import re

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> float | None:
    """Seconds in a Go duration ("1h30m", "2.5s", "-1m"), or None when Go would refuse it."""
    s = text
    sign = 1.0
    if s and s[0] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        return None
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None or m.group(1) in ("", "."):
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def duration_error(text: str, *, bare_seconds: bool = False) -> str | None:
    """Why `text` is not a duration (None when it is). `bare_seconds`: "30" means 30s (Argo's
    ParseStringToDuration, used for backoff and suspend durations)."""
    stripped = text.strip()
    if bare_seconds and stripped.isdigit():
        return None
    if parse_duration(stripped) is None:
        hint = ' (e.g. "30s", "5m", "1h30m")'
        return f'time: invalid duration "{text}"{hint}'
    return None
