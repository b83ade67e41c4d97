"""Every Argo v3 spelling that workflow/parse/normalise.py upgrades: the engine decides exactly as for the v4
spelling (same actions, same status, step after step), and lint warns at the path the user wrote.

Each case is (id, legacy workflow, modern workflow, referenced templates). A run grants every lock the
engine asks for on the next step and finishes every pod, so the whole lock life (AcquireLock, waiting,
holding, ReleaseLock) is compared, not only the first step.
"""

from __future__ import annotations

import copy

import pytest
from engine_world import World

from workflow.check import check_object
from workflow.engine import AcquireLock, CreatePod, LockObservation, ReleaseLock
from workflow.resolve.sources import ListSource

C = {"image": "busybox", "command": ["true"]}
SEM = {"configMapKeyRef": {"name": "locks", "key": "build"}}
CONFIG_MAPS = {"locks": {"build": "2"}}


def wf(templates, name="legacy", **spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"entrypoint": "main", "templates": templates, **spec},
    }


def wft(name, templates, **spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"templates": templates, **spec},
    }


def leaf(sync, name="main"):
    return {"name": name, "synchronization": sync, "container": C}


def steps_inline(sync):
    return [{"name": "main", "steps": [[{"name": "a", "inline": {"synchronization": sync, "container": C}}]]}]


def dag_inline(sync):
    return [
        {
            "name": "main",
            "dag": {"tasks": [{"name": "a", "inline": {"synchronization": sync, "container": C}}]},
        }
    ]


def by_ref():
    return [
        {"name": "main", "steps": [[{"name": "a", "templateRef": {"name": "locked", "template": "work"}}]]}
    ]


CASES = [
    # (id, legacy, modern, referenced templates)
    ("template mutex", wf([leaf({"mutex": {"name": "m"}})]), wf([leaf({"mutexes": [{"name": "m"}]})]), []),
    (
        "workflow mutex",
        wf([leaf(None)], synchronization={"mutex": {"name": "m"}}),
        wf([leaf(None)], synchronization={"mutexes": [{"name": "m"}]}),
        [],
    ),
    ("template semaphore", wf([leaf({"semaphore": SEM})]), wf([leaf({"semaphores": [SEM]})]), []),
    (
        "workflow semaphore",
        wf([leaf(None)], synchronization={"semaphore": SEM}),
        wf([leaf(None)], synchronization={"semaphores": [SEM]}),
        [],
    ),
    (
        "mutex beside mutexes",
        wf([leaf({"mutex": {"name": "a"}, "mutexes": [{"name": "b"}]})]),
        wf([leaf({"mutexes": [{"name": "a"}, {"name": "b"}]})]),
        [],
    ),
    (
        "mutex already in mutexes",
        wf([leaf({"mutex": {"name": "a"}, "mutexes": [{"name": "a"}]})]),
        wf([leaf({"mutexes": [{"name": "a"}]})]),
        [],
    ),
    (
        "semaphore and mutex together",
        wf([leaf({"semaphore": SEM, "mutex": {"name": "m"}})]),
        wf([leaf({"semaphores": [SEM], "mutexes": [{"name": "m"}]})]),
        [],
    ),
    (
        "steps inline mutex",
        wf(steps_inline({"mutex": {"name": "m"}})),
        wf(steps_inline({"mutexes": [{"name": "m"}]})),
        [],
    ),
    (
        "dag inline mutex",
        wf(dag_inline({"mutex": {"name": "m"}})),
        wf(dag_inline({"mutexes": [{"name": "m"}]})),
        [],
    ),
    (
        "templateDefaults mutex",
        wf([leaf(None)], templateDefaults={"synchronization": {"mutex": {"name": "m"}}}),
        wf([leaf(None)], templateDefaults={"synchronization": {"mutexes": [{"name": "m"}]}}),
        [],
    ),
    (
        "templateRef to a v3 WorkflowTemplate",
        wf(by_ref()),
        wf(by_ref()),
        [wft("locked", [leaf({"mutex": {"name": "m"}}, "work")])],
    ),
    (
        "workflowTemplateRef to a v3 WorkflowTemplate",
        {**wf([]), "spec": {"workflowTemplateRef": {"name": "whole"}}},
        {**wf([]), "spec": {"workflowTemplateRef": {"name": "whole"}}},
        [wft("whole", [leaf(None)], entrypoint="main", synchronization={"semaphore": SEM})],
    ),
]


def _modern_templates(templates):
    """The referenced templates as a v4 user would write them (the legacy run gets them as written)."""
    from workflow.parse.normalise import normalise_object

    return [normalise_object(t).doc for t in templates]


