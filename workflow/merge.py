"""Argo's spec merges, on plain JSON: workflowTemplateRef joins and templateDefaults.

`join_workflow_spec(wf, wft, defaults)` is Argo's JoinWorkflowSpec (workflow/util/merge.go): the Workflow
over the WorkflowTemplate over the controller's workflowDefaults, as a Kubernetes strategic merge of
the WorkflowSpec type: lists with a merge key (templates, parameters, volumes...) merge item by item,
maps merge recursively, everything else is taken from the side with the higher priority. Three Argo
special cases follow the merge: `suspend` is always the Workflow's, hooks and labelsFrom are never merged
inside an entry, and an argument with a value is taken whole from the highest-priority side that gives
one a value (so a value in the Workflow never sits beside a `valueFrom` from the template).

Nothing here mutates its inputs.
"""

from __future__ import annotations

from typing import Any

from workflow.parse.normalise import normalise_workflow_spec

# patchMergeKey of every merged list in WorkflowSpec, Template and the Kubernetes types they embed.
MERGE_KEYS = {
    "templates": "name",
    "parameters": "name",
    "artifacts": "name",
    "volumes": "name",
    "tolerations": "key",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "initContainers": "name",
    "sidecars": "name",
    "containers": "name",
    "tasks": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
}
# Maps whose entries are replaced whole, never merged inside (merge.go MergeTo).
WHOLE_ENTRY_MAPS = ("hooks", "labelsFrom")
TEMPLATE_TYPES = (
    "container",
    "containerSet",
    "steps",
    "script",
    "resource",
    "dag",
    "suspend",
    "data",
    "http",
    "plugin",
)
ARTIFACT_LOCATIONS = ("s3", "git", "http", "artifactory", "hdfs", "raw", "oss", "gcs", "azure", "plugin")


def has_location(art: dict[str, Any]) -> bool:
    """The artifact names a storage location (full, or key-only)."""
    return any(art.get(kind) is not None for kind in ARTIFACT_LOCATIONS)


def _absent(value: Any) -> bool:
    # Go's omitempty: a null, an empty string or an empty list never overrides the lower side.
    return value is None or value == "" or (isinstance(value, list) and not value)


def strategic_merge(base: Any, overlay: Any, field: str = "") -> Any:
    """`overlay` merged over `base` (overlay wins), as a new value."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            if _absent(value):
                continue
            if key in out and not _absent(out[key]) and key not in WHOLE_ENTRY_MAPS:
                out[key] = strategic_merge(out[key], value, key)
            elif key in WHOLE_ENTRY_MAPS and isinstance(value, dict) and isinstance(out.get(key), dict):
                merged = dict(out[key])
                merged.update(value)
                out[key] = merged
            else:
                out[key] = value
        return out
    if isinstance(base, list) and isinstance(overlay, list) and field in MERGE_KEYS:
        return _merge_keyed(base, overlay, MERGE_KEYS[field])
    return overlay


def _merge_keyed(base: list[Any], overlay: list[Any], key: str) -> list[Any]:
    out = list(base)
    index = {item.get(key): i for i, item in enumerate(out) if isinstance(item, dict) and key in item}
    for item in overlay:
        if isinstance(item, dict) and key in item and item[key] in index:
            i = index[item[key]]
            out[i] = strategic_merge(out[i], item)
        else:
            if isinstance(item, dict) and key in item:
                index[item[key]] = len(out)
            out.append(item)
    return out


def _has_value(param: Any) -> bool:
    return isinstance(param, dict) and any(
        param.get(k) is not None for k in ("value", "default", "valueFrom")
    )


def _args_by_name(spec: dict[str, Any] | None, field: str) -> dict[str, dict[str, Any]]:
    args = spec.get("arguments") if isinstance(spec, dict) else None
    items = args.get(field) if isinstance(args, dict) else None
    if not isinstance(items, list):
        return {}
    return {i["name"]: i for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)}


def _location_kind(art: dict[str, Any]) -> str | None:
    kinds = [k for k in ARTIFACT_LOCATIONS if art.get(k) is not None]
    return kinds[0] if len(kinds) == 1 else None


def _override_artifact(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """merge.go mergeArtifactOverride: the same storage backend merges its location fields."""
    kind = _location_kind(base)
    if kind is None or kind != _location_kind(override):
        return dict(override)
    merged = dict(override)
    merged[kind] = strategic_merge(base[kind], override[kind])
    return merged


def join_workflow_spec(
    wf_spec: dict[str, Any], wft_spec: dict[str, Any] | None, defaults_spec: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The spec a Workflow runs with: Workflow over WorkflowTemplate over workflowDefaults.

    Each side is joined in its normalised form (workflow/parse/normalise.py): a v3 `synchronization.mutex`
    in the Workflow is its `mutexes`, which replaces the lower sides' list as a v4 one would."""
    wf_spec = normalise_workflow_spec(wf_spec)
    wft_spec = normalise_workflow_spec(wft_spec) if wft_spec is not None else None
    defaults_spec = normalise_workflow_spec(defaults_spec) if defaults_spec is not None else None
    target = dict(wf_spec)
    for lower in (wft_spec, defaults_spec):
        if isinstance(lower, dict):
            target = strategic_merge(lower, target)
    if wf_spec.get("suspend") != target.get("suspend"):
        if wf_spec.get("suspend") is None:
            target.pop("suspend", None)
        else:
            target["suspend"] = wf_spec["suspend"]
    _fix_arguments(target, wf_spec, wft_spec)
    return target


