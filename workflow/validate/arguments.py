"""Arguments and inputs (and ProcessArgs' "was not supplied")."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from workflow.errors import child
from workflow.merge import has_location
from workflow.validate import artifacts
from workflow.validate.context import Ctx, Job
from workflow.validate.tags import check_expression
from workflow.validate.util import (
    PARAM_NAME_MSG,
    PARAM_NAME_RE,
    field_name_errors,
    get_list,
    get_map,
    get_str,
    has,
    named,
    scalar_text,
)

ARG_VALUE_FROM_OK = ("configMapKeyRef", "event", "supplied")
ARG_VALUE_FROM_BAD = ("path", "jsonPath", "jqFilter", "parameter", "expression")
MAX_INPUT_PARAMETERS = 500


# A `{{...}}` tag inside a name; `check_tags` checks that it resolves.
_NAME_TAG_RE = re.compile(r"\{\{[^{}]*\}\}")


def check_names(
    ctx: Ctx, job: Job | None, items: list[Any] | None, path: str, params: bool, what: str, tags: bool = False
) -> None:
    """Names present, valid and unique (validate.go validateWorkflowFieldNames). `tags`: a name may hold
    `{{...}}` tags, valid once substituted (output artifacts named `result-{{inputs.parameters.x}}`)."""
    if not items:
        return
    seen: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            ctx.error(job, f"{path}[{i}].name", f"{what} name is required")
            continue
        if params:
            if not PARAM_NAME_RE.match(_NAME_TAG_RE.sub("x", name) if tags else name):
                ctx.error(job, f"{path}[{i}].name", f"'{name}' is invalid: {PARAM_NAME_MSG}")
        else:
            errs = field_name_errors(name)
            if errs:
                ctx.error(job, f"{path}[{i}].name", f"'{name}' is invalid: {';'.join(errs)}")
        if name in seen:
            ctx.error(job, f"{path}[{i}].name", f"{what} name '{name}' is not unique")
        seen.add(name)


def _plain_names(items: list[Any]) -> bool:
    """check_names(..., params=True, ...) would find nothing: every object has a unique, valid name."""
    seen = set()
    for item in items:
        if isinstance(item, dict):
            name = item.get("name")
            if not isinstance(name, str) or not name or name in seen or not PARAM_NAME_RE.match(name):
                return False
            seen.add(name)
    return True


def validate_arguments(ctx: Ctx, job: Job | None, args: Any, path: str, allow_empty: bool) -> None:
    """Names and values of `arguments` (validate.go validateArguments)."""
    if not isinstance(args, dict):
        return
    params, arts = args.get("parameters"), args.get("artifacts")
    params = params if isinstance(params, list) else None
    arts = arts if isinstance(arts, list) else None
    if params and not _plain_names(params):
        check_names(ctx, job, params, child(path, "parameters"), True, "parameter")
    if arts and not _plain_names(arts):
        check_names(ctx, job, arts, child(path, "artifacts"), True, "artifact")
    for i, param in enumerate(params or ()):
        if not isinstance(param, dict):
            continue
        value_from = param.get("valueFrom")
        if value_from is None:
            if param.get("value") is None and not allow_empty:
                ctx.error(
                    job,
                    f"{child(path, 'parameters')}[{i}]",
                    f'parameter "{get_str(param, "name")}": value or valueFrom is required',
                )
        elif isinstance(value_from, dict):
            ok = any(value_from.get(k) is not None and value_from.get(k) != "" for k in ARG_VALUE_FROM_OK)
            bad = [k for k in ARG_VALUE_FROM_BAD if value_from.get(k) not in (None, "")]
            if bad or not ok:
                ctx.error(
                    job,
                    f"{child(path, 'parameters')}[{i}].valueFrom",
                    f'parameter "{get_str(param, "name")}": valueFrom only allows: default, configMapKeyRef and supplied',
                )
        if param.get("enum") is not None:
            check_enum(
                ctx, job, param, f"{child(path, 'parameters')}[{i}]", get_str(param, "name"), allow_empty
            )
    for i, art in named(arts) if arts else ():
        at = child(child(path, "artifacts"), i)
        name = get_str(art, "name")
        has_from = bool(get_str(art, "from"))
        has_expr = bool(get_str(art, "fromExpression"))
        if not has_from and not has_expr and not has_location(art):
            ctx.error(job, at, f'artifact "{name}": from, artifact location, or key is required')
        if has_from and has_expr:
            ctx.error(
                job, at, f'artifact "{name}" shouldn\'t have both `from` and `fromExpression` in Artifact'
            )
        check_expression(ctx, job, art.get("fromExpression"), child(at, "fromExpression"), "fromExpression")
        artifacts.check_artifact(ctx, job, art, at)


def check_enum(
    ctx: Ctx, job: Job | None, param: dict[str, Any], at: str, name: str, allow_empty: bool
) -> None:
    enum = param.get("enum")
    if enum is None:
        return
    if isinstance(enum, list) and not enum:
        ctx.error(job, child(at, "enum"), f'parameter "{name}": enum should contain at least one value')
        return
    if not isinstance(enum, list):
        return
    value = param.get("value")
    if value is None:
        if not allow_empty:
            ctx.error(job, at, f'parameter "{name}": value is required (it must be one of the enum values)')
        return
    text = scalar_text(value)
    allowed = [t for t in (scalar_text(e) for e in enum) if t is not None]
    if text is not None and text not in allowed:
        # Argo's words first (people search for them), then which value and which ones would do.
        ctx.error(
            job,
            child(at, "value"),
            f'parameter "{name}": value should be present in enum list: '
            f'"{text}" is not one of {", ".join(allowed)}',
        )


def check_inputs(ctx: Ctx, job: Job, leaf: bool) -> None:
    """Input names, input artifact paths and locations (validate.go validateInputs)."""
    inputs = get_map(job.tmpl, "inputs")
    if inputs is None:
        return
    path = child(job.path, "inputs")
    params = get_list(inputs, "parameters")
    check_names(ctx, job, params, child(path, "parameters"), True, "input parameter")
    if params and len(params) > MAX_INPUT_PARAMETERS:
        ctx.error(
            job,
            child(path, "parameters"),
            f"{job.label}: too many input parameters: {len(params)}, at most {MAX_INPUT_PARAMETERS}",
        )
    for i, param in named(params):
        check_enum(ctx, job, param, child(child(path, "parameters"), i), get_str(param, "name"), True)
    arts = get_list(inputs, "artifacts")
    check_names(ctx, job, arts, child(path, "artifacts"), True, "input artifact")
    for i, art in named(arts):
        at = child(child(path, "artifacts"), i)
        check_artifact_path(ctx, job, art, at, leaf, "inputs")
        if get_str(art, "from"):
            ctx.error(
                job,
                child(at, "from"),
                f"{job.label}: inputs.artifacts.{get_str(art, 'name')}.from not valid in inputs",
            )
        artifacts.check_artifact(ctx, job, art, at)


def check_artifact_path(ctx: Ctx, job: Job, art: dict[str, Any], at: str, leaf: bool, side: str) -> None:
    """An input or output artifact's `path` (`side`: "inputs" | "outputs"): only leaf templates have one,
    and it may not climb out with '..'."""
    name, art_path = get_str(art, "name"), get_str(art, "path")
    if leaf:
        problem = traversal_problem(name, art_path)
        if problem:
            ctx.error(job, child(at, "path"), problem)
    elif art_path:
        ctx.error(
            job,
            child(at, "path"),
            f"{job.label}: {side}.artifacts.{name}.path only valid in container/script templates",
        )


def traversal_problem(name: str, path: str) -> str | None:
    """wfv1 Artifact.CleanPath: a path that climbs out with '..' is refused."""
    if not path or "{{" in path:
        return None
    if ".." in posixpath.normpath(path):
        return (
            f"Artifact '{name}' attempted to use a path containing '..'. Directory traversal is not permitted"
        )
    return None


def check_supplied(ctx: Ctx, job: Job, args: Any, args_path: str, holder_path: str, target: Job) -> None:
    """Every input of `target` gets a value from `args` or has its own (common.ProcessArgs)."""
    needs = ctx.needs.get(id(target.tmpl))
    if needs is None:
        needs = ctx.needs[id(target.tmpl)] = template_needs(target.tmpl)
    params, arts = needs
    if not params and not arts:
        return
    at = args_path if isinstance(args, dict) else holder_path
    if params:
        arg_params = _arg_names(args, "parameters")
        for name in params:
            # An argument given without a value is validate_arguments' to report (lint allows it).
            if name not in arg_params:
                ctx.error(
                    job,
                    at,
                    f"inputs.parameters.{name} was not supplied ({target.label} declares it without a default)",
                )
    if arts:
        arg_arts = _arg_names(args, "artifacts")
        for name in arts:
            if name not in arg_arts:
                ctx.error(job, at, f"inputs.artifacts.{name} was not supplied ({target.label} needs it)")


def all_supplied(args: Any, needs: tuple[list[str], list[str]]) -> bool:
    """check_supplied would report nothing: `args` names every input in `needs` (template_needs)."""
    params, arts = needs
    if params and not _arg_names(args, "parameters").issuperset(params):
        return False
    return not arts or _arg_names(args, "artifacts").issuperset(arts)


def _arg_names(args: Any, field: str) -> set[str]:
    """get_str(item, "name") of every object in `args[field]`."""
    items = args.get(field) if isinstance(args, dict) else None
    if not isinstance(items, list):
        return set()
    names = set()
    for item in items:
        if isinstance(item, dict):
            name = item.get("name")
            names.add(name if isinstance(name, str) else "")
    return names


def template_needs(tmpl: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The inputs of a template that have no value of their own: parameters, then artifacts."""
    inputs = get_map(tmpl, "inputs")
    params = [
        get_str(p, "name")
        for _, p in named(get_list(inputs, "parameters"))
        if not (has(p, "value") or has(p, "default") or has(p, "valueFrom"))
    ]
    arts = [
        get_str(a, "name")
        for _, a in named(get_list(inputs, "artifacts"))
        if a.get("optional") is not True and not has_location(a)
    ]
    return params, arts
