"""The workflow graph of `sluice ui`: nodes, edges and groups laid out in layers, as Argo's UI draws them.

Pure (no I/O, no clock): `layout(workflow, expand)` takes a Workflow (dict, `status.nodes` readable; see
sluice/output.py `with_nodes`) and returns what sluice/ui/static/app.js draws as SVG, top to bottom:

- edges follow each node's `children`, except where Argo's UI draws them otherwise: a child outside a
  Steps/DAG node's own boundary (the next step group of the caller) hangs from that node's
  `outboundNodes`; a Retry node's next step hangs from its last attempt; the exit handler (a second
  root) hangs from the workflow's outbound nodes;
- layers are the longest path from a root; within a layer nodes are ordered by a few barycenter
  sweeps (fewer crossings), keeping each group together;
- groups are a loop's items (siblings named `NAME(i:item)`) and a Retry node's attempts (`NAME(i)`);
  a group of more than `COLLAPSE_AT` nodes is drawn as one node counting its phases unless expanded.

Every step is linear or n·log n in the number of nodes and edges (2,000 nodes: benchmarks/bench_ui.py).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict, deque
from typing import Any

BOX_W, BOX_H = 180, 40
DOT = 20  # StepGroup / TaskGroup: a small circle
GAP_X, GAP_Y = 24, 50
MARGIN = 20
COLLAPSE_AT = 50
SWEEPS = 4
DOT_TYPES = ("StepGroup", "TaskGroup")

_LOOP = re.compile(r"^(?P<base>.*)\((?P<index>\d+):.*\)$", re.DOTALL)
_ATTEMPT = re.compile(r"^(?P<base>.*)\((?P<index>\d+)\)$")


def _short(node: dict[str, Any]) -> dict[str, Any]:
    out = {
        "id": node["id"],
        "name": node.get("name") or node["id"],
        "displayName": node.get("displayName") or node.get("name") or node["id"],
        "type": node.get("type") or "Pod",
        "phase": node.get("phase") or "Pending",
    }
    if node.get("message"):
        out["message"] = str(node["message"])[:300]
    return out


def _groups(nodes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """group id -> {kind, label, members (in order)}; a node belongs to one group at most."""
    out: dict[str, dict[str, Any]] = {}
    taken: set[str] = set()
    for parent in nodes.values():
        children = [c for c in parent.get("children") or () if c in nodes]
        if parent.get("type") == "Retry":
            base = parent.get("displayName") or ""
            attempts = [
                c
                for c in children
                if (m := _ATTEMPT.match(nodes[c].get("displayName") or "")) and m["base"] == base
            ]
            if len(attempts) > 1:
                out[f"retry:{parent['id']}"] = {
                    "kind": "retry",
                    "label": f"{base}: {len(attempts)} attempts",
                    "members": attempts,
                }
                taken.update(attempts)
            continue
        by_base: dict[str, list[str]] = defaultdict(list)
        for c in children:
            m = _LOOP.match(nodes[c].get("displayName") or "")
            if m and c not in taken:
                by_base[m["base"]].append(c)
        for base, members in by_base.items():
            if len(members) > 1:
                out[f"loop:{parent['id']}:{base}"] = {
                    "kind": "loop",
                    "label": f"{base} × {len(members)}",
                    "members": members,
                }
                taken.update(members)
    return out


def _edges(nodes: dict[str, dict[str, Any]], root: str | None) -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    for node in nodes.values():
        nid, kind = node["id"], node.get("type")
        children = [c for c in node.get("children") or () if c in nodes]
        outbound = [o for o in node.get("outboundNodes") or () if o in nodes and o != nid]
        attempts = [c for c in children if _ATTEMPT.match(nodes[c].get("displayName") or "")]
        for c in children:
            child = nodes[c]
            if kind in ("Steps", "DAG") and outbound and child.get("boundaryID") != nid:
                edges.extend((o, c) for o in outbound)  # the caller's next step, after this one's leaves
            elif kind == "Retry" and attempts and c not in attempts:
                edges.append((attempts[-1], c))
            else:
                edges.append((nid, c))
    has_parent = {c for _, c in edges}
    if root in nodes:
        tails = [o for o in nodes[root].get("outboundNodes") or () if o in nodes] or [root]
        for n in nodes:  # the exit handler (`NAME.onExit`) and anything else unattached
            if n != root and n not in has_parent:
                edges.extend((t, n) for t in tails if t != n)
    return list(dict.fromkeys(edges))


def _acyclic(order: list[str], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges without those closing a cycle (a malformed status must not hang the page)."""
    out_of: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        out_of[a].append(b)
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for start in order:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(out_of[start]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(out_of[nxt])))
    return [e for e in edges if e not in back]


