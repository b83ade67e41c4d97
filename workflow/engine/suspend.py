"""Suspend nodes and resume/stop requests (`suspend` templates, `argo resume` / `argo stop`).

A Suspend node goes Pending → Running (actively suspended) and ends Succeeded when resumed (by an
observed ResumeRequest) or when its `duration` has passed since it started; a stop request fails it.
Outputs with `valueFrom.supplied` take the values given with the resume; on an automatic resume, or
when none is given, `valueFrom.default` is used.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from workflow.engine import clock
from workflow.engine.defs import FAILED, PENDING, RUNNING, SUCCEEDED, Opts, fulfilled
from workflow.engine.scope import text
from workflow.engine.state import Operation

if TYPE_CHECKING:  # execute.py imports this module; the engine is only a type here
    from workflow.engine.execute import Engine


def raw_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(outputs)


def supplied_outputs(outputs: dict[str, Any] | None, supplied: dict[str, str]) -> dict[str, Any] | None:
    """A resumed Suspend node's outputs: each parameter takes its supplied value, else its
    `valueFrom.default`. The engine's resume and the CLI's resume of a cluster workflow
    (sluice/commands/control.py) both use it."""
    if not outputs or not outputs.get("parameters"):
        return outputs
    outputs = dict(outputs)
    params = []
    for param in outputs["parameters"]:
        param = dict(param)
        name = param.get("name")
        default = (param.get("valueFrom") or {}).get("default")
        if name in supplied:
            param["value"] = supplied[name]
        elif param.get("value") is None and default is not None:
            param["value"] = text(default)
        params.append(param)
    outputs["parameters"] = params
    return outputs


def execute_suspend(eng: Engine, node: dict[str, Any], tmpl: dict[str, Any], opts: Opts) -> dict[str, Any]:
    op = eng.op
    if fulfilled(node):
        return node
    duration = (tmpl.get("suspend") or {}).get("duration")
    if duration not in (None, ""):
        seconds = clock.parse_duration(duration)
        started = clock.parse_stamp(node.get("startedAt")) or op.now
        if seconds is not None:
            deadline = clock.add_seconds(started, seconds)
            if op.now >= deadline:
                op.nodes.update(node["id"], outputs=supplied_outputs(node.get("outputs"), {}))
                return op.nodes.mark(node["id"], SUCCEEDED)
            op.wake(deadline)
    if node.get("phase") == PENDING:
        node = op.nodes.mark(node["id"], RUNNING)
    return node


def _matches(node: dict[str, Any], selector: str | None) -> bool:
    if selector is None:
        return True
    return selector in (node["id"], node["name"], node.get("displayName"))


def apply_requests(op: Operation) -> bool:
    """Apply observed resume/stop requests to active suspend nodes; True if one applied to all nodes."""
    resume_all = False
    requests = op.observed.resume
    if not requests:
        return False
    for request in requests:
        if request.node is None and request.action == "resume":
            resume_all = True
        for node in list(op.nodes.values()):
            if node.get("type") != "Suspend" or node.get("phase") not in (PENDING, RUNNING):
                continue
            if not _matches(node, request.node):
                continue
            if request.action == "stop":
                op.nodes.mark(node["id"], FAILED, request.message or "Stopped")
                continue
            op.nodes.update(
                node["id"], outputs=supplied_outputs(node.get("outputs"), dict(request.parameters))
            )
            op.nodes.mark(node["id"], SUCCEEDED, request.message or None)
    return resume_all
