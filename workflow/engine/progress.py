"""`progress` ("N/M") of nodes and of the workflow (Argo's progress updater).

Executable nodes (Pod, Container, HTTP, Plugin, Suspend) count 0/1, and 1/1 once Succeeded, unless the
node reported its own N/M while running. Every other node sums the executable nodes reachable through
its children (each counted once); the workflow sums all executable nodes.

"Reachable through children" overlaps a lot (step group i reaches every later group), so the sets are
computed once for all nodes as bitsets (Python ints), bottom-up: linear in nodes and edges instead of a
walk per node. Weights other than x/1 (self-reported progress) fall back to summing the set's members.

A step usually changes a few nodes of thousands, so `update` starts from the progress the last step
stored and adds what changed (`_delta`): each executable node whose own N/M changed (or that is new) adds
the difference to every node that reaches it now. That holds when this step only added nodes and appended
children that are new nodes (then nothing old reaches anything new except through a new edge, and what an
old node reached before it still reaches), and when the stored numbers are the engine's own: the
workflow's must read the executable nodes the step starts with (Succeeded / all), which a status changed
outside the engine fails (`argo retry` drops pods and keeps every number); otherwise (that, a node
reporting its own N/M, a child list rewritten, a node that existed before made a child, a node's type
changed, a cycle, no stored progress) the sets are computed in full. `full` is that computation,
which the tests compare the stored progress with (tests/unit/engine/test_progress.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from itertools import chain, repeat
from typing import Any

from workflow.engine.defs import EXECUTABLE, SUCCEEDED
from workflow.engine.nodes import NodeStore
from workflow.engine.state import Operation

_VALID = re.compile(r"^(\d+)/(\d+)$")
# How many passes over the graph the walks up from changed nodes may cost before `_sums` does one pass
# over their ancestors instead (0: always that pass; the tests run both).
WALK_BUDGET = 2


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


class _Cycle(Exception):
    """A cycle through `children` where the caller needs exact reach sets (`_reach` with `exact`)."""


def _reach(
    nodes: dict[str, dict[str, Any]],
    bit: dict[str, int],
    within: Collection[str] | None = None,
    exact: bool = False,
) -> dict[str, int]:
    """For every node of `within` (default: every node), the bitset of the nodes in `bit` reachable
    through `children` (not itself). Only nodes of `within` are walked: a child outside it adds its own
    bit alone. On a cycle a node misses what it reaches only through the node it came from, unless
    `exact`: then _Cycle is raised."""
    inside = nodes if within is None else within
    reach: dict[str, int] = {}
    for start in inside:
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
                    if child in inside:
                        total |= bit.get(child, 0) | reach.get(child, 0)
                    elif child in bit:
                        total |= bit[child]
                reach[node_id] = total
                continue
            if node_id in reach:
                continue
            if node_id in on_path:
                if exact:
                    raise _Cycle(node_id)
                continue
            on_path.add(node_id)
            stack.append((node_id, True))
            for child in nodes[node_id].get("children") or ():
                if child in inside and child not in reach:
                    stack.append((child, False))
    return reach


def _text(value: tuple[int, int]) -> str:
    return "1/1" if value == (1, 1) else "0/1" if value == (0, 1) else f"{value[0]}/{value[1]}"


def full(nodes: dict[str, dict[str, Any]]) -> tuple[dict[str, str | None], str]:
    """Every node's progress computed from scratch (None: the node shows none), and the workflow's."""
    own: dict[str, tuple[int, int]] = {}
    bit: dict[str, int] = {}
    members: list[str] = []
    shown: dict[str, str | None] = {}
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
            shown[node_id] = _text(value)
    reach = _reach(nodes, bit)
    for node_id, node in nodes.items():
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
        shown[node_id] = f"{done}/{total}" if total else None
    return shown, f"{done_all}/{total_all}"


def update(op: Operation) -> None:
    """Set every node's progress and the workflow's: from the last step's by what changed, else in full."""
    if _delta(op):
        return
    shown, overall = full(op.nodes.map)
    nodes = op.nodes.map
    for node_id, text in shown.items():
        if nodes[node_id].get("progress") != text:
            op.nodes.update(node_id, progress=text)
    op.status["progress"] = overall


