"""What a steps group's step and a DAG's task share when they call a template:
substitution and loop expansion, `when`, artifact arguments taken `from` earlier outputs, Skipped nodes,
nodes that end in an error before they run, and `continueOn`. steps.py, dag.py and hooks.py use these; each keeps only what differs (where
a new node hangs in the tree: `link`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from workflow.engine import loops, subst
from workflow.engine.defs import ERROR, FAILED, SKIPPED, EngineError, Opts
from workflow.engine.scope import mark_absent, resolve_artifact
from workflow.engine.state import Operation
from workflow.engine.templates import TemplateBase

Link = Callable[[str], None]  # hangs a new node (by name) in the tree


class Executor(Protocol):
    """What a call needs of the engine (execute.py's Engine; a Protocol, so this module does not import it)."""

    op: Operation

    def execute(
        self, name: str, holder: dict[str, Any], ctx: TemplateBase, args: dict[str, Any] | None, opts: Opts
    ) -> dict[str, Any] | None: ...

    def error_node(
        self,
        name: str,
        holder: dict[str, Any],
        ctx: TemplateBase,
        opts: Opts,
        message: str,
        phase: str,
        node: dict[str, Any] | None = None,
    ) -> dict[str, Any]: ...


def continues_on(item: dict[str, Any] | None, phase: str | None) -> bool:
    """Whether a Failed/Error step or task lets its group or DAG go on (`continueOn.failed|error`)."""
    cont = (item or {}).get("continueOn") or {}
    return bool((phase == FAILED and cont.get("failed")) or (phase == ERROR and cont.get("error")))


def resolve_artifacts(op: Operation, args: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """`args` with each artifact given `from` / `fromExpression` resolved against the scope; an optional
    one that cannot be found is dropped, any other raises EngineError. `args` itself is not changed."""
    arts = args.get("artifacts")
    if not arts:
        return args
    resolved = []
    for art in arts:
        if not isinstance(art, dict):
            continue
        if art.get("from") or art.get("fromExpression"):
            try:
                art = resolve_artifact(op, art, scope)
            except EngineError:
                if art.get("optional"):
                    continue
                raise
        resolved.append(art)
    return {**args, "artifacts": resolved}


def call_arguments(op: Operation, holder: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """The arguments a step or task passes (already substituted), artifacts resolved."""
    args = holder.get("arguments")
    return resolve_artifacts(op, args if isinstance(args, dict) else {}, scope)


def skipped_node(
    op: Operation,
    name: str,
    holder: dict[str, Any],
    ctx: TemplateBase,
    boundary_id: str,
    phase: str,
    message: str,
) -> dict[str, Any]:
    """A node for a step or task that does not run (`when` false, no loop items, `depends` not met)."""
    return op.nodes.init_node(
        name,
        "Skipped",
        boundary_id,
        phase,
        template_name=holder.get("template") if isinstance(holder.get("template"), str) else None,
        template_ref=holder.get("templateRef") if isinstance(holder.get("templateRef"), dict) else None,
        template_scope=ctx.scope,
        message=message,
    )


def call(
    eng: Executor,
    name: str,
    holder: dict[str, Any],
    node: dict[str, Any] | None,
    ctx: TemplateBase,
    opts: Opts,
    scope: dict[str, Any],
    link: Link,
) -> tuple[dict[str, Any] | None, bool]:
    """One copy of a step or task (`holder`, already substituted): its `when` (a new node only), its
    artifact arguments, then the template. Returns (the node, whether the template was executed): a
    `when` that is false makes a Skipped node, a `when` or an argument that fails an Error node, both
    linked with `link` and not executed. The node is None when execution did not start it (a limit)."""
    op = eng.op
    if node is None:
        when = holder.get("when")
        if when not in (None, ""):
            try:
                proceed = subst.when(str(when))
            except EngineError as exc:
                node = eng.error_node(name, holder, ctx, opts, str(exc), ERROR)
                link(name)
                return node, False
            if not proceed:
                node = skipped_node(
                    op, name, holder, ctx, opts.boundary_id, "Skipped", f"when '{when}' evaluated false"
                )
                link(name)
                return node, False
    try:
        args = call_arguments(op, holder, scope)
    except EngineError as exc:
        if node is None:
            node = eng.error_node(name, holder, ctx, opts, str(exc), ERROR)
            link(name)
        return node, False
    return eng.execute(name, holder, ctx, args, opts), True


def copies_of(
    eng: Executor,
    name: str,
    holder: dict[str, Any],
    scope: dict[str, Any],
    ctx: TemplateBase,
    opts: Opts,
    link: Link,
    exists: bool,
) -> tuple[loops.Expansion | loops.Single, bool] | None:
    """What a step or task becomes once substituted: (its copies, whether it loops). None when it ends
    here: a substitution or loop that fails (an Error node) or a loop over nothing (a Skipped node), the
    node made and linked under `name` unless it `exists` already."""
    op = eng.op
    try:
        resolved = subst.render(mark_absent(holder, scope), op.globals, scope)
        items = loops.items_of(resolved)
    except EngineError as exc:
        if not exists:
            eng.error_node(name, holder, ctx, opts, str(exc), ERROR)
            link(name)
        return None
    if items is not None and not items:
        if not exists:
            skipped_node(op, name, holder, ctx, opts.boundary_id, SKIPPED, "Skipped, empty params")
            link(name)
        return None
    return loops.expand(resolved, items), items is not None
