"""Regular expressions in expressions are Go's (RE2): linear time on hostile patterns, Go's syntax and
Go's rules for empty matches (workflow/expr/regex.py; issue 13 item 4)."""

from __future__ import annotations

import pytest

from workflow.expr import ExprRuntimeError, compile_expr, evaluate_when
from workflow.expr.regex import go_regex
from workflow.templating import when_holds

EVIL = "a" * 30 + "!"


# Python's re took 158 s on the first and 74 s on the second (and did not answer signals meanwhile);
# RE2 answers at once. The timeout only stops a regression from hanging the run.
@pytest.mark.timeout(60)
def test_catastrophic_pattern_in_sprig_regex_match_answers():
    assert compile_expr(f'sprig.regexMatch("(a+)+$", "{EVIL}")').run({}) is False


@pytest.mark.timeout(60)
def test_catastrophic_pattern_in_when_answers():
    assert evaluate_when(f'"{EVIL}" =~ "(a+)+$"') is False
    assert evaluate_when(f'"{EVIL}" !~ "(a+)+$"') is True
    assert when_holds(f'"{EVIL}" =~ "(a+)+$"', {}) is False


@pytest.mark.timeout(60)
def test_catastrophic_patterns_everywhere_an_expression_takes_one():
    long = "a" * 5000 + "!"
    env = {"s": long}
    assert compile_expr('s matches "^(a|aa)+$"').run(env) is False
    assert compile_expr('s matches "(a*)*b"').run(env) is False
    assert compile_expr('sprig.regexFind("(a+)+b", s)').run(env) == ""
    assert compile_expr('sprig.regexFindAll("(a|a)+!", s, -1)').run(env) == [long]
    assert compile_expr('sprig.regexReplaceAll("(a+)+$", s, "x")').run(env) == long
    assert compile_expr('sprig.regexSplit("(a+)+b", s, -1)').run(env) == [long]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(?=a)", "invalid or unsupported Perl syntax"),  # lookahead: Go refuses it
        ("(?<!a)b", "invalid"),
        ("(a)\\1", "invalid escape sequence"),  # backreference
        ("a{1001}", "invalid repeat count"),  # Go's limit too
        ("\\C", "invalid escape sequence"),  # any byte: RE2 has it, Go does not
        ("(", "missing closing )"),
    ],
)
def test_what_go_refuses_is_an_error(pattern, message):
    with pytest.raises(ExprRuntimeError, match="error parsing regexp") as err:
        go_regex(pattern)
    assert message in str(err.value)


def test_go_syntax():
    assert go_regex("(?<year>[0-9]{4})").replace_all("in 2024", "${year}!") == "in 2024!"
    assert go_regex("[[:alpha:]]+").find("12abc3") == "abc"
    assert go_regex("a\\z").matches("a") and not go_regex("a\\z").matches("a\n")
    assert not go_regex("a$").matches("a\n")  # Python's $ matches before a final newline; Go's does not
    assert go_regex("\\\\C").matches("\\C")  # an escaped backslash then C is not `\C`
    assert go_regex("é+").find("aééb") == "éé"


def test_go_rules_for_empty_matches():
    # Go's documented examples (regexp package): FindAll, ReplaceAll and Split skip an empty match that
    # follows a match; Python's re does not.
    assert go_regex("a*").find_all("baaac", -1) == ["", "aaa", ""]
    assert go_regex("a*").replace_all("baaac", "X") == "XbXcX"
    assert go_regex("a*").split("abaabaccadaaae", 5) == ["", "b", "b", "c", "cadaaae"]
    assert go_regex("a").split("banana", -1) == ["b", "n", "n", ""]
    assert go_regex("a").split("banana", 1) == ["banana"]
    assert go_regex("a").split("banana", 2) == ["b", "nana"]
    assert go_regex("a").split("banana", 0) == []
    assert go_regex("(,)").split("a,b", -1) == ["a", "b"]  # no groups in the result, unlike re.split
    assert go_regex("x*").split("", -1) == [""]


def test_go_replacement_templates():
    rx = go_regex("a(x*)b")
    assert rx.replace_all("-ab-axxb-", "T") == "-T-T-"
    assert rx.replace_all("-ab-axxb-", "$1") == "--xx-"
    assert rx.replace_all("-ab-axxb-", "$1W") == "---"  # `1W` is a group name that does not exist
    assert rx.replace_all("-ab-axxb-", "${1}W") == "-W-xxW-"
    assert rx.replace_all("-ab-", "$$1 $9 $") == "-$1  $-"
    assert rx.replace_all("-ab-axxb-", "${1}", literal=True) == "-${1}-${1}-"
    assert go_regex("(a)|(b)").replace_all("ab", "[$2]") == "[][b]"  # a group that did not match: ""
