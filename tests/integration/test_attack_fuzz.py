"""Fuzzing the hostile-input defences of issue 13 (slow tier; CI runs it): regular expressions, the
expression languages and policy evaluation answer every generated input with a value or their own
clear error, within bounds (no traceback, no hang)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhook.policy.engine import PolicyStopped
from webhook.policy.worker import PolicyWorkers
from workflow.expr import (
    ExprRuntimeError,
    ExprSyntaxError,
    WhenError,
    WhenSyntaxError,
    compile_expr,
    evaluate_when,
)
from workflow.expr.regex import go_regex

pytestmark = pytest.mark.slow

ATOMS = st.sampled_from(
    ["a", "b", ".", "\\d", "[a-c]", "(?:a|aa)", "\\b", "^", "$", "(a)", "é", "\\pL", "[[:alpha:]]"]
)


@st.composite
def patterns(draw, depth=0):
    """Patterns with nested quantifiers and alternations: the shapes that backtrack exponentially."""
    if depth > 3 or draw(st.booleans()):
        return draw(ATOMS)
    inner = draw(st.lists(patterns(depth + 1), min_size=1, max_size=3))
    joined = ("|" if draw(st.booleans()) else "").join(inner)
    quantifier = draw(st.sampled_from(["", "*", "+", "?", "{2,5}", "*?", "+"]))
    return f"({joined}){quantifier}"


SUBJECTS = st.builds(
    lambda n, tail: "a" * n + tail, st.integers(0, 3000), st.sampled_from(["", "!", "b", "aab", "\n"])
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=st.one_of(patterns(), st.text(max_size=30)), subject=SUBJECTS, n=st.integers(-1, 5))
def test_regex_functions_answer_any_pattern_on_long_subjects(pattern, subject, n):
    try:
        rx = go_regex(pattern)
    except ExprRuntimeError as exc:
        assert str(exc).startswith("error parsing regexp")
        return
    assert isinstance(rx.matches(subject), bool)
    found = rx.find_all(subject, n)
    assert n < 0 or len(found) <= n
    assert isinstance(rx.replace_all(subject, "$1x"), str)
    assert isinstance(rx.split(subject, n), list)


TOKENS = st.sampled_from(
    [
        "1",
        "'a'",
        "x",
        "(",
        ")",
        "[",
        "]",
        "+",
        "-",
        "*",
        "/",
        "%",
        "==",
        "!=",
        "&&",
        "||",
        "!",
        "?",
        ":",
        ".",
        ",",
        "matches",
        "'(a+)+$'",
        "in",
        "all",
        "filter",
        "map",
        "#",
        "{",
        "}",
        "sprig.regexMatch",
        "len",
        "??",
        "..",
        "true",
        "nil",
        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'",
        "x.y",
        "|",
        "let",
        "=",
        ";",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(TOKENS, max_size=40))
def test_expressions_answer_any_token_soup(tokens):
    src = " ".join(tokens)
    with contextlib.suppress(ExprSyntaxError, ExprRuntimeError):
        compile_expr(src).run({"x": {"y": [1, 2, 3]}})
    with contextlib.suppress(WhenError, WhenSyntaxError):
        evaluate_when(src)


@pytest.fixture(scope="module")
def workers():
    pool = PolicyWorkers("cel-rust", 2, timeout=1.0, memory=512 * 1024 * 1024, max_values=50_000)
    import time

    deadline = time.monotonic() + 120
    while pool.started < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    yield pool
    pool.close()


@st.composite
def comprehensions(draw, depth=0):
    """Nested macros over the templates: cost grows as 200 to the power of the depth."""
    var = "abcd"[depth]
    if depth >= 3 or draw(st.booleans()):
        return draw(
            st.sampled_from(["true", f"{var}.name != ''" if depth else "true", "size(templates) > 0"])
        )
    macro = draw(st.sampled_from(["all", "exists", "filter", "map"]))
    body = draw(comprehensions(depth + 1))
    inner = f"templates.{macro}({var}, {body})"
    return inner if macro in ("all", "exists") else f"size({inner}) >= 0"


VALUES = {"object": {"spec": {"templates": [{"name": f"t{i}", "env": ["x"] * 20} for i in range(200)]}}}
VALUES["expanded"] = VALUES["object"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=comprehensions())
def test_policy_rules_are_answered_or_stopped(workers, expression):
    try:
        results = workers.run(VALUES, [(expression, None)])
    except PolicyStopped as exc:
        assert "no policy worker free" in str(exc)
        return
    status, value, _ = results[0]
    assert status in ("ok", "error")
    assert status == "error" or isinstance(value, (bool, str))
