"""workflow/retry_reset.py: which nodes a retry keeps, resets and drops (tables), and the workflow's fields."""

from __future__ import annotations

import pytest

from workflow.retry_reset import SelectorError, matches, parse_selector, reset_for_retry

NOW = "2026-12-06T07:00:00Z"


def node(node_id, kind, phase, *, name=None, children=(), boundary=None, **extra):
    out = {
        "id": node_id,
        "name": name or node_id,
        "displayName": node_id,
        "type": kind,
        "phase": phase,
        "startedAt": "2026-12-06T06:00:00Z",
    }
    if phase not in ("Running", "Pending"):
        out["finishedAt"] = "2026-12-06T06:01:00Z"
    if children:
        out["children"] = list(children)
    if boundary:
        out["boundaryID"] = boundary
    out.update(extra)
    return out


def steps_workflow(
    a_phase="Failed", b_phase="Succeeded", c_phase=None, wf_phase="Failed", exit_handler=False
):
    """wf (Steps) -> [0] (StepGroup) -> a, b (Pods); a -> [1] -> c when c_phase is given (steps' chain)."""
    nodes = {
        "wf": node("wf", "Steps", wf_phase, name="wf", children=["g0"]),
        "g0": node(
            "g0",
            "StepGroup",
            "Failed" if "Failed" in (a_phase, b_phase) else "Succeeded",
            name="wf[0]",
            children=["a", "b"],
            boundary="wf",
        ),
        "a": node(
            "a",
            "Pod",
            a_phase,
            name="wf[0].a",
            boundary="wf",
            templateName="work",
            inputs={"parameters": [{"name": "n", "value": "1"}]},
        ),
        "b": node(
            "b",
            "Pod",
            b_phase,
            name="wf[0].b",
            boundary="wf",
            templateName="other",
            outputs={"parameters": [{"name": "x", "value": "y"}]},
        ),
    }
    if c_phase:
        nodes["a"]["children"] = ["g1"]
        nodes["b"]["children"] = ["g1"]
        nodes["g1"] = node("g1", "StepGroup", c_phase, name="wf[1]", children=["c"], boundary="wf")
        nodes["c"] = node("c", "Pod", c_phase, name="wf[1].c", boundary="wf")
    if exit_handler:
        nodes["exit"] = node("exit", "Pod", "Succeeded", name="wf.onExit")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": "wf",
            "labels": {"workflows.argoproj.io/completed": "true", "workflows.argoproj.io/phase": wf_phase},
        },
        "spec": {"entrypoint": "main", "shutdown": "Stop"},
        "status": {
            "phase": wf_phase,
            "message": "child 'a' failed",
            "startedAt": "2026-12-06T06:00:00Z",
            "finishedAt": "2026-12-06T06:02:00Z",
            "nodes": nodes,
            "conditions": [{"type": "Completed", "status": "True"}],
        },
    }


# (case, workflow, options, kept unchanged, reset to Running, dropped, dropped pods)
CASES = [
    (
        "failed pod dropped, its group and root reset, succeeded sibling kept",
        steps_workflow(),
        {},
        {"b"},
        {"wf", "g0"},
        {"a"},
        ["a"],
    ),
    (
        "failed pod drops what came after it in the steps chain",
        steps_workflow(c_phase="Failed"),
        {},
        {"b"},
        {"wf", "g0"},
        {"a", "g1", "c"},
        ["a", "c"],
    ),
    (
        "Error counts as failed",
        steps_workflow(a_phase="Error", wf_phase="Error"),
        {},
        {"b"},
        {"wf", "g0"},
        {"a"},
        ["a"],
    ),
    (
        "restart-successful without a selector runs everything again",
        steps_workflow(),
        {"restart_successful": True},
        set(),
        {"wf", "g0"},
        {"a", "b"},
        ["a", "b"],
    ),
    (
        "restart-successful with a selector picks the succeeded nodes",
        steps_workflow(),
        {"restart_successful": True, "node_selector": "templateName=other"},
        set(),
        {"wf", "g0"},
        {"a", "b"},
        ["a", "b"],
    ),
    (
        "a selector that matches nothing keeps the succeeded nodes",
        steps_workflow(),
        {"restart_successful": True, "node_selector": "displayName=zzz"},
        {"b"},
        {"wf", "g0"},
        {"a"},
        ["a"],
    ),
    (
        "a selector without restart-successful changes nothing succeeded",
        steps_workflow(),
        {"node_selector": "templateName=other"},
        {"b"},
        {"wf", "g0"},
        {"a"},
        ["a"],
    ),
    (
        "the exit handler runs again",
        steps_workflow(exit_handler=True),
        {},
        {"b"},
        {"wf", "g0"},
        {"a", "exit"},
        ["a", "exit"],
    ),
]


@pytest.mark.parametrize(
    ("case", "wf", "options", "kept", "reset", "dropped", "pods"), CASES, ids=[c[0] for c in CASES]
)
def test_nodes_after_retry(case, wf, options, kept, reset, dropped, pods):
    new, dropped_pods = reset_for_retry(wf, NOW, **options)
    nodes = new["status"]["nodes"]
    assert set(nodes) == set(wf["status"]["nodes"]) - dropped
    assert sorted(dropped_pods) == sorted(pods)
    for node_id in kept:  # unchanged but for links to dropped nodes
        before = dict(wf["status"]["nodes"][node_id])
        before["children"] = [c for c in before.get("children", []) if c not in dropped]
        assert {"children": [], **nodes[node_id]} == before
    for node_id in reset:
        assert nodes[node_id]["phase"] == "Running"
        assert "finishedAt" not in nodes[node_id]
    for n in nodes.values():  # no dangling links to dropped nodes
        assert not set(n.get("children") or ()) & dropped


