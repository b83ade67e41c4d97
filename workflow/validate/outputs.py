"""Template outputs (Argo's validateOutputs, validateOutputParameter)."""

from __future__ import annotations

from typing import Any

from workflow.errors import child
from workflow.validate.arguments import check_artifact_path, check_names
from workflow.validate.artifacts import check_artifact
from workflow.validate.context import Ctx, Job
from workflow.validate.tags import check_expression, check_tags
from workflow.validate.util import (
    PARAM_NAME_MSG,
    PARAM_NAME_RE,
    get_list,
    get_map,
    get_str,
    is_param_tag,
    named,
)
from workflow.validate.variables import LEAF_TYPES, Scope

VALUE_FROM_TYPES = ("path", "jqFilter", "jsonPath", "parameter", "expression")


def validate_outputs(ctx: Ctx, job: Job, scope: Scope, kind: str | None) -> None:
    outputs = get_map(job.tmpl, "outputs")
    if outputs is None:
        return
    path = child(job.path, "outputs")
    params_path, arts_path = child(path, "parameters"), child(path, "artifacts")
    check_names(ctx, job, get_list(outputs, "parameters"), params_path, True, "output parameter")
    check_names(ctx, job, get_list(outputs, "artifacts"), arts_path, True, "output artifact", tags=True)
    check_tags(ctx, job, outputs, path, scope)
    leaf = kind in LEAF_TYPES
    for i, art in named(get_list(outputs, "artifacts")):
        at = child(arts_path, i)
        check_artifact_path(ctx, job, art, at, leaf, "outputs")
        _check_global_name(ctx, job, art, at)
        check_expression(ctx, job, art.get("fromExpression"), child(at, "fromExpression"), "fromExpression")
        check_artifact(ctx, job, art, at)
    for i, param in named(get_list(outputs, "parameters")):
        _check_parameter(ctx, job, param, child(params_path, i), kind)


def _check_global_name(ctx: Ctx, job: Job, item: dict[str, Any], at: str) -> None:
    global_name = get_str(item, "globalName")
    if global_name and not is_param_tag(global_name) and not PARAM_NAME_RE.match(global_name):
        ctx.error(job, child(at, "globalName"), PARAM_NAME_MSG)


def _check_parameter(ctx: Ctx, job: Job, param: dict[str, Any], at: str, kind: str | None) -> None:
    name = get_str(param, "name")
    ref = f"outputs.parameters.{name}"
    value_from = param.get("valueFrom")
    _check_global_name(ctx, job, param, at)
    if value_from is not None and param.get("value") is not None:
        ctx.error(job, at, f"{ref} has both valueFrom and value specified. Choose one.")
        return
    if param.get("value") is not None:
        return
    if not isinstance(value_from, dict):
        if value_from is None:
            ctx.error(job, at, f"{ref} does not have valueFrom or value specified")
        return
    vf_path = child(at, "valueFrom")
    found = [t for t in VALUE_FROM_TYPES if get_str(value_from, t)]
    if value_from.get("supplied") is not None:
        found.append("supplied")
    if not found:
        ctx.error(
            job,
            vf_path,
            f"{ref}: valueFrom type unspecified. choose one of: path, jqFilter, jsonPath, parameter, raw, expression",
        )
    elif len(found) > 1:
        ctx.error(
            job,
            vf_path,
            f"{ref}: multiple valueFrom types specified ({', '.join(found)}). choose one of: path, jqFilter, jsonPath, parameter, raw",
        )
    if kind in ("container", "containerSet", "script") and not get_str(value_from, "path"):
        ctx.error(job, vf_path, f"{ref}.path must be specified for {kind} templates")
    elif kind == "resource" and not (get_str(value_from, "jqFilter") or get_str(value_from, "jsonPath")):
        ctx.error(job, vf_path, f"{ref}: .jqFilter or jsonPath must be specified for resource templates")
    elif kind in ("steps", "dag"):
        has_param, has_expr = bool(get_str(value_from, "parameter")), bool(get_str(value_from, "expression"))
        if not has_param and not has_expr:
            ctx.error(job, vf_path, f"{ref}.parameter or expression must be specified for {kind} templates")
        elif has_param and has_expr:
            ctx.error(
                job,
                vf_path,
                f"{ref} shouldn't have both `from` and `expression` specified in `ValueFrom` for {kind} templates",
            )
    file = get_str(value_from, "path")
    if file and ".." in file.split("/"):
        # Argo accepts it (the container resolves it); it is never needed and reads as an attempt to climb out.
        ctx.warn(
            job, child(vf_path, "path"), f"{ref}.valueFrom.path contains '..': write the path without it"
        )
    check_expression(
        ctx, job, value_from.get("expression"), child(vf_path, "expression"), "valueFrom.expression"
    )
