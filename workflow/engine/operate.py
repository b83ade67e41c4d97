"""`step(workflow, observed, now)`: one reconcile of one workflow, as a pure function (docs/architecture.md, contract 1).

Order, after Argo's operate:
1. a completed workflow is left alone (locks still held are released);
2. the execution spec (workflowTemplateRef joined and stored), globals, first-step bookkeeping
   (Running, startedAt, labels, pod-name-format annotation), workflow-level locks;
3. resume/stop requests, pod and task-result observations into nodes;
4. shutdown (`spec.shutdown`) and the workflow deadline applied to live nodes;
5. the tree from the entrypoint (root node = workflow name), workflow-level hooks;
6. once the root is fulfilled: the exit handler `<wf>.onExit` with `workflow.status`/`failures`;
7. the workflow's phase from the root (and exit handler), message, conditions, progress, events.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec

from workflow import names
from workflow.check import check_object
from workflow.engine import (
    clock,
    custom_metrics,
    events,
    hooks,
    lifecycle,
    locks,
    memo,
    progress,
    reconcile,
    suspend,
)
from workflow.engine.defs import (
    COMPLETED,
    ERROR,
    FAILED,
    FAILED_OR_ERROR,
    PENDING,
    RUNNING,
    SUCCEEDED,
    EngineError,
    Opts,
    fulfilled,
)
from workflow.engine.execute import Engine
from workflow.engine.model import (
    Decision,
    DeleteCollection,
    DeletePod,
    Observed,
    PatchObject,
    TerminatePod,
)
from workflow.engine.scope import build_globals
from workflow.engine.state import Operation
from workflow.engine.templates import Templates, execution_spec
from workflow.labels import ANN_POD_NAME_FORMAT, LABEL_COMPLETED, LABEL_PHASE
from workflow.merge import with_workflow_defaults
from workflow.parse import normalised_workflow
from workflow.resolve.sources import NoSource
from workflow.types import API_VERSION

DEADLINE_MESSAGE = "Step exceeded its deadline"
# Tests set this to see engine bugs as exceptions instead of an Error workflow.
RAISE_INTERNAL_ERRORS = False


def _as_dict(workflow: Any) -> dict[str, Any]:
    """The workflow in its normalised JSON form (workflow/parse/__init__.py `normalised_workflow`): Argo v3's
    fields upgraded, so `synchronization.mutex` takes its lock like `mutexes`, and numbers given for
    strings rendered as Argo renders them. Reads the spec only, never the nodes."""
    if not isinstance(workflow, dict):
        workflow = msgspec.to_builtins(workflow)
    return normalised_workflow(workflow)


def step(workflow: Any, observed: Observed | None, now: datetime) -> Decision:
    """Decide what happens next for `workflow` given what is `observed` at `now`."""
    workflow = _as_dict(workflow)
    op = Operation(workflow, observed or Observed(), now)
    try:
        _operate(op)
    except EngineError as exc:
        _finish(op, ERROR, str(exc))
    except Exception as exc:  # a bug must not take the driver down; the workflow shows it
        if RAISE_INTERNAL_ERRORS:
            raise
        _finish(op, ERROR, f"internal error: {type(exc).__name__}: {exc}")
    # the side effects of this step's phase changes, once the tree is done: node events, memoization's
    # saves, custom metrics
    events.node_events(op)
    memo.save_succeeded(op)
    _emit_metrics(op)
    requeue = None
    if op.wake_at is not None and op.status.get("phase") not in COMPLETED:
        requeue = max(0.0, clock.seconds_between(now, op.wake_at))
    if not op.nodes:
        op.status.pop("nodes", None)
    return Decision(status=op.status, actions=op.actions, requeue_after=requeue)


def _emit_metrics(op: Operation) -> None:
    """The templates' and the workflow's custom metrics for this step's phase changes."""
    try:
        spec = execution_spec(op)
    except EngineError:
        return
    custom_metrics.emit(op, spec)


def _workflow_patch(op: Operation, labels: dict[str, str], annotations: dict[str, str] | None = None) -> None:
    meta = op.workflow.get("metadata") or {}
    current = meta.get("labels") or {}
    current_ann = meta.get("annotations") or {}
    labels = {k: v for k, v in labels.items() if current.get(k) != v}
    annotations = {k: v for k, v in (annotations or {}).items() if current_ann.get(k) != v}
    if not labels and not annotations:
        return
    patch: dict[str, Any] = {}
    if labels:
        patch["labels"] = labels
    if annotations:
        patch["annotations"] = annotations
    op.act(PatchObject(API_VERSION, "Workflow", op.namespace, op.name, {"metadata": patch}))


def _set_phase(op: Operation, phase: str, message: str | None = None) -> None:
    old = op.status.get("phase") or ""
    if phase != old:
        op.status["phase"] = phase
        events.workflow_event(op, phase, message)
    if message is not None:
        if message:
            op.status["message"] = message
        else:
            op.status.pop("message", None)


