"""`when` as Argo evaluates it: govaluate, after `{{ }}` substitution, with bare words as strings.

Tokens follow govaluate's lexer: numbers are float64 (`1.2.3` is an error), `'...'` and `"..."` are
strings (either quote closes either), `[any text]` and bare words are strings (Argo turns govaluate's
variables into strings), `true`/`false` are booleans, `a.B` is a field access that fails to evaluate,
a run of symbol characters is one operator (`==-1` is the invalid token `==-`). Operators, lowest first:
`,` (builds the list for `in (a, b)`), `? : ??`, `||`, `&&`, `== != < <= > >= =~ !~ in`, `& | ^`,
`<< >>`, `+ -`, `* / %`, `**`, then prefixes `! - ~`, which bind tightest. Equality is strict (`1 == '1'`
is false); ordering compares two numbers or two strings; `+` concatenates when either side is a string.
Quoted strings that read as dates are compared as Unix times, as govaluate does.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from functools import lru_cache

from workflow.expr.errors import (
    ExpressionError,
    ExprRuntimeError,
    ExprSyntaxError,
    WhenError,
    WhenSyntaxError,
)
from workflow.expr.regex import go_regex
from workflow.expr.tags import EXPRESSION, Tag, find_tags
from workflow.expr.times import parse_layout
from workflow.expr.values import deep_equal, format_float, ordered, sprint

VALUE, PREFIX, MODIFIER, LOGICAL, COMPARATOR, TERNARY, SEPARATOR, OPEN, CLOSE, ACCESSOR = (
    "value", "prefix", "modifier", "logical", "comparator", "ternary", "separator", "(", ")", "accessor",
)  # fmt: skip
_PREFIXES = {"-", "!", "~"}
_MODIFIERS = {"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"}
_LOGICAL = {"&&", "||"}
_COMPARATORS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}
_TERNARY = {"?", ":", "??"}
_OPERAND_FOLLOWS = {None, PREFIX, MODIFIER, LOGICAL, COMPARATOR, TERNARY, SEPARATOR, OPEN}
_NUMBER = re.compile(r"\d+\.?\d*|\.\d+")
_TIME_LAYOUTS = (
    "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02", "2006-01-02 15:04",
    "2006-01-02 15:04:05", "2006-01-02 15:04:05-07:00", "2006-01-02T15Z0700", "2006-01-02T15:04Z0700",
    "2006-01-02T15:04:05Z0700", "2006-01-02T15:04:05.999999999Z0700", "Mon Jan _2 15:04:05 2006",
    "Mon Jan _2 15:04:05 MST 2006", "Mon Jan 02 15:04:05 -0700 2006",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    value: object
    pos: int
    text: str


def _lex(src: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        prev = tokens[-1].kind if tokens else None
        if ch.isspace():
            i += 1
        elif ch.isdigit() or ch == ".":
            j = i
            while j < n and (src[j].isdigit() or src[j] == "."):
                j += 1
            text = src[i:j]
            if not _NUMBER.fullmatch(text):
                raise WhenSyntaxError(f"Unable to parse numeric value '{text}' to float64", src, i)
            tokens.append(_Token(VALUE, float(text), i, text))
            i = j
        elif ch == ",":
            tokens.append(_Token(SEPARATOR, ",", i, ","))
            i += 1
        elif ch == "[":
            text, j = _read_escaped(src, i + 1, "]")
            if j < 0:
                raise WhenSyntaxError("Unclosed parameter bracket", src, i)
            tokens.append(_Token(VALUE, text, i, src[i : j + 1]))
            i = j + 1
        elif ch.isalpha():
            j = i
            while j < n and (src[j].isalnum() or src[j] in "_."):
                j += 1
            word = src[i:j]
            tokens.append(_word(word, src, i))
            i = j
        elif ch in "'\"":
            text, j = _read_escaped(src, i + 1, "'\"")
            if j < 0:
                raise WhenSyntaxError("Unclosed string literal", src, i)
            tokens.append(_Token(VALUE, _maybe_time(text), i, src[i : j + 1]))
            i = j + 1
        elif ch in "()":
            tokens.append(_Token(OPEN if ch == "(" else CLOSE, ch, i, ch))
            i += 1
        else:
            j = i
            while j < n and not (src[j].isalnum() or src[j] in "()[]'\"" or src[j].isspace()):
                j += 1
            symbol = src[i:j]
            tokens.append(_Token(_symbol_kind(symbol, prev, src, i), symbol, i, symbol))
            i = j
    return tokens


def _read_escaped(src: str, i: int, stops: str) -> tuple[str, int]:
    out: list[str] = []
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src):
            out.append(src[i + 1])
            i += 2
            continue
        if ch in stops:
            return "".join(out), i
        out.append(ch)
        i += 1
    return "", -1


def _word(word: str, src: str, pos: int) -> _Token:
    if word in ("true", "false"):
        return _Token(VALUE, word == "true", pos, word)
    if word in ("in", "IN"):
        return _Token(COMPARATOR, "in", pos, word)
    if "." in word:
        if word.endswith("."):
            raise WhenSyntaxError(f"Hanging accessor on token '{word}'", src, pos)
        for part in word.split(".")[1:]:
            if part[:1].upper() != part[:1]:
                raise WhenSyntaxError(
                    f"Unable to access unexported field '{part}' in token '{word}'", src, pos
                )
        return _Token(ACCESSOR, word, pos, word)
    return _Token(VALUE, word, pos, word)  # a govaluate variable, which Argo turns into a string


def _symbol_kind(symbol: str, prev: str | None, src: str, pos: int) -> str:
    if prev in _OPERAND_FOLLOWS and symbol in _PREFIXES:
        return PREFIX
    for kind, table in (
        (MODIFIER, _MODIFIERS),
        (LOGICAL, _LOGICAL),
        (COMPARATOR, _COMPARATORS),
        (TERNARY, _TERNARY),
    ):
        if symbol in table:
            return kind
    raise WhenSyntaxError(f"Invalid token: '{symbol}'", src, pos)


def _maybe_time(text: str) -> object:
    for layout in _TIME_LAYOUTS:
        try:
            t = parse_layout(text, layout, UTC)
        except ExprRuntimeError:
            continue
        return float(int(t.timestamp() // 1))
    return text


# ---- parsing to closures ------------------------------------------------------------------------------

Ev = Callable[[], object]
_LEVELS: list[tuple[str, set[str]]] = [
    (TERNARY, _TERNARY), (LOGICAL, {"||"}), (LOGICAL, {"&&"}), (COMPARATOR, _COMPARATORS),
    (MODIFIER, {"&", "|", "^"}), (MODIFIER, {"<<", ">>"}), (MODIFIER, {"+", "-"}), (MODIFIER, {"*", "/", "%"}),
    (MODIFIER, {"**"}),
]  # fmt: skip


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens = _lex(src)
        self.i = 0

    def error(self, message: str, tok: _Token | None = None) -> WhenSyntaxError:
        pos = tok.pos if tok else (self.tokens[self.i].pos if self.i < len(self.tokens) else len(self.src))
        return WhenSyntaxError(message, self.src, pos)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def parse(self) -> Ev:
        if not self.tokens:
            return lambda: None
        fn = self.separated()
        tok = self.peek()
        if tok is not None:
            prev = self.tokens[self.i - 1]
            raise self.error(
                f"Cannot transition token types from {prev.kind} [{prev.text}] to {tok.kind} [{tok.text}]",
                tok,
            )
        return fn

    def separated(self) -> Ev:
        fn = self.level(0)
        while (tok := self.peek()) is not None and tok.kind == SEPARATOR:
            self.i += 1
            left, right = fn, self.level(0)
            fn = _separated(left, right)
        return fn

    def level(self, depth: int) -> Ev:
        if depth == len(_LEVELS):
            return self.prefix()
        kind, symbols = _LEVELS[depth]
        fn = self.level(depth + 1)
        while (tok := self.peek()) is not None and tok.kind == kind and tok.value in symbols:
            self.i += 1
            fn = _binary(str(tok.value), fn, self.level(depth + 1))
        return fn

    def prefix(self) -> Ev:
        tok = self.peek()
        if tok is not None and tok.kind == PREFIX:
            self.i += 1
            inner = self.prefix()
            return _prefix(str(tok.value), inner)
        return self.value()

    def value(self) -> Ev:
        tok = self.peek()
        if tok is None:
            raise self.error("Unexpected end of expression")
        self.i += 1
        if tok.kind == VALUE:
            value = tok.value
            return lambda: value
        if tok.kind == ACCESSOR:
            root = str(tok.value).split(".")[0]

            def accessor() -> object:
                raise WhenError(f"No parameter '{root}' found.")

            return accessor
        if tok.kind == OPEN:
            inner = self.separated()
            close = self.peek()
            if close is None or close.kind != CLOSE:
                raise self.error("Unbalanced parenthesis", tok)
            self.i += 1
            return inner
        raise self.error(f"Unexpected token {tok.kind} [{tok.text}]", tok)


def _separated(a: Ev, b: Ev) -> Ev:
    return lambda: _separate(a(), b())


def _separate(a: object, b: object) -> list[object]:
    return [*a, b] if isinstance(a, list) else [a, b]


def _show(v: object) -> str:
    return format_float(v) if isinstance(v, float) else sprint(v)


def _type_error(v: object, what: str, op: str, need: str) -> WhenError:
    return WhenError(f"Value '{_show(v)}' cannot be used with the {what} '{op}', it is not a {need}")


def _num(v: object, what: str, op: str) -> float:
    if isinstance(v, float):
        return v
    raise _type_error(v, what, op, "number")


def _bool(v: object, what: str, op: str) -> bool:
    if isinstance(v, bool):
        return v
    raise _type_error(v, what, op, "bool")


def _binary(op: str, left: Ev, right: Ev) -> Ev:
    if op == "&&":
        return lambda: _bool(left(), "logical operator", op) and _bool(right(), "logical operator", op)
    if op == "||":
        return lambda: _bool(left(), "logical operator", op) or _bool(right(), "logical operator", op)
    if op == "?":
        return lambda: right() if _bool(left(), "ternary operator", op) else None
    if op in (":", "??"):
        return lambda: v if (v := left()) is not None else right()
    return lambda: _apply(op, left(), right())


def _apply(op: str, a: object, b: object) -> object:
    if op == "==":
        return deep_equal(a, b)
    if op == "!=":
        return not deep_equal(a, b)
    if op in ("<", "<=", ">", ">="):
        if isinstance(a, float) and isinstance(b, float):
            return ordered(op, a, b)
        if isinstance(a, str) and isinstance(b, str):
            return ordered(op, a, b)
        raise _type_error(a if isinstance(b, (float, str)) else b, "comparator", op, "number")
    if op in ("=~", "!~"):
        if not isinstance(a, str):
            raise _type_error(a, "comparator", op, "string")
        if not isinstance(b, str):
            raise _type_error(b, "comparator", op, "string")
        try:
            found = go_regex(b).matches(a)
        except ExprRuntimeError as e:
            raise WhenError(e.message) from None
        return found if op == "=~" else not found
    if op == "in":
        if not isinstance(b, list):
            raise _type_error(b, "comparator", op, "array")
        return any(deep_equal(a, x) for x in b)
    if op == "+":
        if isinstance(a, float) and isinstance(b, float):
            return a + b
        if isinstance(a, str) or isinstance(b, str):
            return _show(a) + _show(b)
        raise _type_error(a if not isinstance(a, float) else b, "modifier", op, "number")
    x, y = _num(a, "modifier", op), _num(b, "modifier", op)
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        return x / y if y else (math.nan if x == 0 else math.copysign(math.inf, x))
    if op == "%":
        return math.fmod(x, y) if y else math.nan
    if op == "**":
        try:
            return math.pow(x, y)
        except (OverflowError, ValueError):
            return math.inf if x > 1 else math.nan
    ix, iy = int(x), int(y)
    return float({"&": ix & iy, "|": ix | iy, "^": ix ^ iy, "<<": ix << min(iy, 64), ">>": ix >> iy}[op])


def _prefix(op: str, inner: Ev) -> Ev:
    if op == "!":
        return lambda: not _bool(inner(), "prefix", op)
    if op == "-":
        return lambda: -_num(inner(), "prefix", op)
    return lambda: float(~int(_num(inner(), "prefix", op)))


@lru_cache(maxsize=4096)
def _compile(src: str) -> Ev:
    return _Parser(src).parse()


# ---- the public face ----------------------------------------------------------------------------------


def evaluate_when(src: str) -> bool:
    """Decide a `when` whose tags are already substituted. An empty `when` is true.

    Raises WhenError with Argo's messages: "Invalid 'when' expression '<src>': ..." for text govaluate does
    not parse, and for a failed evaluation or a non-boolean result."""
    if src == "":
        return True
    try:
        result = _compile(src)()
    except WhenSyntaxError as e:
        hint = (
            ' (hint: try wrapping the affected expression in quotes ("))'
            if "Invalid token" in e.message
            else ""
        )
        raise WhenError(f"Invalid 'when' expression '{src}': {e.message}{hint}") from None
    except WhenError as e:
        raise WhenError(f"Invalid 'when' expression '{src}': {e.message}") from None
    except RecursionError:
        raise WhenError(f"Invalid 'when' expression '{src}': nested too deeply") from None
    if not isinstance(result, bool):
        raise WhenError(
            f"Invalid 'when' expression '{src}': expected boolean evaluation, got {_show(result)}"
        )
    return result


@dataclass(frozen=True, slots=True)
class WhenProgram:
    """A `when` checked at lint time: its tags, and the proof that the rest parses."""

    source: str
    tags: tuple[Tag, ...]

    def names(self) -> tuple[str, ...]:
        """The simple tags it substitutes (`steps.flip-coin.outputs.result`...)."""
        return tuple(t.body for t in self.tags if t.kind != EXPRESSION)


@lru_cache(maxsize=4096)
def compile_when(src: str) -> WhenProgram:
    """Check a `when` before any value is known: each `{{...}}` is replaced by a placeholder word of the
    same length (digits after a digit or a dot), expression tags must compile, and the result must be a
    govaluate expression. Raises WhenSyntaxError (or ExprSyntaxError for a bad `{{= }}`), placed in `src`."""
    from workflow.expr.program import compile_expr

    tags = tuple(find_tags(src))
    text = list(src)
    for tag in tags:
        if tag.kind == EXPRESSION:
            try:
                compile_expr(tag.body)
            except ExprSyntaxError as e:
                raise e.shifted(src, tag.body_start) from None
        before = src[tag.start - 1] if tag.start else ""
        fill = "1" if before.isdigit() or before == "." else "x"
        text[tag.start : tag.end] = fill * (tag.end - tag.start)
    try:
        _Parser("".join(text)).parse()
    except WhenSyntaxError as e:
        raise WhenSyntaxError(e.message, src, e.pos) from None
    except (RecursionError, ExpressionError) as e:
        raise WhenSyntaxError(
            str(e) if isinstance(e, ExpressionError) else "nested too deeply", src, 0
        ) from None
    return WhenProgram(src, tags)
