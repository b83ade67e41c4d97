"""`sprig.*` in expressions: sprig's argument order and Go conversions. Rows are (expression, expected)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workflow.expr import ExprRuntimeError, ExprSyntaxError, compile_expr

ENV = {"d": {"a": 1, "b": {"c": 2}}, "xs": ["b", "a", "c"], "t": datetime(2021, 6, 7, 8, 9, 10, tzinfo=UTC)}

CASES = [
    # strings (the subject comes last)
    ("sprig.trim('  x ')", "x"),
    ("sprig.trimAll('$', '$5.00$')", "5.00"),
    ("sprig.trimPrefix('-', '-x')", "x"),
    ("sprig.trimSuffix('-', 'x-')", "x"),
    ("sprig.upper('abc')", "ABC"),
    ("sprig.lower('ABC')", "abc"),
    ("sprig.title('hello world')", "Hello World"),
    ("sprig.untitle('Hello World')", "hello world"),
    ("sprig.replace('a', 'o', 'banana')", "bonono"),
    ("sprig.contains('cat', 'catch')", True),
    ("sprig.hasPrefix('cat', 'catch')", True),
    ("sprig.hasSuffix('ch', 'catch')", True),
    ("sprig.quote('a\"b', 1)", '"a\\"b" "1"'),
    ("sprig.squote('a', nil, 'b')", "'a' 'b'"),
    ("sprig.cat('a', 1, nil, true)", "a 1 true"),
    ("sprig.indent(2, 'a\\nb')", "  a\n  b"),
    ("sprig.nindent(2, 'a')", "\n  a"),
    ("sprig.trunc(3, 'abcdef')", "abc"),
    ("sprig.trunc(-2, 'abcdef')", "ef"),
    ("sprig.trunc(10, 'abc')", "abc"),
    ("sprig.substr(1, 3, 'abcdef')", "bc"),
    ("sprig.substr(2, 99, 'abcdef')", "cdef"),
    ("sprig.repeat(3, 'ab')", "ababab"),
    ("sprig.abbrev(6, 'hello world')", "hel..."),
    ("sprig.nospace('a b\\tc')", "abc"),
    ("sprig.snakecase('FooBar baz')", "foo_bar_baz"),
    ("sprig.kebabcase('FooBar')", "foo-bar"),
    ("sprig.camelcase('foo_bar-baz')", "FooBarBaz"),
    ("sprig.initials('Foo Bar')", "FB"),
    ("sprig.plural('one', 'many', 2)", "many"),
    ("sprig.splitList(',', 'a,b,c')", ["a", "b", "c"]),
    ("sprig.split('$', 'a$b')", {"_0": "a", "_1": "b"}),
    ("sprig.join('-', ['a', 1, true])", "a-1-true"),
    ("sprig.toString(1.5)", "1.5"),
    ("sprig.toStrings([1, 'a'])", ["1", "a"]),
    ("sprig.sortAlpha(xs)", ["a", "b", "c"]),
    ("sprig.b64enc('hello')", "aGVsbG8="),
    ("sprig.b64dec('aGVsbG8=')", "hello"),
    ("sprig.b32enc('hi')", "NBUQ===="),
    ("sprig.sha256sum('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("sprig.sha1sum('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    ("sprig.adler32sum('abc')", "38600999"),
    ("sprig.regexMatch('^[a-z]+$', 'abc')", True),
    ("sprig.regexMatch('^[a-z]+$', 'ab1')", False),
    ("sprig.regexFind('[0-9]+', 'ab12cd34')", "12"),
    ("sprig.regexFindAll('[0-9]+', 'ab12cd34', -1)", ["12", "34"]),
    ("sprig.regexFindAll('[0-9]+', 'ab12cd34', 1)", ["12"]),
    ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"),
    ("sprig.regexReplaceAll('a(?P<x>x*)b', '-axb-', '[$x]')", "-[x]-"),
    ("sprig.regexReplaceAll('a(x*)b', '-ab-', '$1W')", "--"),
    ("sprig.regexReplaceAllLiteral('a(x*)b', '-ab-axxb-', '${1}')", "-${1}-${1}-"),
    ("sprig.regexSplit('z+', 'pizza', -1)", ["pi", "a"]),
    ("sprig.regexQuoteMeta('1.5*')", "1\\.5\\*"),
    # numbers: int64 after cast.ToInt64, floats for the *f functions
    ("sprig.add(1, 2, 3)", 6),
    ("sprig.add('1', 2.9)", 3),
    ("sprig.add('4.2', 1)", 1),
    ("sprig.add('1.0', 1)", 2),
    ("sprig.add('0x10', 0)", 16),
    ("sprig.add1(5)", 6),
    ("sprig.sub(10, 3)", 7),
    ("sprig.mul(2, 3, 4)", 24),
    ("sprig.div(7, 2)", 3),
    ("sprig.div(-7, 2)", -3),
    ("sprig.mod(-7, 3)", -1),
    ("sprig.max(1, '9', 3)", 9),
    ("sprig.min(4, 2, 8)", 2),
    ("sprig.add(34.0, 27.0, 15.0, 57.0, 46.0) / 5", 35.8),
    ("sprig.addf(1.5, 2)", 3.5),
    ("sprig.subf(5, 1.5)", 3.5),
    ("sprig.mulf(1.5, 2)", 3.0),
    ("sprig.divf(1, 4)", 0.25),
    ("sprig.maxf(1, 2.5)", 2.5),
    ("sprig.minf(1, 2.5)", 1.0),
    ("sprig.floor(1.7)", 1.0),
    ("sprig.ceil(1.2)", 2.0),
    ("sprig.round(3.14159, 2)", 3.14),
    ("sprig.round(2.5, 0)", 3.0),
    ("sprig.atoi('42')", 42),
    ("sprig.atoi('4x')", 0),
    ("sprig.int('7')", 7),
    ("sprig.int64(7.9)", 7),
    ("sprig.float64('1.5')", 1.5),
    ("sprig.toDecimal('0777')", 511),
    ("sprig.until(3)", [0, 1, 2]),
    ("sprig.untilStep(0, 10, 4)", [0, 4, 8]),
    ("sprig.seq(3)", "1 2 3"),
    ("sprig.seq(2, 0)", "2 1 0"),
    # lists
    ("sprig.list(1, 'a')", [1, "a"]),
    ("sprig.first([1, 2])", 1),
    ("sprig.first([])", None),
    ("sprig.last([1, 2])", 2),
    ("sprig.rest([1, 2, 3])", [2, 3]),
    ("sprig.initial([1, 2, 3])", [1, 2]),
    ("sprig.append([1], 2)", [1, 2]),
    ("sprig.push([1], 2)", [1, 2]),
    ("sprig.prepend([1], 0)", [0, 1]),
    ("sprig.concat([1], [2], [3])", [1, 2, 3]),
    ("sprig.uniq([1, 1, 2])", [1, 2]),
    ("sprig.has(2, [1, 2])", True),
    ("sprig.has(3, [1, 2])", False),
    ("sprig.without([1, 2, 3, 2], 2)", [1, 3]),
    ("sprig.compact([1, '', nil, 0, 'a', false])", [1, "a"]),
    ("sprig.reverse([1, 2])", [2, 1]),
    ("sprig.slice([1, 2, 3, 4], 1, 3)", [2, 3]),
    ("sprig.chunk(2, [1, 2, 3])", [[1, 2], [3]]),
    # dicts
    ("sprig.dict('a', 1, 'b', 'x')", {"a": 1, "b": "x"}),
    ("sprig.dict('odd')", {"odd": ""}),
    ("sprig.get(d, 'a')", 1),
    ("sprig.get(d, 'zz')", ""),
    ("sprig.set(d, 'z', 3).z", 3),
    ("sprig.unset(d, 'a')", {"b": {"c": 2}}),
    ("sprig.hasKey(d, 'b')", True),
    ("sprig.keys(d, {'z': 1})", ["a", "b", "z"]),
    ("sprig.values({'b': 2, 'a': 1})", [1, 2]),
    ("sprig.pick(d, 'a')", {"a": 1}),
    ("sprig.omit(d, 'a')", {"b": {"c": 2}}),
    (
        "sprig.merge({'a': 1, 'b': {'x': 1}}, {'a': 2, 'b': {'y': 2}, 'c': 3})",
        {"a": 1, "b": {"x": 1, "y": 2}, "c": 3},
    ),
    ("sprig.mergeOverwrite({'a': 1}, {'a': 2})", {"a": 2}),
    ("sprig.pluck('a', {'a': 1}, {'b': 2}, {'a': 3})", [1, 3]),
    ("sprig.dig('b', 'c', 'none', d)", 2),
    ("sprig.dig('b', 'x', 'none', d)", "none"),
    # defaults and types
    ("sprig.default('d', '')", "d"),
    ("sprig.default('d', 'given')", "given"),
    ("sprig.default('d')", "d"),
    ("sprig.default('d', 0)", "d"),
    ("sprig.empty('')", True),
    ("sprig.empty([])", True),
    ("sprig.empty(0.0)", True),
    ("sprig.empty('x')", False),
    ("sprig.coalesce(nil, '', 'x', 'y')", "x"),
    ("sprig.ternary('yes', 'no', true)", "yes"),
    ("sprig.ternary('yes', 'no', false)", "no"),
    ("sprig.all(1, 'a')", True),
    ("sprig.any(0, '')", False),
    ("sprig.typeOf(1.5)", "float64"),
    ("sprig.typeOf([])", "[]interface {}"),
    ("sprig.kindOf({})", "map"),
    ("sprig.kindIs('slice', [])", True),
    ("sprig.toJson({'b': [1], 'a': '<'})", '{"a":"\\u003c","b":[1]}'),
    ("sprig.toRawJson({'a': '<'})", '{"a":"<"}'),
    ("sprig.toPrettyJson({'a': 1})", '{\n  "a": 1\n}'),
    ("sprig.fromJson('{\"a\": [1]}').a", [1.0]),
    # dates format the time they are given
    ("sprig.date('2006-01-02', t)", "2021-06-07"),
    ("sprig.dateInZone('15:04 MST', t, 'UTC')", "08:09 UTC"),
    ("sprig.htmlDate(t)", "2021-06-07"),
    ("sprig.unixEpoch(t)", "1623053350"),
    ("sprig.duration(95)", "1m35s"),
    ("sprig.toDate('2006-01-02', '2020-02-03').Year()", 2020),
]


@pytest.mark.parametrize(("src", "expected"), CASES, ids=[c[0] for c in CASES])
def test_sprig(src, expected):
    result = compile_expr(src).run(ENV)
    assert result == expected
    assert type(result) is type(expected) or expected is None


def test_sprig_never_changes_the_scope():
    compile_expr("sprig.set(d, 'a', 99)").run(ENV)
    compile_expr("sprig.merge(d, {'new': 1})").run(ENV)
    assert ENV["d"] == {"a": 1, "b": {"c": 2}}


def test_date_without_a_time_is_the_injected_now():
    now = datetime(2033, 1, 1, tzinfo=UTC)
    program = compile_expr("sprig.date('2006', workflow.creationTimestamp)")
    # A string is not a time for sprig: it formats "now", which the caller injects.
    assert program.run({"workflow": {"creationTimestamp": "2021-01-01T00:00:00Z"}}, now=now) == "2033"
    with pytest.raises(ExprRuntimeError, match="need the current time"):
        program.run({"workflow": {"creationTimestamp": "x"}})


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("sprig.upper(1)", "sprig.upper: cannot use int as argument (type string)"),
        ("sprig.div(1, 0)", "integer divide by zero"),
        ("sprig.first(1)", "cannot find first on type int"),
        ("sprig.slice([1], 2)", "out of range"),
        ("sprig.regexMatch('(', 'a')", "error parsing regexp"),
    ],
)
def test_sprig_errors(src, message):
    with pytest.raises(ExprRuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_expr(src).run(ENV)


def test_unknown_sprig_functions_and_arity_are_lint_errors():
    with pytest.raises(ExprSyntaxError, match="unknown function sprig.env"):
        compile_expr("sprig.env('HOME')")  # removed by Argo: no environment variables from expressions
    with pytest.raises(ExprSyntaxError, match="too many arguments to call sprig.upper"):
        compile_expr("sprig.upper('a', 'b')")