def test_the_workflow_goes_back_to_running():
    wf = steps_workflow()
    new, _ = reset_for_retry(wf, NOW)
    status = new["status"]
    assert status["phase"] == "Running"
    assert "finishedAt" not in status and "message" not in status and "conditions" not in status
    assert status["startedAt"] == "2026-12-06T06:00:00Z"
    assert "shutdown" not in new["spec"]
    assert new["metadata"]["labels"] == {"workflows.argoproj.io/completed": "false"}
    assert wf["status"]["phase"] == "Failed" and wf["spec"]["shutdown"] == "Stop"  # the input is untouched


@pytest.mark.parametrize("phase", ["Running", "Pending", "Succeeded", None])
def test_only_failed_or_error_workflows_are_retried(phase):
    wf = steps_workflow(wf_phase=phase or "Failed")
    if phase is None:
        del wf["status"]["phase"]
    with pytest.raises(ValueError, match="only a Failed or Error workflow"):
        reset_for_retry(wf, NOW)


def test_a_failed_retry_node_is_reset_and_its_failed_attempts_dropped():
    nodes = {
        "wf": node("wf", "Retry", "Failed", name="wf", children=["t0", "t1"]),
        "t0": node("t0", "Pod", "Failed", name="wf(0)"),
        "t1": node("t1", "Pod", "Failed", name="wf(1)"),
    }
    wf = {"metadata": {"name": "wf"}, "spec": {}, "status": {"phase": "Failed", "nodes": nodes}}
    new, pods = reset_for_retry(wf, NOW)
    assert new["status"]["nodes"]["wf"]["phase"] == "Running"
    assert new["status"]["nodes"]["wf"].get("children") == []
    assert pods == ["t0", "t1"]


def test_a_dag_task_failing_resets_the_dag_but_keeps_succeeded_tasks():
    nodes = {
        "d": node("d", "DAG", "Failed", name="d", children=["x", "y"]),
        "x": node("x", "Pod", "Succeeded", name="d.x", boundary="d", children=["y"]),
        "y": node("y", "Pod", "Failed", name="d.y", boundary="d"),
    }
    wf = {"metadata": {"name": "d"}, "spec": {}, "status": {"phase": "Failed", "nodes": nodes}}
    new, pods = reset_for_retry(wf, NOW)
    assert set(new["status"]["nodes"]) == {"d", "x"}
    assert new["status"]["nodes"]["x"]["phase"] == "Succeeded"
    assert new["status"]["nodes"]["x"].get("children") == []
    assert new["status"]["nodes"]["d"]["phase"] == "Running"
    assert pods == ["y"]


SELECTORS = [
    ("displayName=a", True),
    ("displayName!=a", False),
    ("templateName=work,phase=Failed", True),
    ("templateName=work,phase=Succeeded", False),
    ("inputs.parameters.n.value=1", True),
    ("inputs.parameters.n.value=2", False),
    ("inputs.parameters.missing.value=1", False),
    ("", True),
    ("type=Pod, id=a", True),
]


@pytest.mark.parametrize(("selector", "expected"), SELECTORS)
def test_node_field_selectors(selector, expected):
    a = steps_workflow()["status"]["nodes"]["a"]
    assert matches(a, parse_selector(selector)) is expected


@pytest.mark.parametrize("selector", ["displayName", "=a", "colour=red", "inputs.parameters.n=1"])
def test_bad_selectors_are_refused_naming_the_term(selector):
    with pytest.raises(SelectorError, match="node selector term"):
        parse_selector(selector)


def test_memoized_resubmit_keeps_succeeded_nodes_renamed_for_the_new_workflow():
    from workflow.names import node_id
    from workflow.retry_reset import memoized_nodes

    wf = steps_workflow(c_phase="Failed", exit_handler=True)  # b succeeded; a, g1, c failed
    nodes = wf["status"]["nodes"]
    nodes["a"]["phase"] = "Succeeded"
    out = memoized_nodes(nodes, "wf", "wf-new12", node_id, NOW)
    by_name = {n["name"]: n for n in out.values()}
    # kept: the groups (Running again where failed), both pods of group 0 as Skipped/Succeeded; not c
    assert set(by_name) == {"wf-new12", "wf-new12[0]", "wf-new12[0].a", "wf-new12[0].b", "wf-new12[1]"}
    assert by_name["wf-new12[1]"]["phase"] == "Running" and by_name["wf-new12[1]"].get("children") == []
    for n in out.values():
        assert n["id"] == node_id("wf-new12", n["name"])
    root = by_name["wf-new12"]
    assert root["phase"] == "Running" and root["displayName"] == "wf-new12"
    pod = by_name["wf-new12[0].b"]
    assert (pod["type"], pod["phase"], pod["message"]) == ("Skipped", "Succeeded", "original pod: b")
    assert pod["boundaryID"] == root["id"] and pod["outputs"] == nodes["b"]["outputs"]
    assert pod["children"] == [by_name["wf-new12[1]"]["id"]]
    assert by_name["wf-new12[0]"]["children"] == sorted(
        [by_name["wf-new12[0].a"]["id"], by_name["wf-new12[0].b"]["id"]],
        key=[by_name["wf-new12[0].a"]["id"], by_name["wf-new12[0].b"]["id"]].index,
    )
