"""Steps templates: groups run one after another, the steps of a group in parallel.

Node shape: the Steps node → `P[0]` (StepGroup) → its steps `P[0].s` (or `P[0].s(i:item)` for loops);
group i+1 hangs under every outbound node of every child of group i. A group fails when a child is
Failed/Error without a matching `continueOn` ("child '<id>' failed"), and the Steps node then fails
with the group's message. The outputs of finished groups are in scope as `steps.<name>.*` for the next.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflow import names
from workflow.engine import calls, hooks
from workflow.engine.defs import (
    ERROR,
    FAILED,
    FAILED_OR_ERROR,
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
from workflow.engine.state import Operation
from workflow.engine.templates import TemplateBase

if TYPE_CHECKING:  # execute.py imports this module; the engine is only a type here
    from workflow.engine.execute import Engine

DONE = frozenset({SUCCEEDED, FAILED, ERROR, SKIPPED, "Omitted"})


def execute_steps(
    eng: Engine, node: dict[str, Any], ctx: TemplateBase, tmpl: dict[str, Any], opts: Opts
) -> dict[str, Any]:
    op = eng.op
    if fulfilled(node):
        return node
    eng.remember_boundary(node["id"], tmpl)
    name = node["name"]
    groups = tmpl["steps"] if isinstance(tmpl.get("steps"), list) else []
    scope: dict[str, Any] = template_inputs(tmpl)
    child_opts = Opts(boundary_id=node["id"], on_exit=opts.on_exit, depth=opts.depth + 1, parent=tmpl)
    last_group = None
    reads: Reads | None = None  # which looped steps' aggregates the template may read (found on first need)
    for index, group in enumerate(groups):
        group = group if isinstance(group, list) else []
        sg_name = names.step_group_name(name, index)
        sg = op.nodes.by(sg_name)
        if sg is None:
            if eng.stop_message and (not opts.on_exit or eng.stop_applies_to_exit):
                if last_group is not None:
                    _set_outbound(op, node, last_group)
                return op.nodes.mark(node["id"], FAILED, eng.stop_message)
            sg = op.nodes.init_node(sg_name, "StepGroup", node["id"], RUNNING, template_scope=ctx.scope)
            _connect_group(op, name, index, sg_name)
        sg = execute_group(eng, group, sg, ctx, scope, child_opts)
        last_group = sg
        if not fulfilled(sg):
            return op.nodes[node["id"]]
        if sg.get("phase") != SUCCEEDED:
            _set_outbound(op, node, sg)
            return op.nodes.mark(node["id"], FAILED, sg.get("message") or "")
        for step in group:
            if not isinstance(step, dict) or not step.get("name"):
                continue
            prefix = f"steps.{step['name']}"
            child = op.nodes.by(names.step_node_name(sg_name, step["name"]))
            if child is not None:
                skipped = child.get("phase") in (SKIPPED, "Omitted")
                add_node(op, scope, prefix, child, _called_template(eng, step, ctx) if skipped else None)
                continue
            if reads is None:
                reads = Reads(tmpl, "steps")
            if not reads.may_read(step["name"]):
                continue  # nothing reads this loop's aggregated outputs: not built (engine/reads.py)
            stem = names.step_node_name(sg_name, step["name"]) + "("
            looped = [
                c
                for c in op.nodes.children_of(sg)
                if c["name"].startswith(stem) and c.get("type") != "Skipped"
            ]
            called = _called_template(eng, step, ctx)
            aggregate(scope, prefix, template_type(called) if called else None, looped)
    node = op.nodes[node["id"]]
    if fulfilled(node):
        return node
    try:
        outputs = outputs_from_scope(op, tmpl, scope)
    except EngineError as exc:
        return op.nodes.mark(node["id"], ERROR, str(exc))
    if outputs is not None:
        op.nodes.update(node["id"], outputs=outputs)
        export_global_outputs(op, outputs)
    if last_group is not None:
        _set_outbound(op, node, last_group)
    return op.nodes.mark(node["id"], SUCCEEDED)


def _called_template(eng: Engine, step: dict[str, Any], ctx: TemplateBase) -> dict[str, Any] | None:
    try:
        return eng.templates.resolve(step, ctx)[1]
    except EngineError:
        return None


def _connect_group(op: Operation, steps_name: str, index: int, sg_name: str) -> None:
    if index == 0:
        op.nodes.add_child(steps_name, sg_name)
        return
    previous = op.nodes.by(names.step_group_name(steps_name, index - 1))
    if previous is None:
        return
    nodes = op.nodes.map
    children = [c for c in previous.get("children") or () if c in nodes]
    if not children:
        op.nodes.add_child(previous["name"], sg_name)
        return
    op.nodes.add_child_under_outbound(children, sg_name)


def _set_outbound(op: Operation, node: dict[str, Any], group: dict[str, Any]) -> None:
    outbound: list[str] = []
    for child in op.nodes.children_of(group):
        outbound.extend(op.nodes.outbound_nodes(child["id"]))
    op.nodes.set_list(node["id"], "outboundNodes", outbound)


def execute_group(
    eng: Engine, group: list[Any], sg: dict[str, Any], ctx: TemplateBase, scope: dict[str, Any], opts: Opts
) -> dict[str, Any]:
    op = eng.op
    if fulfilled(sg):
        return sg
    sg_name = sg["name"]

    def link(child_name: str) -> None:
        op.nodes.add_child(sg_name, child_name)

    by_child: dict[str, dict[str, Any]] = {}  # child name -> step, for steps without a loop
    by_step: dict[str, dict[str, Any]] = {}  # step name -> step
    running: str | None = None  # a child pod seen not done (pod reconciliation drives it)
    settled: list[str] = []  # children seen done and not failed, while `unsettled` stays False
    unsettled = False
    expected: list[str] = []  # every child name this group should have
    missing = False
    for step in group:
        if not isinstance(step, dict) or not step.get("name"):
            continue
        base_name = names.step_node_name(sg_name, step["name"])
        by_step[step["name"]] = step
        expanded = calls.copies_of(
            eng, base_name, step, scope, ctx, opts, link, op.nodes.by(base_name) is not None
        )
        if expanded is None:  # an Error or Skipped node stands for the step
            by_child[base_name] = step
            expected.append(base_name)
            unsettled = True
            continue
        copies, looped = expanded
        with_hooks = hooks.has_hooks(step)
        prefix = f"steps.{step['name']}"
        by_name, nodes_by_id, observed_pods = op.nodes.by_name, op.nodes.map, op.observed.pods
        if not looped:
            by_child[base_name] = step
        present = 0
        for index, copy_name in enumerate(copies.names):
            child_name = f"{sg_name}.{copy_name}"
            child_id = by_name.get(child_name) or names.node_id(op.name, child_name)
            child = nodes_by_id.get(child_id)
            if child is not None:
                present += 1
                # Steady state, kept cheap: a done child, or a pod child that pod reconciliation drives.
                phase = child.get("phase")
                if (phase in DONE and child.get("taskResultSynced") is not False) or fulfilled(child):
                    if with_hooks and completed(child):
                        hooks.step_hooks(eng, step, child, ctx, opts, prefix, scope)
                    if phase in FAILED_OR_ERROR:
                        unsettled = True
                    else:
                        settled.append(child_id)
                    continue
                if child.get("type") == "Pod" and child_id in observed_pods:
                    if with_hooks:
                        hooks.step_hooks(eng, step, child, ctx, opts, prefix, scope)
                    if running is None:
                        running = child_id
                    continue
            unsettled = True
            child, ran = calls.call(eng, child_name, copies.render(index), child, ctx, opts, scope, link)
            if not ran:
                continue
            if child is None:
                missing = True
                continue
            op.nodes.add_child(sg_name, child_name)
            hooks.step_hooks(eng, step, child, ctx, opts, f"steps.{step['name']}", scope)
        if present < len(copies.names):
            expected.extend(f"{sg_name}.{n}" for n in copies.names)
    sg = op.nodes[sg["id"]]
    if missing or any(op.nodes.by(name) is None for name in expected):
        return sg  # some steps are not started yet (parallelism)
    if running is not None and running in (sg.get("children") or ()):
        return sg  # a pod is still running: the check below would stop there, after a pass over 10,000
    any_hooks = any(hooks.has_hooks(step) for step in group if isinstance(step, dict))
    if running is None and not unsettled and not any_hooks:
        children = sg.get("children") or ()
        if len(children) == len(settled) and set(children) == set(settled):
            # every child was seen done and not failed above (and nothing has changed them since):
            # what the pass below would find, without a second pass over 10,000 children
            return op.nodes.mark(sg["id"], SUCCEEDED)
    failed = None
    nodes_by_id = op.nodes.map
    for child_id in sg.get("children") or ():
        child = nodes_by_id.get(child_id)
        if child is None:
            continue
        phase = child.get("phase")
        if not ((phase in DONE and child.get("taskResultSynced") is not False) or fulfilled(child)):
            return sg
        if not any_hooks and (failed is not None or phase not in FAILED_OR_ERROR):
            continue  # the step of a child is needed only for its hooks or its continueOn (10,000 children)
        step = by_child.get(child["name"]) or _step_of(child["name"], sg_name, by_step)
        if any_hooks and step is not None and not hooks.hooks_done(eng, step, child):
            return sg
        if failed is None and phase in FAILED_OR_ERROR and not calls.continues_on(step, phase):
            failed = child
    if failed is not None:
        return op.nodes.mark(sg["id"], FAILED, f"child '{failed['id']}' failed")
    return op.nodes.mark(sg["id"], SUCCEEDED)


def _step_of(child_name: str, sg_name: str, by_step: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The step a looped child was expanded from: `<group>.<step>(i:item)` -> the step named <step>."""
    rest = child_name[len(sg_name) + 1 :]
    return by_step.get(rest.split("(", 1)[0])