def _layers(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    indegree = Counter(b for _, b in edges)
    out_of: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        out_of[a].append(b)
    layer = dict.fromkeys(ids, 0)
    queue = deque(i for i in ids if indegree[i] == 0)
    while queue:
        n = queue.popleft()
        for c in out_of[n]:
            layer[c] = max(layer[c], layer[n] + 1)
            indegree[c] -= 1
            if indegree[c] == 0:
                queue.append(c)
    return layer


def _order(rows: list[list[str]], edges: list[tuple[str, str]], group_of: dict[str, str]) -> list[list[str]]:
    parents: dict[str, list[str]] = defaultdict(list)
    kids: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        parents[b].append(a)
        kids[a].append(b)
    pos: dict[str, float] = {n: i for row in rows for i, n in enumerate(row)}
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        sequence = rows[1:] if down else rows[-2::-1]
        for row in sequence:
            near = parents if down else kids
            bary = {}
            for n in row:
                linked = [pos[p] for p in near[n] if p in pos]
                bary[n] = sum(linked) / len(linked) if linked else pos[n]
            # units: a group's members stay together, ordered as they were, at their mean barycenter
            units: dict[str, list[str]] = {}
            for n in row:
                units.setdefault(group_of.get(n) or n, []).append(n)
            ranked = sorted(units.values(), key=lambda u: sum(bary[m] for m in u) / len(u))
            row[:] = [m for unit in ranked for m in unit]
            for i, n in enumerate(row):
                pos[n] = i
    return rows


def _collapse(
    nodes: dict[str, dict[str, Any]], groups: dict[str, dict[str, Any]], expand: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Nodes with big groups replaced by one summary node each; and member id -> summary id."""
    replaced: dict[str, str] = {}
    shown = dict(nodes)
    for gid, group in groups.items():
        members = group["members"]
        if len(members) <= COLLAPSE_AT or "all" in expand or gid in expand:
            continue
        phases = Counter(nodes[m].get("phase") or "Pending" for m in members)
        worst = next(
            (p for p in ("Failed", "Error", "Running", "Pending", "Succeeded") if phases.get(p)), "Skipped"
        )
        summary = {
            "id": gid,
            "name": gid,
            "displayName": group["label"],
            "type": "Collapsed",
            "phase": worst,
            "counts": dict(phases),
            "children": [],
        }
        kids: list[str] = []
        for m in members:
            replaced[m] = gid
            kids.extend(c for c in nodes[m].get("children") or () if c not in members)
            shown.pop(m, None)
        summary["children"] = list(dict.fromkeys(kids))
        shown[gid] = summary
    if replaced:  # parents now point at the summary node
        for nid, node in list(shown.items()):
            kids = node.get("children") or ()
            if any(k in replaced for k in kids):
                shown[nid] = {**node, "children": list(dict.fromkeys(replaced.get(k, k) for k in kids))}
            outbound = node.get("outboundNodes") or ()
            if any(o in replaced for o in outbound):
                shown[nid] = {
                    **shown[nid],
                    "outboundNodes": list(dict.fromkeys(replaced.get(o, o) for o in outbound)),
                }
    return shown, replaced


def layout(workflow: dict[str, Any], expand: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """The graph of `workflow` with coordinates (see the module's docstring); `expand`: group ids (or
    "all") to draw node by node even when they are big."""
    status = workflow.get("status") or {}
    raw = {
        k: {**v, "id": v.get("id") or k}
        for k, v in (status.get("nodes") or {}).items()
        if isinstance(v, dict)
    }
    root = (workflow.get("metadata") or {}).get("name")
    groups = _groups(raw)
    nodes, replaced = _collapse(raw, groups, set(expand))
    ids = list(nodes)
    if root in nodes:  # the root first: it anchors the first layer
        ids.remove(root)
        ids.insert(0, root)
    edges = _acyclic(ids, _edges(nodes, root))
    layer = _layers(ids, edges)
    # the initial order: breadth first from the roots, children in their recorded order
    out_of: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        out_of[a].append(b)
    seen: dict[str, None] = {}
    queue = deque(i for i in ids if layer[i] == 0)
    while queue:
        n = queue.popleft()
        if n in seen:
            continue
        seen[n] = None
        queue.extend(out_of[n])
    for n in ids:
        seen.setdefault(n, None)
    rows: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for n in seen:
        rows[layer[n]].append(n)
    visible_groups = {gid: g for gid, g in groups.items() if gid not in nodes}
    group_of = {m: gid for gid, g in visible_groups.items() for m in g["members"]}
    rows = _order(rows, edges, group_of)
    parents: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        parents[b].append(a)

    def size(n: str) -> tuple[int, int]:
        return (DOT, DOT) if nodes[n].get("type") in DOT_TYPES else (BOX_W, BOX_H)

    centre: dict[str, float] = {}
    ys: dict[str, float] = {}
    y = float(MARGIN)
    for row in rows:
        height = max(size(n)[1] for n in row)
        # each node wants to sit under its parents; packed left to right, then the row is shifted so
        # that on average nodes sit where they want
        wants = []
        for i, n in enumerate(row):
            above = [centre[p] for p in parents[n] if p in centre]
            wants.append(sum(above) / len(above) if above else i * (BOX_W + GAP_X))
        xs: list[float] = []
        right = float("-inf")
        for n, want in zip(row, wants, strict=True):
            w = size(n)[0]
            left = max(want - w / 2, right + GAP_X)
            xs.append(left + w / 2)
            right = left + w
        shift = sum(x - want for x, want in zip(xs, wants, strict=True)) / len(xs)
        for n, x in zip(row, xs, strict=True):
            centre[n] = x - shift
            ys[n] = y + height / 2
        y += height + GAP_Y
    low = min((centre[n] - size(n)[0] / 2 for n in centre), default=0.0)
    out_nodes = []
    for n in seen:
        w, h = size(n)
        item = _short(nodes[n])
        if nodes[n].get("type") == "Collapsed":
            item["counts"] = nodes[n]["counts"]
            item["group"] = n
        elif n in group_of:
            item["group"] = group_of[n]
        item.update(x=round(centre[n] - low + MARGIN - w / 2, 1), y=round(ys[n] - h / 2, 1), w=w, h=h)
        out_nodes.append(item)
    by_id = {n["id"]: n for n in out_nodes}
    out_groups = []
    for gid, g in groups.items():
        if gid in nodes:  # collapsed: the summary node is the group
            out_groups.append({"id": gid, "kind": g["kind"], "label": g["label"], "collapsed": True})
            continue
        members = [by_id[m] for m in g["members"] if m in by_id]
        if not members:
            continue
        x0 = min(m["x"] for m in members) - 8
        y0 = min(m["y"] for m in members) - 18
        x1 = max(m["x"] + m["w"] for m in members) + 8
        y1 = max(m["y"] + m["h"] for m in members) + 8
        out_groups.append(
            {
                "id": gid,
                "kind": g["kind"],
                "label": g["label"],
                "collapsed": False,
                "collapsible": len(g["members"]) > COLLAPSE_AT,
                "x": round(x0, 1),
                "y": round(y0, 1),
                "w": round(x1 - x0, 1),
                "h": round(y1 - y0, 1),
            }
        )
    width = max((n["x"] + n["w"] for n in out_nodes), default=0) + MARGIN
    # What the drawing depends on besides phases and messages: when it is unchanged, the page updates the
    # nodes in place instead of drawing the graph again (2,000 nodes: benchmarks/bench_ui.py).
    shape = repr(([(n["id"], n["x"], n["y"], n["displayName"]) for n in out_nodes], edges, out_groups))
    return {
        "shape": f"{zlib.crc32(shape.encode()):08x}",
        "nodes": out_nodes,
        "edges": edges,
        "groups": out_groups,
        "hidden": replaced,
        "width": round(width, 1),
        "height": round(y - GAP_Y + MARGIN if rows else 0, 1),
    }
