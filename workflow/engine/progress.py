"""`progress` ("N/M") of nodes and of the workflow (Argo's progress updater).

Executable nodes (Pod, Container, HTTP, Plugin, Suspend) count 0/1, and 1/1 once Succeeded, unless the
node reported its own N/M while running. Every other node sums the executable nodes reachable through
its children (each counted once); the workflow sums all executable nodes.

"Reachable through children" overlaps a lot (step group i reaches every later group), so the sets are
computed once for all nodes as bitsets (Python ints), bottom-up: linear in nodes and edges instead of a
walk per node. Weights other than x/1 (self-reported progress) fall back to summing the set's members.
"""

from __future__ import annotations

import re
from typing import Any

from workflow.engine.defs import SUCCEEDED
from workflow.engine.state import Operation

EXECUTABLE = frozenset({"Pod", "Container", "HTTP", "Plugin", "Suspend"})
_VALID = re.compile(r"^(\d+)/(\d+)$")


def _parse(text: str | None) -> tuple[int, int] | None:
    match = _VALID.match(text or "")
    if not match:
        return None
    done, total = int(match.group(1)), int(match.group(2))
    return (done, total) if 0 <= done <= total and total > 0 else None


def _own(node: dict[str, Any]) -> tuple[int, int]:
    reported = node.get("progress")
    if node.get("phase") == SUCCEEDED:
        if reported is None or reported == "1/1" or reported == "0/1":
            return (1, 1)
        parsed = _parse(reported)
        return (parsed[1], parsed[1]) if parsed else (1, 1)
    if reported is None or reported == "0/1":
        return (0, 1)
    return _parse(reported) or (0, 1)


def _reach(nodes: dict[str, dict[str, Any]], bit: dict[str, int]) -> dict[str, int]:
    """For every node, the bitset of executable nodes reachable through `children` (not itself)."""
    reach: dict[str, int] = {}
    for start in nodes:
        if start in reach:
            continue
        stack = [(start, False)]
        on_path: set[str] = set()
        while stack:
            node_id, expanded = stack.pop()
            if expanded:
                on_path.discard(node_id)
                total = 0
                for child in nodes[node_id].get("children") or ():
                    if child in nodes:
                        total |= bit.get(child, 0) | reach.get(child, 0)
                reach[node_id] = total
                continue
            if node_id in reach or node_id in on_path:
                continue
            on_path.add(node_id)
            stack.append((node_id, True))
            for child in nodes[node_id].get("children") or ():
                if child in nodes and child not in reach:
                    stack.append((child, False))
    return reach


def update(op: Operation) -> None:
    nodes = op.nodes.map
    own: dict[str, tuple[int, int]] = {}
    bit: dict[str, int] = {}
    members: list[str] = []
    done_mask = 0
    unit = True
    done_all = total_all = 0
    for node_id, node in nodes.items():
        if node.get("type") in EXECUTABLE:
            value = own[node_id] = _own(node)
            done_all += value[0]
            total_all += value[1]
            flag = 1 << len(members)
            bit[node_id] = flag
            members.append(node_id)
            if value[1] != 1:
                unit = False
            elif value[0]:
                done_mask |= flag
            text = "1/1" if value == (1, 1) else "0/1" if value == (0, 1) else f"{value[0]}/{value[1]}"
            if node.get("progress") != text:
                op.nodes.update(node_id, progress=text)
    reach = _reach(nodes, bit)
    for node_id, node in list(nodes.items()):
        if node.get("type") in EXECUTABLE:
            continue
        reached = reach.get(node_id, 0)
        if unit:
            done, total = (reached & done_mask).bit_count(), reached.bit_count()
        else:
            done = total = 0
            index = 0
            while reached:
                if reached & 1:
                    value = own[members[index]]
                    done += value[0]
                    total += value[1]
                reached >>= 1
                index += 1
        shown = f"{done}/{total}" if total else None
        if node.get("progress") != shown:
            op.nodes.update(node_id, progress=shown)
    op.status["progress"] = f"{done_all}/{total_all}"