def _pair(text: Any) -> tuple[int, int] | None:
    """A stored "N/M" (None reads 0/0: a node that reaches no executable node shows none)."""
    if text is None:
        return (0, 0)
    match = _VALID.match(text) if isinstance(text, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _delta(op: Operation) -> bool:
    """The progress of this step from the last step's and this step's changes; False (nothing written)
    when the changes are not of the kind this can follow (see the module docstring)."""
    store = op.nodes
    nodes, old_nodes = store.map, store.old
    base = _pair((op.workflow.get("status") or {}).get("progress"))
    if base is None or base != (store.old_succeeded, store.old_executables) or base == (0, 0):
        # no stored progress, a node reporting its own N/M, or a status changed outside the engine
        # (`argo retry` drops pods and keeps the numbers): the numbers cannot be trusted
        return False
    # (the store never removes a node: the old ones are all there); the nodes that only got a first child,
    # a new node, need no look: 10,000 pods when the next group hangs under them
    written = store.written - store.hung if store.hung else store.written
    deltas: dict[str, tuple[int, int]] = {}
    own_texts: list[tuple[str, str]] = []
    for node_id in written:
        node = nodes[node_id]
        old = old_nodes.get(node_id)
        children = node.get("children")
        if old is None:
            if children and any(child in old_nodes for child in children):
                return False
        else:
            before = old.get("children")
            if children is not before:
                count = len(before) if before else 0
                if count and (not children or len(children) < count or children[:count] != before):
                    return False
                for child in children[count:] if children else ():
                    if child in old_nodes:
                        return False
            if (
                node.get("phase") == old.get("phase")
                and node.get("progress") == old.get("progress")
                and node.get("type") == old.get("type")
            ):
                continue  # its own N/M is what it was (children hung under a pod, outputs, ...)
            if old.get("type") != node.get("type"):
                return False
        if node.get("type") in EXECUTABLE:
            value = _own(node)
            text = _text(value)
            if node.get("progress") != text:
                own_texts.append((node_id, text))
            was = _own(old) if old is not None else (0, 0)
            if value != was:
                deltas[node_id] = (value[0] - was[0], value[1] - was[1])
    sums = _sums(store, deltas)
    if sums is None:
        return False
    updates: list[tuple[str, str | None]] = list(own_texts)
    for node_id, (done, total) in sums.items():
        old = old_nodes.get(node_id)
        before = _pair(old.get("progress")) if old is not None else (0, 0)
        if before is None:
            return False
        done += before[0]
        total += before[1]
        shown = f"{done}/{total}" if total else None
        if nodes[node_id].get("progress") != shown:
            updates.append((node_id, shown))
    for node_id, written_text in updates:
        store.update(node_id, progress=written_text)
    done_all = base[0] + sum(d[0] for d in deltas.values())
    total_all = base[1] + sum(d[1] for d in deltas.values())
    op.status["progress"] = f"{done_all}/{total_all}"
    return True


def _parents(store: NodeStore) -> tuple[dict[str, list[str]], set[str]]:
    """(each node's parents, the non-executable nodes that have children: the only ones whose progress
    is a sum). The nodes `hung` under a new node are not read one by one: their one child is known."""
    nodes, hung = store.map, store.hung
    parents: dict[str, list[str]] = {}
    sums_of: set[str] = set()
    for node_id in nodes.keys() - hung if hung else nodes:
        node = nodes[node_id]
        children = node.get("children")
        if children:
            if node.get("type") not in EXECUTABLE:
                sums_of.add(node_id)
            for child in children:
                found = parents.get(child)
                if found is None:
                    parents[child] = [node_id]
                else:
                    found.append(node_id)
    for child, under in store.hung_under.items():
        parents.setdefault(child, []).extend(under & hung)
    return parents, sums_of


def _sums(store: NodeStore, deltas: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]] | None:
    """For every non-executable node that reaches a changed executable node: the sum of their changes
    (each counted once however many paths lead to it). None on a cycle through a changed node.

    The ancestors are walked up from each set of parents once, a level at a time (the 10,000 copies of a
    loop share one parent; a group hung under 10,000 pods is one node, whose parents' parents are one
    lookup each, done in C); when those walks would cost more than a pass over the graph, the sums come
    from one pass restricted to the changed nodes' ancestors instead."""
    if not deltas:
        return {}
    nodes = store.map
    parents, sums_of = _parents(store)
    by_parents: dict[tuple[str, ...], list[str]] = {}
    for node_id in deltas:
        found = parents.get(node_id)
        if found:
            by_parents.setdefault(tuple(found), []).append(node_id)
    sums: dict[str, tuple[int, int]] = {}
    budget = WALK_BUDGET * (len(nodes) + 32)
    lookup = parents.get
    for above, members in by_parents.items():
        seen = set(above)
        level = seen
        while level:
            budget -= len(level)
            if budget < 0:
                return _sums_in_one_pass(nodes, parents, deltas)
            level = set(chain.from_iterable(map(lookup, level, repeat(())))) - seen
            seen |= level
        if not seen.isdisjoint(members):
            return None  # a cycle: the full computation decides
        done = sum(deltas[m][0] for m in members)
        total = sum(deltas[m][1] for m in members)
        if not done and not total:
            continue
        for node_id in seen & sums_of:
            before = sums.get(node_id)
            sums[node_id] = (done, total) if before is None else (before[0] + done, before[1] + total)
    return sums


def _sums_in_one_pass(
    nodes: dict[str, dict[str, Any]], parents: dict[str, list[str]], deltas: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int]] | None:
    """`_sums` as one pass: the changed nodes' ancestors, and for each the changed nodes it reaches as a
    bitset over those only (one mask per distinct change, usually 2 or 3: started, finished, new)."""
    affected: set[str] = set()
    stack = list(deltas)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in affected:
                affected.add(parent)
                stack.append(parent)
    bit: dict[str, int] = {}
    masks: dict[tuple[int, int], int] = {}
    for index, (node_id, change) in enumerate(deltas.items()):
        flag = 1 << index
        bit[node_id] = flag
        masks[change] = masks.get(change, 0) | flag
    try:
        reach = _reach(nodes, bit, within=affected, exact=True)
    except _Cycle:
        return None
    sums: dict[str, tuple[int, int]] = {}
    for node_id in affected:
        if nodes[node_id].get("type") in EXECUTABLE:
            continue
        reached = reach[node_id]
        done = total = 0
        for change, mask in masks.items():
            count = (reached & mask).bit_count()
            done += count * change[0]
            total += count * change[1]
        sums[node_id] = (done, total)
    return sums
