"""JSONPath for Argo's `jsonpath(json, path)`, with the semantics of the library Argo uses.

Supported: `$`, `.key`, `['key']`, `[n]` (negative from the end), `[*]`/`.*`, `..key` (recursive),
unions `[0,2]`/`['a','b']`, ranges `[start:end:step]`, filters `[?(@.age > 42 && @.name == "x")]` with
`== != < <= > >= =~ + - * / % ! && ||`, scripts `[(@.length-1)]`, and `.length`.
A path made only of keys and single indexes returns one value; any wildcard, union, range, filter or
recursion returns a list. Map members are visited in key order. Numbers are float64, as Go decodes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from workflow.expr.errors import ExprRuntimeError
from workflow.expr.regex import go_regex
from workflow.expr.values import equal, is_list, is_number, ordered

Step = Callable[[object, object], list[object]]  # (node, root) -> matches
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|=~|[<>!+\-*/%()\[\].,:?@$])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)


def query(document: object, path: str) -> object:
    steps, definite = _compile(path)
    nodes = [document]
    for step in steps:
        nodes = [match for node in nodes for match in step(node, document)]
        if definite and not nodes:
            raise ExprRuntimeError(f"jsonpath {path}: no value found")
    if definite:
        return nodes[0]
    return nodes


@lru_cache(maxsize=512)
def _compile(path: str) -> tuple[tuple[Step, ...], bool]:
    p = _PathParser(path)
    steps, definite = p.path()
    if p.pos < len(path):
        raise ExprRuntimeError(f"jsonpath {path}: unexpected {path[p.pos :]!r}")
    return tuple(steps), definite


def _children(node: object) -> list[object]:
    if isinstance(node, Mapping):
        return [node[k] for k in sorted(node, key=str)]
    if is_list(node):
        return list(node)
    return []


def _key(name: str, strict: bool) -> Step:
    def step(node: object, root: object) -> list[object]:
        if isinstance(node, Mapping) and name in node:
            return [node[name]]
        if name == "length" and (is_list(node) or isinstance(node, (str, Mapping))):
            return [float(len(node))]
        if strict:
            raise ExprRuntimeError(f"jsonpath: key '{name}' not found")
        return []

    return step


def _index(i: int, strict: bool) -> Step:
    def step(node: object, root: object) -> list[object]:
        if is_list(node) or isinstance(node, str):
            n = len(node)
            j = i + n if i < 0 else i
            if 0 <= j < n:
                return [node[j]]
        elif isinstance(node, Mapping):
            keys = sorted(node, key=str)
            if -len(keys) <= i < len(keys):
                return [node[keys[i]]]
        if strict:
            raise ExprRuntimeError(f"jsonpath: index [{i}] out of range")
        return []

    return step


def _wildcard(node: object, root: object) -> list[object]:
    return _children(node)


def _recursive(inner: Step) -> Step:
    def step(node: object, root: object) -> list[object]:
        out: list[object] = []
        stack = [node]
        while stack:
            current = stack.pop(0)
            out.extend(inner(current, root))
            stack[0:0] = [c for c in _children(current) if isinstance(c, Mapping) or is_list(c)]
        return out

    return step


def _range(start: int | None, end: int | None, step_by: int | None) -> Step:
    def step(node: object, root: object) -> list[object]:
        if not is_list(node):
            return []
        items = list(node)
        n = len(items)
        by = 1 if step_by is None else step_by
        if by == 0:
            raise ExprRuntimeError("jsonpath: range step must not be 0")
        a = 0 if start is None else (start + n if start < 0 else start)
        b = n if end is None else (end + n if end < 0 else end)
        picked = items[max(0, a) : max(0, min(n, b))]
        return picked[::by] if by > 0 else picked[::-1][::-by]

    return step


def _union(steps: list[Step]) -> Step:
    return lambda node, root: [m for s in steps for m in s(node, root)]


# A compiled filter expression: (the node `@`, the root `$`) -> its value.
Filter = Callable[[object, object], object]


def _filter(predicate: Filter) -> Step:
    def step(node: object, root: object) -> list[object]:
        out = []
        for child in _children(node):
            value = predicate(child, root)
            if value is not None and value is not False:
                out.append(child)
        return out

    return step


class _PathParser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0

    def error(self, what: str) -> ExprRuntimeError:
        return ExprRuntimeError(f"jsonpath {self.src}: {what} at position {self.pos}")

    def peek(self, s: str) -> bool:
        return self.src.startswith(s, self.pos)

    def path(self, *, relative: bool = False) -> tuple[list[Step], bool]:
        self.skip_ws()
        if not relative:
            if not self.peek("$"):
                raise self.error("a path starts with $")
            self.pos += 1
        steps: list[Step] = []
        definite = True
        while self.pos < len(self.src):
            if self.peek(".."):
                self.pos += 2
                inner = self.bracket() if self.peek("[") else self.dotted(strict=False)[0]
                steps.append(_recursive(inner))
                definite = False
            elif self.peek("."):
                self.pos += 1
                step, single = self.dotted(strict=not relative)
                steps.append(step)
                definite = definite and single
            elif self.peek("["):
                start = self.pos
                step = self.bracket(strict=not relative)
                steps.append(step)
                definite = definite and _is_single(self.src[start : self.pos])
            else:
                break
        return steps, definite

    def skip_ws(self) -> None:
        while self.pos < len(self.src) and self.src[self.pos] == " ":
            self.pos += 1

    def dotted(self, *, strict: bool) -> tuple[Step, bool]:
        if self.peek("*"):
            self.pos += 1
            return _wildcard, False
        m = re.compile(r"[A-Za-z0-9_\-]+").match(self.src, self.pos)
        if not m:
            raise self.error("expected a key")
        self.pos = m.end()
        return _key(m.group(), strict), True

    def bracket(self, *, strict: bool = False) -> Step:
        close = self._matching_bracket()
        inner = self.src[self.pos + 1 : close].strip()
        self.pos = close + 1
        if inner == "*":
            return _wildcard
        if inner.startswith("?(") and inner.endswith(")"):
            return _filter(_FilterParser(inner[2:-1], self.src).parse())
        if inner.startswith("(") and inner.endswith(")"):
            script = _FilterParser(inner[1:-1], self.src).parse()
            return lambda node, root: _index_or_key(node, script(node, root))
        parts = _split_top(inner)
        steps = [self._item(p.strip(), strict and len(parts) == 1) for p in parts]
        return steps[0] if len(steps) == 1 else _union(steps)

    def _item(self, item: str, strict: bool) -> Step:
        if re.fullmatch(r"-?\d+", item):
            return _index(int(item), strict)
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
            return _key(_unquote(item), strict)
        if re.fullmatch(r"-?\d*:-?\d*(:-?\d*)?", item):
            a, b, *c = item.split(":")
            return _range(int(a) if a else None, int(b) if b else None, int(c[0]) if c and c[0] else None)
        raise self.error(f"unsupported subscript [{item}]")

    def _matching_bracket(self) -> int:
        depth, quote, i = 0, "", self.pos
        while i < len(self.src):
            ch = self.src[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        raise self.error("unclosed [")


def _is_single(subscript: str) -> bool:
    inner = subscript[1:-1].strip()
    return bool(re.fullmatch(r"-?\d+|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", inner))


def _split_top(text: str) -> list[str]:
    parts, quote, start = [], "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _unquote(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s[1:-1])


def _index_or_key(node: object, key: object) -> list[object]:
    if is_number(key):
        return _index(int(key), False)(node, None)
    if isinstance(key, str):
        return _key(key, False)(node, None)
    return []


class _FilterParser:
    """A filter or script expression over `@` (the current element) and `$` (the document)."""

    def __init__(self, text: str, path: str) -> None:
        self.tokens = [
            (m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup))
            for m in _TOKEN.finditer(text)
            if m.lastgroup
        ]
        if sum(len(m.group()) for m in _TOKEN.finditer(text)) != len(text.rstrip()) and text.strip():
            raise ExprRuntimeError(f"jsonpath {path}: cannot parse filter {text!r}")
        self.i = 0
        self.text = text
        self.path = path

    def parse(self) -> Filter:
        fn = self.or_()
        if self.i < len(self.tokens):
            raise ExprRuntimeError(f"jsonpath {self.path}: unexpected {self.tokens[self.i][1]!r} in filter")
        return fn

    def at(self, *ops: str) -> bool:
        return self.i < len(self.tokens) and self.tokens[self.i][0] == "op" and self.tokens[self.i][1] in ops

    def take(self) -> tuple[str, str, int]:
        if self.i >= len(self.tokens):
            raise ExprRuntimeError(f"jsonpath {self.path}: filter ends too early")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def or_(self) -> Filter:
        left = self.and_()
        while self.at("||"):
            self.take()
            right, prev = self.and_(), left
            left = _either(prev, right)
        return left

    def and_(self) -> Filter:
        left = self.cmp()
        while self.at("&&"):
            self.take()
            right, prev = self.cmp(), left
            left = _both(prev, right)
        return left

    def cmp(self) -> Filter:
        left = self.arith(("+", "-"), self.term)
        if self.at("==", "!=", "<", "<=", ">", ">=", "=~"):
            op = self.take()[1]
            right = self.arith(("+", "-"), self.term)
            return _compared(op, left, right)
        return left

    def term(self) -> Filter:
        return self.arith(("*", "/", "%"), self.unary)

    def arith(self, ops: tuple[str, ...], sub: Callable[[], Filter]) -> Filter:
        left = sub()
        while self.at(*ops):
            op = self.take()[1]
            right, prev = sub(), left
            left = _computed(op, prev, right)
        return left

    def unary(self) -> Filter:
        if self.at("!"):
            self.take()
            inner = self.unary()
            return lambda n, r: not _truthy(inner(n, r))
        if self.at("-"):
            self.take()
            inner = self.unary()
            return lambda n, r: _arith("-", 0.0, inner(n, r))
        return self.primary()

    def primary(self) -> Filter:
        kind, text, pos = self.take()
        if kind == "num":
            value = float(text)
            return lambda n, r: value
        if kind == "str":
            s = _unquote(text)
            return lambda n, r: s
        if kind == "name":
            consts = {"true": True, "false": False, "nil": None, "null": None}
            if text not in consts:
                raise ExprRuntimeError(f"jsonpath {self.path}: unknown name {text!r} in filter")
            constant = consts[text]
            return lambda n, r: constant
        if text == "(":
            inner = self.or_()
            if not self.at(")"):
                raise ExprRuntimeError(f"jsonpath {self.path}: missing ) in filter")
            self.take()
            return inner
        if text in "@$":
            end = self._path_end(pos + 1)
            sub = _PathParser(self.text[pos + 1 : end])
            steps, _ = sub.path(relative=True)
            while self.i < len(self.tokens) and self.tokens[self.i][2] < end:
                self.i += 1
            if text == "$":
                return lambda n, r: _walk(r, r, steps)
            return lambda n, r: _walk(n, r, steps)
        raise ExprRuntimeError(f"jsonpath {self.path}: unexpected {text!r} in filter")

    def _path_end(self, start: int) -> int:
        # A `-` inside a key only when a letter follows: `@.length-1` is a subtraction.
        m = re.compile(r"(?:\.(?:[A-Za-z0-9_*]|-(?=[A-Za-z_]))+|\[[^\]]*\])*").match(self.text, start)
        return m.end() if m else start


def _either(a: Filter, b: Filter) -> Filter:
    return lambda n, r: _truthy(a(n, r)) or _truthy(b(n, r))


def _both(a: Filter, b: Filter) -> Filter:
    return lambda n, r: _truthy(a(n, r)) and _truthy(b(n, r))


def _compared(op: str, a: Filter, b: Filter) -> Filter:
    return lambda n, r: _compare(op, a(n, r), b(n, r))


def _computed(op: str, a: Filter, b: Filter) -> Filter:
    return lambda n, r: _arith(op, a(n, r), b(n, r))


def _walk(node: object, root: object, steps: list[Step]) -> object:
    nodes = [node]
    for step in steps:
        nodes = [m for n in nodes for m in step(n, root)]
        if not nodes:
            return None
    return nodes[0] if len(nodes) == 1 else nodes


def _truthy(v: object) -> bool:
    return v is not None and v is not False


def _compare(op: str, a: object, b: object) -> bool:
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if op == "=~":
        return isinstance(a, str) and isinstance(b, str) and go_regex(b).matches(a)
    if op not in ("<", "<=", ">", ">="):
        return False
    if is_number(a) and is_number(b):
        return ordered(op, a, b)
    if isinstance(a, str) and isinstance(b, str):
        return ordered(op, a, b)
    return False


def _arith(op: str, a: object, b: object) -> object:
    if not (is_number(a) and is_number(b)):
        return None
    x, y = float(a), float(b)
    if op in "/%" and y == 0:
        return None
    return {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else None, "%": x % y if y else None}[op]
