"""Issue 14: what `sluice run` prints reads as a person thinks: a failure names its step and template,
the cause comes before its effect, node IDs become step names, and a waiting suspend says how to resume."""

from __future__ import annotations

import io

from sluice.runner.display import Display, failed_steps, readable, render_tree


def workflow(
    step_phase: str, root_phase: str, step_type: str = "Pod", message: str = "main: Error (exit code 3)"
):
    return {
        "metadata": {"name": "fails-x"},
        "status": {
            "phase": root_phase,
            "message": "child 'fails-x-2869380869' failed" if root_phase == "Failed" else "",
            "nodes": {
                "fails-x": {
                    "id": "fails-x",
                    "name": "fails-x",
                    "displayName": "fails-x",
                    "type": "Steps",
                    "phase": root_phase,
                    "templateName": "main",
                    "startedAt": "2026-12-06T00:00:00Z",
                    "message": "child 'fails-x-2869380869' failed" if root_phase == "Failed" else "",
                },
                "fails-x-2869380869": {
                    "id": "fails-x-2869380869",
                    "name": "fails-x[0].print",
                    "displayName": "print",
                    "type": step_type,
                    "phase": step_phase,
                    "templateName": "say",
                    "boundaryID": "fails-x",
                    "startedAt": "2026-12-06T00:00:01Z",
                    "message": message if step_phase == "Failed" else "",
                },
            },
        },
    }


def test_the_failure_names_the_step_and_its_template_not_a_node_id():
    wf = workflow("Failed", "Failed")
    assert failed_steps(wf) == ["failed: print (template say): main: Error (exit code 3)"]
    assert readable(wf["status"]["message"], wf) == "child 'print' failed"
    assert readable("child 'unknown-123' failed", wf) == "child 'unknown-123' failed"


def test_plain_output_prints_the_cause_before_its_effect():
    out = io.StringIO()
    display = Display(out=out, live=False)
    display.update(workflow("Running", "Running"))
    display.update(workflow("Failed", "Failed"))
    display.finish(workflow("Failed", "Failed"))
    lines = [line[9:] for line in out.getvalue().splitlines()[:4]]  # without the time stamp
    assert lines == [
        "Running   fails-x",
        "Running   print",
        "Failed    print  main: Error (exit code 3)",
        "Failed    fails-x  child 'print' failed",
    ]
    assert out.getvalue().splitlines()[-2:] == [
        "failed: print (template say): main: Error (exit code 3)",
        "workflow fails-x Failed: child 'print' failed",
    ]


def test_a_waiting_suspend_says_how_to_resume():
    wf = workflow("Running", "Running", step_type="Suspend")
    out = io.StringIO()
    Display(out=out, live=False).update(wf)
    assert out.getvalue().splitlines()[-1].endswith("Running   print  (resume with: sluice resume fails-x)")
    assert render_tree(wf, 0.0, False)[-1] == "Waiting to be resumed: sluice resume fails-x"
    assert "Waiting" not in "\n".join(render_tree(workflow("Succeeded", "Succeeded"), 0.0, False))