def with_workflow_defaults(workflow: dict[str, Any], defaults_spec: dict[str, Any] | None) -> dict[str, Any]:
    """The Workflow as Argo validates it before its first run (ValidateWorkflow is given the controller's
    workflowDefaults): its spec joined over the defaults. A workflowTemplateRef is left alone: the
    check joins the template under the Workflow itself, and the defaults must stay below both
    (workflow/engine/templates.py execution_spec joins all three to run it)."""
    spec = workflow.get("spec")
    if not defaults_spec or not isinstance(spec, dict) or spec.get("workflowTemplateRef") is not None:
        return workflow
    return {**workflow, "spec": join_workflow_spec(spec, None, defaults_spec)}


def _fix_arguments(target: dict[str, Any], wf_spec: dict[str, Any], wft_spec: dict[str, Any] | None) -> None:
    args = target.get("arguments")
    if not isinstance(args, dict):
        return
    args = target["arguments"] = dict(args)
    params = args.get("parameters")
    if isinstance(params, list):
        wf_params = {n: p for n, p in _args_by_name(wf_spec, "parameters").items() if _has_value(p)}
        wft_params = {n: p for n, p in _args_by_name(wft_spec, "parameters").items() if _has_value(p)}
        fixed = []
        for param in params:
            if _has_value(param):
                name = param.get("name")
                param = wf_params.get(name) or wft_params.get(name) or param
            fixed.append(param)
        args["parameters"] = fixed
    arts = args.get("artifacts")
    if isinstance(arts, list):
        wf_arts = _args_by_name(wf_spec, "artifacts")
        wft_arts = _args_by_name(wft_spec, "artifacts")
        fixed = []
        for art in arts:
            if isinstance(art, dict):
                name = art.get("name")
                override = (wf_arts.get(name) or wft_arts.get(name)) if isinstance(name, str) else None
                if override is not None and override is not art:
                    art = _override_artifact(art, override)
            fixed.append(art)
        args["artifacts"] = fixed


def template_type(tmpl: dict[str, Any]) -> str | None:
    """The one template type set on `tmpl` (None when there is none or more than one)."""
    found = [t for t in TEMPLATE_TYPES if tmpl.get(t) is not None]
    return found[0] if len(found) == 1 else None


def apply_template_defaults(tmpl: dict[str, Any], defaults: dict[str, Any] | None) -> dict[str, Any]:
    """operator.go mergedTemplateDefaultsInto: defaults under the template, keeping the template's type."""
    if not isinstance(defaults, dict) or not defaults:
        return tmpl
    kind = template_type(tmpl)
    merged: dict[str, Any] = strategic_merge(defaults, tmpl)
    for other in TEMPLATE_TYPES:
        if other != kind and tmpl.get(other) is None:
            merged.pop(other, None)
    return merged
