"""Variables: global parameters, step/task outputs into scope, outputs out of scope (arguments into inputs:
inputs.py).

A scope is a flat dict like Argo's: `"steps.a.outputs.result" -> "hi"`, parameter values as strings and
artifacts as their JSON objects. Substitution and expressions are
workflow.templating / workflow.expr (through subst.py); this module decides what goes in the scope and
applies Argo's precedence rules.
"""

from __future__ import annotations

import json
from typing import Any

from workflow.engine import clock, subst
from workflow.engine.defs import SUCCEEDED, EngineError
from workflow.engine.state import Operation
from workflow.expr import ExpressionError
from workflow.merge import ARTIFACT_LOCATIONS
from workflow.names import item_string, recover_index
from workflow.templating import resolve_var

ABSENT = "__argo-internal.absent-optional-output__"
# Argo's Template.HasOutput: the types whose `outputs.result` exists.
HAS_OUTPUT = ("container", "script", "containerSet", "data", "http", "plugin")


def text(value: Any) -> str:
    """A parameter value as Argo stores it (AnyString): numbers and booleans in Go's JSON form."""
    return item_string(value)


def param_value(param: dict[str, Any]) -> str | None:
    value = param.get("value")
    return None if value is None else text(value)


# --- globals ---------------------------------------------------------------------------------------------


def build_globals(op: Operation, spec: dict[str, Any]) -> None:
    """Argo's setGlobalParameters: workflow.* identity, parameters, labels/annotations, outputs so far."""
    meta = op.workflow.get("metadata") or {}
    g = op.globals
    g[subst.NOW] = op.now
    g["workflow.name"] = op.name
    g["workflow.namespace"] = op.namespace
    g["workflow.uid"] = op.uid
    g["workflow.mainEntrypoint"] = spec.get("entrypoint") or ""
    g["workflow.serviceAccountName"] = spec.get("serviceAccountName") or ""
    created = meta.get("creationTimestamp") or op.status.get("startedAt") or op.now_s
    g["workflow.creationTimestamp"] = created
    started = op.status.get("startedAt")
    if started:
        begin = clock.parse_stamp(started)
        if begin is not None:
            g["workflow.duration"] = f"{clock.seconds_between(begin, op.now):.6f}"
    g["workflow.creationTimestamp.RFC3339"] = created
    if spec.get("priority") is not None:
        g["workflow.priority"] = text(spec["priority"])
    for key in ("labels", "annotations"):
        values = dict(meta.get(key) or {})
        for k, v in values.items():
            g[f"workflow.{key}.{k}"] = str(v)
        g[f"workflow.{key}.json"] = json.dumps(values, separators=(",", ":"), sort_keys=True)
    params: dict[str, str] = {}
    for param in (spec.get("arguments") or {}).get("parameters") or ():
        if not isinstance(param, dict) or not param.get("name"):
            continue
        value = param_value(param)
        if value is None:
            value_from = param.get("valueFrom") or {}
            ref = value_from.get("configMapKeyRef")
            if isinstance(ref, dict):
                value = config_map_value(op, ref)
            if value is None and value_from.get("default") is not None:
                value = text(value_from["default"])
        if value is None:
            raise EngineError(
                f"spec.arguments.{param['name']}.value is required{config_map_problem(op, param)}"
            )
        params[param["name"]] = value
        g[f"workflow.parameters.{param['name']}"] = value
    g["workflow.parameters.json"] = json.dumps(
        [{"name": k, "value": v} for k, v in params.items()], separators=(",", ":")
    )
    outputs = op.status.get("outputs") or {}
    for param in outputs.get("parameters") or ():
        if param.get("value") is not None:
            g[f"workflow.outputs.parameters.{param['name']}"] = text(param["value"])
    for art in outputs.get("artifacts") or ():
        g[f"workflow.outputs.artifacts.{art['name']}"] = art


def config_map_value(op: Operation, ref: dict[str, Any]) -> str | None:
    data = op.observed.config_maps.get(f"{op.namespace}/{ref.get('name')}")
    if data is None or ref.get("key") not in data:
        return None
    return str(data[ref["key"]])


def config_map_problem(op: Operation, *holders: dict[str, Any] | None) -> str:
    """Why no value came from a `valueFrom.configMapKeyRef` of these parameters (": ConfigMap "c" in
    namespace "n" not found", or its missing key), to follow "was not supplied"; "" when none has one."""
    for holder in holders:
        ref = ((holder or {}).get("valueFrom") or {}).get("configMapKeyRef")
        if not isinstance(ref, dict):
            continue
        name, key = ref.get("name"), ref.get("key")
        data = op.observed.config_maps.get(f"{op.namespace}/{name}")
        if data is None:
            return f': ConfigMap "{name}" in namespace "{op.namespace}" not found (valueFrom.configMapKeyRef)'
        if key not in data:
            return f': ConfigMap "{name}" has no key "{key}" (valueFrom.configMapKeyRef)'
    return ""


