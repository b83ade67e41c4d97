"""Go's regexp for `matches`, govaluate's `=~`, jsonpath's `=~` and sprig's regex* functions: RE2.

Argo evaluates these with Go's regexp package, which is RE2: matching time is linear in the input
whatever the pattern, so `(a+)+$` against thirty `a`s and a `!` answers at once, where Python's `re`
backtracks for minutes (issue 13, item 4). google-re2 is the same engine with Go's syntax (named
groups, POSIX classes, `\\z`; lookarounds and backreferences are refused as Go refuses them).

Matching runs on the UTF-8 bytes, as Go's does, so that "advance one rune" and the rules for empty
matches in FindAll, ReplaceAll and Split are Go's (each loop below follows the Go function it names).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from workflow.expr.errors import ExprRuntimeError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a user's bad pattern is an ExprRuntimeError, not a line on stderr
# RE2 accepts `\C` (any byte); Go does not.
_ANY_BYTE = re.compile(r"(?<!\\)(?:\\\\)*\\C")
_REF = re.compile(r"\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)")
# RE2's wording of a parse error -> Go's (regexp/syntax ErrorCode), so messages read as Argo's.
_GO_WORDING = {
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid repetition size": "invalid repeat count",
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid named capture group": "invalid named capture",
    "pattern too large - compile failed": "expression too large",
}


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def _text(b: bytes) -> str:
    return b.decode("utf-8", "surrogatepass")


def _rune_width(b: bytes, i: int) -> int:
    """utf8.DecodeRune's width at i: 0 at the end, 1 for a byte that does not start a rune."""
    if i >= len(b):
        return 0
    c = b[i]
    width = 1 if c < 0xC0 else 2 if c < 0xE0 else 3 if c < 0xF0 else 4
    return width if i + width <= len(b) else 1


def _go_message(e: Exception) -> str:
    detail = e.args[0] if e.args else str(e)
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    code, sep, arg = text.partition(": ")
    return _GO_WORDING.get(code, code) + (f": `{arg}`" if sep else "")


class GoRegex:
    """One compiled pattern with the Go methods the expression languages call."""

    __slots__ = ("pattern", "_rx")

    def __init__(self, pattern: str) -> None:
        if _ANY_BYTE.search(pattern):
            raise ExprRuntimeError(f"error parsing regexp: invalid escape sequence: `\\C` in {pattern!r}")
        try:
            self._rx = re2.compile(pattern, _OPTIONS)
        except re2.error as e:
            raise ExprRuntimeError(f"error parsing regexp: {_go_message(e)} in {pattern!r}") from None
        self.pattern = pattern

    def matches(self, s: str) -> bool:
        """regexp.MatchString."""
        return self._rx.search(_utf8(s)) is not None

    def find(self, s: str) -> str | None:
        """regexp.FindString, None when there is no match."""
        m = self._rx.search(_utf8(s))
        return None if m is None else _text(m.group(0))

    def _all(self, b: bytes, n: int) -> list[Any]:
        """regexp's allMatches: successive non-overlapping matches; an empty match right after the
        previous match is skipped; n < 0 means all."""
        found: list[Any] = []
        pos, prev_end, end = 0, -1, len(b)
        while (n < 0 or len(found) < n) and pos <= end:
            m = self._rx.search(b, pos)
            if m is None:
                break
            start, stop = m.span()
            accept = True
            if stop == pos:  # an empty match
                accept = start != prev_end
                width = _rune_width(b, pos)
                pos = pos + width if width > 0 else end + 1
            else:
                pos = stop
            prev_end = stop
            if accept:
                found.append(m)
        return found

    def find_all(self, s: str, n: int) -> list[str]:
        """regexp.FindAllString."""
        return [_text(m.group(0)) for m in self._all(_utf8(s), n)]

    def split(self, s: str, n: int) -> list[str]:
        """regexp.Split: the text between matches (capture groups are not included, unlike re.split)."""
        if n == 0:
            return []
        if self.pattern and not s:
            return [""]
        b = _utf8(s)
        out: list[str] = []
        begin = end = 0
        for m in self._all(b, n):
            if n > 0 and len(out) == n - 1:
                break
            end = m.start()
            if m.end() != 0:
                out.append(_text(b[begin:end]))
            begin = m.end()
        if end != len(b):
            out.append(_text(b[begin:]))
        return out

    def replace_all(self, s: str, repl: str, *, literal: bool = False) -> str:
        """regexp.ReplaceAllString (or ...Literal): `$1`, `${1}`, `$name`, `${name}` in repl refer to
        groups (a group that does not exist or did not match expands to ""), `$$` is a `$`."""
        b = _utf8(s)
        parts = [(False, _utf8(repl))] if literal else _template_parts(repl)
        out: list[bytes] = []
        last_end = search_pos = 0
        while search_pos <= len(b):
            m = self._rx.search(b, search_pos)
            if m is None:
                break
            start, stop = m.span()
            out.append(b[last_end:start])
            # Not for an empty match right after another match (it would be replaced twice).
            if stop > last_end or start == 0:
                out.extend(self._expand(m, parts))
            last_end = stop
            width = _rune_width(b, search_pos)  # advance past the match, at least one rune
            if search_pos + width > stop:
                search_pos += width
            elif search_pos + 1 > stop:
                search_pos += 1
            else:
                search_pos = stop
        out.append(b[last_end:])
        return _text(b"".join(out))

    def _expand(self, m: Any, parts: list[tuple[bool, Any]]) -> list[bytes]:
        out = []
        for is_ref, item in parts:
            if not is_ref:
                out.append(item)
                continue
            index = int(item) if item.isdigit() else self._rx.groupindex.get(item, -1)
            if 0 <= index <= self._rx.groups:
                out.append(m.group(index) or b"")
        return out


def _template_parts(template: str) -> list[tuple[bool, Any]]:
    """Go's replacement syntax, split into literal bytes and group references (names as str)."""
    parts: list[tuple[bool, Any]] = []
    i = 0
    while i < len(template):
        j = template.find("$", i)
        if j < 0:
            parts.append((False, _utf8(template[i:])))
            break
        parts.append((False, _utf8(template[i:j])))
        if template.startswith("$$", j):
            parts.append((False, b"$"))
            i = j + 2
            continue
        m = _REF.match(template, j)
        if m is None:  # malformed: the `$` is kept as text
            parts.append((False, b"$"))
            i = j + 1
            continue
        parts.append((True, m.group(1) or m.group(2)))
        i = m.end()
    return parts


@lru_cache(maxsize=1024)
def go_regex(pattern: str) -> GoRegex:
    return GoRegex(pattern)


def replace_all(pattern: str, s: str, repl: str, *, literal: bool = False) -> str:
    return go_regex(pattern).replace_all(s, repl, literal=literal)
