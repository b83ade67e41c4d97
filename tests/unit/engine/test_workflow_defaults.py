"""The controller's `workflowDefaults` joined at run time (workflow/engine/templates.py execution_spec):
Workflow > WorkflowTemplate > defaults, as Argo's JoinWorkflowSpec; maps merge key by key, and the
joined spec of a workflowTemplateRef is stored with the defaults in it. Read from the pod the engine asks
for, so the table checks what runs, not an intermediate."""

from __future__ import annotations

import copy

import pytest
from engine_world import World

from workflow.engine import EngineConfig
from workflow.engine.defs import EngineError
from workflow.engine.templates import run_spec
from workflow.resolve.sources import ListSource

SAY = {"name": "say", "container": {"image": "busybox", "command": ["echo", "{{workflow.parameters.msg}}"]}}


def template(spec: dict) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "lib", "namespace": "default"},
        "spec": {"entrypoint": "say", "templates": [SAY], **spec},
    }


def msg(value: str) -> dict:
    return {"arguments": {"parameters": [{"name": "msg", "value": value}]}}


def run(defaults: dict | None, template_spec: dict | None, wf_spec: dict) -> tuple[dict, World]:
    if template_spec is None:
        spec = {"entrypoint": "say", "templates": [SAY], **wf_spec}
        source = ListSource([])
    else:
        spec = {"workflowTemplateRef": {"name": "lib"}, **wf_spec}
        source = ListSource([template(template_spec)])
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}, "spec": spec}
    world = World(wf, templates=source, config=EngineConfig(workflow_defaults=copy.deepcopy(defaults)))
    world.step()
    pods = list(world.pod_specs.values())
    assert len(pods) == 1, world.status.get("message")
    return pods[0], world


def main_args(pod: dict) -> list[str]:
    return next(c for c in pod["spec"]["containers"] if c["name"] == "main")["command"]


D = {"serviceAccountName": "sa-default", "nodeSelector": {"a": "d", "b": "d"}, **msg("from-defaults")}
T = {"serviceAccountName": "sa-template", "nodeSelector": {"b": "t", "c": "t"}, **msg("from-template")}
W = {"serviceAccountName": "sa-workflow", "nodeSelector": {"c": "w"}, **msg("from-workflow")}

# (id, defaults, template spec (None: no workflowTemplateRef), workflow spec, service account,
#  nodeSelector, the parameter's value)
CASES = [
    ("defaults-only", D, None, {}, "sa-default", {"a": "d", "b": "d"}, "from-defaults"),
    ("workflow-over-defaults", D, None, W, "sa-workflow", {"a": "d", "b": "d", "c": "w"}, "from-workflow"),
    ("template-over-defaults", D, T, {}, "sa-template", {"a": "d", "b": "t", "c": "t"}, "from-template"),
    ("all-three", D, T, W, "sa-workflow", {"a": "d", "b": "t", "c": "w"}, "from-workflow"),
    ("defaults-fill-what-template-lacks", D, {"nodeSelector": {"c": "t"}, **msg("from-template")}, {},
     "sa-default", {"a": "d", "b": "d", "c": "t"}, "from-template"),
    ("no-defaults", None, T, {}, "sa-template", {"b": "t", "c": "t"}, "from-template"),
]  # fmt: skip


@pytest.mark.parametrize(("defaults", "tspec", "wspec", "sa", "selector", "value"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_precedence_workflow_over_template_over_defaults(defaults, tspec, wspec, sa, selector, value):
    pod, _ = run(defaults, tspec, wspec)
    assert pod["spec"]["serviceAccountName"] == sa
    assert pod["spec"]["nodeSelector"] == selector
    assert main_args(pod)[-1] == value


def test_the_stored_spec_holds_the_defaults_and_later_config_changes_do_not_move_it():
    _, world = run({"activeDeadlineSeconds": 300, "podGC": {"strategy": "OnPodSuccess"}}, T, {})
    stored = world.status["storedWorkflowTemplateSpec"]
    assert stored["activeDeadlineSeconds"] == 300 and stored["podGC"] == {"strategy": "OnPodSuccess"}
    assert stored["serviceAccountName"] == "sa-template"
    world.extra["config"] = EngineConfig(workflow_defaults={"activeDeadlineSeconds": 5})
    world.step()
    assert world.status["storedWorkflowTemplateSpec"]["activeDeadlineSeconds"] == 300


def test_a_shutdown_patched_onto_a_template_ref_workflow_stops_it():
    """The live spec's shutdown reaches a run whose spec is stored (Argo copies it over each time)."""
    wf = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"}}
    wf["spec"] = {"workflowTemplateRef": {"name": "lib"}}
    world = World(wf, templates=ListSource([template({"templates": [{"name": "say", "suspend": {}}]})]))
    world.step()
    assert world.phase == "Running" and "storedWorkflowTemplateSpec" in world.status
    world.workflow["spec"]["shutdown"] = "Stop"
    world.run()
    assert world.phase == "Failed"
    assert "Stop" in world.status["message"]


def test_run_spec_is_the_join_a_driver_reads_before_the_first_step():
    """What the controller reads before any step stored the join (an artifactRepositoryRef in the
    WorkflowTemplate): the same three-way join execution_spec stores."""
    wft = template({"artifactRepositoryRef": {"configMap": "repos", "key": "team"}, **T})
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "w", "namespace": "default"},
    }
    wf["spec"] = {"workflowTemplateRef": {"name": "lib"}, "serviceAccountName": "sa-workflow"}
    joined = run_spec(
        wf, ListSource([wft]), {"activeDeadlineSeconds": 60, "serviceAccountName": "sa-default"}
    )
    assert joined["artifactRepositoryRef"] == {"configMap": "repos", "key": "team"}
    assert (joined["serviceAccountName"], joined["activeDeadlineSeconds"]) == ("sa-workflow", 60)
    world = World(
        wf, templates=ListSource([wft]), config=EngineConfig(workflow_defaults={"activeDeadlineSeconds": 60})
    )
    world.step()
    assert (
        world.status["storedWorkflowTemplateSpec"]["artifactRepositoryRef"] == joined["artifactRepositoryRef"]
    )
    with pytest.raises(EngineError, match='WorkflowTemplate "lib" not found'):
        run_spec(wf, ListSource([]), None)
