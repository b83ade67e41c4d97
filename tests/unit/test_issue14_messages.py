"""Issue 14's errors that teach, as golden outputs: where a problem is written (file:line:col from YAML
node marks) and YAML syntax errors that keep PyYAML's context and name a tab."""

from __future__ import annotations

from workflow.load import load_documents
from workflow.positions import locate

WORKFLOW = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  templates:
    - name: main
      contianer:
        image: busybox
    - name: other
      steps:
        - - name: a
            template: main
"""


def positions() -> dict[str, tuple[int, int]]:
    loaded = load_documents(WORKFLOW, marks=True)
    assert loaded.error is None
    return loaded.documents[0].positions


def test_a_field_is_placed_at_its_key_and_a_list_item_at_its_dash_content():
    at = positions()
    assert locate(at, "spec.templates[0].contianer") == (9, 7)
    assert locate(at, "spec.templates[1].steps[0][0].template") == (14, 13)
    assert locate(at, "spec.templates[1]") == (11, 7)
    assert locate(at, "metadata.generateName") == (4, 3)


def test_a_missing_field_is_placed_at_its_nearest_written_ancestor():
    at = positions()
    assert locate(at, "spec.templates[0].container.image") == (8, 7)
    assert locate(at, "spec.onExit") == (5, 1)
    assert locate(at, "metadata.labels[app]") == (3, 1)
    assert locate(at, "") == (1, 1)
    assert locate({}, "spec") is None


def test_marks_are_only_recorded_when_asked_for():
    assert load_documents(WORKFLOW).documents[0].positions == {}


def test_an_alias_is_walked_once():
    text = "a: &x {b: {c: 1}}\nd: *x\ne: *x\n"
    at = load_documents(text, marks=True).documents[0].positions
    assert at["a.b.c"] == (1, 12)
    assert "d.b" not in at and at["d"] == (2, 1)


def yaml_error(text: str) -> str:
    loaded = load_documents(text)
    assert loaded.documents == []
    return loaded.error


def test_a_tab_is_named_as_a_tab():
    assert yaml_error("a:\n\tb: 1\n") == (
        "invalid YAML at line 2, column 1: a tab character: YAML indents with spaces, never tabs"
    )


def test_a_syntax_error_keeps_what_the_parser_was_reading_and_from_where():
    text = "spec:\n  templates:\n  - name: x\n    args: [a, b\n  - name: y\n"
    assert yaml_error(text) == (
        "invalid YAML at line 5, column 9: did not find expected ',' or ']'"
        " (while parsing a flow sequence at line 4, column 11)"
    )


def test_an_error_without_a_separate_context_is_one_clause():
    assert (
        yaml_error("a: 1\n b: 2\n")
        == "invalid YAML at line 2, column 3: mapping values are not allowed in this context"
    )
