"""The one normalised form of an Argo object: Argo v3's removed fields upgraded, once, on the JSON.

Everything downstream of parsing reads this form (validation, resolution, expansion, the engine, the
local runner, the webhook's checks); the raw object is kept only for the webhook's JSON patches
(webhook/defaults.py adds absent fields to what the user wrote) and for error paths, which
`Normalised.raw_path` maps back to what the user wrote.

Upgrades (each with a warning at the path the user wrote, LEGACY_FIELDS):
- `CronWorkflow.spec.schedule` joins the front of `schedules`;
- `synchronization.semaphore` / `mutex` join the front of `semaphores` / `mutexes` (workflow,
  template, templateDefaults, inline templates of steps and DAG tasks, and the copies the controller
  stored in `status.storedTemplates` / `storedWorkflowTemplateSpec`, those without a warning);
- `podPriority` (workflow) and `priority` (template) are kept, with a warning.

Why a dict and not the typed objects (workflow/types): measured in benchmarks/RESULTS.md ("One
normalised form"): every reader is written against JSON, and the engine would have to decode its whole
status on every step (52 ms of CPU for 10,000 nodes, past the 50 ms step budget) while this pass walks
only the templates and copies only what it changes (the raw object is never modified).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.errors import Problem, child, map_child

# Fields that Argo v3 had and v4.0 removed, keyed by (the type's class name, JSON name).
LEGACY_FIELDS: dict[tuple[str, str], str] = {
    ("CronWorkflowSpec", "schedule"): '"schedule" was removed in Argo v4.0; converted into "schedules"',
    ("Synchronization", "semaphore"): '"semaphore" was removed in Argo v4.0; converted into "semaphores"',
    ("Synchronization", "mutex"): '"mutex" was removed in Argo v4.0; converted into "mutexes"',
    ("WorkflowSpec", "podPriority"): '"podPriority" was removed in Argo v4.0; use "podPriorityClassName"',
    ("Template", "priority"): '"priority" is deprecated (removed in Argo v4.0); use "priorityClassName"',
}

WORKFLOW_SPEC_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate")


@dataclass(frozen=True, slots=True)
class Move:
    """A v3 singular field moved to the front of its v4 list (`inserted` False: it was already there)."""

    plural: str  # the list's path, e.g. `spec.synchronization.mutexes`
    single: str  # where the user wrote it, e.g. `spec.synchronization.mutex`
    inserted: bool


@dataclass(slots=True)
class Normalised:
    doc: Any  # the normalised object; the input itself when nothing changed
    warnings: list[Problem] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)

    def raw_path(self, path: str) -> str:
        """`path` in the normalised object as a path in what the user wrote."""
        for move in self.moves:
            if not move.inserted or not path.startswith(move.plural + "["):
                continue
            close = path.find("]", len(move.plural))
            index = path[len(move.plural) + 1 : close]
            if not index.isdigit():
                continue
            rest = path[close + 1 :]
            if index == "0":
                return move.single + rest
            return f"{move.plural}[{int(index) - 1}]{rest}"
        return path

    def raw_problems(self, problems: list[Problem]) -> list[Problem]:
        if not self.moves:
            return problems
        return [p if (f := self.raw_path(p.field)) == p.field else Problem(f, p.message) for p in problems]


def normalise_object(doc: Any) -> Normalised:
    """The normalised form of one Argo object as loaded from YAML or JSON (never raises, never mutates).

    Shapes that are not what Argo expects are left as they are: the parser reports them.
    """
    out = Normalised(doc)
    if not isinstance(doc, dict):
        return out
    kind = doc.get("kind")
    spec = doc.get("spec")
    if kind == "CronWorkflow":
        new_spec = _cron_spec(spec, "spec", out, True)
    elif kind in WORKFLOW_SPEC_KINDS:
        new_spec = _workflow_spec(spec, "spec", out, True)
    else:
        return out
    status = doc.get("status")
    new_status = _status(status, out) if kind == "Workflow" else status
    if new_spec is not spec or new_status is not status:
        out.doc = dict(doc)
        if new_spec is not spec:
            out.doc["spec"] = new_spec
        if new_status is not status:
            out.doc["status"] = new_status
    return out


def normalise_workflow_spec(spec: Any) -> Any:
    """A workflow spec on its own (e.g. the defaults merged under every Workflow), without warnings."""
    return _workflow_spec(spec, "spec", Normalised(spec), False)


def normalise_template(template: Any) -> Any:
    """One template on its own (e.g. a stored template), without warnings."""
    return _template(template, "", Normalised(template), False)


def _status(status: Any, out: Normalised) -> Any:
    """The controller's stored copies: upgraded the same way, but not the user's to fix (no warnings)."""
    if not isinstance(status, dict):
        return status
    new = status
    stored_spec = status.get("storedWorkflowTemplateSpec")
    upgraded = _workflow_spec(stored_spec, "status.storedWorkflowTemplateSpec", out, False)
    if upgraded is not stored_spec:
        new = dict(new)
        new["storedWorkflowTemplateSpec"] = upgraded
    stored = status.get("storedTemplates")
    if isinstance(stored, dict):
        changed: dict[str, Any] = {}
        for key, tmpl in stored.items():
            upgraded = _template(tmpl, map_child("status.storedTemplates", key), out, False)
            if upgraded is not tmpl:
                changed[key] = upgraded
        if changed:
            new = dict(new) if new is status else new
            new["storedTemplates"] = {**stored, **changed}
    return new


def _cron_spec(spec: Any, path: str, out: Normalised, warn: bool) -> Any:
    if not isinstance(spec, dict):
        return spec
    new = _join(spec, "schedule", "schedules", path, "CronWorkflowSpec", out, warn)
    inner = spec.get("workflowSpec")
    upgraded = _workflow_spec(inner, child(path, "workflowSpec"), out, warn)
    if upgraded is not inner:
        new = dict(new) if new is spec else new
        new["workflowSpec"] = upgraded
    return new


def _workflow_spec(spec: Any, path: str, out: Normalised, warn: bool) -> Any:
    if not isinstance(spec, dict):
        return spec
    if warn and spec.get("podPriority") is not None:
        out.warnings.append(
            Problem(child(path, "podPriority"), LEGACY_FIELDS[("WorkflowSpec", "podPriority")])
        )
    new = _with(
        spec, "synchronization", _sync(spec.get("synchronization"), child(path, "synchronization"), out, warn)
    )
    templates = spec.get("templates")
    if isinstance(templates, list):
        tpath = child(path, "templates")
        upgraded = [_template(t, child(tpath, i), out, warn) for i, t in enumerate(templates)]
        if any(u is not t for u, t in zip(upgraded, templates, strict=True)):
            new = _with(new, "templates", upgraded, spec)
    defaults = spec.get("templateDefaults")
    new = _with(
        new, "templateDefaults", _template(defaults, child(path, "templateDefaults"), out, warn), spec
    )
    return new


def _template(template: Any, path: str, out: Normalised, warn: bool) -> Any:
    if not isinstance(template, dict):
        return template
    if warn and template.get("priority") is not None:
        out.warnings.append(Problem(child(path, "priority"), LEGACY_FIELDS[("Template", "priority")]))
    sync = template.get("synchronization")
    new = _with(template, "synchronization", _sync(sync, child(path, "synchronization"), out, warn))
    steps = template.get("steps")
    if isinstance(steps, list):
        spath = child(path, "steps")
        groups = [_holders(group, child(spath, g), out, warn) for g, group in enumerate(steps)]
        if any(u is not g for u, g in zip(groups, steps, strict=True)):
            new = _with(new, "steps", groups, template)
    dag = template.get("dag")
    if isinstance(dag, dict):
        tasks = dag.get("tasks")
        upgraded = _holders(tasks, child(child(path, "dag"), "tasks"), out, warn)
        if upgraded is not tasks:
            new = _with(new, "dag", {**dag, "tasks": upgraded}, template)
    return new


def _holders(items: Any, path: str, out: Normalised, warn: bool) -> Any:
    """A steps group or a DAG's tasks, with each one's `inline` template normalised."""
    if not isinstance(items, list):
        return items
    changed = False
    upgraded = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("inline"), dict):
            inline = _template(item["inline"], child(child(path, i), "inline"), out, warn)
            if inline is not item["inline"]:
                item = {**item, "inline": inline}
                changed = True
        upgraded.append(item)
    return upgraded if changed else items


def _sync(sync: Any, path: str, out: Normalised, warn: bool) -> Any:
    if not isinstance(sync, dict):
        return sync
    new = _join(sync, "semaphore", "semaphores", path, "Synchronization", out, warn)
    return _join(new, "mutex", "mutexes", path, "Synchronization", out, warn)


def _join(
    obj: dict[str, Any], single: str, plural: str, path: str, cls: str, out: Normalised, warn: bool
) -> Any:
    """v3's `single` moved to the front of v4's list `plural` (once). A `plural` that is not a list is
    left alone, `single` with it: the parser reports the list."""
    if single not in obj:
        return obj
    value = obj[single]
    items = obj.get(plural)
    if items is not None and not isinstance(items, list):
        if warn and value is not None:
            out.warnings.append(Problem(child(path, single), LEGACY_FIELDS[(cls, single)]))
        return obj
    new = {k: v for k, v in obj.items() if k != single}
    if value is None or value == "":  # an empty v3 `schedule: ""` meant none
        return new
    if warn:
        out.warnings.append(Problem(child(path, single), LEGACY_FIELDS[(cls, single)]))
    items = list(items or ())
    inserted = value not in items
    if inserted:
        items.insert(0, value)
    new[plural] = items
    out.moves.append(Move(child(path, plural), child(path, single), inserted))
    return new


def _with(
    obj: dict[str, Any], key: str, value: Any, original: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`obj` with `key` set to `value`: the same dict when `value` is what it holds, else a copy (one copy
    per object: `original` says which dict would still be shared)."""
    if obj.get(key) is value:
        return obj
    if original is None or obj is original:
        obj = dict(obj)
    obj[key] = value
    return obj