def _run(workflow, templates, status=None):
    observed = {"config_maps": CONFIG_MAPS}
    if templates:
        observed["templates"] = ListSource(templates)
    world = World(workflow, **observed)
    if status is not None:
        world.workflow["status"] = copy.deepcopy(status)
    trace = []
    held: dict[str, LockObservation] = {}
    for _ in range(20):
        decision = world.step()
        trace.append(decision)
        if world.phase in ("Succeeded", "Failed", "Error"):
            return trace
        for action in decision.actions:
            if isinstance(action, AcquireLock):
                held[action.lock] = LockObservation(action.lock, action.limit, (action.holder,))
            elif isinstance(action, ReleaseLock):
                held.pop(action.lock, None)
        world.extra["locks"] = dict(held)
        world.finish_all()
        world.tick(1)
    raise AssertionError(f"did not complete: {world.phase}")


@pytest.mark.parametrize(("legacy", "modern", "templates"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_legacy_spelling_decides_as_the_modern_one(legacy, modern, templates):
    if templates:
        legacy_trace, modern_trace = _run(legacy, templates), _run(modern, _modern_templates(templates))
    else:
        legacy_trace, modern_trace = _run(legacy, []), _run(modern, [])
    assert legacy_trace == modern_trace
    # The lock is really asked for before any pod exists (the v3 bug: a pod created without the lock).
    first = legacy_trace[0]
    assert any(isinstance(a, AcquireLock) for a in first.actions)
    assert not any(isinstance(a, CreatePod) for a in first.actions)
    assert any(isinstance(a, ReleaseLock) for d in legacy_trace for a in d.actions)
    assert legacy_trace[-1].status["phase"] == "Succeeded"


def test_a_status_stored_by_an_argo_v3_controller_runs_as_a_v4_one():
    """`status.storedTemplates` written with v3's `mutex` (a workflow that started under Argo v3)."""
    templates = [wft("locked", [leaf({"mutexes": [{"name": "m"}]}, "work")])]
    modern = _run(wf(by_ref()), templates)
    stored = modern[0].status
    legacy_status = copy.deepcopy(stored)
    key = "namespaced/locked/work"
    legacy_status["storedTemplates"][key]["synchronization"] = {"mutex": {"name": "m"}}
    # The WorkflowTemplate was edited (lock removed) since: the stored copy is what runs.
    edited = [wft("locked", [leaf(None, "work")])]
    assert _run(wf(by_ref()), edited, legacy_status) == _run(wf(by_ref()), edited, stored)
    assert any(isinstance(a, AcquireLock) for a in modern[0].actions)


@pytest.mark.parametrize(("legacy", "modern", "templates"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lint_warns_where_the_user_wrote_it_and_checks_the_same(legacy, modern, templates):
    source = ListSource(templates)
    old, new = check_object(legacy, source), check_object(modern, ListSource(_modern_templates(templates)))
    assert old.errors == new.errors == []
    assert new.warnings == []
    if templates:  # the v3 spelling is in the referenced object, checked (and warned about) on its own
        assert old.warnings == []
        assert all(
            "removed in Argo v4.0" in w.message for t in templates for w in check_object(t, source).warnings
        )
        assert all(check_object(t, source).warnings for t in templates)
    else:
        assert old.warnings and all("removed in Argo v4.0" in w.message for w in old.warnings)
    assert old.expanded["spec"] == new.expanded["spec"]
    assert old.containers == new.containers


# --- scalars: numbers and booleans given where Argo expects a string (AnyString) --------------------------

SCALARS = [
    # (YAML value, Argo's AnyString text: strconv.FormatFloat(v, 'f', -1, 64) for numbers)
    (3, "3"),
    (1.0, "1"),
    (2.50, "2.5"),
    (True, "true"),
    (1e-7, "0.0000001"),
    (1e21, "1000000000000000000000"),
    (12345678901234567890, "12345678901234567000"),
]


def scalar_workflow(value, default):
    main = {
        "name": "main",
        "inputs": {"parameters": [{"name": "x"}, {"name": "y", "default": default}]},
        "container": {
            "image": "busybox",
            "command": ["echo", "{{inputs.parameters.x}}", "{{inputs.parameters.y}}"],
        },
    }
    return wf([main], name="scalars", arguments={"parameters": [{"name": "x", "value": value}]})


@pytest.mark.parametrize(("value", "text"), SCALARS, ids=[t for _, t in SCALARS])
def test_scalars_are_rendered_as_argo_renders_them(value, text):
    as_number = _run(scalar_workflow(value, value), [])
    as_text = _run(scalar_workflow(text, text), [])
    assert as_number == as_text
    pod = next(a.pod for a in as_number[0].actions if isinstance(a, CreatePod))
    main = next(c for c in pod["spec"]["containers"] if c["name"] == "main")
    assert main["command"][-2:] == [text, text]
