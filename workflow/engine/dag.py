"""DAG templates: tasks with `dependencies` / `depends`, `target`, `failFast`.

A task runs once its dependencies are fulfilled and its `depends` logic holds; otherwise it becomes an
Omitted node ("omitted: depends condition not met"). Root tasks hang under the DAG node, others under
every outbound node of each dependency; a looped task gets a TaskGroup node `<dag>.<task>` whose
children are the copies. The DAG's phase comes from its target tasks (`target`, or the leaves), an
Omitted task inheriting the phase of the last completed node of its branch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from workflow import names
from workflow.engine import calls, hooks, subst
from workflow.engine.defs import (
    COMPLETED,
    ERROR,
    FAILED,
    FAILED_OR_ERROR,
    OMITTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    EngineError,
    Opts,
    completed,
    fulfilled,
    template_type,
)
from workflow.engine.reads import Reads
from workflow.engine.scope import (
    add_node,
    aggregate,
    export_global_outputs,
    outputs_from_scope,
    template_inputs,
)
from workflow.engine.templates import TemplateBase
from workflow.expr import TaskState

if TYPE_CHECKING:  # execute.py imports this module; the engine is only a type here
    from workflow.engine.execute import Engine


class DagRun:
    def __init__(
        self, eng: Engine, node: dict[str, Any], ctx: TemplateBase, tmpl: dict[str, Any], opts: Opts
    ):
        self.eng = eng
        self.op = eng.op
        self.node = node
        self.name = node["name"]
        self.ctx = ctx
        self.tmpl = tmpl
        given = tmpl.get("dag")
        dag: dict[str, Any] = given if isinstance(given, dict) else {}
        self.tasks: dict[str, dict[str, Any]] = {}
        for task in dag.get("tasks") or ():
            if isinstance(task, dict) and isinstance(task.get("name"), str):
                self.tasks.setdefault(task["name"], task)
        self.fail_fast = dag.get("failFast") is not False
        self.target = dag.get("target")
        self.opts = Opts(boundary_id=node["id"], on_exit=opts.on_exit, depth=opts.depth + 1, parent=tmpl)
        self.visited: set[str] = set()
        self._deps: dict[str, tuple[list[str], Any]] = {}
        self._ancestry: dict[str, list[str]] = {}
        self._reads: dict[str, Reads] = {}

    # --- structure ---------------------------------------------------------------------------------

    def deps(self, task_name: str) -> tuple[list[str], Any]:
        """(dependency task names, the parsed depends logic or None)."""
        if task_name not in self._deps:
            task = self.tasks[task_name]
            continue_on = {n: t.get("continueOn") or {} for n, t in self.tasks.items()}
            self._deps[task_name] = subst.task_dependencies(task, continue_on)
        return self._deps[task_name]

    def ancestry(self, task_name: str) -> list[str]:
        if task_name not in self._ancestry:
            self._ancestry[task_name] = []
            seen: dict[str, None] = {}
            for dep in self.deps(task_name)[0]:
                if dep in self.tasks:
                    for a in self.ancestry(dep):
                        seen.setdefault(a)
                    seen.setdefault(dep)
            self._ancestry[task_name] = list(seen)
        return self._ancestry[task_name]

    def targets(self) -> list[str]:
        if isinstance(self.target, str) and self.target.strip():
            return [t for t in self.target.split(" ") if t]
        depended = {d for name in self.tasks for d in self.deps(name)[0]}
        return sorted(n for n in self.tasks if n not in depended)

    def task_node(self, task_name: str) -> dict[str, Any] | None:
        return self.op.nodes.by(names.task_node_name(self.name, task_name))

    # --- running -----------------------------------------------------------------------------------

    def scope_for(self, task_name: str) -> dict[str, Any]:
        """The scope a task is called in: its ancestors' outputs (a looped one's aggregate only where the
        task may read it: engine/reads.py)."""
        scope: dict[str, Any] = template_inputs(self.tmpl)
        reads = self._reads.get(task_name)
        if reads is None:
            reads = self._reads[task_name] = Reads(self.tasks[task_name], "tasks")
        for ancestor in self.ancestry(task_name):
            self.add_task(scope, ancestor, reads)
        return scope

    def add_task(self, scope: dict[str, Any], task_name: str, reads: Reads) -> None:
        node = self.task_node(task_name)
        if node is None:
            return
        prefix = f"tasks.{task_name}"
        if node.get("type") == "TaskGroup":
            if not reads.may_read(task_name):
                return
            try:
                called = self.eng.templates.resolve(self.tasks[task_name], self.ctx)[1]
            except EngineError:
                called = None
            aggregate(
                scope, prefix, template_type(called) if called else None, self.op.nodes.children_of(node)
            )
        else:
            tmpl = None
            if node.get("phase") in (SKIPPED, OMITTED):
                try:
                    tmpl = self.eng.templates.resolve(self.tasks[task_name], self.ctx)[1]
                except EngineError:
                    tmpl = None
            add_node(self.op, scope, prefix, node, tmpl)

    def connect(self, task_name: str, child_name: str, group: dict[str, Any] | None) -> None:
        op = self.op
        deps = self.deps(task_name)[0]
        if group is not None:
            op.nodes.add_child(group["name"], child_name)
        elif not deps:
            op.nodes.add_child(self.name, child_name)
        else:
            parents: list[str] = []
            nodes = op.nodes.map  # (the dict itself: the store's [] is Python, 10,000 calls under a group)
            for dep in deps:
                dep_node = self.task_node(dep)
                if dep_node is None:
                    continue
                parents.extend([nodes[outbound]["id"] for outbound in self._outbound(dep_node)])
            op.nodes.add_child_under(parents, child_name)

    def _outbound(self, node: dict[str, Any]) -> list[str]:
        """`outbound_nodes` of a dependency, with a looped task's 10,000 plain pods read in one pass (a
        plain pod is its own outbound node) instead of a call each."""
        op = self.op
        if node.get("type") != "TaskGroup":
            return op.nodes.outbound_nodes(node["id"])
        nodes = op.nodes.map
        out: list[str] = []
        for child_id in node.get("children") or ():
            child = nodes.get(child_id)
            if child is None:
                continue
            if child.get("type") == "Pod" and not child.get("children"):
                out.append(child["id"])
            else:
                out.extend(op.nodes.outbound_nodes(child["id"]))
        return out or [node["id"]]

    def evaluate(self, task_name: str) -> tuple[bool, bool]:
        """(proceed, execute): proceed once every dependency (and its exit handler) is fulfilled."""
        deps, logic = self.deps(task_name)
        # a looped dependency's children phases are read only by `AnySucceeded` / `AllFailed`: not
        # gathered (10,000 of them) for a depends that does not name them
        item_tasks = logic.item_tasks() if logic is not None else frozenset()
        results: dict[str, Any] = {}
        for dep in deps:
            node = self.task_node(dep)
            if node is None or not fulfilled(node):
                return False, False
            if not hooks.hooks_done(self.eng, self.tasks.get(dep), node):
                return False, False
            kids = None
            if node.get("type") == "TaskGroup" and dep in item_tasks:
                kids = tuple([k.get("phase") for k in self.op.nodes.children_of(node)])
            results[dep] = TaskState(node.get("phase") or "", bool(node.get("daemoned")), kids)
        if logic is None:
            return True, True
        return True, subst.evaluate_depends(logic, results)

    def execute_task(self, task_name: str) -> None:
        op = self.op
        if task_name in self.visited or task_name not in self.tasks:
            return
        self.visited.add(task_name)
        task = self.tasks[task_name]
        node_name = names.task_node_name(self.name, task_name)
        node = op.nodes.by(node_name)
        if node is not None and fulfilled(node):
            if completed(node) or hooks.lifecycle_hooks(task):
                hooks.step_hooks(
                    self.eng, task, node, self.ctx, self.opts, f"tasks.{task_name}", self.scope_for(task_name)
                )
            return
        group = node if node is not None and node.get("type") == "TaskGroup" else None
        for dep in self.deps(task_name)[0]:
            self.execute_task(dep)
        if node is None:
            try:
                proceed, run = self.evaluate(task_name)
            except EngineError as exc:
                self._skipped(node_name, task, ERROR, str(exc))
                self.connect(task_name, node_name, None)
                return
            if not proceed:
                return
            if not run:
                self._skipped(node_name, task, OMITTED, "omitted: depends condition not met")
                self.connect(task_name, node_name, None)
                return
        scope = self.scope_for(task_name)
        expanded = calls.copies_of(
            self.eng, node_name, task, scope, self.ctx, self.opts,
            lambda name: self.connect(task_name, name, None), node is not None,
        )  # fmt: skip
        if expanded is None:  # an Error or Skipped node stands for the task
            return
        copies, looped = expanded
        if looped and group is None:
            group = self.eng.new_node(node_name, "TaskGroup", task, self.ctx, {}, self.opts, RUNNING)
            self.connect(task_name, node_name, None)

        def link(child_name: str) -> None:
            self.connect(task_name, child_name, group)

        # (hooks.step_hooks does nothing for a task without hooks: not called 10,000 times for nothing)
        with_hooks = hooks.has_hooks(task)
        running = False  # a copy's pod is still running: the group is not done (checked below)
        by_name, nodes_map = op.nodes.by_name, op.nodes.map  # (op.nodes.by, inlined: 10,000 copies)
        # The group's outcome is read in the same pass: a copy fulfilled when the pass meets it stays so
        # (nothing in a step un-fulfils a node), so only the others are looked at again after it; the
        # group takes the phase of the last copy (in loop order) that failed.
        failed_at, failed_phase = -1, SUCCEEDED
        again: list[int] = []
        for index, copy_name in enumerate(copies.names):
            child_name = names.task_node_name(self.name, copy_name)
            child = nodes_map.get(by_name.get(child_name) or names.node_id(op.name, child_name))
            # (a completed copy with its result in is fulfilled: the common case, without the call)
            if child is not None and (
                (child.get("phase") in COMPLETED and child.get("taskResultSynced") is not False)
                or fulfilled(child)
            ):
                if child.get("phase") in FAILED_OR_ERROR:
                    failed_at, failed_phase = index, child["phase"]
                if with_hooks and completed(child) and group is not None:
                    hooks.step_hooks(self.eng, task, child, self.ctx, self.opts, f"tasks.{task_name}", scope)
                continue
            again.append(index)
            if child is not None and child.get("type") == "Pod" and child["id"] in op.observed.pods:
                if with_hooks:
                    hooks.step_hooks(self.eng, task, child, self.ctx, self.opts, f"tasks.{task_name}", scope)
                running = True
                continue
            fresh = child is None
            child, ran = calls.call(
                self.eng, child_name, copies.render(index), child, self.ctx, self.opts, scope, link
            )
            if not ran or child is None:
                continue
            if fresh:
                self.connect(task_name, child_name, group)
            hooks.step_hooks(self.eng, task, child, self.ctx, self.opts, f"tasks.{task_name}", scope)
        if group is not None:
            if running:
                return  # the loop below would return at that copy (or before), having changed nothing
            for index in again:
                child_name = names.task_node_name(self.name, copies.names[index])
                child = nodes_map.get(by_name.get(child_name) or names.node_id(op.name, child_name))
                if child is None or not fulfilled(child):
                    return
                if child.get("phase") in FAILED_OR_ERROR and index > failed_at:
                    failed_at, failed_phase = index, child["phase"]
            op.nodes.mark(group["id"], failed_phase)

    def _skipped(self, name: str, task: dict[str, Any], phase: str, message: str) -> None:
        calls.skipped_node(self.op, name, task, self.ctx, self.node["id"], phase, message)

    # --- phase -------------------------------------------------------------------------------------

    def assess(self, targets: list[str]) -> str:
        """Argo's assessDAGPhase: Running while any node reachable from the DAG's children is not
        fulfilled; else each target's branch phase decides. A node is looked at when it is queued, not
        when it comes out: the answer is Running as soon as one such node is seen, without first going
        through the thousands of fulfilled pods queued before it (the step where a 10,000-pod group
        completes and the task after it starts)."""
        op = self.op
        target_ids: dict[str, str] = {}
        for t in targets:
            target_ids[op.nodes.node_id(names.task_node_name(self.name, t))] = ""
        queue: deque[tuple[str, str, dict[str, Any]]] = deque()
        seen: dict[str, set[str]] = {}  # branch -> node IDs queued with it
        nodes_get = op.nodes.map.get  # (the dict's own get: the store's is Mapping.get, in Python)

        def enqueue(ids: Iterable[str], branch: str) -> bool:
            """Queue each node once per branch; False when one is not fulfilled."""
            queued = seen.get(branch)
            if queued is None:
                queued = seen[branch] = set()
            for node_id in ids:
                if node_id in queued:
                    continue
                queued.add(node_id)
                node = nodes_get(node_id)
                if node is None:
                    continue
                # (a completed node with its result in is fulfilled: the common case, without the call)
                done = node.get("phase") in COMPLETED and node.get("taskResultSynced") is not False
                if not done and not fulfilled(node):
                    return False
                queue.append((node_id, branch, node))
            return True

        if not enqueue(op.nodes[self.node["id"]].get("children") or (), SUCCEEDED):
            return RUNNING
        while queue:
            node_id, branch, node = queue.popleft()
            if completed(node):
                branch = node["phase"]
            if node_id in target_ids and target_ids[node_id] not in FAILED_OR_ERROR:
                target_ids[node_id] = branch
            if node.get("type") == "Retry":
                attempts = op.nodes.attempts(node)
                kids = (attempts[-1].get("children") or ()) if attempts else ()
                hooked = [
                    c["id"] for c in op.nodes.children_of(node) if (c.get("nodeFlag") or {}).get("hooked")
                ]
                if not enqueue((*kids, *hooked), branch):
                    return RUNNING
            elif not enqueue(node.get("children") or (), branch):
                return RUNNING
        result = SUCCEEDED
        for t in targets:
            phase = target_ids.get(op.nodes.node_id(names.task_node_name(self.name, t)), "")
            if phase == "":
                result = RUNNING
                if not self.fail_fast:
                    break
            elif phase in FAILED_OR_ERROR:
                if calls.continues_on(self.tasks.get(t), phase):
                    continue
                result = phase
                if self.fail_fast:
                    break
        return result

    def run(self) -> dict[str, Any]:
        op = self.op
        targets = self.targets()
        for t in targets:
            self.execute_task(t)
        if self.eng.shutdown and (not self.opts.on_exit or self.eng.stop_applies_to_exit):
            phase = FAILED  # Argo: a shutdown fails the DAG outright
        else:
            phase = self.assess(targets)
        if phase == RUNNING and self.eng.stop_message and not self._anything_running():
            phase = FAILED
        if phase == RUNNING:
            return op.nodes[self.node["id"]]
        self._set_outbound(targets)
        if phase in FAILED_OR_ERROR:
            return op.nodes.mark(self.node["id"], phase)
        scope: dict[str, Any] = template_inputs(self.tmpl)
        reads = Reads(self.tmpl.get("outputs"), "tasks")
        for task_name in self.tasks:
            self.add_task(scope, task_name, reads)
            task_node = self.task_node(task_name)
            if task_node is not None:
                export_global_outputs(op, task_node.get("outputs"))
        try:
            outputs = outputs_from_scope(op, self.tmpl, scope)
        except EngineError as exc:
            return op.nodes.mark(self.node["id"], ERROR, str(exc))
        if outputs is not None:
            op.nodes.update(self.node["id"], outputs=outputs)
            export_global_outputs(op, outputs)
        return op.nodes.mark(self.node["id"], SUCCEEDED)

    def _anything_running(self) -> bool:
        for task_name in self.tasks:
            node = self.task_node(task_name)
            if node is not None and not fulfilled(node):
                return True
        return False

    def _set_outbound(self, targets: list[str]) -> None:
        outbound: list[str] = []
        for t in targets:
            node = self.task_node(t)
            if node is not None:
                outbound.extend(self.op.nodes.outbound_nodes(node["id"]))
        self.op.nodes.set_list(self.node["id"], "outboundNodes", outbound)


def execute_dag(
    eng: Engine, node: dict[str, Any], ctx: TemplateBase, tmpl: dict[str, Any], opts: Opts
) -> dict[str, Any]:
    if fulfilled(node):
        return node
    eng.remember_boundary(node["id"], tmpl)
    return DagRun(eng, node, ctx, tmpl, opts).run()
