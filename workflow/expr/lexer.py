"""expr-lang's tokens: numbers, strings, identifiers, word operators and punctuation, with offsets.

The token set follows expr-lang's documented language definition (literals, operators, comments).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from workflow.expr.errors import ExprSyntaxError
from workflow.expr.values import go_quote

NUMBER, STRING, IDENT, OP, BRACKET, EOF = "number", "string", "identifier", "operator", "bracket", "EOF"

WORD_OPERATORS = frozenset({"and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith", "let"})

_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "'": "'", '"': '"', "`": "`",
}  # fmt: skip


class Token(NamedTuple):  # a tuple: tokens are made by the thousand, and cheaply
    kind: str
    value: object  # str for most tokens, int or float for numbers
    pos: int
    text: str = ""

    def is_(self, kind: str, *values: str) -> bool:
        return self.kind == kind and (not values or self.value in values)

    def __str__(self) -> str:
        if self.kind == EOF:
            return "EOF"
        return f"{self.kind.capitalize()}({go_quote(self.text or str(self.value))})"  # as expr-lang prints it


_MASTER = re.compile(
    r"\s*(?:(?P<comment>//[^\n]*|/\*.*?\*/)"
    r"|(?P<number>0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+"
    r"|(?:[0-9][0-9_]*(?:\.(?!\.)[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?)"
    r"|(?P<word>(?:[^\W\d]|\$)[\w$]*)"
    # `a ? .5 : 1`: a `?` followed by a number literal is not optional chaining.
    r"|(?P<op>\*\*|==|!=|<=|>=|&&|\|\||\?\?|\?\.(?![0-9])|\.\.|::|[-+*/%^!<>=?:,.|#;])"
    r"|(?P<bracket>[()\[\]{}]))?",
    re.S,
)


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        m = _MASTER.match(src, i)
        assert m is not None  # always matches: leading spaces, then maybe a token
        kind = m.lastgroup
        if kind is None:
            i = m.end()
            if i >= n:
                break
            ch = src[i]
            if ch in "\"'":
                i = _quoted(src, i, tokens)
                continue
            if ch == "`":
                end = src.find("`", i + 1)
                if end < 0:
                    raise ExprSyntaxError("literal not terminated", src, i)
                tokens.append(Token(STRING, src[i + 1 : end], i, src[i : end + 1]))
                i = end + 1
                continue
            raise ExprSyntaxError(f"unrecognized character: U+{ord(ch):04X} {ch!r}", src, i)
        text = m.group(kind)
        i = m.start(kind)
        if kind == "number":
            _number(src, i, text, tokens)
        elif kind == "word":
            tokens.append(Token(OP if text in WORD_OPERATORS else IDENT, text, i, text))
        elif kind == "op":
            if text == "/" and src.startswith("/*", i):
                raise ExprSyntaxError("unclosed comment", src, i)
            tokens.append(Token(OP, text, i, text))
        elif kind == "bracket":
            tokens.append(Token(BRACKET, text, i, text))
        i = m.end()
    tokens.append(Token(EOF, "", n))
    return tokens


def _number(src: str, i: int, text: str, tokens: list[Token]) -> None:
    clean = text.replace("_", "")
    try:
        if clean[:2].lower() in ("0x", "0o", "0b"):
            value: int | float = int(clean, 0)
        elif any(c in clean for c in ".eE"):
            value = float(clean)
        else:
            value = int(clean, 10)
    except ValueError:
        raise ExprSyntaxError(f"invalid number literal {text!r}", src, i) from None
    if isinstance(value, int) and value > 2**63 - 1:
        raise ExprSyntaxError("integer literal is too large", src, i)
    tokens.append(Token(NUMBER, value, i, text))


def _quoted(src: str, i: int, tokens: list[Token]) -> int:
    quote, j, n = src[i], i + 1, len(src)
    out: list[str] = []
    while j < n:
        ch = src[j]
        if ch == quote:
            tokens.append(Token(STRING, "".join(out), i, src[i : j + 1]))
            return j + 1
        if ch == "\n":
            break
        if ch != "\\":
            out.append(ch)
            j += 1
            continue
        j += 1
        if j >= n:
            break
        esc = src[j]
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
            j += 1
            continue
        width = {"x": 2, "u": 4, "U": 8}.get(esc)
        if width:
            digits = src[j + 1 : j + 1 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ExprSyntaxError("invalid char escape", src, j - 1)
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ExprSyntaxError("invalid char escape", src, j - 1)
            out.append(chr(code))
            j += 1 + width
        elif esc in "01234567":
            digits = src[j : j + 3]
            if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
                raise ExprSyntaxError("invalid char escape", src, j - 1)
            out.append(chr(int(digits, 8)))
            j += 3
        else:
            raise ExprSyntaxError("invalid char escape", src, j - 1)
    raise ExprSyntaxError("literal not terminated", src, i)
