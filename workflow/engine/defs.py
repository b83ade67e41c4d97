"""What the engine's modules share and import from one leaf: template types, node types, node phases,
the engine's errors, call options.

A leaf (imports nothing of the engine), so steps.py, dag.py, hooks.py and calls.py need no lazy import of
execute.py, and execute.py imports them at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEAF_POD_TYPES = ("container", "script", "resource", "data", "containerSet")
TYPES = (*LEAF_POD_TYPES, "steps", "dag", "suspend", "http", "plugin")
NODE_TYPES = {
    "container": "Pod", "script": "Pod", "resource": "Pod", "data": "Pod", "containerSet": "Pod",
    "steps": "Steps", "dag": "DAG", "suspend": "Suspend", "http": "HTTP", "plugin": "Plugin",
}  # fmt: skip


def template_type(tmpl: dict[str, Any]) -> str | None:
    """The type a template runs as: the first one set, in Argo's order (validation allows only one;
    workflow/merge.py's `template_type` is the validator's, None when several are set)."""
    for kind in TYPES:
        if tmpl.get(kind) is not None:
            return kind
    return None


@dataclass(frozen=True, slots=True)
class Opts:
    """How a node is called: under which boundary, in an exit handler or not, how deep."""

    boundary_id: str = ""
    on_exit: bool = False
    flag: dict[str, bool] | None = None
    depth: int = 0
    # The steps/dag template that called this node (to decide whether stdout is captured as a result).
    parent: dict[str, Any] | None = None
    step_name: str = ""


PENDING, RUNNING, SUCCEEDED, FAILED, ERROR, SKIPPED, OMITTED = (
    "Pending",
    "Running",
    "Succeeded",
    "Failed",
    "Error",
    "Skipped",
    "Omitted",
)
COMPLETED = frozenset({SUCCEEDED, FAILED, ERROR})
FAILED_OR_ERROR = frozenset({FAILED, ERROR})
# The node types that count in progress on their own (engine/progress.py); every other node sums them.
EXECUTABLE = frozenset({"Pod", "Container", "HTTP", "Plugin", "Suspend"})


def fulfilled(node: dict[str, Any] | None) -> bool:
    """Argo's `Fulfilled`: completed with its task result in, or Skipped/Omitted, or a ready daemon."""
    if node is None:
        return False
    phase = node.get("phase")
    if phase in COMPLETED:
        return node.get("taskResultSynced") is not False
    if phase in (SKIPPED, OMITTED):
        return True
    return bool(node.get("daemoned")) and phase != PENDING


def completed(node: dict[str, Any] | None) -> bool:
    return node is not None and node.get("phase") in COMPLETED


class EngineError(Exception):
    """A problem that makes a node Error (message shown on the node); never escapes `step`."""


class ParallelismReached(Exception):
    """Not an error: a limit says wait; the node is simply not started in this step."""
