"""Go's regexp (RE2 syntax) on top of Python's re, for `matches`, govaluate's `=~` and sprig's regex*.

The common syntax is the same. What RE2 lacks (lookarounds, backreferences) is rejected as Go rejects it;
what Python spells differently (`(?<name>`, `\\z`, POSIX classes like `[[:alpha:]]`) is translated.
Go matches are unanchored searches, as `re.search`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from workflow.expr.errors import ExprRuntimeError

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}  # fmt: skip
_UNSUPPORTED = re.compile(r"\(\?<?[=!]|\\[1-9]")


@lru_cache(maxsize=1024)
def go_regex(pattern: str) -> re.Pattern[str]:
    if _UNSUPPORTED.search(_strip_classes(pattern)):
        raise ExprRuntimeError(f"error parsing regexp: invalid or unsupported Perl syntax in {pattern!r}")
    translated = pattern.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!")
    translated = re.sub(r"(?<!\\)\\z", r"\\Z", translated)
    for name, chars in _POSIX.items():
        translated = translated.replace(f"[:{name}:]", chars).replace(f"[:^{name}:]", "")
    try:
        return re.compile(translated)
    except re.error as e:
        raise ExprRuntimeError(f"error parsing regexp: {e.msg} in {pattern!r}") from None


def _strip_classes(pattern: str) -> str:
    # Escaped characters never start a group; drop `\\` pairs so `\\1` is not read as a backreference.
    return pattern.replace("\\\\", "")


def _template_parts(template: str) -> list[tuple[bool, str]]:
    """Go's replacement syntax: `$1`, `${1}`, `$name`, `${name}` refer to groups, `$$` is a literal `$`."""
    parts: list[tuple[bool, str]] = []
    i = 0
    while i < len(template):
        j = template.find("$", i)
        if j < 0:
            parts.append((False, template[i:]))
            break
        parts.append((False, template[i:j]))
        if template.startswith("$$", j):
            parts.append((False, "$"))
            i = j + 2
            continue
        m = _REF.match(template, j)
        if m is None:
            parts.append((False, "$"))
            i = j + 1
            continue
        parts.append((True, m.group(1) or m.group(2)))
        i = m.end()
    return parts


_REF = re.compile(r"\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)")


def replace_all(pattern: str, s: str, repl: str, *, literal: bool = False) -> str:
    """regexp.ReplaceAllString (or ...Literal); a group that does not exist expands to "" as in Go."""
    rx = go_regex(pattern)
    parts = [(False, repl)] if literal else _template_parts(repl)

    def expand(m: re.Match[str]) -> str:
        out = []
        for is_ref, text in parts:
            if not is_ref:
                out.append(text)
            elif text.isdigit():
                out.append((m.group(int(text)) or "") if int(text) <= rx.groups else "")
            else:
                out.append((m.group(text) or "") if text in rx.groupindex else "")
        return "".join(out)

    return rx.sub(expand, s)
