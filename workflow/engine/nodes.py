"""The node store: the nodes of one step's status, with the lookups, writes and counters the engine uses.

`nodes` starts as a shallow copy of the old map; a node dict is copied the first time it changes
(copy-on-write), so a step over a 10,000-node status costs what it changes, not what it holds. Counters of
active and unsuccessful nodes per boundary are kept up to date as phases change, so parallelism and
failFast checks never rescan the map.

The store has no side effects: every phase change is written down in `transitions`, which the step reads
once the tree is executed (node events: engine/events.py; memoization: engine/memo.py).
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any, NamedTuple

from workflow import names
from workflow.engine.defs import (
    COMPLETED,
    EXECUTABLE,
    FAILED_OR_ERROR,
    OMITTED,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    fulfilled,
)

# The node types counted as active under their boundary (parallelism), in the phases that count.
ACTIVE_COUNTED = frozenset({"Pod", "Steps", "DAG", "Suspend", "HTTP", "Plugin"})
ACTIVE = frozenset({PENDING, RUNNING})


class Transition(NamedTuple):
    """A node's phase change in this step, as it was when it changed (a node may change twice in a step)."""

    node_id: str
    name: str
    node_type: str
    old_phase: str | None  # None: the node was created
    phase: str
    message: str


class _Tally(dict[str, int]):
    """A dict of counts whose missing keys read 0 (without collections.Counter's Python-level __missing__)."""

    def __missing__(self, key: str) -> int:
        return 0


