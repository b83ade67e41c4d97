"""expr-lang syntax errors: caught when compiling (lint time), with a message and the column they point at."""

from __future__ import annotations

import pytest

from workflow.expr import ExprSyntaxError, compile_expr

# (source, message fragment, 1-based column)
SYNTAX_ERRORS = [
    ("", "unexpected end of expression", 1),
    ("1 +", "unexpected end of expression", 4),
    ("(1 + 2", "unexpected end of expression", 7),
    ("1 + 2)", 'unexpected token Bracket(")")', 6),
    ("a b", 'unexpected token Identifier("b")', 3),
    ("[1, 2", "unexpected end of expression", 6),
    ("{a 1}", 'unexpected token Number("1")', 4),
    ("{+: 1}", "a map key must be a quoted string, a number, a identifier", 2),
    ("'abc", "literal not terminated", 1),
    ('x == "abc', "literal not terminated", 6),
    ("'\\q'", "invalid char escape", 2),
    ("`abc", "literal not terminated", 1),
    ("1 @ 2", "unrecognized character: U+0040 '@'", 3),
    ("a.", "unexpected end of expression", 3),
    ("a.1", "unexpected token", 2),
    ("#", "cannot use pointer accessor outside predicate", 1),
    ("map(xs, #) + #", "cannot use pointer accessor outside predicate", 14),
    ("filter(xs)", "expected at least 2 arguments", 10),
    ("true ? 1", "unexpected end of expression", 9),
    ("true ? 1 2", 'unexpected token Number("2")', 10),
    ("a ?? b + c", "Operator (+) and coalesce expressions (??) cannot be mixed", 8),
    ("a not b", 'unexpected token Identifier("b")', 7),
    ("let = 1; 2", 'unexpected token Operator("=")', 5),
    ("let x = 1 x", 'unexpected token Identifier("x")', 11),
    ("len()", "not enough arguments to call len", 1),
    ("len(1, 2)", "too many arguments to call len", 1),
    ("sprig.nosuch(1)", "unknown function sprig.nosuch", 7),
    ("sprig.add1()", "not enough arguments to call sprig.add1", 7),
    ("x matches '('", "error parsing regexp", 11),
    ("x matches '(?=a)'", "invalid or unsupported Perl syntax", 11),
    ("map(xs, #nope)", "unknown pointer #nope", 9),
    ("99999999999999999999", "integer literal is too large", 1),
    ("/* open", "unclosed comment", 1),
    ("a\n+\n)", 'unexpected token Bracket(")")', 1),
]


@pytest.mark.parametrize(("src", "message", "column"), SYNTAX_ERRORS, ids=[c[0] for c in SYNTAX_ERRORS])
def test_syntax_errors_have_message_and_column(src, message, column):
    with pytest.raises(ExprSyntaxError) as err:
        compile_expr(src)
    assert message in err.value.message
    assert err.value.column == column
    assert "\n" not in str(err.value)  # one line, whatever the source


def test_multiline_errors_give_the_line_too():
    with pytest.raises(ExprSyntaxError) as err:
        compile_expr("map(xs, {\n  # +\n})")
    assert (err.value.line, err.value.column) == (3, 1)
    assert str(err.value).endswith("(line 3, column 1)")


def test_single_line_errors_print_the_column():
    with pytest.raises(ExprSyntaxError) as err:
        compile_expr("1 +* 2")
    assert str(err.value) == 'unexpected token Operator("*") (column 4)'


@pytest.mark.parametrize(
    "src",
    [
        "a.not",  # word operators are valid property names
        "a?.b?.[0]",
        "f(1, 2,)",
        "{a: 1,}",
        "count(xs)",
        "sum(xs)",
        "sortBy(xs, .a, 'desc')",
        "reduce(xs, #acc + #index, 0)",
        "x | lower()",
        "let x = 1;\nlet y = 2;\nx + y",
        "a ?? b ?? c",
        "(a ?? b) + c",
        "not (a in b)",
        "a not in b",
        "a not matches 'x'",
        "1 < a <= 3",
        "$env['var with spaces']",
        "'\\x41\\101\\U0001F600'",
    ],
)
def test_valid_syntax_compiles(src):
    assert compile_expr(src).source == src


def test_deep_nesting_is_a_syntax_error_not_a_crash():
    with pytest.raises(ExprSyntaxError):
        compile_expr("(" * 5000 + "1" + ")" * 5000)


def test_escapes_in_strings():
    assert compile_expr("'\\x41\\101\\u00e9\\U0001F600\\n'").run() == "AAé😀\n"
