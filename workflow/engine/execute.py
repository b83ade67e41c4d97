"""executeTemplate: one node of the tree, whatever its template type.

For a node name, a holder (step, task, hook, exit handler or the entrypoint) and arguments, this resolves
the template, binds the inputs, then applies in Argo's order: memoization, parallelism, synchronization,
retries, and finally the template type (pod, steps, dag, suspend). It is called on every step for every
live node and is idempotent: a fulfilled node is returned as it is, a running pod node is left to pod
reconciliation, a pending pod node whose pod is not observed yet asks for it again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from workflow import labels, names
from workflow.engine import dag, locks, memo, pods, retry, steps, subst, suspend
from workflow.engine.defs import (
    ERROR,
    FAILED,
    FAILED_OR_ERROR,
    LEAF_POD_TYPES,
    NODE_TYPES,
    PENDING,
    RUNNING,
    SUCCEEDED,
    EngineError,
    Opts,
    fulfilled,
    template_type,
)
from workflow.engine.inputs import process_args
from workflow.engine.scope import export_global_outputs
from workflow.engine.state import Operation
from workflow.engine.templates import TemplateBase, Templates, node_template


class Engine:
    """Executes the tree of one step. operate.py sets the run's conditions (the public attributes below)
    before calling `execute` on the entrypoint; steps.py, dag.py, hooks.py and calls.py call back into
    `execute`, `new_node` and `error_node`."""

    def __init__(self, op: Operation, spec: dict[str, Any], templates: Templates):
        self.op = op
        self.spec = spec
        self.templates = templates
        self.stop_message = ""  # set when shutdown or the workflow deadline stops new work
        self.stop_applies_to_exit = False
        self.shutdown = ""  # spec.shutdown: Stop | Terminate
        self.suspended = False
        self.boundary_templates: dict[str, dict[str, Any]] = {}
        self.workflow_deadline: datetime | None = None  # startedAt + spec.activeDeadlineSeconds
        self.uses_sync = False
        self._daemon_cache: dict[str, bool] = {}

    # --- the entry point ---------------------------------------------------------------------------

    def execute(
        self, name: str, holder: dict[str, Any], ctx: TemplateBase, args: dict[str, Any] | None, opts: Opts
    ) -> dict[str, Any] | None:
        op = self.op
        node = op.nodes.by(name)
        if node is not None and fulfilled(node):
            return node
        if node is not None and node.get("type") == "Pod" and node["id"] in op.observed.pods:
            return node  # pod reconciliation keeps it up to date
        if node is None:
            if self.stop_message and (not opts.on_exit or self.stop_applies_to_exit):
                return self.error_node(name, holder, ctx, opts, self.stop_message, FAILED)
            if self.suspended and not opts.on_exit:
                return None
        if opts.depth > op.config.max_recursion_depth:
            return self.error_node(name, holder, ctx, opts, "Maximum recursion depth exceeded", ERROR, node)
        try:
            new_ctx, tmpl = self.templates.resolve(holder, ctx)
            kind = template_type(tmpl)
            local: dict[str, Any] = {"node.name": name}
            if kind in LEAF_POD_TYPES and self.retry_strategy(tmpl) is None:
                local["pod.name"] = names.pod_name(
                    op.name, name, tmpl.get("name"), op.config.pod_name_version
                )
            tmpl = process_args(op, tmpl, args, local)
        except EngineError as exc:
            return self.error_node(name, holder, ctx, opts, str(exc), ERROR, node)
        if kind is None:
            message = f"Template '{tmpl.get('name', '')}' missing specification"
            return self.error_node(name, holder, ctx, opts, message, ERROR, node)

        memo_status = None
        if node is None and isinstance(tmpl.get("memoize"), dict):
            try:
                hit, memo_status = memo.lookup(op, tmpl)
            except EngineError as exc:
                return self.error_node(name, holder, ctx, opts, str(exc), ERROR, node)
            if hit is not None:
                node = self.new_node(name, NODE_TYPES[kind], holder, ctx, tmpl, opts, SUCCEEDED)
                node = op.nodes.update(node["id"], outputs=hit, memoizationStatus=memo_status)
                export_global_outputs(op, hit)
                return node

        if not self.check_parallelism(tmpl, kind, node, opts.boundary_id):
            return node

        if isinstance(tmpl.get("synchronization"), dict):
            self.uses_sync = True
            node_id = op.nodes.node_id(name)
            held, waiting, message = locks.try_acquire_node(op, node_id, tmpl["synchronization"], self.spec)
            if not held:
                if node is None:
                    node = self.new_node(
                        name, NODE_TYPES[kind], holder, ctx, tmpl, opts, PENDING, message=message
                    )
                else:
                    node = op.nodes.mark(node["id"], message=message)
                return op.nodes.update(node["id"], synchronizationStatus={"waiting": waiting})
            if node is not None and node.get("synchronizationStatus"):
                node = op.nodes.update(node["id"], synchronizationStatus=None)
                if node.get("type") != "Pod":
                    node = op.nodes.mark(node["id"], message="")

        strategy = self.retry_strategy(tmpl)
        if strategy is not None:  # `retryStrategy: {}` means retry forever on failure
            return self._execute_with_retries(
                name, holder, new_ctx, ctx, tmpl, kind, opts, node, strategy, memo_status
            )
        return self.dispatch(name, holder, new_ctx, ctx, tmpl, kind, opts, node, memo_status)

    # --- retries -----------------------------------------------------------------------------------

    def retry_strategy(self, tmpl: dict[str, Any]) -> dict[str, Any] | None:
        strategy = tmpl.get("retryStrategy")
        if strategy is None:
            strategy = self.spec.get("retryStrategy")
        return strategy if isinstance(strategy, dict) else None

    def _execute_with_retries(
        self,
        name: str,
        holder: dict[str, Any],
        new_ctx: TemplateBase,
        ctx: TemplateBase,
        tmpl: dict[str, Any],
        kind: str,
        opts: Opts,
        node: dict[str, Any] | None,
        strategy: dict[str, Any],
        memo_status: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        op = self.op
        if node is None:
            node = self.new_node(name, "Retry", holder, ctx, tmpl, opts, RUNNING)
            if memo_status is not None:
                node = op.nodes.update(node["id"], memoizationStatus=memo_status)
        retry_id = node["id"]
        created = False
        while True:
            outcome = retry.process(self, op.nodes[retry_id], strategy, tmpl)
            retry_node = op.nodes[retry_id]
            if outcome != retry.CONTINUE or fulfilled(retry_node):
                break
            attempts = op.nodes.attempts(retry_node)
            last = attempts[-1] if attempts else None
            if last is None or fulfilled(last):
                if created:
                    break  # at most one new attempt per step
                attempt_name = names.retry_attempt_name(name, len(attempts))
                local = retry.attempt_scope(self, len(attempts), last)
                if kind in LEAF_POD_TYPES:
                    local["pod.name"] = names.pod_name(
                        op.name, attempt_name, tmpl.get("name"), op.config.pod_name_version
                    )
                attempt_tmpl = subst.render_dict(tmpl, {}, local)
                attempt = None
                created = True
            else:
                attempt_name = last["name"]
                attempt_tmpl = retry.attempt_template(self, tmpl, last, kind)
                attempt = last
            child_opts = replace(opts, flag={"retried": True})
            child = self.dispatch(
                attempt_name, holder, new_ctx, ctx, attempt_tmpl, kind, child_opts, attempt, None
            )
            if child is not None:
                op.nodes.add_child(name, attempt_name)
            if child is None or not fulfilled(child):
                break
        return op.nodes.get(retry_id)

    # --- dispatch by template type -----------------------------------------------------------------

    def dispatch(
        self,
        name: str,
        holder: dict[str, Any],
        new_ctx: TemplateBase,
        ctx: TemplateBase,
        tmpl: dict[str, Any],
        kind: str,
        opts: Opts,
        node: dict[str, Any] | None,
        memo_status: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        op = self.op
        if kind in LEAF_POD_TYPES:
            if node is None:
                node = self.new_node(name, "Pod", holder, ctx, tmpl, opts, PENDING)
                if memo_status is not None:
                    node = op.nodes.update(node["id"], memoizationStatus=memo_status)
            if node.get("phase") == PENDING and node["id"] not in op.observed.pods:
                pods.request_pod(self, node, tmpl, opts)
            return node
        if kind in ("steps", "dag"):
            if node is None:
                node = self.new_node(name, NODE_TYPES[kind], holder, ctx, tmpl, opts, RUNNING)
                if memo_status is not None:
                    node = op.nodes.update(node["id"], memoizationStatus=memo_status)
            run = steps.execute_steps if kind == "steps" else dag.execute_dag
            node = run(self, node, new_ctx, tmpl, opts)
            if fulfilled(node):
                pods.kill_daemoned_children(self, node["id"])
            return node
        if kind == "suspend":
            if node is None:
                node = self.new_node(name, "Suspend", holder, ctx, tmpl, opts, PENDING)
                if isinstance(tmpl.get("outputs"), dict) and tmpl["outputs"]:
                    node = op.nodes.update(node["id"], outputs=suspend.raw_outputs(tmpl["outputs"]))
            return suspend.execute_suspend(self, node, tmpl, opts)
        message = f"{kind} templates need an agent, which this engine does not run yet"
        if node is None:
            node = self.new_node(name, NODE_TYPES[kind], holder, ctx, tmpl, opts, ERROR, message=message)
        return node

    # --- node creation -----------------------------------------------------------------------------

    def new_node(
        self,
        name: str,
        node_type: str,
        holder: dict[str, Any],
        ctx: TemplateBase,
        tmpl: dict[str, Any],
        opts: Opts,
        phase: str,
        message: str = "",
    ) -> dict[str, Any]:
        """A node for `holder` calling `tmpl` (display name and inputs from the template)."""
        given = tmpl.get("annotations")
        annotations: dict[str, Any] = given if isinstance(given, dict) else {}
        display = annotations.get(labels.ANN_DISPLAY_NAME)
        if display is not None and not names.valid_display_name(str(display)):
            display = None
        inputs = tmpl.get("inputs") if isinstance(tmpl.get("inputs"), dict) else None
        inputs = {k: v for k, v in (inputs or {}).items() if v} or None
        return self.op.nodes.init_node(
            name,
            node_type,
            opts.boundary_id,
            phase,
            template_name=holder.get("template") if isinstance(holder.get("template"), str) else None,
            template_ref=holder.get("templateRef") if isinstance(holder.get("templateRef"), dict) else None,
            template_scope=ctx.scope,
            message=message,
            flag=opts.flag,
            display_name=str(display) if display else None,
            inputs=inputs,
        )

    def error_node(
        self,
        name: str,
        holder: dict[str, Any],
        ctx: TemplateBase,
        opts: Opts,
        message: str,
        phase: str,
        node: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`node` marked `phase` with `message`, or a new Skipped-type node in that phase when there is
        none (a call that failed before its template could run)."""
        if node is not None:
            return self.op.nodes.mark(node["id"], phase, message)
        return self.op.nodes.init_node(
            name,
            "Skipped",
            opts.boundary_id,
            phase,
            template_name=holder.get("template") if isinstance(holder.get("template"), str) else None,
            template_ref=holder.get("templateRef") if isinstance(holder.get("templateRef"), dict) else None,
            template_scope=ctx.scope,
            message=message,
            flag=opts.flag,
        )

    # --- parallelism and failFast ------------------------------------------------------------------

    def check_parallelism(
        self, tmpl: dict[str, Any], kind: str, node: dict[str, Any] | None, boundary_id: str
    ) -> bool:
        """Argo's checkParallelism: False means "not now" (a silent wait), never an error."""
        op = self.op
        limit = self.spec.get("parallelism")
        if (
            node is None
            and kind in LEAF_POD_TYPES
            and isinstance(limit, int)
            and op.nodes.active_pods >= limit
        ):
            return False
        if node is not None and kind in ("steps", "dag"):
            if tmpl.get("failFast") is True and op.nodes.unsuccessful_by_boundary[node["id"]] > 0:
                if op.nodes.active_by_boundary[node["id"]] == 0:
                    self.fail_fast(node, kind)
                return False
            parallelism = tmpl.get("parallelism")
            if isinstance(parallelism, int) and op.nodes.active_by_boundary[node["id"]] >= parallelism:
                return True  # the children check the limit themselves
        if boundary_id and (node is None or node.get("phase") not in (PENDING, RUNNING)):
            boundary = op.nodes.get(boundary_id)
            btmpl = self.boundary_template(boundary) if boundary else None
            if boundary and btmpl:
                if btmpl.get("failFast") is True and op.nodes.unsuccessful_by_boundary[boundary_id] > 0:
                    if op.nodes.active_by_boundary[boundary_id] == 0:
                        self.fail_fast(boundary, template_type(btmpl))
                    return False
                parallelism = btmpl.get("parallelism")
                if isinstance(parallelism, int) and op.nodes.active_by_boundary[boundary_id] >= parallelism:
                    return False
        return True

    def fail_fast(self, node: dict[str, Any], kind: str | None) -> None:
        op = self.op
        message = "template has failed or errored children and failFast enabled"
        if kind == "steps":
            last_group = None
            index = 0
            while True:
                found = op.nodes.by(names.step_group_name(node["name"], index))
                if found is None:
                    break
                last_group = found
                index += 1
            if last_group is not None and not fulfilled(last_group):
                op.nodes.mark(last_group["id"], FAILED, message)
        op.nodes.mark(node["id"], FAILED, message)

    def boundary_template(self, boundary: dict[str, Any]) -> dict[str, Any] | None:
        """The template of a steps/dag node, remembered when it was executed in this step."""
        return self.boundary_templates.get(boundary["id"])

    def remember_boundary(self, node_id: str, tmpl: dict[str, Any]) -> None:
        self.boundary_templates[node_id] = tmpl

    def unsuccessful(self, phase: str | None) -> bool:
        return phase in FAILED_OR_ERROR

    def is_daemon(self, node: dict[str, Any]) -> bool:
        """Whether a pod node's template is a daemon (looked up by the node's template reference)."""
        cache = self._daemon_cache
        key = node["id"]
        if key not in cache:
            cache[key] = bool(node_template(self.templates, node).get("daemon"))
        return cache[key]