class NodeStore(Mapping[str, dict[str, Any]]):
    """The nodes by ID (read it as a mapping; write it through the methods below).

    - lookups: `node_id`, `by` (by name), `children_of`, `outbound_nodes`, `attempts`;
    - writes: `init_node`, `mark`, `change`, `update`, `add_child`, `set_list`; `changed` says whether
      any node was written;
    - counters kept as phases change: `active_pods`, `running_pods`, `active_by_boundary`,
      `unsuccessful_by_boundary`; the pod nodes pod reconciliation looks at (`live_pods`) and the
      daemons (`daemons`);
    - `transitions`: every phase change, in order.
    """

    def __init__(self, workflow_name: str, old: dict[str, dict[str, Any]], now_s: str):
        self.workflow_name = workflow_name
        self.now_s = now_s
        self.map: dict[str, dict[str, Any]] = dict(old)  # what the new status holds under `nodes`
        self.old = old  # the last step's nodes, never written (progress follows the difference)
        self.by_name: dict[str, str] = {}
        self._owned: set[str] = set()
        self._owned_lists: set[tuple[str, str]] = set()
        self._child_sets: dict[str, set[str]] = {}
        self._hung: set[str] = set()  # see `hung`
        # a new node -> the nodes hung under it (some may have left `hung` since)
        self.hung_under: dict[str, set[str]] = {}
        self.active_pods = 0
        self.running_pods = 0
        self.active_by_boundary = _Tally()
        self.unsuccessful_by_boundary = _Tally()
        self.daemons: set[str] = set()
        self.transitions: list[Transition] = []
        # Pod nodes that pod reconciliation must look at: not completed (or completed without its task
        # result yet), or daemons. Collected in the one pass every step makes anyway.
        self.live_pods: list[str] = []
        # The executable nodes the step starts with, and how many of them Succeeded: with no node
        # reporting its own N/M, the stored progress must read exactly that (engine/progress.py trusts the
        # stored numbers only then: a status changed outside the engine, as `argo retry` does, fails it).
        self.old_executables = self.old_succeeded = 0
        by_name, live = self.by_name, self.live_pods
        executables = succeeded = 0
        for node_id, node in self.map.items():
            by_name[node["name"]] = node_id
            phase = node.get("phase")
            if node.get("type") in EXECUTABLE:
                executables += 1
                if phase == SUCCEEDED:
                    succeeded += 1
            if phase == SUCCEEDED and node.get("taskResultSynced") is not False and not node.get("daemoned"):
                continue  # most of a large status: nothing to count, not live, not a daemon
            if phase in ACTIVE or phase in FAILED_OR_ERROR:
                self._count(node, +1)
            if node.get("type") == "Pod" and (
                phase not in COMPLETED or node.get("taskResultSynced") is False or node.get("daemoned")
            ):
                live.append(node_id)
            if node.get("daemoned"):
                self.daemons.add(node_id)
        self.old_executables, self.old_succeeded = executables, succeeded

    # --- the mapping ------------------------------------------------------------------------------

    def __getitem__(self, node_id: str) -> dict[str, Any]:
        return self.map[node_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.map)

    def __len__(self) -> int:
        return len(self.map)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.map

    # (the dict's own views: a walk over 10,000 nodes at dict speed)
    def keys(self) -> KeysView[str]:
        return self.map.keys()

    def values(self) -> ValuesView[dict[str, Any]]:
        return self.map.values()

    def items(self) -> ItemsView[str, dict[str, Any]]:
        return self.map.items()

    # --- counters ----------------------------------------------------------------------------------

    def _count(self, node: dict[str, Any], sign: int) -> None:
        phase = node.get("phase")
        if phase in ACTIVE:
            if node.get("daemoned"):
                return
            ntype = node.get("type")
            if ntype == "Pod":
                self.active_pods += sign
                if phase == RUNNING:
                    self.running_pods += sign
            if ntype in ACTIVE_COUNTED:
                tally = self.active_by_boundary
                boundary = node.get("boundaryID") or ""
                tally[boundary] = tally.get(boundary, 0) + sign
        elif phase in FAILED_OR_ERROR and node.get("type") not in ("StepGroup", "TaskGroup"):
            tally = self.unsuccessful_by_boundary
            boundary = node.get("boundaryID") or ""
            tally[boundary] = tally.get(boundary, 0) + sign

    # --- lookups -----------------------------------------------------------------------------------

    def node_id(self, name: str) -> str:
        return self.by_name.get(name) or names.node_id(self.workflow_name, name)

    def by(self, name: str) -> dict[str, Any] | None:
        """The node of a name. Like Argo's GetNodeByName, the lookup is by ID, so two names whose IDs collide
        (fnv-1a 32 bits: likely among tens of thousands of names) share one node, as they do in Argo."""
        node_id = self.by_name.get(name)
        if node_id is None:
            node_id = names.node_id(self.workflow_name, name)
        return self.map.get(node_id)

    @property
    def written(self) -> set[str]:
        """The IDs of the nodes created or changed in this step (do not modify)."""
        return self._owned

    @property
    def hung(self) -> set[str]:
        """Among `written`: the executable nodes whose one change is their first child, a node new in this
        step (by `add_child_under[_outbound]`, which also lists them in `hung_under`; any other write takes
        a node out). Progress needs no look at them (engine/progress.py). Do not modify."""
        return self._hung

    @property
    def changed(self) -> bool:
        """Whether any node was created or changed in this step."""
        return bool(self._owned)

    def writable(self, node_id: str) -> dict[str, Any]:
        node = self.map[node_id]
        if node_id not in self._owned:
            node = dict(node)
            self.map[node_id] = node
            self._owned.add(node_id)
        elif self._hung:
            self._hung.discard(node_id)
        return node

    def _list(self, node: dict[str, Any], key: str) -> list[str]:
        mark = (node["id"], key)
        current = node.get(key)
        if mark not in self._owned_lists or current is None:
            current = list(current or ())
            node[key] = current
            self._owned_lists.add(mark)
        return current

    # --- writes ------------------------------------------------------------------------------------

    def init_node(
        self,
        name: str,
        node_type: str,
        boundary_id: str,
        phase: str,
        *,
        template_name: str | None = None,
        template_ref: dict[str, Any] | None = None,
        template_scope: str | None = None,
        message: str = "",
        flag: dict[str, bool] | None = None,
        display_name: str | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        node_id = names.node_id(self.workflow_name, name)
        boundary = self.map.get(boundary_id) if boundary_id else None
        node: dict[str, Any] = {
            "id": node_id,
            "name": name,
            "displayName": names.display_name(name, boundary["name"] if boundary else None, display_name),
            "type": node_type,
        }
        if template_name:
            node["templateName"] = template_name
        if template_ref:
            node["templateRef"] = template_ref
        if template_scope:
            node["templateScope"] = template_scope
        node["phase"] = phase
        if boundary_id:
            node["boundaryID"] = boundary_id
        if message:
            node["message"] = message
        node["startedAt"] = self.now_s
        if phase in COMPLETED or phase in (SKIPPED, OMITTED):
            node["finishedAt"] = self.now_s
        if flag:
            node["nodeFlag"] = flag
        if inputs:
            node["inputs"] = inputs
        if node_type in ("Pod", "Container"):
            node["taskResultSynced"] = True
        old = self.map.get(node_id)
        if old is not None:
            self._count(old, -1)
        self.map[node_id] = node
        self._owned.add(node_id)
        self._hung.discard(node_id)
        self.by_name[name] = node_id
        self._count(node, +1)
        self._transition(node, None)
        return node

    def mark(self, node_id: str, phase: str | None = None, message: str | None = None) -> dict[str, Any]:
        """Argo's markNodePhase: set phase/message; a node that becomes fulfilled gets its finishedAt."""
        node = self.map[node_id]
        old_phase = node.get("phase")
        unchanged = (phase is None or phase == old_phase) and (
            message is None or message == node.get("message", "")
        )
        if unchanged and not (fulfilled(node) and not node.get("finishedAt")):
            return node
        self._count(node, -1)
        return self._write_phase(self.writable(node_id), old_phase, phase, message)

    def _write_phase(
        self, node: dict[str, Any], old_phase: str | None, phase: str | None, message: str | None
    ) -> dict[str, Any]:
        """The common end of `mark` and `change`: phase, message, finishedAt, counters, transition."""
        if phase is not None:
            node["phase"] = phase
        if message is not None:
            if message:
                node["message"] = message
            else:
                node.pop("message", None)
        if fulfilled(node) and not node.get("finishedAt"):
            node["finishedAt"] = self.now_s
        self._count(node, +1)
        if phase is not None and phase != old_phase:
            self._transition(node, old_phase)
        return node

    def _transition(self, node: dict[str, Any], old_phase: str | None) -> None:
        self.transitions.append(
            Transition(
                node["id"],
                node["name"],
                node.get("type") or "",
                old_phase,
                node.get("phase") or "",
                node.get("message") or "",
            )
        )

    def change(
        self, node_id: str, fields: dict[str, Any], phase: str | None = None, message: str | None = None
    ) -> dict[str, Any]:
        """`update` and `mark` in one write (pod reconciliation changes both at once)."""
        old = self.map[node_id]
        old_phase = old.get("phase")
        if phase == old_phase:
            phase = None
        if message is not None and message == old.get("message", ""):
            message = None
        if not fields and phase is None and message is None:
            return old
        self._count(old, -1)
        node = self.writable(node_id)
        for key, value in fields.items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
        return self._write_phase(node, old_phase, phase, message)

    def update(self, node_id: str, **fields: Any) -> dict[str, Any]:
        """Set plain fields (outputs, hostNodeName, ...) on a node; None removes a field."""
        self._count(self.map[node_id], -1)
        node = self.writable(node_id)
        for key, value in fields.items():
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
        self._count(node, +1)
        return node

    def add_child(self, parent_name: str, child_name: str) -> None:
        parent_id = self.node_id(parent_name)
        if parent_id not in self.map:
            return
        self._add_child_id(parent_id, self.node_id(child_name))

    def add_child_under(self, parent_ids: list[str], child_name: str) -> None:
        """`add_child` of `child_name` under each node of `parent_ids` (IDs of nodes in the store), in
        order (a DAG task under every copy of a looped dependency)."""
        self._hang(parent_ids, child_name, outbound=False)

    def add_child_under_outbound(self, node_ids: list[str], child_name: str) -> None:
        """`add_child` of `child_name` under every outbound node of each node of `node_ids`, in order: the
        next group of a steps template hung under every pod of a 10,000-pod group."""
        self._hang(node_ids, child_name, outbound=True)

    def _hang(self, ids: list[str], child_name: str, outbound: bool) -> None:
        """One pass for both: a pod (or, without `outbound`, any node) that has no children yet, the common
        case, is its own outbound node and is copied once with its one child, without the per-call
        lookups and sets `add_child` keeps for parents that get many (benchmarks/RESULTS.md, the engine
        step at 10,000 pods); it is marked `hung` when the child is new."""
        child_id = self.node_id(child_name)
        nodes, owned, sets = self.map, self._owned, self._child_sets
        hung = self._hung
        under = self.hung_under.setdefault(child_id, set()) if child_id not in self.old else None
        # One list for all of them (10,000 lists fewer for the cycle collector to track at a large
        # fan-out): it is not marked as owned, so a node that gets a second child copies it first.
        only_child = [child_id]
        for node_id in ids:
            node = nodes[node_id]
            if (
                (not outbound or node.get("type") == "Pod")
                and not node.get("children")
                and node_id not in owned
                and node_id not in sets
            ):
                nodes[node_id] = {**node, "children": only_child}
                owned.add(node_id)
                if under is not None and node.get("type") in EXECUTABLE:
                    hung.add(node_id)
                    under.add(node_id)
            elif outbound:
                for parent_id in self.outbound_nodes(node_id):
                    self._add_child_id(nodes[parent_id]["id"], child_id)
            else:
                self._add_child_id(node_id, child_id)

    def _add_child_id(self, parent_id: str, child_id: str) -> None:
        known = self._child_sets.get(parent_id)
        if known is None:
            known = self._child_sets[parent_id] = set(self.map[parent_id].get("children") or ())
        if child_id in known:
            return
        known.add(child_id)
        parent = self.writable(parent_id)
        self._list(parent, "children").append(child_id)

    def set_list(self, node_id: str, key: str, values: list[str]) -> None:
        node = self.map[node_id]
        if (node.get(key) or []) == values:
            return
        node = self.writable(node_id)
        if values:
            node[key] = list(values)
            self._owned_lists.add((node_id, key))
        else:
            node.pop(key, None)

    # --- walking ----------------------------------------------------------------------------------

    def children_of(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        nodes = self.map
        return [nodes[c] for c in node.get("children") or () if c in nodes]

    def outbound_nodes(self, node_id: str) -> list[str]:
        """Argo's getOutboundNodes: where successors attach (the nodes that end a Steps or DAG node, through
        Retry attempts and containerSet members)."""
        node = self.map.get(node_id)
        if node is None:
            return []
        ntype = node.get("type")
        if ntype in ("Pod", "Skipped", "Suspend", "HTTP", "Plugin", "Container"):
            if ntype == "Pod" and node.get("children"):
                containers = [c for c in self.children_of(node) if c.get("type") == "Container"]
                if containers:
                    out: list[str] = []
                    for child in containers:
                        out.extend(self.outbound_nodes(child["id"]))
                    return out
            return [node_id]
        if ntype == "Retry":
            attempts = self.attempts(node)
            if attempts:
                return self.outbound_nodes(attempts[-1]["id"])
            return [node_id]
        if ntype in ("Steps", "DAG"):
            memo = node.get("memoizationStatus") or {}
            if memo.get("hit"):
                return [node_id]
            out = []
            for outbound in node.get("outboundNodes") or ():
                out.extend(self.outbound_nodes(outbound))
            return out
        if ntype == "TaskGroup":
            out = []
            for child in self.children_of(node):
                out.extend(self.outbound_nodes(child["id"]))
            return out or [node_id]
        return [node_id]

    def attempts(self, retry_node: dict[str, Any]) -> list[dict[str, Any]]:
        """A Retry node's attempts, in order (hook and onExit children are not attempts)."""
        return [c for c in self.children_of(retry_node) if not (c.get("nodeFlag") or {}).get("hooked")]
