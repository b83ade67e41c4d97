"""A precedence-climbing (Pratt) parser for expr-lang, with expr-lang's precedences and error texts.

Precedences (higher binds tighter), as documented by expr-lang: `|` 0, `or ||` 10, `and &&` 15,
comparisons and `in matches contains startsWith endsWith` 20, `..` 25, `+ -` 30, `* / %` 60,
`** ^` 100 (right-associative), `??` 500; unary `not !` 50 and `- +` 90; the ternary `?:` is lowest.
Comparisons chain (`1 < x < 3` is `1 < x && x < 3`); `??` may not be mixed with other operators without
parentheses; `not` before `in`/`contains`/`matches`/`startsWith`/`endsWith` negates them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from workflow.expr import ast
from workflow.expr.errors import ExprSyntaxError
from workflow.expr.lexer import BRACKET, EOF, IDENT, NUMBER, OP, STRING, WORD_OPERATORS, Token, tokenize

BINARY: dict[str, tuple[int, bool]] = {  # operator: (precedence, right-associative)
    "|": (0, False), "or": (10, False), "||": (10, False), "and": (15, False), "&&": (15, False),
    "==": (20, False), "!=": (20, False), "<": (20, False), ">": (20, False), ">=": (20, False),
    "<=": (20, False), "in": (20, False), "matches": (20, False), "contains": (20, False),
    "startsWith": (20, False), "endsWith": (20, False), "..": (25, False), "+": (30, False),
    "-": (30, False), "*": (60, False), "/": (60, False), "%": (60, False), "**": (100, True),
    "^": (100, True), "??": (500, False),
}  # fmt: skip
UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
NEGATABLE = frozenset({"in", "contains", "matches", "startsWith", "endsWith"})
COMPARISONS = frozenset(op for op, (prec, _) in BINARY.items() if prec == 20)
_T = TypeVar("_T")

# Builtins whose arguments are predicates (closures over `#`), and how many arguments each takes.
PREDICATE_BUILTINS: dict[str, tuple[str, ...]] = {
    "all": ("expr", "pred"), "none": ("expr", "pred"), "any": ("expr", "pred"), "one": ("expr", "pred"),
    "filter": ("expr", "pred"), "map": ("expr", "pred"), "count": ("expr", "pred?"),
    "sum": ("expr", "pred?"), "find": ("expr", "pred"), "findIndex": ("expr", "pred"),
    "findLast": ("expr", "pred"), "findLastIndex": ("expr", "pred"), "groupBy": ("expr", "pred"),
    "sortBy": ("expr", "pred", "expr?"), "reduce": ("expr", "pred", "expr?"),
}  # fmt: skip


def parse(src: str) -> ast.Node:
    return _Parser(src).parse()


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens = tokenize(src)
        self.i = 0
        self.cur: Token = self.tokens[0]
        self.depth = 0  # inside how many predicates: `#` and `.field` are allowed only there

    def peek(self) -> Token:
        return self.tokens[min(self.i + 1, len(self.tokens) - 1)]

    def error(self, message: str, tok: Token | None = None) -> ExprSyntaxError:
        return ExprSyntaxError(message, self.src, (tok or self.cur).pos)

    def advance(self) -> Token:
        tok = self.cur
        if tok.kind == EOF:
            raise self.error("unexpected end of expression")
        self.i += 1
        self.cur = self.tokens[self.i]
        return tok

    def expect(self, kind: str, value: str | None = None) -> Token:
        if self.cur.kind == kind and (value is None or self.cur.value == value):
            return self.advance()
        if self.cur.kind == EOF:
            raise self.error("unexpected end of expression")
        raise self.error(f"unexpected token {self.cur}")

    def parse(self) -> ast.Node:
        if self.cur.kind == EOF:
            raise self.error("unexpected end of expression")
        node = self.expression(0)
        if self.cur.kind != EOF:
            raise self.error(f"unexpected token {self.cur}")
        return node

    # -- expressions ----------------------------------------------------------------------------------

    def expression(self, min_prec: int) -> ast.Node:
        if min_prec == 0 and self.cur.is_(OP, "let"):
            return self.let()
        left = self.primary()
        prev = ""
        while self.cur.kind == OP:
            tok = self.cur
            negate = tok.value == "not"
            if negate:
                nxt = self.peek()
                if not (nxt.kind == OP and nxt.value in NEGATABLE):
                    raise self.error(f"unexpected token {nxt}", nxt)
                if BINARY[str(nxt.value)][0] < min_prec:
                    break
                self.advance()
                tok = self.cur
            op = str(tok.value)
            if op not in BINARY or BINARY[op][0] < min_prec:
                break
            prec, right_assoc = BINARY[op]
            self.advance()
            if op == "|":
                name = self.expect(IDENT)
                left = self.postfix(self.call(name, [left]))
            elif prev == "??" and op != "??":
                raise self.error(
                    f"Operator ({op}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.",
                    tok,
                )
            elif op in COMPARISONS:
                left = self.comparison(left, tok, negate)
            else:
                right = self.expression(prec if right_assoc else prec + 1)
                left = ast.Binary(tok.pos, op, left, right)
                if negate:
                    left = ast.Unary(tok.pos, "not", left)
            prev = op
        if min_prec == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: ast.Node, tok: Token, negate: bool) -> ast.Node:
        root: ast.Node | None = None
        while True:
            right = self.expression(BINARY[str(tok.value)][0] + 1)
            cmp: ast.Node = ast.Binary(tok.pos, str(tok.value), left, right)
            if negate:
                cmp = ast.Unary(tok.pos, "not", cmp)
            root = cmp if root is None else ast.Binary(tok.pos, "&&", root, cmp)
            left = right
            nxt = self.cur
            negate = nxt.is_(OP, "not") and self.peek().kind == OP and self.peek().value in NEGATABLE
            if negate:
                self.advance()
                nxt = self.cur
            if not (nxt.kind == OP and nxt.value in COMPARISONS):
                return root
            tok = self.advance()

    def conditional(self, node: ast.Node) -> ast.Node:
        while self.cur.is_(OP, "?"):
            tok = self.advance()
            if self.cur.is_(OP, ":"):  # `a ?: b`
                self.advance()
                node = ast.Conditional(tok.pos, node, node, self.expression(0))
                continue
            then = self.expression(0)
            self.expect(OP, ":")
            node = ast.Conditional(tok.pos, node, then, self.expression(0))
        return node

    def let(self) -> ast.Node:
        self.advance()
        name = self.expect(IDENT)
        self.expect(OP, "=")
        value = self.expression(0)
        self.expect(OP, ";")
        return ast.Let(name.pos, str(name.value), value, self.expression(0))

    def primary(self) -> ast.Node:
        tok = self.cur
        if tok.kind == OP and tok.value in UNARY:
            self.advance()
            operand = self.expression(UNARY[str(tok.value)])
            return self.postfix(ast.Unary(tok.pos, "not" if tok.value == "!" else str(tok.value), operand))
        if tok.is_(BRACKET, "("):
            self.advance()
            inner = self.expression(0)
            self.expect(BRACKET, ")")
            return self.postfix(inner)
        if tok.is_(OP, "#") or tok.is_(OP, "."):
            if self.depth == 0:
                raise self.error("cannot use pointer accessor outside predicate")
            name = ""
            if tok.value == "#":
                self.advance()
                if self.cur.kind == IDENT:
                    name = str(self.advance().value)
            return self.postfix(ast.Pointer(tok.pos, name))
        return self.secondary()

    def secondary(self) -> ast.Node:
        tok = self.cur
        if tok.kind == IDENT:
            self.advance()
            if tok.value in ("true", "false"):
                return ast.Literal(tok.pos, tok.value == "true")
            if tok.value == "nil":
                return ast.Literal(tok.pos, None)
            if self.cur.is_(BRACKET, "("):
                return self.postfix(self.call(tok, []))
            return self.postfix(ast.Ident(tok.pos, str(tok.value)))
        if tok.kind == NUMBER:
            self.advance()
            return ast.Literal(tok.pos, tok.value)
        if tok.kind == STRING:
            self.advance()
            return self.postfix(ast.Literal(tok.pos, tok.value))
        if tok.is_(BRACKET, "["):
            return self.postfix(self.array())
        if tok.is_(BRACKET, "{"):
            return self.postfix(self.map_literal())
        if tok.kind == EOF:
            raise self.error("unexpected end of expression")
        raise self.error(f"unexpected token {tok}")

    # -- calls ----------------------------------------------------------------------------------------

    def call(self, name: Token, args: list[ast.Node]) -> ast.Node:
        fn = str(name.value)
        spec = PREDICATE_BUILTINS.get(fn)
        if spec is None:
            callee = ast.Ident(name.pos, fn)
            return ast.Call(name.pos, callee, tuple(self.arguments(args)))
        self.expect(BRACKET, "(")
        required = sum(1 for kind in spec if not kind.endswith("?"))
        for i, kind in enumerate(spec[len(args) :]):
            if self.cur.is_(BRACKET, ")"):
                if kind.endswith("?"):
                    break
                raise self.error(f"expected at least {required} arguments")
            if i > 0:
                self.expect(OP, ",")
            args.append(self.predicate() if kind.startswith("pred") else self.expression(0))
        if self.cur.is_(OP, ","):
            self.advance()
        self.expect(BRACKET, ")")
        return ast.Builtin(name.pos, fn, tuple(args))

    def arguments(self, args: list[ast.Node]) -> list[ast.Node]:
        self.expect(BRACKET, "(")
        return self.separated(args, ")", self.item)

    def item(self) -> ast.Node:
        return self.expression(0)

    def separated(self, out: list[_T], close: str, item: Callable[[], _T]) -> list[_T]:
        """Appends `item()`s separated by commas (a trailing comma allowed) up to `close`, which it takes."""
        first = len(out)
        while not self.cur.is_(BRACKET, close):
            if len(out) > first:
                self.expect(OP, ",")
                if self.cur.is_(BRACKET, close):
                    break
            out.append(item())
        self.expect(BRACKET, close)
        return out

    def predicate(self) -> ast.Node:
        start = self.cur
        braced = start.is_(BRACKET, "{")
        if braced:
            self.advance()
        self.depth += 1
        body = self.expression(0)
        self.depth -= 1
        if braced:
            self.expect(BRACKET, "}")
        return ast.Predicate(start.pos, body)

    # -- literals -------------------------------------------------------------------------------------

    def array(self) -> ast.Node:
        start = self.expect(BRACKET, "[")
        return ast.Array(start.pos, tuple(self.separated([], "]", self.item)))

    def map_literal(self) -> ast.Node:
        start = self.expect(BRACKET, "{")
        return ast.MapLit(start.pos, tuple(self.separated([], "}", self.map_pair)))

    def map_pair(self) -> tuple[ast.Node, ast.Node]:
        tok = self.cur
        if tok.kind in (NUMBER, STRING, IDENT):
            self.advance()
            key: ast.Node = ast.Literal(tok.pos, tok.text if tok.kind == NUMBER else tok.value)
        elif tok.is_(BRACKET, "("):
            key = self.expression(0)
        else:
            raise self.error(
                "a map key must be a quoted string, a number, a identifier, or an expression enclosed in "
                f"parentheses (unexpected token {tok})"
            )
        self.expect(OP, ":")
        return key, self.expression(0)

    # -- member access, indexes, slices ---------------------------------------------------------------

    def postfix(self, node: ast.Node) -> ast.Node:
        while True:
            tok = self.cur
            if tok.is_(OP, ".") or tok.is_(OP, "?."):
                optional = tok.value == "?."
                self.advance()
                if optional and self.cur.is_(BRACKET, "["):
                    node = self.index(node, optional=True)
                    continue
                prop = self.cur
                if prop.kind == EOF:
                    raise self.error("unexpected end of expression")
                self.advance()
                if not (prop.kind == IDENT or (prop.kind == OP and prop.value in WORD_OPERATORS)):
                    raise self.error("expected name", prop)
                chained = isinstance(node, ast.Chain)
                base = node.node if isinstance(node, ast.Chain) else node
                member = ast.Member(prop.pos, base, ast.Literal(prop.pos, prop.value), optional, dotted=True)
                node = member
                if self.cur.is_(BRACKET, "("):
                    node = ast.Call(prop.pos, member, tuple(self.arguments([])))
                if chained or optional:
                    node = ast.Chain(node.pos, node)
            elif tok.is_(BRACKET, "["):
                node = self.index(node, optional=False)
            else:
                return node

    def index(self, node: ast.Node, *, optional: bool) -> ast.Node:
        tok = self.expect(BRACKET, "[")
        if self.cur.is_(OP, ":"):
            self.advance()
            hi = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return ast.Slice(tok.pos, node, None, hi)
        lo = self.expression(0)
        if self.cur.is_(OP, ":"):
            self.advance()
            hi = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return ast.Slice(tok.pos, node, lo, hi)
        self.expect(BRACKET, "]")
        member: ast.Node = ast.Member(tok.pos, node, lo, optional)
        return ast.Chain(tok.pos, member) if optional else member
