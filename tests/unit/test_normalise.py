"""The normalised form (workflow/parse/normalise.py): upgraded once, raw object untouched, paths mapped back."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.check import check_object
from workflow.parse import normalised_workflow, parse_object
from workflow.parse.normalise import normalise_object
from workflow.resolve.sources import NoSource

CM_SEM = {"configMapKeyRef": {"name": "c", "key": "k"}}


def workflow(spec, status=None):
    doc = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": spec}
    if status is not None:
        doc["status"] = status
    return doc


def cron(**spec):
    body = {"workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]}, **spec}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "c"},
        "spec": body,
    }


def test_nothing_to_upgrade_is_the_same_object():
    doc = workflow(
        {
            "entrypoint": "m",
            "templates": [{"name": "m", "synchronization": {"mutexes": [{"name": "x"}]}, "suspend": {}}],
        }
    )
    out = normalise_object(doc)
    assert out.doc is doc
    assert out.warnings == [] and out.moves == []


def test_the_raw_object_is_never_modified_and_untouched_parts_are_shared():
    other = {"name": "other", "suspend": {}}
    doc = workflow(
        {
            "entrypoint": "m",
            "templates": [{"name": "m", "synchronization": {"mutex": {"name": "x"}}, "suspend": {}}, other],
        }
    )
    before = copy.deepcopy(doc)
    out = normalise_object(doc)
    assert doc == before
    assert out.doc["spec"]["templates"][0]["synchronization"] == {"mutexes": [{"name": "x"}]}
    assert out.doc["spec"]["templates"][1] is other
    assert out.doc["metadata"] is doc["metadata"]


def test_normalising_twice_changes_nothing_more():
    doc = cron(schedule="0 1 * * *", schedules=["0 2 * * *"])
    once = normalise_object(doc).doc
    twice = normalise_object(once)
    assert twice.doc is once and twice.warnings == []
    assert once["spec"]["schedules"] == ["0 1 * * *", "0 2 * * *"]


def test_parsed_doc_is_the_normalised_form_with_scalars_rendered():
    doc = workflow(
        {
            "entrypoint": "m",
            "synchronization": {"mutex": {"name": "x"}},
            "arguments": {"parameters": [{"name": "n", "value": 3}, {"name": "b", "value": True}]},
            "templates": [{"name": "m", "suspend": {}}],
        }
    )
    parsed = parse_object(doc)
    assert parsed.errors == []
    assert parsed.doc["spec"]["synchronization"] == {"mutexes": [{"name": "x"}]}
    assert parsed.doc["spec"]["arguments"]["parameters"] == [
        {"name": "n", "value": "3"},
        {"name": "b", "value": "true"},
    ]
    assert doc["spec"]["arguments"]["parameters"][0]["value"] == 3


@pytest.mark.parametrize(
    ("sync", "field"),
    [
        ({"mutex": {}}, "spec.templates[0].synchronization.mutex.name"),
        ({"mutex": {"name": "a"}, "mutexes": [{}]}, "spec.templates[0].synchronization.mutexes[0].name"),
        ({"semaphore": {}}, "spec.templates[0].synchronization.semaphore"),
        (
            {"semaphore": CM_SEM, "semaphores": [CM_SEM, {}]},
            "spec.templates[0].synchronization.semaphores[1]",
        ),
    ],
)
def test_validation_errors_point_at_what_the_user_wrote(sync, field):
    doc = workflow({"entrypoint": "m", "templates": [{"name": "m", "synchronization": sync, "suspend": {}}]})
    report = check_object(doc, NoSource())
    assert [p.field for p in report.errors] == [field]


def test_cron_schedule_errors_point_at_schedule():
    report = check_object(cron(schedule="not a schedule", schedules=["0 2 * * *"]), NoSource())
    assert [p.field for p in report.errors] == ["spec.schedule"]
    assert [p.field for p in report.warnings] == ["spec.schedule"]


def test_parse_errors_beside_a_legacy_field_keep_the_users_paths():
    doc = workflow(
        {
            "entrypoint": "m",
            "templates": [
                {
                    "name": "m",
                    "suspend": {},
                    "synchronization": {"mutex": {"name": "a"}, "mutexes": [{"name": 5, "x": 1}]},
                }
            ],
        }
    )
    parsed = parse_object(doc)
    assert sorted(p.field for p in parsed.errors) == [
        "spec.templates[0].synchronization.mutexes[0].name",
        "spec.templates[0].synchronization.mutexes[0].x",
    ]
    assert [p.field for p in parsed.warnings] == ["spec.templates[0].synchronization.mutex"]


def test_stored_copies_are_upgraded_without_warnings():
    status = {
        "storedTemplates": {
            "namespaced/t/work": {"name": "work", "synchronization": {"mutex": {"name": "m"}}, "suspend": {}}
        },
        "storedWorkflowTemplateSpec": {
            "entrypoint": "m",
            "synchronization": {"semaphore": {"database": {"key": "k"}}},
            "templates": [{"name": "m", "suspend": {}}],
        },
    }
    out = normalise_object(workflow({"entrypoint": "m", "templates": [{"name": "m", "suspend": {}}]}, status))
    assert out.warnings == []
    assert out.doc["status"]["storedTemplates"]["namespaced/t/work"]["synchronization"] == {
        "mutexes": [{"name": "m"}]
    }
    assert out.doc["status"]["storedWorkflowTemplateSpec"]["synchronization"] == {
        "semaphores": [{"database": {"key": "k"}}]
    }


def test_shapes_argo_does_not_accept_are_left_for_the_parser():
    doc = workflow(
        {
            "entrypoint": "m",
            "synchronization": {"mutex": {"name": "a"}, "mutexes": "nope"},
            "templates": "nope",
        }
    )
    out = normalise_object(doc)
    assert out.doc is doc
    assert [w.field for w in out.warnings] == ["spec.synchronization.mutex"]
    assert normalise_object([1, 2]).doc == [1, 2]
    assert normalise_object({"kind": "ConfigMap", "data": {"mutex": "x"}}).warnings == []


def test_expand_object_reads_the_normalised_form():
    from workflow.expand import expand_object

    doc = workflow(
        {
            "entrypoint": "m",
            "templates": [{"name": "m", "synchronization": {"mutex": {"name": "x"}}, "suspend": {}}],
        }
    )
    out = expand_object(doc, NoSource())
    assert out["spec"]["templates"][0]["synchronization"] == {"mutexes": [{"name": "x"}]}
    assert doc["spec"]["templates"][0]["synchronization"] == {"mutex": {"name": "x"}}


def test_joined_specs_are_joined_in_their_normalised_form():
    """workflowDefaults and workflowTemplateRef joins (workflow/merge.py): a v3 `mutex` replaces the lower
    side's `mutexes` list as a v4 `mutexes` would, instead of adding a second lock beside it."""
    from workflow.merge import join_workflow_spec

    defaults = {"synchronization": {"mutexes": [{"name": "d"}]}, "parallelism": 2}
    for sync in ({"mutex": {"name": "mine"}}, {"mutexes": [{"name": "mine"}]}):
        joined = join_workflow_spec({"synchronization": sync}, None, defaults)
        assert joined == {"synchronization": {"mutexes": [{"name": "mine"}]}, "parallelism": 2}
    template = {"synchronization": {"semaphore": {"database": {"key": "t"}}}}
    joined = join_workflow_spec({}, template, defaults)
    assert joined["synchronization"] == {
        "semaphores": [{"database": {"key": "t"}}],
        "mutexes": [{"name": "d"}],
    }


