"""Exit handlers and lifecycle hooks of steps, tasks and the workflow.

- A step's or task's exit handler (`hooks.exit`, or the deprecated `onExit: <template>`) runs once the
  node completed, as `<node>.onExit`, a child of the node flagged `hooked`. Its arguments may use the
  node's own outputs (`steps.<name>.outputs...` / `tasks.<name>...`).
- Other hooks run when their `expression` (expr) becomes true, as `<node>.hooks.<name>`; once started
  they are driven to the end, and the parent is not done before them.
- Workflow-level hooks are `<wf>.hooks.<name>`, children of the root; the workflow exit handler
  (`spec.onExit` or `spec.hooks.exit`) is `<wf>.onExit`, not linked to the root (operate.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflow import names
from workflow.engine import calls, subst
from workflow.engine.defs import EngineError, Opts, completed, fulfilled
from workflow.engine.scope import add_node
from workflow.engine.templates import TemplateBase

if TYPE_CHECKING:  # execute.py imports this module; the engine is only a type here
    from workflow.engine.execute import Engine


def exit_holder(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    hooks = item.get("hooks")
    exit_hook = hooks.get("exit") if isinstance(hooks, dict) else None
    if isinstance(exit_hook, dict):
        return exit_hook
    if isinstance(item.get("onExit"), str) and item["onExit"]:
        return {"template": item["onExit"]}
    return None


def lifecycle_hooks(item: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    hooks = item.get("hooks") if isinstance(item, dict) else None
    if not isinstance(hooks, dict):
        return {}
    return {k: v for k, v in hooks.items() if k != "exit" and isinstance(v, dict)}


def hook_args(eng: Engine, hook: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    args = hook.get("arguments") if isinstance(hook.get("arguments"), dict) else {}
    if not args:
        return {}
    return calls.resolve_artifacts(eng.op, subst.render_dict(args, eng.op.globals, scope), scope)


def _hook_opts(opts: Opts, boundary_id: str, on_exit: bool) -> Opts:
    return Opts(
        boundary_id=boundary_id,
        on_exit=on_exit or opts.on_exit,
        flag={"hooked": True},
        depth=opts.depth,
        parent=opts.parent,
    )


def run_exit(
    eng: Engine,
    holder: dict[str, Any] | None,
    parent: dict[str, Any],
    ctx: TemplateBase,
    opts: Opts,
    prefix: str,
    scope: dict[str, Any],
) -> dict[str, Any] | None:
    """The exit handler of a completed node; returns its node (or None when there is none)."""
    op = eng.op
    if holder is None or not completed(parent):
        return None
    name = names.on_exit_node_name(parent["name"])
    node = op.nodes.by(name)
    if node is not None and fulfilled(node):
        return node
    local = dict(scope)
    if prefix:
        add_node(op, local, prefix, parent)
    try:
        args = hook_args(eng, holder, local)
    except EngineError as exc:
        node = eng.error_node(name, holder, ctx, _hook_opts(opts, opts.boundary_id, True), str(exc), "Error")
    else:
        node = eng.execute(name, holder, ctx, args, _hook_opts(opts, opts.boundary_id, True))
    if node is not None:
        op.nodes.add_child(parent["name"], name)
    return node


def run_lifecycle(
    eng: Engine,
    hooks: dict[str, dict[str, Any]],
    parent: dict[str, Any],
    ctx: TemplateBase,
    opts: Opts,
    prefix: str,
    scope: dict[str, Any],
    boundary_id: str,
) -> None:
    op = eng.op
    for hook_name, hook in hooks.items():
        name = names.hook_node_name(parent["name"], hook_name)
        node = op.nodes.by(name)
        if node is not None and fulfilled(node):
            continue
        local = dict(scope)
        if prefix:
            add_node(op, local, prefix, parent)
        if node is None:
            expression = hook.get("expression")
            if not expression:
                continue
            try:
                if not subst.evaluate_bool(str(expression), op.globals, local):
                    continue
            except EngineError:
                continue
        try:
            args = hook_args(eng, hook, local)
        except EngineError as exc:
            node = eng.error_node(name, hook, ctx, _hook_opts(opts, boundary_id, False), str(exc), "Error")
        else:
            node = eng.execute(name, hook, ctx, args, _hook_opts(opts, boundary_id, False))
        if node is not None:
            op.nodes.add_child(parent["name"], name)


def has_hooks(item: dict[str, Any] | None) -> bool:
    return isinstance(item, dict) and (bool(item.get("hooks")) or bool(item.get("onExit")))


def step_hooks(
    eng: Engine,
    item: dict[str, Any] | None,
    child: dict[str, Any],
    ctx: TemplateBase,
    opts: Opts,
    prefix: str,
    scope: dict[str, Any],
) -> None:
    """Drive the hooks of a step or task whose node is `child`."""
    if not has_hooks(item):
        return
    hooks = lifecycle_hooks(item)
    if hooks:
        run_lifecycle(eng, hooks, child, ctx, opts, prefix, scope, opts.boundary_id)
    holder = exit_holder(item)
    if holder is not None and completed(child):
        run_exit(eng, holder, child, ctx, opts, prefix, scope)


def hooks_done(eng: Engine, item: dict[str, Any] | None, child: dict[str, Any]) -> bool:
    """A step or task counts as done only once its exit handler and started hooks are fulfilled."""
    if not has_hooks(item):
        return True
    op = eng.op
    if exit_holder(item) is not None and completed(child):
        node = op.nodes.by(names.on_exit_node_name(child["name"]))
        if node is None or not fulfilled(node):
            return False
    for hook_name in lifecycle_hooks(item):
        node = op.nodes.by(names.hook_node_name(child["name"], hook_name))
        if node is not None and not fulfilled(node):
            return False
    return True
