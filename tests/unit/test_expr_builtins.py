"""expr-lang builtins and the functions Argo adds (asInt, asFloat, toJson, jsonpath): (expression, expected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from workflow.expr import ExprRuntimeError, compile_expr

ENV = {
    "doc": '{"a": "1", "n": 42, "f": 1.5, "list": [1, 2, 3], "obj": {"k": "v"}, "my-key": true}',
    "people": '{"employees": [{"name": "Baris", "age": 43}, {"name": "Mo", "age": 42}, {"name": "Jai", "age": 44}]}',
    "when": datetime(2024, 3, 9, 14, 5, 7, 250000, tzinfo=UTC),
    "earlier": datetime(2024, 3, 9, 13, 0, 0, tzinfo=UTC),
}

CASES = [
    # conversions: asInt/asFloat are Argo's aliases of int/float
    ("int('42')", 42),
    ("int('-7')", -7),
    ("int(3.9)", 3),
    ("int(-3.9)", -3),
    ("asInt('10') * 10", 100),
    ("asFloat('1.5') * 2", 3.0),
    ("float('1e3')", 1000.0),
    ("float(2)", 2.0),
    ("string(42)", "42"),
    ("string(1.5)", "1.5"),
    ("string(2.0)", "2"),
    ("string(1e6)", "1e+06"),
    ("string(123456.0)", "123456"),
    ("string(0.00001)", "1e-05"),
    ("string(true)", "true"),
    ("string(nil)", "<nil>"),
    ("string([1, 'a'])", "[1 a]"),
    ("string({b: 1, a: 'x'})", "map[a:x b:1]"),
    ("type(1)", "int"),
    ("type(1.0)", "float"),
    ("type('')", "string"),
    ("type([])", "array"),
    ("type({})", "map"),
    ("type(nil)", "nil"),
    # JSON: toJson is compact (json.Marshal), toJSON indented (expr-lang's)
    ("toJson({b: 1, a: [1.0, 'x']})", '{"a":[1,"x"],"b":1}'),
    ("toJson('<a & b>')", '"\\u003ca \\u0026 b\\u003e"'),
    ("toJson(0.1 + 0.2)", "0.30000000000000004"),
    ("toJson(1e21)", "1e+21"),
    ("toJson(1e20)", "100000000000000000000"),
    ("toJson(0.0000001)", "1e-7"),
    ("toJson(nil)", "null"),
    ("toJSON({a: [1]})", '{\n  "a": [\n    1\n  ]\n}'),
    ('fromJSON(\'[1, "a", {"b": null}]\')', [1.0, "a", {"b": None}]),
    ("fromJson('{\"x\": 2}').x * 2", 4.0),
    ("toBase64('hi')", "aGk="),
    ("fromBase64('aGk=')", "hi"),
    # jsonpath (Argo's): one value for a plain path, a list for wildcards, filters, ranges
    ("jsonpath(doc, '$.a')", "1"),
    ("jsonpath(doc, '$.n')", 42.0),
    ("jsonpath(doc, '$.obj.k')", "v"),
    ("jsonpath(doc, \"$['my-key']\")", True),
    ("jsonpath(doc, '$.list[0]')", 1.0),
    ("jsonpath(doc, '$.list[-1]')", 3.0),
    ("jsonpath(doc, '$.list[*]')", [1.0, 2.0, 3.0]),
    ("jsonpath(doc, '$.list[0,2]')", [1.0, 3.0]),
    ("jsonpath(doc, '$.list[1:]')", [2.0, 3.0]),
    ("jsonpath(doc, '$.list.length')", 3.0),
    ("jsonpath(people, '$.employees[?(@.name==\"Baris\")].age')", [43.0]),
    ("jsonpath(people, '$.employees[?(@.age>42 && @.age<44)].age')", [43.0]),
    ("jsonpath(people, '$.employees[?(@.age >= 43 || @.name == \"Mo\")].name')", ["Baris", "Mo", "Jai"]),
    ("jsonpath(people, '$.employees[?(@.name =~ \"^J\")].name')", ["Jai"]),
    ("jsonpath(people, '$.employees[0:1]')", [{"name": "Baris", "age": 43.0}]),
    ("jsonpath(people, '$.employees[*].name')", ["Baris", "Mo", "Jai"]),
    ("jsonpath(people, '$..age')", [43.0, 42.0, 44.0]),
    ("jsonpath(people, '$.employees[(@.length-1)].name')", ["Jai"]),
    ("toJson(jsonpath(people, '$.employees[?(@.age > 43)].name'))", '["Jai"]'),
    # numbers
    ("len('héllo')", 6),
    ("len([1, 2])", 2),
    ("len({a: 1})", 1),
    ("abs(-3)", 3),
    ("abs(-2.5)", 2.5),
    ("ceil(1.2)", 2.0),
    ("floor(-1.2)", -2.0),
    ("round(2.5)", 3.0),
    ("round(-2.5)", -3.0),
    ("max(1, 5, 3)", 5),
    ("max([1, 7.5])", 7.5),
    ("min(4, 2)", 2),
    ("mean([1, 2, 3, 4])", 2.5),
    ("median([3, 1, 2])", 2.0),
    ("bitand(12, 10)", 8),
    ("bitor(12, 10)", 14),
    ("bitxor(12, 10)", 6),
    ("bitnot(10)", -11),
    ("bitshl(1, 4)", 16),
    ("bitshr(16, 2)", 4),
    # strings
    ("trim('  x  ')", "x"),
    ("trim('__x__', '_')", "x"),
    ("trimPrefix('HelloWorld', 'Hello')", "World"),
    ("trimSuffix('HelloWorld', 'World')", "Hello"),
    ("upper('abc')", "ABC"),
    ("lower('ABC')", "abc"),
    ("split('a,b,c', ',')", ["a", "b", "c"]),
    ("split('a,b,c', ',', 2)", ["a", "b,c"]),
    ("split('abc', '')", ["a", "b", "c"]),
    ("splitAfter('a,b,c', ',')", ["a,", "b,", "c"]),
    ("replace('Hello World', 'World', 'You')", "Hello You"),
    ("repeat('ab', 3)", "ababab"),
    ("join(['a', 'b'], ', ')", "a, b"),
    ("join(['a', 'b'])", "ab"),
    ("indexOf('apple pie', 'pie')", 6),
    ("indexOf('héllo', 'l')", 3),
    ("lastIndexOf('apple pie apple', 'apple')", 10),
    ("hasPrefix('HelloWorld', 'Hello')", True),
    ("hasSuffix('HelloWorld', 'World')", True),
    # arrays and maps (keys come in key order)
    ("first([1, 2])", 1),
    ("first([])", None),
    ("last([1, 2])", 2),
    ("get([1, 2], 5)", None),
    ("get({a: 1}, 'a')", 1),
    ("take([1, 2, 3], 2)", [1, 2]),
    ("keys({b: 1, a: 2})", ["a", "b"]),
    ("values({b: 1, a: 2})", [2, 1]),
    ("toPairs({b: 1, a: 2})", [["a", 2], ["b", 1]]),
    ("fromPairs([['a', 1]])", {"a": 1}),
    ("sort([3, 1, 2])", [1, 2, 3]),
    ("sort(['b', 'a'], 'desc')", ["b", "a"]),
    ("concat([1], [2, 3])", [1, 2, 3]),
    ("flatten([1, [2, [3]]])", [1, 2, 3]),
    ("uniq([1, 2, 1, 2.0])", [1, 2]),
    ("reverse([1, 2, 3])", [3, 2, 1]),
    # time: durations, dates, methods
    ("duration('1h30m').Minutes()", 90.0),
    ("duration('1.5s').Milliseconds()", 1500),
    ("string(duration('90m'))", "1h30m0s"),
    ("(when - earlier).Seconds()", 3907.25),
    ("when - earlier > duration('1h')", True),
    ("when.Year()", 2024),
    ("when.Format('2006-01-02 15:04:05.000')", "2024-03-09 14:05:07.250"),
    ("when.Format('Jan _2, 3:04PM')", "Mar  9, 2:05PM"),
    ("when.Unix()", 1709993107),
    ("date('2024-03-09').Day()", 9),
    ("date('2024-03-09T10:00:00Z').Hour()", 10),
    ("date('09/03/2024', '02/01/2006').Month()", 3),
    ("earlier.Before(when)", True),
    ("earlier + duration('1h') == date('2024-03-09T14:00:00Z')", True),
]


@pytest.mark.parametrize(("src", "expected"), CASES, ids=[c[0] for c in CASES])
def test_builtin(src, expected):
    result = compile_expr(src).run(ENV)
    assert result == expected
    assert type(result) is type(expected)


def test_now_is_the_injected_time():
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert compile_expr("now()").run(now=now) == now
    assert (
        compile_expr("(now() - t).Seconds() > 360").run({"t": now - timedelta(minutes=10)}, now=now) is True
    )
    with pytest.raises(ExprRuntimeError, match="no current time"):
        compile_expr("now()").run()


def test_time_zones_format_with_offsets():
    t = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert compile_expr("t.Format('2006-01-02T15:04:05Z07:00')").run({"t": t}) == "2024-01-01T12:00:00+02:00"
    assert compile_expr('t.UTC().Format("15:04 MST")').run({"t": t}) == "10:00 UTC"
    assert compile_expr("toJson(t)").run({"t": t}) == '"2024-01-01T12:00:00+02:00"'


BUILTIN_ERRORS = [
    ("int('1.5')", "invalid operation: int(1.5)"),
    ("int(' 1')", "invalid operation: int( 1)"),
    ("int('1_000')", "invalid operation: int(1_000)"),
    ("float('abc')", "invalid operation: float(abc)"),
    ("len(1)", "invalid argument for len (type int)"),
    ("upper(1)", "upper: cannot use int as argument (type string)"),
    ("join([1], ',')", "join: cannot use int as a string"),
    ("repeat('a', -1)", "negative Repeat count"),
    ("fromJSON('{bad')", "invalid JSON"),
    ("fromBase64('***')", "fromBase64"),
    ("toJson(1 / 0)", "json: unsupported value: +Inf"),
    ("jsonpath(doc, '$.nope')", "key 'nope' not found"),
    ("jsonpath(doc, 'a')", "a path starts with $"),
    ("jsonpath('{', '$')", "invalid JSON"),
    ("sort([1, 'a'])", "mismatched types"),
    ("duration('5 minutes')", "time: invalid duration"),
    ("duration('5y')", 'time: unknown unit "y"'),
    ("date('not a date')", "cannot parse"),
    ("max('a')", "invalid argument for max (type string)"),
]


@pytest.mark.parametrize(("src", "message"), BUILTIN_ERRORS, ids=[c[0] for c in BUILTIN_ERRORS])
def test_builtin_errors(src, message):
    with pytest.raises(ExprRuntimeError) as err:
        compile_expr(src).run(ENV)
    assert message in str(err.value)


def test_env_functions_override_builtins_only_when_callable():
    assert compile_expr("upper('a')").run({"upper": lambda s: s + "!"}) == "a!"
    assert compile_expr("upper('a')").run({"upper": "not a function"}) == "A"