def export_global_outputs(op: Operation, outputs: dict[str, Any] | None) -> None:
    """Argo's addOutputsToGlobalScope: parameters/artifacts with a globalName go to status.outputs."""
    if not outputs:
        return
    for param in outputs.get("parameters") or ():
        gname = param.get("globalName")
        if not gname or param.get("value") is None:
            continue
        value = text(param["value"])
        op.globals[f"workflow.outputs.parameters.{gname}"] = value
        _upsert_global(op, "parameters", {"name": gname, "value": value})
    for art in outputs.get("artifacts") or ():
        gname = art.get("globalName")
        if not gname:
            continue
        exported = {k: v for k, v in art.items() if k not in ("path", "globalName")}
        exported["name"] = gname
        op.globals[f"workflow.outputs.artifacts.{gname}"] = exported
        _upsert_global(op, "artifacts", exported)


def _upsert_global(op: Operation, key: str, entry: dict[str, Any]) -> None:
    outputs = dict(op.status.get("outputs") or {})
    items = [e for e in (outputs.get(key) or []) if e.get("name") != entry["name"]]
    old = next((e for e in (outputs.get(key) or []) if e.get("name") == entry["name"]), None)
    if old == entry:
        return
    items.append(entry)
    outputs[key] = items
    op.status["outputs"] = outputs


# --- node outputs into a scope ---------------------------------------------------------------------------


def last_attempt(op: Operation, node: dict[str, Any]) -> dict[str, Any]:
    if node.get("type") == "Retry":
        attempts = op.nodes.attempts(node)
        if attempts:
            return attempts[-1]
    return node


def add_node(
    op: Operation,
    scope: dict[str, Any],
    prefix: str,
    node: dict[str, Any],
    tmpl: dict[str, Any] | None = None,
) -> None:
    """Argo's buildLocalScope: id, timestamps, ip, status, hostNodeName and outputs under `prefix`.

    For a Skipped/Omitted node, `tmpl` (its template) makes its declared output parameters "absent
    optionals": their `valueFrom.default`, else None.
    """
    node = last_attempt(op, node)
    if tmpl is not None and node.get("phase") in ("Skipped", "Omitted"):
        for param in (tmpl.get("outputs") or {}).get("parameters") or ():
            default = (param.get("valueFrom") or {}).get("default")
            scope[f"{prefix}.outputs.parameters.{param.get('name')}"] = (
                None if default is None else text(default)
            )
    scope[f"{prefix}.id"] = node["id"]
    if node.get("startedAt"):
        scope[f"{prefix}.startedAt"] = node["startedAt"]
    if node.get("finishedAt"):
        scope[f"{prefix}.finishedAt"] = node["finishedAt"]
    if node.get("podIP"):
        scope[f"{prefix}.ip"] = node["podIP"]
    if node.get("phase"):
        scope[f"{prefix}.status"] = node["phase"]
    if node.get("hostNodeName"):
        scope[f"{prefix}.hostNodeName"] = node["hostNodeName"]
    add_outputs(scope, prefix, node.get("outputs"))


def template_inputs(tmpl: dict[str, Any]) -> dict[str, Any]:
    """A steps/dag template's own inputs, for references like `from: "{{inputs.artifacts.x}}"`."""
    scope: dict[str, Any] = {}
    inputs = tmpl.get("inputs") or {}
    for art in inputs.get("artifacts") or ():
        if isinstance(art, dict) and art.get("name"):
            scope[f"inputs.artifacts.{art['name']}"] = art
    for param in inputs.get("parameters") or ():
        if isinstance(param, dict) and param.get("name") and param.get("value") is not None:
            scope[f"inputs.parameters.{param['name']}"] = text(param["value"])
    return scope


