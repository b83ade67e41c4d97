"""Retrying a finished workflow: which nodes are kept, reset or dropped (`argo retry`).

Pure (the time is passed in): `reset_for_retry(workflow, now, ...)` returns the workflow to send back and
the IDs of the dropped pod nodes, whose pods the caller deletes (sluice/commands/retry.py).

As Argo's `retry`:
- only a Failed or Error workflow is retried;
- a failed (Failed/Error/Omitted) node that runs something (Pod, Suspend, HTTP, Plugin, Skipped, ...)
  is dropped with everything below it, so the controller runs it again; a failed group node (Steps,
  DAG, StepGroup, TaskGroup, Retry) is reset to Running and kept, with its failed members dropped;
- with `restart_successful`, Succeeded nodes matched by `node_selector` are dropped too;
- every ancestor of a dropped node is reset to Running; the exit handler (`<name>.onExit`) and its
  nodes are dropped so it runs again;
- the workflow goes back to Running: message, finishedAt, `spec.shutdown` and the completed label
  cleared.

Node selectors are Argo's `--node-field-selector`: comma-separated `FIELD=VALUE` / `FIELD!=VALUE` terms,
all of which must hold, on `id`, `name`, `displayName`, `templateName`, `phase`, `type`,
`templateRef.name`, `templateRef.template` and `inputs.parameters.NAME.value`.
"""

from __future__ import annotations

import copy
from typing import Any

from workflow.labels import LABEL_COMPLETED

GROUP_TYPES = ("Steps", "DAG", "StepGroup", "TaskGroup", "Retry")
FAILED_PHASES = ("Failed", "Error", "Omitted")
_FIELDS = ("id", "name", "displayName", "templateName", "phase", "type", "boundaryID", "podName")


class SelectorError(ValueError):
    """A node selector that cannot be parsed (the message names the term)."""


def parse_selector(text: str | None) -> list[tuple[str, bool, str]]:
    """'phase=Failed,templateName!=x' -> [(field, equal, value)]; SelectorError on a bad term."""
    terms: list[tuple[str, bool, str]] = []
    for raw in (text or "").split(","):
        term = raw.strip()
        if not term:
            continue
        equal = "!=" not in term
        field, sep, value = term.partition("=" if equal else "!=")
        field = field.strip()
        if not sep or not field:
            raise SelectorError(f"node selector term {term!r}: expected FIELD=VALUE or FIELD!=VALUE")
        if not _known_field(field):
            raise SelectorError(f"node selector term {term!r}: unknown field {field!r}")
        terms.append((field, equal, value.strip()))
    return terms


def _known_field(field: str) -> bool:
    if field in _FIELDS or field in ("templateRef.name", "templateRef.template"):
        return True
    parts = field.split(".")
    return len(parts) == 4 and parts[:2] == ["inputs", "parameters"] and parts[3] == "value"


def _field_value(node: dict[str, Any], field: str) -> str | None:
    if field.startswith("templateRef."):
        return (node.get("templateRef") or {}).get(field.split(".", 1)[1])
    if field.startswith("inputs.parameters."):
        wanted = field.split(".")[2]
        for param in (node.get("inputs") or {}).get("parameters") or ():
            if param.get("name") == wanted:
                value = param.get("value")
                return None if value is None else str(value)
        return None
    value = node.get(field)
    return None if value is None else str(value)


def matches(node: dict[str, Any], terms: list[tuple[str, bool, str]]) -> bool:
    return all((_field_value(node, f) == v) == equal for f, equal, v in terms)


