"""`when` with govaluate's rules, after substitution; and the lint-time check before it."""

from __future__ import annotations

import pytest

from workflow.expr import ExprSyntaxError, WhenError, WhenSyntaxError, compile_when, evaluate_when
from workflow.templating import when_holds

# (substituted when, result)
CASES = [
    ("", True),
    ("heads == heads", True),
    ("tails == heads", False),
    ("heads != tails", True),
    ("Succeeded == Succeeded", True),
    ("true", True),
    ("false", False),
    ("true == true", True),
    ("true == 'true'", False),  # a boolean is not the string "true"
    ("'true' == true", False),
    ("1 == 1.0", True),
    ("1 == '1'", False),
    ("3 < 10", True),
    ("10 < 9", False),
    ("'10' < '9'", True),  # strings compare as text
    ("2 >= 2", True),
    ("1 != 1 && 1 != 2", False),
    ("3 != 1 && 3 != 2", True),
    ("a == a || b == c", True),
    ("(heads == heads && tails == tails) || (tails == tails && tails == tails)", True),
    ("( heads == tails &&\n  tails == tails\n) ||\n( tails == tails &&\n  tails == tails )", True),
    ("!(a == b)", True),
    ("!true == false", True),  # prefixes bind tightest
    ("heads =~ hea", True),
    ("tails =~ hea", False),
    ("tails !~ hea", True),
    ("'abc-123' =~ '^[a-z]+-[0-9]+$'", True),
    ("a in (a, b)", True),
    ("c in (a, b)", False),
    ("2 in (1, 2, 3)", True),
    ("'x y' == 'x y'", True),
    ("\"double\" == 'double'", True),
    ("'it\\'s' == 'it\\'s'", True),
    ("[with spaces] == 'with spaces'", True),
    ("[a-b] == 'a-b'", True),
    ("1 + 2 == 3", True),
    ("2 * 3 - 1 == 5", True),
    ("10 - 2 - 3 == 5", True),  # left-associative
    ("2 ** 3 == 8", True),
    ("-2 ** 2 == 4", True),
    ("7 % 4 == 3", True),
    ("1 / 0 > 1000", True),
    ("'a' + 'b' == 'ab'", True),
    ("1 + 'a' == '1a'", True),
    ("1.5 + 'x' == '1.5x'", True),
    ("(6 & 3) == 2", True),
    ("(1 << 4) == 16", True),
    ("2021-01-01 == 2019", True),  # unquoted, it is arithmetic
    ("'2021-01-01' < '2022-06-01'", True),
    ("'2021-01-01' == '2021-01-01T00:00:00Z'", True),  # quoted dates compare as times
    ("true ? true : false", True),
    ("false ? true : false", False),
    ("false ?? true", False),
    ("héllo == héllo", True),
]


@pytest.mark.parametrize(("src", "expected"), CASES, ids=[c[0] for c in CASES])
def test_when(src, expected):
    assert evaluate_when(src) is expected


# (substituted when, Argo's message after "Invalid 'when' expression '<src>': ")
ERRORS = [
    ("hello world == x", "Cannot transition token types from value [hello] to value [world]"),
    ("a ==", "Unexpected end of expression"),
    ("== a", "Unexpected token comparator [==]"),
    ("(a == a", "Unbalanced parenthesis"),
    ("1.2.3 == 1.2.3", "Unable to parse numeric value '1.2.3' to float64"),
    ("'abc == abc", "Unclosed string literal"),
    ('x == "it\'s"', "Unclosed string literal"),  # either quote ends a string, as in govaluate
    ("[abc == abc", "Unclosed parameter bracket"),
    ("a =! b", "Invalid token: '=!' (hint: try wrapping the affected expression in quotes (\"))"),
    ("a == -1 && b ==-1", "Invalid token: '==-'"),
    ("_x == _x", "Invalid token: '_'"),
    ("foo.bar == x", "Unable to access unexported field 'bar' in token 'foo.bar'"),
    ("foo. == x", "Hanging accessor on token 'foo.'"),
    ("v1.2 == v1.2", "No parameter 'v1' found."),
    ("my-value == x", "Value 'my' cannot be used with the modifier '-', it is not a number"),
    ("heads && true", "Value 'heads' cannot be used with the logical operator '&&', it is not a bool"),
    ("a < 1", "Value 'a' cannot be used with the comparator '<', it is not a number"),
    ("1 =~ 1", "Value '1' cannot be used with the comparator '=~', it is not a string"),
    ("a in (a)", "Value 'a' cannot be used with the comparator 'in', it is not a array"),
    ("!heads", "Value 'heads' cannot be used with the prefix '!'"),
    ("a =~ '('", "error parsing regexp"),
    ("heads", "expected boolean evaluation, got heads"),
    ("1 + 1", "expected boolean evaluation, got 2"),
    ("a, b", "expected boolean evaluation, got [a b]"),
    ("   ", "expected boolean evaluation, got <nil>"),
]


