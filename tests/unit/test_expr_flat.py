"""A long flat run of operators is evaluated in a loop (issue 13 item 13: `1+1+...` of 500 terms was
"nested too deeply"; Argo accepts it), left to right with the usual precedence and short-circuits."""

from __future__ import annotations

import pytest

from workflow.expr import ExprRuntimeError, compile_expr


def test_500_terms_are_flat():
    assert compile_expr("+".join(["1"] * 500)).run({}) == 500
    assert compile_expr(" && ".join(["x > 0"] * 800)).run({"x": 1}) is True
    assert compile_expr(" || ".join(["false"] * 800) + " || x").run({"x": True}) is True
    assert compile_expr(" + ".join(["'a'"] * 1000)).run({}) == "a" * 1000


@pytest.mark.parametrize(
    ("src", "value"),
    [
        ("2 * 3 + 4 - 1 * 2", 8),
        ("1 - 2 - 3", -4),
        ("10 / 2 / 5", 1.0),
        ("2 ** 3 ** 2", 512),  # right-associative: not a left chain
        ("1 + 2 == 3 && 'a' + 'b' == 'ab'", True),
        ("false && x.y.z || true", True),  # `x.y.z` never read
        ("true || x.y.z", True),
    ],
)
def test_chains_keep_precedence_and_short_circuits(src, value):
    assert compile_expr(src).run({}) == value


def test_a_non_bool_in_a_logical_chain_is_still_an_error():
    with pytest.raises(ExprRuntimeError, match="non-bool operand"):
        compile_expr("true && true && 1").run({})
