"""Which template a step, task, hook or exit handler calls, frozen for the life of the run.

Resolution itself is workflow.resolve's (helper of lint and the webhook); the engine adds what a running
workflow needs:
- a template reached through `templateRef` is stored in `status.storedTemplates`
  (`namespaced/<wft>/<tmpl>` or `cluster/<cwft>/<tmpl>`) the first time and read from there afterwards,
  so editing or deleting the WorkflowTemplate never changes a running workflow; templates called by name
  from inside a referenced template are stored under the same scheme;
- `workflowTemplateRef`: the joined spec is stored in `status.storedWorkflowTemplateSpec` on the first
  step and used as the execution spec from then on;
- `templateDefaults` are merged under every template.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from workflow.engine.defs import EngineError
from workflow.engine.model import TemplateSource
from workflow.engine.state import Operation
from workflow.merge import apply_template_defaults, join_workflow_spec
from workflow.resolve import CWFT, Owner, Resolver, effective_spec, workflow_template_ref
from workflow.resolve.sources import NoSource


@dataclass(frozen=True, slots=True)
class TemplateBase:
    """A template base: the workflow itself ("local") or a (Cluster)WorkflowTemplate."""

    kind: str  # "local" | "namespaced" | "cluster"
    name: str

    @property
    def scope(self) -> str:
        return f"{self.kind}/{self.name}"


class Templates:
    def __init__(self, op: Operation, spec: dict[str, Any]):
        self.op = op
        self.spec = spec
        self.local = TemplateBase("local", op.name)
        self.defaults = (
            spec.get("templateDefaults") if isinstance(spec.get("templateDefaults"), dict) else None
        )
        self._local: dict[str, dict[str, Any]] = {}
        for tmpl in spec.get("templates") or ():
            if isinstance(tmpl, dict) and isinstance(tmpl.get("name"), str):
                self._local.setdefault(tmpl["name"], tmpl)
        self._resolver: Resolver | None = None
        self._cache: dict[tuple[str, str, str], dict[str, Any]] = {}

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            self._resolver = Resolver(self.op.observed.templates or NoSource(), self.op.namespace)
        return self._resolver

    def _with_defaults(self, tmpl: dict[str, Any]) -> dict[str, Any]:
        return apply_template_defaults(tmpl, self.defaults) if self.defaults else tmpl

    def _stored(self, kind: str, owner: str, name: str) -> dict[str, Any] | None:
        stored = self.op.status.get("storedTemplates") or {}
        return stored.get(f"{kind}/{owner}/{name}")

    def _store(self, kind: str, owner: str, name: str, tmpl: dict[str, Any]) -> None:
        stored = dict(self.op.status.get("storedTemplates") or {})
        key = f"{kind}/{owner}/{name}"
        if key not in stored:
            stored[key] = copy.deepcopy(tmpl)
            self.op.status["storedTemplates"] = stored

    def _from_owner(self, kind: str, owner_name: str, name: str) -> dict[str, Any]:
        stored = self._stored(kind, owner_name, name)
        if stored is not None:
            return stored
        owner = self.resolver.owner(kind == "cluster", owner_name)
        if owner is None:
            label = CWFT if kind == "cluster" else "WorkflowTemplate"
            raise EngineError(f'{label} "{owner_name}" not found')
        found = owner.template(name)
        if found is None:
            raise EngineError(f"template {name} not found in {owner.label}")
        tmpl = found[1]
        self._store(kind, owner_name, name, tmpl)
        return tmpl

    def resolve(self, holder: dict[str, Any], ctx: TemplateBase) -> tuple[TemplateBase, dict[str, Any]]:
        """(the context the template runs in, the template with defaults applied) or EngineError."""
        key = (ctx.kind, ctx.name, "")
        ref = holder.get("templateRef")
        if isinstance(ref, dict) and ref.get("name") and ref.get("template"):
            kind = "cluster" if ref.get("clusterScope") is True else "namespaced"
            new_ctx = TemplateBase(kind, str(ref["name"]))
            key = (kind, new_ctx.name, str(ref["template"]))
            tmpl = self._cache.get(key)
            if tmpl is None:
                tmpl = self._cache[key] = self._with_defaults(self._from_owner(kind, new_ctx.name, key[2]))
            return new_ctx, tmpl
        inline = holder.get("inline")
        if isinstance(inline, dict):
            return ctx, self._with_defaults(inline)
        name = holder.get("template")
        if isinstance(name, str) and name:
            key = (ctx.kind, ctx.name, name)
            tmpl = self._cache.get(key)
            if tmpl is None:
                if ctx.kind == "local":
                    found = self._local.get(name)
                    if found is None:
                        raise EngineError(f"template {name} not found")
                else:
                    found = self._from_owner(ctx.kind, ctx.name, name)
                tmpl = self._cache[key] = self._with_defaults(found)
            return ctx, tmpl
        raise EngineError("one of template, templateRef or inline is required")


def node_template(templates: Templates, node: dict[str, Any]) -> dict[str, Any]:
    """The template a node ran, found again from its `templateRef` / `templateName` and `templateScope`
    ({} when it cannot be found)."""
    holder: dict[str, Any] = {}
    if isinstance(node.get("templateRef"), dict):
        holder["templateRef"] = node["templateRef"]
    elif node.get("templateName"):
        holder["template"] = node["templateName"]
    if not holder:
        return {}
    kind, _, owner = str(node.get("templateScope") or "local/").partition("/")
    ctx = TemplateBase(kind, owner) if kind in ("namespaced", "cluster") else templates.local
    try:
        return templates.resolve(holder, ctx)[1]
    except EngineError:
        return {}


def execution_spec(op: Operation) -> dict[str, Any]:
    """The spec this workflow runs with: the Workflow over its WorkflowTemplate over the controller's
    `workflowDefaults` (Argo's setStoredWfSpec / setWorkflowDefaults). A workflowTemplateRef is joined
    once, on the first step, and stored with the defaults in it, as Argo stores it."""
    spec = (op.workflow.get("spec") or {}) if isinstance(op.workflow.get("spec"), dict) else {}
    stored = op.status.get("storedWorkflowTemplateSpec")
    if isinstance(stored, dict):
        return _with_live_controls(stored, spec)
    joined = run_spec(op.workflow, op.observed.templates, op.config.workflow_defaults)
    if workflow_template_ref(spec) is None:
        return joined
    merged = copy.deepcopy(joined)
    op.status["storedWorkflowTemplateSpec"] = merged
    return merged


def run_spec(
    workflow: dict[str, Any], source: TemplateSource | None, defaults: dict[str, Any] | None
) -> dict[str, Any]:
    """A Workflow's spec joined as it will run, before any step stored it: Workflow > WorkflowTemplate >
    `defaults` (also what a driver reads before the first step, e.g. an `artifactRepositoryRef` the
    WorkflowTemplate names). A workflowTemplateRef that cannot be found raises EngineError."""
    spec: dict[str, Any] = workflow["spec"] if isinstance(workflow.get("spec"), dict) else {}
    ref = workflow_template_ref(spec)
    if ref is None:
        return join_workflow_spec(spec, None, defaults) if defaults else spec
    name, cluster = ref
    meta = workflow.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    own = Owner("Workflow", meta.get("name") or "", namespace, spec, external=False)
    effective = effective_spec(spec, own, Resolver(source or NoSource(), namespace))
    if effective.ref_missing or effective.base is None:
        label = CWFT if cluster else "WorkflowTemplate"
        raise EngineError(f'{label} "{name}" not found')
    # Joining the defaults under (Workflow over WorkflowTemplate) is joining all three at once: each
    # join is a strategic merge of a lower side under the result so far (workflow/merge.py).
    return join_workflow_spec(effective.spec, None, defaults) if defaults else effective.spec


# What a user changes on a running Workflow to steer it: Argo copies them from the live spec into the
# stored one on every operation (operator.go setStoredWfSpec), so a `kubectl patch` of spec.shutdown
# stops a workflowTemplateRef run too.
LIVE_CONTROLS = ("shutdown", "suspend")


def _with_live_controls(stored: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    if all(stored.get(k) == spec.get(k) for k in LIVE_CONTROLS):
        return stored
    live = dict(stored)
    for key in LIVE_CONTROLS:
        if spec.get(key) is None:
            live.pop(key, None)
        else:
            live[key] = spec[key]
    return live
