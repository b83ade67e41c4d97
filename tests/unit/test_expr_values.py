"""Go's printing of values (the text Argo inserts), and: bad input never escapes as a traceback."""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.expr import ExpressionError, compile_expr, compile_when, evaluate_when, parse_depends
from workflow.expr.values import format_duration, format_float, go_quote, json_float, sprint, to_json
from workflow.templating import render


@pytest.mark.parametrize(
    ("value", "go_v", "go_json"),
    [
        (0.0, "0", "0"),
        (1.0, "1", "1"),
        (-2.5, "-2.5", "-2.5"),
        (0.1, "0.1", "0.1"),
        (123456.0, "123456", "123456"),
        (1234567.0, "1.234567e+06", "1234567"),
        (1e6, "1e+06", "1000000"),
        (1e20, "1e+20", "100000000000000000000"),
        (1e21, "1e+21", "1e+21"),
        (0.0001, "0.0001", "0.0001"),
        (0.00001, "1e-05", "0.00001"),
        (0.000001, "1e-06", "0.000001"),
        (0.0000001, "1e-07", "1e-7"),
        (1.5e-10, "1.5e-10", "1.5e-10"),
        (2.0**60, "1.152921504606847e+18", "1152921504606847000"),  # shortest digits, zero-padded
    ],
)
def test_floats_print_as_go_does(value, go_v, go_json):
    assert format_float(value) == go_v
    assert json_float(value) == go_json


def test_special_floats():
    assert [format_float(x) for x in (math.inf, -math.inf, math.nan)] == ["+Inf", "-Inf", "NaN"]
    with pytest.raises(ExpressionError, match="unsupported value: NaN"):
        json_float(math.nan)


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_round_trips(x):
    assert float(format_float(x)) == x
    assert float(json_float(x)) == x


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "<nil>"),
        (True, "true"),
        ([1, "a", [2.5]], "[1 a [2.5]]"),
        ({"b": 1, "a": None}, "map[a:<nil> b:1]"),
        ({}, "map[]"),
        (timedelta(hours=1, minutes=2, seconds=3.5), "1h2m3.5s"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02 03:04:05 +0000 UTC"),
    ],
)
def test_sprint_is_go_percent_v(value, text):
    assert sprint(value) == text


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(microseconds=1), "1µs"),
        (timedelta(milliseconds=1500), "1.5s"),
        (timedelta(milliseconds=15), "15ms"),
        (timedelta(minutes=90), "1h30m0s"),
        (-timedelta(seconds=61), "-1m1s"),
    ],
)
def test_durations_print_as_go_does(d, text):
    assert format_duration(d) == text


def test_json_is_encoding_json():
    assert (
        to_json({"b": [1, 2.0, None], "a": "é<&>\u2028"})
        == '{"a":"é\\u003c\\u0026\\u003e\\u2028","b":[1,2,null]}'
    )
    assert to_json("\x01\b") == '"\\u0001\\b"'
    assert to_json({"a": [1]}, indent="  ") == '{\n  "a": [\n    1\n  ]\n}'


def test_quote_is_strconv_quote():
    assert go_quote('a"b\\c\n\t\x01\x7fé\u00a0😀') == '"a\\"b\\\\c\\n\\t\\x01\\x7fé\\u00a0😀"'


# ---- no input gives a traceback ------------------------------------------------------------------------

SOURCE = st.lists(
    st.sampled_from(list("ab1.'\"`()[]{}#?:!=<>+-*/%^|&,;$_ \n\\") + ["in", "not", "let", "{{", "}}", "{{="])
).map("".join)


@settings(max_examples=400, deadline=None)
@given(SOURCE)
def test_expressions_fail_only_with_expression_errors(src):
    with contextlib.suppress(ExpressionError):
        compile_expr(src).run({"a": {"b": [1, "x"]}, "b": None})


@settings(max_examples=400, deadline=None)
@given(SOURCE)
def test_whens_fail_only_with_expression_errors(src):
    for check in (evaluate_when, compile_when):
        with contextlib.suppress(ExpressionError):
            check(src)


@settings(max_examples=300, deadline=None)
@given(SOURCE)
def test_depends_and_templates_fail_only_with_expression_errors(src):
    with contextlib.suppress(ExpressionError):
        parse_depends(src)
    with contextlib.suppress(ExpressionError):
        render(src, {"a": "1", "inputs.parameters.x": "y"}, strict=True)