def _finish(op: Operation, phase: str, message: str) -> None:
    """Mark the workflow completed (terminal phase, finishedAt, labels, Completed condition)."""
    if not op.status.get("startedAt"):
        op.status["startedAt"] = op.now_s
    _set_phase(op, phase, message)
    op.status.setdefault("finishedAt", op.now_s)
    if not op.status.get("finishedAt"):
        op.status["finishedAt"] = op.now_s
    conditions = [c for c in op.status.get("conditions") or () if c.get("type") != "Completed"]
    conditions.append({"type": "Completed", "status": "True"})
    op.status["conditions"] = conditions
    _workflow_patch(op, {LABEL_PHASE: phase, LABEL_COMPLETED: "true"})
    op.act(
        DeleteCollection(
            API_VERSION, "WorkflowTaskResult", op.namespace, f"workflows.argoproj.io/workflow={op.name}"
        )
    )
    locks.release_finished(op, workflow_done=True)
    # Released in the same write that completes it, as Argo's ReleaseAll: a completed workflow never
    # shows a lock as held (the ReleaseLock actions are applied once this status is stored).
    op.status.pop("synchronization", None)
    progress.update(op)


def _failures(op: Operation) -> str:
    failures = []
    for node in op.nodes.values():
        if node.get("phase") in FAILED_OR_ERROR:
            template = (node.get("templateRef") or {}).get("template") or node.get("templateName") or ""
            failures.append(
                {
                    "displayName": node.get("displayName") or "",
                    "message": node.get("message") or "",
                    "templateName": template,
                    "phase": node["phase"],
                    "podName": names.pod_name(op.name, node["name"], template, op.config.pod_name_version),
                    "finishedAt": node.get("finishedAt"),
                }
            )
    # Argo stores the list strconv.Quote'd (consumers decode twice); no failures gives "null" in quotes.
    return json.dumps(json.dumps(failures or None, separators=(",", ":")), ensure_ascii=False)


def _workflow_status(root: dict[str, Any]) -> str:
    phase = root.get("phase")
    return phase if phase in FAILED_OR_ERROR else SUCCEEDED


def _apply_shutdown_and_deadline(op: Operation, eng: Engine, shutdown: str) -> None:
    """Running pods are terminated, pending pods and suspend nodes fail (outside exit handlers for Stop
    and the deadline; everything for Terminate)."""
    message = eng.stop_message
    for node_id, node in list(op.nodes.items()):
        if fulfilled(node) or node.get("type") not in ("Pod", "Suspend", "Container"):
            continue
        in_exit = _in_exit_handler(op, node)
        if in_exit and not eng.stop_applies_to_exit:
            continue
        pod = op.observed.pods.get(node_id)
        if node.get("type") == "Pod" and pod is not None:
            if node.get("phase") == PENDING:
                op.act(DeletePod(pod.name, node_id, message))
            else:
                op.act(TerminatePod(pod.name, node_id, message))
        op.nodes.mark(node_id, FAILED, message)


def _in_exit_handler(op: Operation, node: dict[str, Any]) -> bool:
    """Whether a node belongs to an exit handler (its name or an ancestor's is `...onExit`)."""
    name = node.get("name") or ""
    return ".onExit" in name


