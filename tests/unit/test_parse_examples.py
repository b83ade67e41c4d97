"""Every Argo object in Argo's own examples parses with no errors and goes back to the same JSON."""

from __future__ import annotations

import pytest
import yaml

from workflow.parse import KINDS, parse_object, to_dict
from workflow.types.base import any_string_text

ANY_STRING_KEYS = ("value", "default", "description")


def normalise_any_strings(value, parent_key=None):
    """The document as Argo stores it: parameter values given as numbers or booleans become strings."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if parent_key in ("parameters", "valueFrom"):
                if key in ANY_STRING_KEYS and isinstance(item, (bool, int, float)):
                    item = any_string_text(item)
                elif key == "enum" and isinstance(item, list):
                    item = [any_string_text(i) if isinstance(i, (bool, int, float)) else i for i in item]
            out[key] = normalise_any_strings(item, key)
        return out
    if isinstance(value, list):
        return [normalise_any_strings(item, parent_key) for item in value]
    return value


def argo_documents(root):
    for path in sorted(root.rglob("*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if isinstance(doc, dict) and doc.get("kind") in KINDS:
                yield f"{path.relative_to(root)}#{index}", doc


def test_the_corpus_has_every_kind_we_expect(argo_examples):
    kinds = {doc["kind"] for _, doc in argo_documents(argo_examples)}
    assert {"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"} <= kinds


def test_every_example_parses_without_errors(argo_examples):
    failures = {}
    count = 0
    for name, doc in argo_documents(argo_examples):
        count += 1
        parsed = parse_object(doc)
        if parsed.errors or parsed.obj is None:
            failures[name] = [str(p) for p in parsed.errors]
    assert count > 200
    assert failures == {}


def test_every_example_round_trips_losslessly(argo_examples):
    mismatched = []
    for name, doc in argo_documents(argo_examples):
        parsed = parse_object(doc)
        assert parsed.obj is not None, name
        if to_dict(parsed.obj) != normalise_any_strings(doc):
            mismatched.append(name)
    assert mismatched == []


def test_the_normaliser_itself_changes_numbers_only_where_argo_does():
    doc = {"parameters": [{"name": "n", "value": 3, "enum": [1, True]}], "parallelism": 3}
    assert normalise_any_strings(doc) == {
        "parameters": [{"name": "n", "value": "3", "enum": ["1", "true"]}],
        "parallelism": 3,
    }


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_parses_to_its_own_type(kind):
    parsed = parse_object({"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": {"name": "x"}})
    assert parsed.errors == []
    assert type(parsed.obj) is KINDS[kind]
    assert type(parsed.obj).__name__ == kind
    assert parsed.name == "x"