def _descendants(nodes: dict[str, Any], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        stack.extend(nodes[current].get("children") or ())
    return seen


def _parents(nodes: dict[str, Any]) -> dict[str, set[str]]:
    """Each node's enclosing group nodes. Only groups count: in steps, a pod's `children` name the next
    step group, and a finished pod must never be reset to Running."""
    parents: dict[str, set[str]] = {}
    for node_id, node in nodes.items():
        if node.get("type") in GROUP_TYPES:
            for child in node.get("children") or ():
                parents.setdefault(child, set()).add(node_id)
        boundary = node.get("boundaryID")
        if boundary and boundary in nodes:
            parents.setdefault(node_id, set()).add(boundary)
    return parents


def reset_for_retry(
    workflow: dict[str, Any],
    now: str,
    *,
    restart_successful: bool = False,
    node_selector: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """(the workflow to write back, IDs of dropped nodes of type Pod); ValueError if it cannot be retried."""
    phase = (workflow.get("status") or {}).get("phase")
    if phase not in ("Failed", "Error"):
        raise ValueError(
            f"workflow {workflow.get('metadata', {}).get('name')!r} is {phase or 'Pending'}: "
            "only a Failed or Error workflow can be retried"
        )
    terms = parse_selector(node_selector)
    wf = copy.deepcopy(workflow)
    status = wf["status"]
    nodes: dict[str, Any] = status.get("nodes") or {}
    name = wf.get("metadata", {}).get("name", "")

    dropped: set[str] = set()
    reset: set[str] = set()
    exit_root = next((i for i, n in nodes.items() if n.get("name") == f"{name}.onExit"), None)
    if exit_root is not None:
        dropped |= _descendants(nodes, exit_root)
    for node_id, node in nodes.items():
        if node_id in dropped:
            continue
        node_phase = node.get("phase")
        again = node_phase in FAILED_PHASES or (
            restart_successful and node_phase == "Succeeded" and matches(node, terms)
        )
        if again:
            if node.get("type") in GROUP_TYPES:
                reset.add(node_id)
            else:
                dropped |= _descendants(nodes, node_id)
    # every ancestor of a dropped or reset node runs again
    parents = _parents(nodes)
    stack = list(dropped | reset)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in dropped and parent not in reset:
                reset.add(parent)
                stack.append(parent)
    reset -= dropped

    pods = sorted(i for i in dropped if nodes[i].get("type") == "Pod")
    for node_id in dropped:
        del nodes[node_id]
    for node_id, node in nodes.items():
        if node.get("children"):
            node["children"] = [c for c in node["children"] if c not in dropped]
        if node.get("outboundNodes"):
            node["outboundNodes"] = [c for c in node["outboundNodes"] if c not in dropped]
        if node_id in reset:
            node["phase"] = "Running"
            for key in ("finishedAt", "message", "outputs"):
                node.pop(key, None)
    status["phase"] = "Running"
    status["startedAt"] = status.get("startedAt") or now
    for key in ("finishedAt", "message", "outputs"):
        status.pop(key, None)
    status["conditions"] = [c for c in status.get("conditions") or () if c.get("type") != "Completed"]
    if not status["conditions"]:
        del status["conditions"]
    spec = wf.get("spec") or {}
    spec.pop("shutdown", None)
    labels = wf.get("metadata", {}).get("labels") or {}
    if LABEL_COMPLETED in labels:
        labels[LABEL_COMPLETED] = "false"
    labels.pop("workflows.argoproj.io/phase", None)
    return wf, pods


def memoized_nodes(
    nodes: dict[str, Any], old_name: str, new_name: str, node_id: Any, now: str
) -> dict[str, Any]:
    """The nodes a `resubmit --memoized` workflow starts with (Argo's rules), renamed for `new_name`.

    Succeeded and Skipped nodes are kept (a pod node becomes a Succeeded `Skipped` node saying which pod
    ran it, so nothing runs again); failed group nodes (Steps, DAG, StepGroup, TaskGroup) are kept as
    Running; every other failed node, and the exit handler, is left out so it runs again. `node_id` is
    workflow/names.py's node_id(workflow name, node name), passed in to keep this module free of it.
    """
    exit_prefix = f"{old_name}.onExit"

    def renamed(name: str) -> str:
        return new_name + name[len(old_name) :] if name.startswith(old_name) else name

    ids = {old_id: node_id(new_name, renamed(n["name"])) for old_id, n in nodes.items()}
    out: dict[str, Any] = {}
    for old_id, node in nodes.items():
        if node.get("name", "").startswith(exit_prefix):
            continue
        phase = node.get("phase")
        new = copy.deepcopy(node)
        if phase in ("Succeeded", "Skipped"):
            if new.get("type") == "Pod":
                new["type"], new["message"] = "Skipped", f"original pod: {old_id}"
                new["phase"] = "Succeeded"
        elif phase in FAILED_PHASES and new.get("type") in GROUP_TYPES and new.get("type") != "Retry":
            new["phase"] = "Running"
            for key in ("finishedAt", "message", "outputs"):
                new.pop(key, None)
        elif phase in FAILED_PHASES:
            continue
        new["name"] = renamed(node["name"])
        new["id"] = ids[old_id]
        if node.get("displayName") == old_name:
            new["displayName"] = new_name
        for key in ("boundaryID",):
            if new.get(key) in ids:
                new[key] = ids[new[key]]
        for key in ("children", "outboundNodes"):
            if new.get(key):
                new[key] = [ids[c] for c in new[key] if c in ids]
        new.setdefault("startedAt", now)
        out[new["id"]] = new
    for new in out.values():  # links to nodes left out
        for key in ("children", "outboundNodes"):
            if new.get(key):
                new[key] = [c for c in new[key] if c in out]
    return out
