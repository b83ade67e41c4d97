"""The memo of referenced templates (workflow/validate/memo.py): a hit gives exactly what validating again
gives, whatever the workflow around the template, and a changed template is never a stale hit."""

from __future__ import annotations

import copy

import pytest
import yaml

from workflow.check import CheckCaches, CheckOptions, check_object
from workflow.resolve.sources import ListSource
from workflow.validate import memo

LIB = yaml.safe_load("""
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib, namespace: ns}
spec:
  templates:
  - name: reads
    container: {image: busybox, args: ["{{workflow.parameters.p}}", "{{workflow.labels.team}}"]}
  - name: no-image
    container: {args: [run]}
  - name: broken
    retryStrategy: {limit: x}
    container: {image: busybox}
""")


def _workflow(name: str, *, params: bool = False, labels: bool = False, image: bool = False) -> dict:
    spec: dict = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": t, "templateRef": {"name": "lib", "template": t}}
                        for t in ("reads", "no-image", "broken")
                    ]
                },
            }
        ],
    }
    if params:
        spec["arguments"] = {"parameters": [{"name": "p", "value": "1"}]}
    if image:
        spec["templateDefaults"] = {"container": {"image": "default"}}
    meta: dict = {"name": name, "namespace": "ns"}
    if labels:
        meta["labels"] = {"team": "a"}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": meta, "spec": spec}


CACHES = CheckCaches.create()  # what a program keeps between checks (the webhook's, for its life)


def _problems(doc: dict, source: ListSource) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    report = check_object(copy.deepcopy(doc), source, CheckOptions(), CACHES)
    return [(p.field, p.message) for p in report.errors], [(p.field, p.message) for p in report.warnings]


@pytest.fixture(autouse=True)
def empty_memo():
    CACHES.memo.clear()
    yield
    CACHES.memo.clear()


VARIANTS = [
    _workflow("all", params=True, labels=True, image=True),
    _workflow("none"),
    _workflow("params", params=True),
    _workflow("image", image=True),
    _workflow("labels", labels=True),
]


def test_a_hit_gives_what_validating_again_gives_whatever_the_workflow_around_it():
    source = ListSource([LIB])
    fresh = []
    for doc in VARIANTS:
        CACHES.memo.clear()
        fresh.append(_problems(doc, source))
    assert len({str(f) for f in fresh}) == len(VARIANTS), (
        "each variant answers the template's questions differently"
    )
    # In turns, the memo warm: every check is the same as on an empty memo.
    for i in [0, 1, 0, 2, 3, 1, 4, 4, 0, 3, 2, 1]:
        assert _problems(VARIANTS[i], source) == fresh[i]
    assert len(CACHES.memo) == 3  # one key per referenced template, with its variants


def test_problems_are_reported_at_each_reference_once():
    source = ListSource([LIB])
    errors, _ = _problems(VARIANTS[1], source)
    again, _ = _problems(VARIANTS[1], source)
    assert errors == again
    assert (
        "spec.templates[0].dag.tasks[2]",
        'WorkflowTemplate "lib": spec.templates[2].retryStrategy.limit: limit "x" is not an integer',
    ) in errors


def test_a_changed_template_is_validated_again():
    source = ListSource([LIB])
    before, _ = _problems(VARIANTS[0], source)
    fixed = copy.deepcopy(LIB)
    fixed["spec"]["templates"][2]["retryStrategy"]["limit"] = "3"
    after, _ = _problems(VARIANTS[0], ListSource([fixed]))
    assert [e for e in before if "limit" in e[1]] and not [e for e in after if "limit" in e[1]]
    assert _problems(VARIANTS[0], source) == (before, [])


def test_the_memo_is_bounded_and_holds_no_document():
    small = memo.TemplateMemo(max_entries=4)
    source = ListSource([LIB])
    _problems(VARIANTS[1], source)
    entries = CACHES.memo.entries()
    assert entries
    for i in range(10):
        small.put((i,), entries[0])
    assert len(small) == 4 and small.get((9,)) and not small.get((0,))
    for entry in entries:
        values = [entry.problems, entry.globals_read, entry.images_read]
        assert all(isinstance(x, (str, bool, int)) for value in values for item in value for x in item)
