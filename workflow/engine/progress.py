"""`progress` ("N/M") of nodes and of the workflow (argo-anchor.md §2.1, §2.3; Argo's progress updater).

Executable nodes (Pod, Container, HTTP, Plugin, Suspend) count 0/1, and 1/1 once Succeeded, unless the
node reported its own N/M while running. Every other node sums the executable nodes reachable through
its children (each counted once); the workflow sums all executable nodes.
"""

from __future__ import annotations

import re

from workflow.engine.state import SUCCEEDED, Operation

EXECUTABLE = frozenset({"Pod", "Container", "HTTP", "Plugin", "Suspend"})
_VALID = re.compile(r"^(\d+)/(\d+)$")


def _parse(text: str | None) -> tuple[int, int] | None:
    match = _VALID.match(text or "")
    if not match:
        return None
    done, total = int(match.group(1)), int(match.group(2))
    return (done, total) if 0 <= done <= total and total > 0 else None


def _own(node: dict) -> tuple[int, int]:
    reported = node.get("progress")
    if node.get("phase") == SUCCEEDED:
        if reported is None or reported == "1/1" or reported == "0/1":
            return (1, 1)
        parsed = _parse(reported)
        return (parsed[1], parsed[1]) if parsed else (1, 1)
    if reported is None or reported == "0/1":
        return (0, 1)
    return _parse(reported) or (0, 1)


def update(op: Operation) -> None:
    nodes = op.nodes
    own: dict[str, tuple[int, int]] = {}
    done_all = total_all = 0
    others = []
    for node_id, node in nodes.items():
        if node.get("type") in EXECUTABLE:
            value = own[node_id] = _own(node)
            done_all += value[0]
            total_all += value[1]
            text = "1/1" if value == (1, 1) else "0/1" if value == (0, 1) else f"{value[0]}/{value[1]}"
            if node.get("progress") != text:
                op.update(node_id, progress=text)
        else:
            others.append((node_id, node))
    for node_id, node in others:
        done = total = 0
        seen: set[str] = set()
        stack = list(node.get("children") or ())
        pop, push, add = stack.pop, stack.extend, seen.add
        while stack:
            child_id = pop()
            if child_id in seen:
                continue
            add(child_id)
            child = nodes.get(child_id)
            if child is None:
                continue
            value = own.get(child_id)
            if value is not None:
                done += value[0]
                total += value[1]
            kids = child.get("children")
            if kids:
                push(kids)
        text = f"{done}/{total}" if total else None
        if node.get("progress") != text:
            op.update(node_id, progress=text)
    op.status["progress"] = f"{done_all}/{total_all}"
