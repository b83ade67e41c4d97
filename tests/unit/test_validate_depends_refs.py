"""depends_refs reads most `depends` without the parser: on any text it must say what the parser says."""

from __future__ import annotations

import random

import pytest

from workflow.expr import parse_depends
from workflow.expr.errors import ExpressionError
from workflow.validate import expressions
from workflow.validate.expressions import depends_refs


def _by_parser(source: str):
    try:
        parsed = parse_depends.__wrapped__(source)
    except ExpressionError as exc:
        return [], str(exc)
    return list(parsed.task_results()), None


TOKENS = [
    "a",
    "b-1",
    "c_2",
    "9d",
    "a.Succeeded",
    "b-1.Failed",
    "c_2.AnySucceeded",
    "a.AllFailed",
    "a.Bogus",
    "a.",
    ".Failed",
    "&&",
    "||",
    "!",
    "(",
    ")",
    " ",
    "  ",
    "&",
    "|",
    "-",
    "a.Succeeded.Failed",
    "\t",
]


@pytest.mark.parametrize("seed", range(8))
def test_any_token_soup_reads_as_the_parser_reads_it(seed):
    rng = random.Random(seed)
    for _ in range(2500):
        source = "".join(rng.choice(TOKENS) + rng.choice(["", " "]) for _ in range(rng.randrange(1, 12)))
        expressions._REFS.clear()
        assert depends_refs(source) == _by_parser(source), source


@pytest.mark.parametrize(
    "source",
    [
        "a",
        "a && b-1",
        "(a || b-1.Failed) && !c_2",
        "!(!(a)) || ((b-1))",
        "a.AnySucceeded || a.AllFailed",
        "(a",
        "a)",
        ")a(",
        "a && ",
        "&& a",
        "!",
        "()",
        "a b",
        "a.Bogus",
        "(a && b) c",
    ],
)
def test_written_cases(source):
    expressions._REFS.clear()
    assert depends_refs(source) == _by_parser(source)
