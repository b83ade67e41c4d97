"""Object-level validation: one Workflow, (Cluster)WorkflowTemplate or
CronWorkflow, with every template it holds or reaches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.errors import child
from workflow.resolve import (
    Effective,
    Owner,
    Reached,
    Resolver,
    effective_spec,
    reachable,
    spec_roots,
    workflow_template_ref,
)
from workflow.resolve.restrictions import NEEDS_REF_MESSAGE, is_restricted, override_violations
from workflow.validate import cron
from workflow.validate.arguments import check_names, validate_arguments
from workflow.validate.calls import check_hooks
from workflow.validate.context import Ctx, Job, Options
from workflow.validate.memo import TemplateMemo
from workflow.validate.specfields import check_spec_fields
from workflow.validate.templates import call, validate_template
from workflow.validate.util import get_list, get_map, get_str, named
from workflow.validate.variables import build_globals

MAX_NAME = 63
NAME_NOUNS = {
    "Workflow": "workflow name",
    "WorkflowTemplate": "workflow template name",
    "ClusterWorkflowTemplate": "cluster workflow template name",
}


@dataclass(slots=True)
class Outcome:
    ctx: Ctx
    effective: Effective | None  # None when the object has no spec to run
    reached: list[Reached] = field(default_factory=list)  # every template the spec holds or reaches


def validate_object(
    doc: dict[str, Any], resolver: Resolver, options: Options, memo: TemplateMemo | None = None
) -> Outcome:
    kind = doc.get("kind")
    meta = get_map(doc, "metadata") or {}
    name = get_str(meta, "name")
    spec = get_map(doc, "spec")
    template_validation = kind in ("WorkflowTemplate", "ClusterWorkflowTemplate")
    spec_path = "spec"
    if kind == "CronWorkflow":
        spec_path = "spec.workflowSpec"
        wf_spec = get_map(spec, "workflowSpec")
    else:
        wf_spec = spec
    ctx = Ctx(
        options, resolver, build_globals({}, [], [], template_validation), wf_spec or {}, template_validation
    )
    ctx.memo = memo
    if kind in NAME_NOUNS and len(name) > MAX_NAME:
        ctx.error(
            None,
            "metadata.name",
            f'{NAME_NOUNS[kind]} "{name}" must not be more than {MAX_NAME} characters long (currently {len(name)})',
        )
    if kind == "CronWorkflow":
        cron.check_name(ctx, name)
        if spec is not None:
            cron.validate_cron(ctx, spec, "spec")
    if spec is None or wf_spec is None:
        # Absent: required; present but not an object: the parser's type error says so already.
        if doc.get("spec") is None:
            ctx.error(None, "spec", "spec is required")
        elif spec is not None and spec.get("workflowSpec") is None:
            ctx.error(None, spec_path, "workflowSpec is required")
        return Outcome(ctx, None)
    metadata_sources = [meta, get_map(wf_spec, "workflowMetadata")]
    if kind == "CronWorkflow":
        metadata_sources.append(get_map(spec, "workflowMetadata"))
    return validate_spec(doc, wf_spec, spec_path, resolver, options, ctx, metadata_sources)


def validate_spec(
    doc: dict[str, Any],
    spec: dict[str, Any],
    spec_path: str,
    resolver: Resolver,
    options: Options,
    ctx: Ctx,
    metadata_sources: list[Any],
) -> Outcome:
    kind = doc.get("kind") or ""
    meta = get_map(doc, "metadata") or {}
    own = Owner(kind, get_str(meta, "name"), get_str(meta, "namespace") or None, spec, spec_path)
    ref = workflow_template_ref(spec)
    ref_path = child(spec_path, "workflowTemplateRef")
    if ref is not None:
        if get_list(spec, "templates"):
            ctx.error(
                None,
                child(spec_path, "templates"),
                "Templates is invalid field in spec if workflow referred WorkflowTemplate reference",
            )
        if not ref[0]:
            ctx.error(None, child(ref_path, "name"), "name is required")
    if is_restricted(options.template_referencing) and kind in ("Workflow", "CronWorkflow"):
        if ref is None:
            ctx.error(None, ref_path, NEEDS_REF_MESSAGE)
        else:
            for name in override_violations(spec, options.extra_allowed):
                ctx.error(
                    None,
                    child(spec_path, name),
                    f'field "{name}" is not permitted when using workflowTemplateRef with templateReferencing '
                    f"restriction ({options.template_referencing}): the referenced template decides it",
                )
    eff = effective_spec(spec, own, resolver, options.template_referencing, options.extra_allowed)
    if eff.ref_missing and ref is not None:
        ctx.missing(None, child(ref_path, "name"), resolver.not_found(ref[1], ref[0]))
    if eff.base is not None:
        ctx.owner_problems(eff.base, ref_path)
    ctx.exec_spec = eff.spec
    check_spec_fields(ctx, spec, spec_path)
    check_names(ctx, None, get_list(spec, "templates"), child(spec_path, "templates"), False, "template")
    allow_empty = options.lint or ctx.template_validation
    validate_arguments(ctx, None, spec.get("arguments"), child(spec_path, "arguments"), allow_empty)
    if eff.base is not None and not allow_empty:
        _check_template_arguments(ctx, spec, eff, spec_path)
    if eff.base is not None:
        metadata_sources = [*metadata_sources, get_map(eff.base.spec, "workflowMetadata")]
    everything = reachable(resolver, spec_roots(eff.owner, resolver, eff.spec), ctx.resolved)
    ctx.globals = build_globals(
        eff.spec, metadata_sources, [r.template for r in everything], ctx.template_validation
    )
    ctx.exit_ids = {
        id(r.template) for r in reachable(resolver, spec_roots(eff.owner, resolver, eff.spec, exit_only=True))
    }
    wtr_site = ref_path if eff.base is not None else None
    spec_job = Job(own, eff.spec, spec_path, spec_path)
    _validate_entry_points(ctx, spec_job, eff, spec_path, wtr_site)
    for index, tmpl in eff.owner.templates():
        path = child(eff.owner.templates_path, index)
        job = Job(eff.owner, tmpl, path, wtr_site or path, exit_handler=id(tmpl) in ctx.exit_ids)
        validate_template(ctx, job)
    return Outcome(ctx, eff, everything)


def _check_template_arguments(ctx: Ctx, spec: dict[str, Any], eff: Effective, spec_path: str) -> None:
    """Parameters the referenced template declares without a value need one from the Workflow."""
    assert eff.base is not None
    given = {get_str(p, "name") for _, p in named(get_list(get_map(spec, "arguments"), "parameters"))}
    for _, param in named(get_list(get_map(eff.base.spec, "arguments"), "parameters")):
        name = get_str(param, "name")
        if name in given or any(param.get(k) is not None for k in ("value", "valueFrom")):
            continue
        ctx.error(
            None,
            child(child(spec_path, "arguments"), "parameters"),
            f'parameter "{name}" of {eff.base.label} has no value: set it in spec.arguments.parameters',
        )


def _validate_entry_points(ctx: Ctx, job: Job, eff: Effective, spec_path: str, wtr_site: str | None) -> None:
    """The entrypoint, onExit and hooks: resolved among the templates the workflow runs (the referenced
    template's, with a workflowTemplateRef), reported at the Workflow's own paths when it wrote them."""
    spec = eff.spec
    if eff.ref_missing:
        # The referenced template (which holds the entrypoint's, onExit's and hooks' templates) is not
        # visible yet: its absence is reported once, at workflowTemplateRef.name (a warning at admission,
        # as Argo CD may sync the Workflow first); names resolved against it would only repeat that.
        return
    if wtr_site:
        job = Job(job.owner, job.tmpl, job.path, job.site, scope_owner=eff.owner, target_site=wtr_site)
    check_args = not ctx.template_validation
    args, args_path = spec.get("arguments"), child(spec_path, "arguments")
    if not isinstance(args, dict):
        args_path = ""
    entrypoint = get_str(spec, "entrypoint")
    if not entrypoint:
        if not ctx.template_validation and not eff.ref_missing:
            ctx.error(None, child(spec_path, "entrypoint"), "spec.entrypoint is required")
    else:
        at = child(spec_path, "entrypoint")
        call(
            ctx,
            job,
            {"template": entrypoint},
            at,
            args=args,
            args_path=args_path or at,
            caller="the entrypoint",
            check_args=check_args,
            named_at=True,
        )
    on_exit = get_str(spec, "onExit")
    if on_exit:
        at = child(spec_path, "onExit")
        call(
            ctx,
            job,
            {"template": on_exit},
            at,
            args=args,
            args_path=args_path or at,
            caller="onExit",
            check_args=check_args,
            named_at=True,
        )
    hooks = spec.get("hooks")
    if isinstance(hooks, dict):
        mine = get_map(job.owner.spec, "hooks") or {}
        own = {k: v for k, v in hooks.items() if k in mine}
        check_hooks(ctx, job, own, child(spec_path, "hooks"), "the workflow", None)
        theirs = {k: v for k, v in hooks.items() if k not in mine}
        if theirs and eff.base is not None:
            base_job = Job(eff.owner, spec, eff.owner.spec_path, wtr_site or spec_path)
            check_hooks(ctx, base_job, theirs, child(eff.owner.spec_path, "hooks"), "the workflow", None)
