"""Arguments into a template's inputs (Argo's ProcessArgs): each input parameter's value by Argo's
precedence (argument, ConfigMap reference, value, default), input artifacts merged with their arguments,
then the template rendered with its inputs, outputs' paths and the globals in scope (scope.py holds
the scope's other rules).
"""

from __future__ import annotations

import json
from typing import Any

from workflow.engine import subst
from workflow.engine.defs import EngineError
from workflow.engine.scope import ABSENT, config_map_problem, config_map_value, param_value, text
from workflow.engine.state import Operation
from workflow.merge import ARTIFACT_LOCATIONS, has_location


def process_args(
    op: Operation, tmpl: dict[str, Any], args: dict[str, Any] | None, local: dict[str, Any]
) -> dict[str, Any]:
    """The template with its inputs taken from `args` (Argo's precedence) and every known tag substituted.

    Two passes, as Argo's SubstituteParams: globals and locals first (input values may use them), then
    the inputs themselves.
    """
    args = args or {}
    tmpl = dict(tmpl)  # only `inputs` is changed in place below; rendering builds new structures
    inputs = tmpl.get("inputs")
    if isinstance(inputs, dict):
        inputs = tmpl["inputs"] = dict(inputs)
        arg_params = {p.get("name"): p for p in args.get("parameters") or () if isinstance(p, dict)}
        new_params = []
        for param in inputs.get("parameters") or ():
            if not isinstance(param, dict):
                continue
            param = dict(param)
            name = param.get("name")
            value = _input_value(op, param, arg_params.get(name))
            if value is None:
                problem = config_map_problem(op, arg_params.get(name), param)
                raise EngineError(f"inputs.parameters.{name} was not supplied{problem}")
            param["value"] = value
            new_params.append(param)
        if new_params:
            inputs["parameters"] = new_params
        arg_arts = {a.get("name"): a for a in args.get("artifacts") or () if isinstance(a, dict)}
        new_arts = []
        for art in inputs.get("artifacts") or ():
            if not isinstance(art, dict):
                continue
            merged = _input_artifact(art, arg_arts.get(art.get("name")))
            if merged is not None:
                new_arts.append(merged)
        if inputs.get("artifacts") is not None:
            inputs["artifacts"] = new_arts
    # Argo substitutes globals first (input values may use them), then the inputs. When no input value
    # holds a tag, one pass with both gives the same text.
    two_passes = isinstance(inputs, dict) and subst.has_tags(inputs)
    if two_passes:
        tmpl = subst.render_dict(tmpl, op.globals, local)
    scope: dict[str, Any] = dict(local)
    # `{{inputs.parameters}}` (the whole list as JSON) is set in every template, as Argo's ProcessArgs
    # does: Go marshals an absent list as `null` (Hera's runner scripts use it with no inputs).
    scope["inputs.parameters"] = "null"
    inputs = tmpl.get("inputs")
    if isinstance(inputs, dict):
        params = [p for p in inputs.get("parameters") or () if isinstance(p, dict)]
        for param in params:
            value = text(param.get("value"))
            enum = param.get("enum")
            if enum and value not in [text(e) for e in enum]:
                raise EngineError(
                    f"inputs.parameters.{param.get('name')}: value '{value}' is not in the enum {list(map(text, enum))}"
                )
            scope[f"inputs.parameters.{param.get('name')}"] = value
        if isinstance(inputs.get("parameters"), list):
            scope["inputs.parameters"] = json.dumps(params, separators=(",", ":"))
        for art in inputs.get("artifacts") or ():
            if isinstance(art, dict) and art.get("name"):
                scope[f"inputs.artifacts.{art['name']}"] = art
                if art.get("path"):
                    scope[f"inputs.artifacts.{art['name']}.path"] = art["path"]
    outputs = tmpl.get("outputs")
    if isinstance(outputs, dict):
        for param in outputs.get("parameters") or ():
            path = (param.get("valueFrom") or {}).get("path")
            if path:
                scope[f"outputs.parameters.{param.get('name')}.path"] = path
        for art in outputs.get("artifacts") or ():
            if art.get("path"):
                scope[f"outputs.artifacts.{art.get('name')}.path"] = art["path"]
    return subst.render_dict(tmpl, op.globals, scope)


def _input_value(op: Operation, param: dict[str, Any], arg: dict[str, Any] | None) -> str | None:
    if arg is not None:
        value = param_value(arg)
        if value == ABSENT:
            value = None
        elif value is not None:
            return value
        found = _from_config_map(op, arg.get("valueFrom") or {})
        if found is not None:
            return found
    found = _from_config_map(op, param.get("valueFrom") or {})
    if found is not None:
        return found
    if param.get("value") is not None:
        return text(param["value"])
    if param.get("default") is not None:
        return text(param["default"])
    return None


def _from_config_map(op: Operation, value_from: dict[str, Any]) -> str | None:
    """The value of a `valueFrom.configMapKeyRef`, else that `valueFrom`'s `default`; None without a
    reference or when neither gives one."""
    ref = value_from.get("configMapKeyRef")
    if not isinstance(ref, dict):
        return None
    found = config_map_value(op, ref)
    if found is None and value_from.get("default") is not None:
        found = text(value_from["default"])
    return found


def _input_artifact(art: dict[str, Any], arg: dict[str, Any] | None) -> dict[str, Any] | None:
    name = art.get("name")
    if arg is not None and (has_location(arg) or arg.get("from") or arg.get("fromExpression")):
        merged = dict(art)
        for key in ARTIFACT_LOCATIONS:
            if arg.get(key) is not None:
                for other in ARTIFACT_LOCATIONS:
                    merged.pop(other, None)
                merged[key] = arg[key]
        for key in ("from", "fromExpression", "subPath", "archive", "mode"):
            if arg.get(key) is not None and key not in ("from", "fromExpression"):
                merged[key] = arg[key]
        return merged
    if has_location(art):
        return dict(art)
    if art.get("optional"):
        return None
    raise EngineError(f"inputs.artifacts.{name} was not supplied")
