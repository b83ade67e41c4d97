"""Every `{{= }}`, `when`, `depends` and expression field in Argo's examples compiles; some also evaluate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from workflow.expr import ExpressionError, compile_expr, compile_when, parse_depends
from workflow.templating import find_tags, render, when_holds

EXPRESSION_FIELDS = ("expression", "fromExpression")  # bare expr-lang, after simple-tag substitution


def _walk(node: object, path: str = "") -> Iterator[tuple[str, str, str]]:
    """(field path, key, string value) for every string in a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(value, str):
                yield child, str(key), value
            else:
                yield from _walk(value, child)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str):
                yield f"{path}[{i}]", "", value
            else:
                yield from _walk(value, f"{path}[{i}]")


def _fields(root: Path) -> list[tuple[str, str, str]]:
    out = []
    for file in sorted(root.rglob("*.yaml")):
        for doc in yaml.safe_load_all(file.read_text()):
            if isinstance(doc, dict):
                out.extend(
                    (f"{file.relative_to(root)}:{path}", key, value) for path, key, value in _walk(doc)
                )
    return out


@pytest.fixture(scope="module")
def fields(argo_examples):
    return _fields(argo_examples)


def _fails(check, text: str) -> str:
    try:
        check(text)
    except ExpressionError as e:
        return str(e)
    return ""


def _is_resource_condition(where: str) -> bool:
    return ".resource." in where  # resource success/failure conditions are label selectors, not expr


def test_every_expression_tag_compiles(fields):
    tags = [
        (where, tag) for where, _, value in fields for tag in find_tags(value) if tag.kind == "expression"
    ]
    assert len(tags) >= 15, "the examples use {{= }} in at least 15 places"
    assert [where for where, tag in tags if _fails(compile_expr, tag.body)] == []


def test_every_when_compiles(fields):
    whens = [(where, value) for where, key, value in fields if key == "when"]
    assert len(whens) >= 35
    assert [where for where, value in whens if _fails(compile_when, value)] == []


def test_every_depends_parses(fields):
    depends = [(where, value) for where, key, value in fields if key == "depends"]
    assert len(depends) >= 60
    assert [where for where, value in depends if _fails(parse_depends, value)] == []
    assert all(parse_depends(value).tasks() for _, value in depends)


def test_every_bare_expression_compiles(fields):
    found = 0
    for where, key, value in fields:
        if key not in EXPRESSION_FIELDS or _is_resource_condition(where):
            continue
        text = value
        for tag in reversed(find_tags(value)):  # Argo substitutes simple tags before compiling
            text = text[: tag.start] + "x" * (tag.end - tag.start) + text[tag.end :]
        assert not _fails(compile_expr, text), where
        found += 1
    assert found >= 10


def _load(argo_examples: Path, name: str) -> dict:
    return yaml.safe_load((argo_examples / name).read_text())


def test_verbose_snippets_example_evaluates_like_argo(argo_examples):
    wf = _load(argo_examples, "expression-reusing-verbose-snippets.yaml")
    scope = {f"workflow.parameters.{p['name']}": p["value"] for p in wf["spec"]["arguments"]["parameters"]}
    template = wf["spec"]["templates"][0]
    week = render(template["inputs"]["parameters"][0]["value"], scope, strict=True)
    assert week == '{"avg":35.8,"max":57,"min":15}'
    env = {
        e["name"]: render(e["value"], {"inputs.parameters.week-temps": week})
        for e in template["script"]["env"]
    }
    assert env == {"AVG": "35.8", "MIN": "15", "MAX": "57"}


def test_destructure_examples_evaluate_like_argo(argo_examples):
    wf = _load(argo_examples, "expression-destructure-json-complex.yaml")
    scope = {f"workflow.parameters.{p['name']}": p["value"] for p in wf["spec"]["arguments"]["parameters"]}
    values = {
        p["name"]: render(p["value"], scope) for p in wf["spec"]["templates"][0]["inputs"]["parameters"]
    }
    assert values == {
        "a": "[43]",
        "b": "[43]",
        "c": '[{"age":43,"name":"Baris"}]',
        "d": '["Baris","Mo","Jai"]',
    }
    wf = _load(argo_examples, "expression-destructure-json.yaml")
    scope = {f"workflow.parameters.{p['name']}": p["value"] for p in wf["spec"]["arguments"]["parameters"]}
    values = {
        p["name"]: render(p["value"], scope) for p in wf["spec"]["templates"][0]["inputs"]["parameters"]
    }
    assert values == {"a": "1", "b": "2", "c": "3"}


def test_conditionals_example_whens(argo_examples):
    wf = _load(argo_examples, "conditionals.yaml")
    steps = [step for group in wf["spec"]["templates"][0]["steps"] for step in group]
    for value in ("true", "false"):  # the example's default, and `argo submit -p should-print=false`
        scope = {
            "inputs.parameters.should-print": value,
            "workflow.parameters.json": json.dumps([{"name": "should-print", "value": value}]),
        }
        decided = [when_holds(compile_when(step["when"]).source, scope) for step in steps if "when" in step]
        assert decided == [value == "true"] * 3