@pytest.mark.parametrize(("src", "message"), ERRORS, ids=[c[0] for c in ERRORS])
def test_when_errors_use_argos_message(src, message):
    with pytest.raises(WhenError) as err:
        evaluate_when(src)
    assert str(err.value) == f"Invalid 'when' expression '{src}': {message}" or message in str(err.value)
    assert str(err.value).startswith(f"Invalid 'when' expression '{src}': ")


def test_short_circuit_skips_the_other_side():
    assert evaluate_when("false && heads") is False
    assert evaluate_when("true || heads") is True


# ---- lint time: tags are placeholders --------------------------------------------------------------------


@pytest.mark.parametrize(
    "src",
    [
        "{{steps.flip-coin.outputs.result}} == heads",
        "{{tasks.flip-coin.outputs.result}} == tails",
        "{{item.evenness}} == even",
        "{{steps.iterate-counter.outputs.result}} < {{inputs.parameters.limit}}",
        "{{inputs.parameters.num}} != 1 && {{inputs.parameters.num}} != 2",
        "'{{workflow.status}}' == 'Succeeded'",
        "{{= inputs.parameters[\"should-print\"] == 'true'}}",
        "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}",
        "1{{inputs.parameters.digits}} > 10",
        "v{{inputs.parameters.n}} == v2",
    ],
)
def test_compile_when_accepts_argo_forms(src):
    program = compile_when(src)
    assert program.source == src
    assert all(t.body for t in program.tags)


def test_compile_when_reports_simple_tag_names():
    program = compile_when("{{ steps.a.outputs.result }} == {{=item}} && {{workflow.status}} != x")
    assert program.names() == ("steps.a.outputs.result", "workflow.status")


@pytest.mark.parametrize(
    ("src", "message", "column"),
    [
        ("{{steps.a.outputs.result}} == hello world", "Cannot transition token types", 37),
        ("{{steps.a.outputs.result}} =! x", "Invalid token: '=!'", 28),
        ("({{inputs.parameters.x}} == a", "Unbalanced parenthesis", 1),
        ("{{inputs.parameters.x}} == 'a", "Unclosed string literal", 28),
    ],
)
def test_compile_when_locates_errors_in_the_written_text(src, message, column):
    with pytest.raises(WhenSyntaxError) as err:
        compile_when(src)
    assert message in err.value.message
    assert err.value.column == column


def test_compile_when_checks_expression_tags():
    with pytest.raises(ExprSyntaxError) as err:
        compile_when("{{= inputs.parameters.x == }} && true")
    assert err.value.column == 27  # just after `==`, in the when as written
    assert "unexpected end of expression" in str(err.value)


def test_when_program_substitutes_then_decides():
    program = compile_when("{{steps.flip-coin.outputs.result}} == heads")
    assert when_holds(program.source, {"steps.flip-coin.outputs.result": "heads"}) is True
    assert when_holds(program.source, {"steps.flip-coin.outputs.result": "tails"}) is False
    with pytest.raises(WhenError, match="Cannot transition token types"):
        when_holds(program.source, {"steps.flip-coin.outputs.result": "two words"})