def test_problems_inside_a_referenced_template_point_at_what_its_author_wrote():
    from workflow.resolve.sources import ListSource

    library = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "lib"},
        "spec": {
            "templates": [{"name": "work", "synchronization": {"mutex": {}}, "container": {"image": "b"}}]
        },
    }
    doc = workflow(
        {
            "entrypoint": "m",
            "templates": [
                {"name": "m", "steps": [[{"name": "a", "templateRef": {"name": "lib", "template": "work"}}]]}
            ],
        }
    )
    report = check_object(doc, ListSource([library]))
    assert [(p.field, p.message) for p in report.errors] == [
        (
            "spec.templates[0].steps[0][0]",
            'WorkflowTemplate "lib": spec.templates[0].synchronization.mutex.name: a mutex needs a name',
        )
    ]


# --- any input: never raises, never mutates, idempotent ---------------------------------------------------


_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["mutex", "mutexes", "semaphore", "semaphores", "name", "x"]), inner, max_size=3
        )
    ),
    max_leaves=12,
)
_sync = st.dictionaries(st.sampled_from(["mutex", "mutexes", "semaphore", "semaphores"]), _json, max_size=4)
_template = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=3),
        "synchronization": _sync | _json,
        "priority": _json,
        "steps": st.lists(
            st.lists(st.fixed_dictionaries({}, optional={"inline": _json}) | _json, max_size=2), max_size=2
        )
        | _json,
        "dag": st.fixed_dictionaries(
            {},
            optional={
                "tasks": st.lists(st.fixed_dictionaries({}, optional={"inline": _json}), max_size=2) | _json
            },
        )
        | _json,
    },
)
_spec = st.fixed_dictionaries(
    {},
    optional={
        "synchronization": _sync | _json,
        "templates": st.lists(_template, max_size=3) | _json,
        "templateDefaults": _template | _json,
        "podPriority": _json,
        "schedule": _json,
        "schedules": _json,
        "workflowSpec": _json,
    },
)
_objects = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(
            ["Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow", "Other"]
        )
    },
    optional={
        "spec": _spec | _json,
        "status": st.fixed_dictionaries(
            {},
            optional={
                "storedTemplates": st.dictionaries(st.text(max_size=3), _template | _json, max_size=2),
                "storedWorkflowTemplateSpec": _spec | _json,
            },
        )
        | _json,
    },
)


@settings(max_examples=300, deadline=None)
@given(_objects)
def test_any_object_normalises_without_raising_or_mutating_and_only_once(doc):
    before = copy.deepcopy(doc)
    out = normalise_object(doc)
    assert doc == before
    again = normalise_object(out.doc)
    assert again.doc == out.doc and again.moves == []
    if doc["kind"] == "Workflow":  # the engine's input: the same, and the spec's scalars rendered
        engine_input = normalised_workflow(doc)
        assert doc == before
        assert normalise_object(engine_input).moves == []
    for move in out.moves:  # every moved path maps back to where it was written
        assert out.raw_path(move.plural + "[0]") == (move.single if move.inserted else move.plural + "[0]")
