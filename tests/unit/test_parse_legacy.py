"""Argo v3 fields removed in v4.0 are accepted with a warning (with its path) and converted."""

from __future__ import annotations

from workflow.parse import parse_object, to_dict

SEMAPHORE = {"configMapKeyRef": {"name": "locks", "key": "workflow"}}


def cron(**spec):
    body = {"workflowSpec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]}}
    body.update(spec)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "c"},
        "spec": body,
    }


def workflow(spec):
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": spec}


def paths(problems):
    return [p.field for p in problems]


def test_cron_schedule_becomes_schedules_with_a_warning():
    parsed = parse_object(cron(schedule="*/5 * * * *"))
    assert parsed.errors == []
    assert paths(parsed.warnings) == ["spec.schedule"]
    assert "schedules" in parsed.warnings[0].message
    assert parsed.obj.spec.schedules == ["*/5 * * * *"]
    assert parsed.obj.spec.schedule is None
    assert "schedule" not in to_dict(parsed.obj)["spec"]


def test_cron_schedule_joins_existing_schedules_once():
    parsed = parse_object(cron(schedule="0 1 * * *", schedules=["0 2 * * *"]))
    assert parsed.obj.spec.schedules == ["0 1 * * *", "0 2 * * *"]
    parsed = parse_object(cron(schedule="0 2 * * *", schedules=["0 2 * * *"]))
    assert parsed.obj.spec.schedules == ["0 2 * * *"]


def test_singular_semaphore_and_mutex_move_into_the_lists_everywhere():
    inline = {"name": "i", "suspend": {}, "synchronization": {"mutex": {"name": "inner"}}}
    spec = {
        "entrypoint": "main",
        "synchronization": {"semaphore": SEMAPHORE},
        "templates": [
            {
                "name": "main",
                "synchronization": {"mutex": {"name": "m"}, "mutexes": [{"name": "n"}]},
                "steps": [[{"name": "a", "inline": inline}]],
            },
            {"name": "d", "dag": {"tasks": [{"name": "t", "inline": inline}]}},
        ],
        "templateDefaults": {"synchronization": {"semaphore": SEMAPHORE}},
    }
    parsed = parse_object(workflow(spec))
    assert parsed.errors == []
    assert paths(parsed.warnings) == [
        "spec.synchronization.semaphore",
        "spec.templates[0].synchronization.mutex",
        "spec.templates[0].steps[0][0].inline.synchronization.mutex",
        "spec.templates[1].dag.tasks[0].inline.synchronization.mutex",
        "spec.templateDefaults.synchronization.semaphore",
    ]
    out = to_dict(parsed.obj)["spec"]
    assert out["synchronization"] == {"semaphores": [SEMAPHORE]}
    assert out["templates"][0]["synchronization"] == {"mutexes": [{"name": "m"}, {"name": "n"}]}
    assert out["templates"][0]["steps"][0][0]["inline"]["synchronization"] == {"mutexes": [{"name": "inner"}]}


def test_pod_priority_is_accepted_with_a_warning_and_kept():
    parsed = parse_object(
        workflow(
            {"entrypoint": "m", "podPriority": 5, "templates": [{"name": "m", "priority": 1, "suspend": {}}]}
        )
    )
    assert parsed.errors == []
    assert paths(parsed.warnings) == ["spec.podPriority", "spec.templates[0].priority"]
    assert parsed.obj.spec.pod_priority == 5


def test_cron_inner_workflow_spec_is_upgraded_too():
    doc = cron(schedules=["* * * * *"])
    doc["spec"]["workflowSpec"]["synchronization"] = {"mutex": {"name": "m"}}
    parsed = parse_object(doc)
    assert paths(parsed.warnings) == ["spec.workflowSpec.synchronization.mutex"]
    assert parsed.obj.spec.workflow_spec.synchronization.mutexes[0].name == "m"


def test_legacy_warnings_are_still_reported_when_the_document_has_errors():
    doc = cron(schedule="* * * * *", suspend="no")
    parsed = parse_object(doc)
    assert [str(p) for p in parsed.errors] == ['spec.suspend: expected a boolean, got "no"']
    assert paths(parsed.warnings) == ["spec.schedule"]
    assert parsed.obj is None


def test_a_modern_document_has_no_warnings():
    parsed = parse_object(cron(schedules=["* * * * *"]))
    assert parsed.warnings == [] and parsed.errors == []


def test_warnings_are_not_doubled_when_numbers_take_the_slow_path():
    doc = cron(schedule="* * * * *")
    doc["spec"]["workflowSpec"]["arguments"] = {"parameters": [{"name": "n", "value": 3}]}
    parsed = parse_object(doc)
    assert parsed.errors == []
    assert paths(parsed.warnings) == ["spec.schedule"]
    assert parsed.obj.spec.workflow_spec.arguments.parameters[0].value == "3"
