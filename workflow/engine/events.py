"""The step's events, emitted from one place: a node's from the phase changes the node store wrote down
(engine/nodes.py `transitions`), once the tree is executed; the workflow's when its phase changes.

Reasons and messages are Argo's: `WorkflowNode<Phase>` with "<Type> node <name> <phase>[: <message>]" and
the node's ID, name and type as annotations; `WorkflowRunning`, `WorkflowSucceeded`, `WorkflowFailed`
(also for Error). `EngineConfig.node_events` / `workflow_events` turn them off.
"""

from __future__ import annotations

from workflow.engine.defs import ERROR, FAILED, FAILED_OR_ERROR, RUNNING, SUCCEEDED
from workflow.engine.model import Event
from workflow.engine.state import Operation


def node_events(op: Operation) -> None:
    """An Event for every phase change of a node in this step, in the order they happened."""
    if not op.config.node_events:
        return
    for change in op.nodes.transitions:
        if not change.phase or change.phase == change.old_phase:
            continue
        message = f"{change.node_type} node {change.name} {change.phase.lower()}"
        if change.message:
            message += f": {change.message}"
        op.act(
            Event(
                type="Warning" if change.phase in FAILED_OR_ERROR else "Normal",
                reason=f"WorkflowNode{change.phase}",
                message=message,
                node_id=change.node_id,
                annotations={
                    "workflows.argoproj.io/node-id": change.node_id,
                    "workflows.argoproj.io/node-name": change.name,
                    "workflows.argoproj.io/node-type": change.node_type,
                },
            )
        )


def workflow_event(op: Operation, phase: str, message: str | None) -> None:
    """The Event of the workflow entering `phase` (Running or a completed phase)."""
    if not op.config.workflow_events or phase not in (RUNNING, SUCCEEDED, FAILED, ERROR):
        return
    op.act(
        Event(
            "Warning" if phase in FAILED_OR_ERROR else "Normal",
            f"Workflow{phase}" if phase != ERROR else "WorkflowFailed",
            message or f"Workflow {phase.lower()}",
        )
    )