def mark_absent(step: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Arguments that are exactly one reference to an absent optional become "not supplied", so the
    consumer's input default applies (Argo's markAbsentOptionalArgs)."""
    args = step.get("arguments")
    if not isinstance(args, dict) or not args.get("parameters"):
        return step
    changed = False
    params = []
    for param in args["parameters"]:
        value = param.get("value") if isinstance(param, dict) else None
        if (
            isinstance(value, str)
            and value.startswith("{{")
            and value.endswith("}}")
            and value.count("{{") == 1
        ):
            key = value[2:-2].strip()
            if key in scope and scope[key] is None:
                param = dict(param)
                param["value"] = ABSENT
                changed = True
        params.append(param)
    if not changed:
        return step
    step = dict(step)
    step["arguments"] = dict(args)
    step["arguments"]["parameters"] = params
    return step


def add_outputs(scope: dict[str, Any], prefix: str, outputs: dict[str, Any] | None) -> None:
    if not outputs:
        return
    if outputs.get("result") is not None:
        scope[f"{prefix}.outputs.result"] = outputs["result"]
    if outputs.get("exitCode") is not None:
        scope[f"{prefix}.exitCode"] = outputs["exitCode"]
    for param in outputs.get("parameters") or ():
        if param.get("value") is not None:
            scope[f"{prefix}.outputs.parameters.{param['name']}"] = text(param["value"])
    for art in outputs.get("artifacts") or ():
        scope[f"{prefix}.outputs.artifacts.{art['name']}"] = art


def aggregate(
    scope: dict[str, Any], prefix: str, tmpl_type: str | None, children: list[dict[str, Any]]
) -> None:
    """Argo's processAggregateNodeOutputs: looped outputs as JSON lists, in loop-index order."""
    ordered = sorted(children, key=lambda n: recover_index(n["name"]))
    param_maps: list[dict[str, str]] = []
    per_name: dict[str, list[str]] = {}
    results: list[Any] = []
    for node in ordered:
        outputs = node.get("outputs")
        if not outputs or node.get("phase") != SUCCEEDED:
            continue
        if outputs.get("parameters"):
            entry = {}
            for param in outputs["parameters"]:
                value = text(param.get("value")) if param.get("value") is not None else ""
                entry[param["name"]] = value
                per_name.setdefault(param["name"], []).append(value)
            param_maps.append(entry)
        if outputs.get("result") is not None:
            try:
                results.append(json.loads(outputs["result"]))
            except ValueError:
                results.append(outputs["result"])
    if tmpl_type in HAS_OUTPUT:
        scope[f"{prefix}.outputs.result"] = _go_json(results)
    scope[f"{prefix}.outputs.parameters"] = _go_json(param_maps)
    for name, values in per_name.items():
        scope[f"{prefix}.outputs.parameters.{name}"] = _go_json([_json_or_text(v) for v in values])


def _json_or_text(value: str) -> Any:
    """aggregatedJSONValueList: values that are JSON objects or lists stay JSON, the rest are strings."""
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    return value


def _go_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# --- outputs of a steps/dag template ---------------------------------------------------------------------


def resolve_reference(scope: dict[str, Any], globals_: dict[str, Any], ref: str) -> Any:
    """The value of a field that is one whole tag (`{{steps.a.outputs.parameters.x}}`, `{{= ... }}`)."""
    merged = dict(globals_)
    merged.update(scope)
    try:
        return resolve_var(ref, merged, now=globals_.get(subst.NOW))
    except ExpressionError as exc:
        raise EngineError(str(exc)) from None


def outputs_from_scope(op: Operation, tmpl: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any] | None:
    """Argo's getTemplateOutputsFromScope for steps/dag templates (valueFrom.parameter / expression)."""
    declared = tmpl.get("outputs") or {}
    if not declared.get("parameters") and not declared.get("artifacts"):
        return None
    outputs: dict[str, Any] = {}
    params = []
    for param in declared.get("parameters") or ():
        value_from = param.get("valueFrom") or {}
        try:
            if value_from.get("expression"):
                value = text(subst.evaluate(value_from["expression"], op.globals, scope))
            elif value_from.get("parameter"):
                value = text(resolve_reference(scope, op.globals, str(value_from["parameter"])))
            elif value_from.get("supplied") is not None or value_from.get("default") is None:
                raise EngineError(f"Unable to resolve output parameter {param.get('name')}")
            else:
                raise EngineError("no value")
        except EngineError:
            if value_from.get("default") is None:
                raise
            value = text(value_from["default"])
        out = {k: v for k, v in param.items() if k != "valueFrom"}
        out["value"] = value
        params.append(out)
    if params:
        outputs["parameters"] = params
    arts = []
    for art in declared.get("artifacts") or ():
        try:
            resolved = resolve_artifact(op, art, scope)
        except EngineError:
            if art.get("optional"):
                continue
            raise
        arts.append(resolved)
    if arts:
        outputs["artifacts"] = arts
    return outputs


def resolve_artifact(op: Operation, art: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """An artifact argument with `from` / `fromExpression`, turned into the source artifact's location."""
    if art.get("fromExpression"):
        found = subst.evaluate(art["fromExpression"], op.globals, scope)
    elif art.get("from"):
        found = resolve_reference(scope, op.globals, str(art["from"]))
    else:
        return dict(art)
    if not isinstance(found, dict):
        raise EngineError(f"Unable to resolve artifact: {art.get('from') or art.get('fromExpression')}")
    resolved = {
        k: v for k, v in found.items() if k not in ("name", "path", "globalName", "from", "fromExpression")
    }
    resolved["name"] = art.get("name")
    for key in ("path", "mode", "optional", "archive", "subPath"):
        if art.get(key) is not None:
            resolved[key] = art[key]
    if art.get("subPath"):
        resolved = _with_sub_path(resolved, str(art["subPath"]))
    return resolved


def _with_sub_path(art: dict[str, Any], sub_path: str) -> dict[str, Any]:
    for key in ARTIFACT_LOCATIONS:
        loc = art.get(key)
        if isinstance(loc, dict) and "key" in loc:
            loc = dict(loc)
            loc["key"] = loc["key"].rstrip("/") + "/" + sub_path.lstrip("/")
            art = dict(art)
            art[key] = loc
            art.pop("subPath", None)
            return art
    return art