def _operate(op: Operation) -> None:
    phase = op.status.get("phase") or ""
    if phase in COMPLETED:
        locks.release_finished(op, workflow_done=True)
        return
    if phase == "" and not op.observed.checked:
        problem = _validate(op)
        if problem:
            _finish(op, FAILED, f"invalid spec: {problem}")
            return
    try:
        spec = execution_spec(op)
    except EngineError as exc:
        _finish(op, FAILED, f"invalid spec: {exc}")
        return
    entrypoint = spec.get("entrypoint")
    if not isinstance(entrypoint, str) or not entrypoint:
        _finish(op, FAILED, "invalid spec: spec.entrypoint is required")
        return
    templates = Templates(op, spec)
    eng = Engine(op, spec, templates)
    try:
        build_globals(op, spec)
    except EngineError as exc:
        _finish(op, FAILED, f"invalid spec: {exc}")
        return

    sync = spec.get("synchronization")
    if isinstance(sync, dict) and (sync.get("semaphores") or sync.get("mutexes")):
        held, _lock, message = locks.try_acquire_workflow(op, sync, spec)
        if not held:
            _set_phase(op, PENDING, message)
            _workflow_patch(op, {LABEL_PHASE: PENDING, LABEL_COMPLETED: "false"})
            op.status["synchronization"] = locks.status(op)
            return
    if phase in ("", PENDING):
        try:
            lifecycle.on_start(op, spec)
        except EngineError as exc:
            _finish(op, FAILED, f"invalid spec: {exc}")
            return
        op.status["startedAt"] = op.now_s
        _set_phase(op, RUNNING, "")
        _workflow_patch(
            op,
            {LABEL_PHASE: RUNNING, LABEL_COMPLETED: "false"},
            {ANN_POD_NAME_FORMAT: op.config.pod_name_version},
        )
    started = clock.parse_stamp(op.status.get("startedAt")) or op.now
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not isinstance(deadline, bool):
        seconds = clock.parse_duration(deadline)
        if seconds is not None:
            eng.workflow_deadline = clock.add_seconds(started, seconds)
    shutdown = str(spec.get("shutdown") or "")
    resume_all = suspend.apply_requests(op)
    if resume_all and spec.get("suspend"):
        op.act(PatchObject(API_VERSION, "Workflow", op.namespace, op.name, {"spec": {"suspend": None}}))
    eng.suspended = bool(spec.get("suspend")) and not resume_all
    reconcile.reconcile_pods(eng)
    lifecycle.collect_pods(op, spec)

    if shutdown in ("Stop", "Terminate"):
        eng.shutdown = shutdown
        eng.stop_message = f"Stopped with strategy '{shutdown}'"
        eng.stop_applies_to_exit = shutdown == "Terminate"
    elif eng.workflow_deadline is not None and op.now >= eng.workflow_deadline:
        eng.stop_message = DEADLINE_MESSAGE
    elif eng.workflow_deadline is not None:
        op.wake(eng.workflow_deadline)
    if eng.stop_message:
        _apply_shutdown_and_deadline(op, eng, shutdown)

    ctx = templates.local
    args = spec.get("arguments") if isinstance(spec.get("arguments"), dict) else {}
    op.globals["workflow.status"] = RUNNING
    root = eng.execute(op.name, {"template": entrypoint}, ctx, args, Opts())
    root = op.nodes.by(op.name)
    wf_hooks = hooks.lifecycle_hooks(spec)
    if wf_hooks and root is not None:
        hooks.run_lifecycle(eng, wf_hooks, root, ctx, Opts(), "", {}, "")
    if root is None or not fulfilled(root):
        _running(op, eng)
        return
    if not all(
        fulfilled(op.nodes.by(names.hook_node_name(op.name, h)) or {"phase": SUCCEEDED}) for h in wf_hooks
    ):
        _running(op, eng)
        return

    status = _workflow_status(root)
    op.globals["workflow.status"] = status
    op.globals["workflow.failures"] = _failures(op)
    exit_node = None
    exit_holder = hooks.exit_holder(spec)
    if exit_holder is not None and shutdown != "Terminate":
        exit_name = names.on_exit_node_name(op.name)
        try:
            exit_args = hooks.hook_args(eng, exit_holder, {})
        except EngineError as exc:
            exit_node = op.nodes.by(exit_name) or eng.error_node(
                exit_name, exit_holder, ctx, Opts(on_exit=True), str(exc), ERROR
            )
        else:
            exit_node = eng.execute(exit_name, exit_holder, ctx, exit_args, Opts(on_exit=True))
        if exit_node is None or not fulfilled(exit_node):
            _running(op, eng)
            return

    final, message = status, root.get("message") or ""
    if exit_node is not None and status == SUCCEEDED and exit_node.get("phase") in FAILED_OR_ERROR:
        final, message = exit_node["phase"], exit_node.get("message") or ""
    if shutdown in ("Stop", "Terminate"):
        final, message = FAILED, f"Stopped with strategy '{shutdown}'"
    elif eng.stop_message == DEADLINE_MESSAGE and final != SUCCEEDED:
        message = DEADLINE_MESSAGE
    lifecycle.on_complete(op, spec, final)
    _finish(op, final, message)


def _validate(op: Operation) -> str:
    """Argo validates once, at the first reconcile: the first error, or "". Skipped when the driver has
    just run the same check (`Observed.checked`; controller/spec_check.py)."""
    workflow = with_workflow_defaults(op.workflow, op.config.workflow_defaults)
    report = check_object(workflow, op.observed.templates or NoSource())
    return str(report.errors[0]) if report.errors else ""


def _running(op: Operation, eng: Engine) -> None:
    """Bookkeeping of a workflow that goes on: conditions, lock status, progress."""
    any_running = op.nodes.running_pods > 0
    conditions = [c for c in op.status.get("conditions") or () if c.get("type") != "PodRunning"]
    conditions.append({"type": "PodRunning", "status": "True" if any_running else "False"})
    op.status["conditions"] = conditions
    if eng.uses_sync or op.observed.locks:
        sync_status = locks.status(op)
        if sync_status:
            op.status["synchronization"] = sync_status
        else:
            op.status.pop("synchronization", None)
    locks.release_finished(op, workflow_done=False)
    if op.nodes.changed or not op.status.get("progress"):
        progress.update(op)  # a step that changed no node keeps every progress as it was
