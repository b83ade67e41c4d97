"""Template references and per-template checks.

`call` checks one holder (step, task, hook, exit handler, entrypoint): that its reference resolves,
that its arguments supply the template's inputs, and validates the template it reaches (once per check).
`validate_template` runs the checks every template gets and dispatches to leaf, steps or DAG checks.
"""

from __future__ import annotations

from typing import Any

from workflow.errors import child
from workflow.labels import ANN_DISPLAY_NAME
from workflow.merge import TEMPLATE_TYPES, template_type
from workflow.names import DISPLAY_NAME_RE
from workflow.resolve import Resolution
from workflow.validate import arguments, artifacts, leaf, memo, metrics, outputs
from workflow.validate.context import Ctx, Job
from workflow.validate.tags import check_expression
from workflow.validate.util import (
    CACHE_KEY_RE,
    get_list,
    get_map,
    get_str,
    has,
    key_child,
    named,
    scalar_text,
)
from workflow.validate.variables import (
    LEAF_TYPES,
    Scope,
    TemplateInfo,
    local_keys,
    template_info,
)

TYPE_FIELDS = TEMPLATE_TYPES
TYPES_CHOICE = (
    "choose one of: container, containerSet, steps, script, resource, dag, suspend, template, template ref"
)
RETRY_POLICIES = ("Always", "OnFailure", "OnError", "OnTransientError", "")
NO_POD_TYPES = ("steps", "dag", "suspend", "http", "plugin")
CALLERS = ("steps", "dag")  # template types whose validation calls other templates


def call(
    ctx: Ctx,
    job: Job,
    holder: dict[str, Any],
    holder_path: str,
    *,
    args: Any = None,
    args_path: str | None = None,
    caller: str = "",
    scope: Scope | None = None,
    check_args: bool = True,
    named_at: bool = False,
) -> tuple[Resolution, TemplateInfo | None]:
    """Check a holder in `job`'s template (or the spec: job.tmpl is then the spec) and validate its target.

    `named_at`: the holder is a bare template name written at `holder_path` (an entrypoint, an onExit).
    """
    owner = job.scope_owner or job.owner
    seen = ctx.resolved.get(id(holder))
    if seen is not None and seen[0] is holder and seen[1] is owner:
        res = seen[2]  # resolved by reachable() in this check
    else:
        res = ctx.resolver.resolve_holder(holder, owner, holder_path)
    if res.message:
        where = child(holder_path, res.problem_field) if res.problem_field and not named_at else holder_path
        text = f"{caller}: {res.message}" if caller else res.message
        if res.missing:
            ctx.missing(job, where, text)
        else:
            ctx.error(job, where, text)
    if res.template is None or res.owner is None:
        return res, None
    site = job.site if job.owner.external else job.target_site or holder_path
    if res.owner.external and res.owner.problems:
        ctx.owner_problems(res.owner, site)
    tmpl = res.template
    target: Job | None = None
    info = ctx.infos.get(id(tmpl))
    if info is None:  # not validated yet in this check (validate_template's own test, without a Job)
        target = _target(ctx, job, holder, res, site, caller, scope)
        info = validate_template(ctx, target)
    if check_args:
        needs = ctx.needs.get(id(tmpl))
        if needs is None:
            needs = ctx.needs[id(tmpl)] = arguments.template_needs(tmpl)
        if needs[0] or needs[1]:  # inputs without a value of their own: the caller must supply them
            given = args if args is not None else holder.get("arguments")
            if not arguments.all_supplied(given, needs):
                arguments.check_supplied(
                    ctx,
                    job,
                    given,
                    args_path or child(holder_path, "arguments"),
                    holder_path,
                    target or _target(ctx, job, holder, res, site, caller, scope),
                )
    return res, info


def _target(
    ctx: Ctx, job: Job, holder: dict[str, Any], res: Resolution, site: str, caller: str, scope: Scope | None
) -> Job:
    assert res.template is not None and res.owner is not None
    inline = holder.get("inline") is res.template
    return Job(
        owner=res.owner,
        tmpl=res.template,
        path=res.path,
        site=site,
        exit_handler=job.exit_handler or id(res.template) in ctx.exit_ids,
        outer=scope if inline else None,
        caller=caller,
    )


def validate_template(ctx: Ctx, job: Job) -> TemplateInfo:
    key = id(job.tmpl)
    if key in ctx.infos:
        return ctx.infos[key]
    if (
        job.owner.external
        and job.outer is None
        and ctx.recorder is None
        and template_type(job.tmpl) not in CALLERS
    ):
        return _validate_memoised(ctx, job)
    return _validate(ctx, job, ctx.globals)


def _validate_memoised(ctx: Ctx, job: Job) -> TemplateInfo:
    """A referenced template that calls no other: its problems replayed from the memo when the workflow
    at hand answers its questions as before, else validated and recorded (memo.py)."""
    key = memo.memo_key(job) if ctx.memo is not None else None
    if key is None or ctx.memo is None:
        return _validate(ctx, job, ctx.globals)
    for entry in ctx.memo.get(key):
        if memo.holds(entry, ctx, job):
            ctx.infos[id(job.tmpl)] = entry.info
            memo.replay(entry, ctx, job)
            return entry.info
    rec = memo.Recorder(job)
    ctx.recorder = rec
    try:
        info = _validate(ctx, job, memo.RecordingGlobals(ctx.globals, rec.globals_read))
    finally:
        ctx.recorder = None
    recorded = memo.entry_of(rec, info)
    if recorded is not None:
        ctx.memo.put(key, recorded)
    return info


def _validate(ctx: Ctx, job: Job, globals_: Any) -> TemplateInfo:
    tmpl, path = job.tmpl, job.path
    info = template_info(tmpl)
    ctx.infos[id(tmpl)] = info  # before descending: recursive templates are validated once
    kinds = [k for k in TYPE_FIELDS if tmpl.get(k) is not None]
    if not kinds:
        ctx.error(job, path, f"{job.label}: template type unspecified. {TYPES_CHOICE}")
    elif len(kinds) > 1:
        ctx.error(
            job, path, f"{job.label}: multiple template types specified ({', '.join(kinds)}). {TYPES_CHOICE}"
        )
    kind = info.type
    leafy = kind in LEAF_TYPES
    arguments.check_inputs(ctx, job, leafy)
    _check_fields(ctx, job, kind, leafy)
    scope = Scope(
        globals_,
        local_keys(tmpl, kind),
        job.exit_handler,
        outer=job.outer,
        label=job.label,
    )
    out_scope = scope
    if kind == "steps":
        from workflow.validate import steps

        out_scope = steps.validate_steps(ctx, job, scope)
    elif kind == "dag":
        from workflow.validate import dag

        out_scope = dag.validate_dag(ctx, job, scope)
    elif kind is not None:
        leaf.validate_leaf(ctx, job, scope, kind)
    outputs.validate_outputs(ctx, job, out_scope, kind)
    return info


def _check_fields(ctx: Ctx, job: Job, kind: str | None, leafy: bool) -> None:
    tmpl, path, label = job.tmpl, job.path, job.label
    for i, init in named(get_list(tmpl, "initContainers")):
        if not get_str(init, "name"):
            ctx.error(
                job,
                child(child(child(path, "initContainers"), i), "name"),
                f"{label}: initContainers must all have container name",
            )
    if kind is not None and not leafy:
        for field, text in (("timeout", "timeout"), ("pendingTimeout", "pendingTimeout")):
            if has(tmpl, field):
                ctx.error(job, child(path, field), f"{label}: {kind} template doesn't support {text} field")
        if has(tmpl, "activeDeadlineSeconds"):
            ctx.error(
                job,
                child(path, "activeDeadlineSeconds"),
                f"{label}: activeDeadlineSeconds is only valid for leaf templates",
            )
    timeout = tmpl.get("timeout")
    whole = isinstance(timeout, str) and timeout.strip().lstrip("-").isdigit()  # a number is the parser's
    if leafy and whole and not isinstance(timeout, bool):
        ctx.error(
            job,
            child(path, "timeout"),
            f'{label}: {timeout!s} has invalid duration format in timeout (write a duration such as "{timeout}s")',
        )
    if leafy:
        from workflow.validate.durations import duration_error

        for field in ("timeout", "pendingTimeout"):
            value = tmpl.get(field)
            if (
                isinstance(value, str)
                and value.strip()
                and "{{" not in value
                and not value.strip().lstrip("-").isdigit()
            ):
                problem = duration_error(value)
                if problem:
                    ctx.error(job, child(path, field), f"{label}: {field}: {problem}")
        _check_deadline(ctx, job, tmpl.get("activeDeadlineSeconds"))
        if has(tmpl, "parallelism"):
            ctx.error(
                job,
                child(path, "parallelism"),
                f"{label}: parallelism is only valid for steps and dag templates",
            )
    elif _int(tmpl.get("parallelism")) is not None and tmpl["parallelism"] < 1:
        ctx.error(job, child(path, "parallelism"), f"{label}: parallelism must be at least 1")
    if has(tmpl, "podResources"):
        if kind in ("http", "plugin"):
            ctx.error(
                job,
                child(path, "podResources"),
                f"{label}: podResources is not supported for {kind} templates",
            )
        else:
            artifacts.check_pod_resources(ctx, job, tmpl.get("podResources"), child(path, "podResources"))
    if get_list(tmpl, "resourceClaims") and kind in NO_POD_TYPES:
        ctx.error(
            job,
            child(path, "resourceClaims"),
            f"{label}: resourceClaims is not supported for {kind} templates, which do not create a pod",
        )
    _check_retry(ctx, job, get_map(tmpl, "retryStrategy"), child(path, "retryStrategy"))
    _check_memoize(ctx, job, get_map(tmpl, "memoize"), child(path, "memoize"))
    display = (get_map(tmpl, "annotations") or {}).get(ANN_DISPLAY_NAME)
    if isinstance(display, str) and "{{" not in display and not DISPLAY_NAME_RE.match(display):
        ctx.error(
            job,
            key_child(child(path, "annotations"), ANN_DISPLAY_NAME),
            f"displayName must match the regex {DISPLAY_NAME_RE.pattern}",
        )
    metrics.check_metrics(ctx, job, get_map(tmpl, "metrics"), child(path, "metrics"))
    if has(tmpl, "archiveLocation"):
        artifacts.check_location(ctx, job, get_map(tmpl, "archiveLocation"), child(path, "archiveLocation"))
    artifacts.check_synchronization(
        ctx, job, get_map(tmpl, "synchronization"), child(path, "synchronization")
    )


def _check_deadline(ctx: Ctx, job: Job, value: Any) -> None:
    if value is None:
        return
    at = child(job.path, "activeDeadlineSeconds")
    text = f"{job.label}: activeDeadlineSeconds must be a positive integer > 0 or an argo variable"
    if isinstance(value, bool):
        ctx.error(job, at, text)
    elif isinstance(value, int):
        if value < 0:
            ctx.error(job, at, text)
    elif isinstance(value, str):
        stripped = value.strip()
        if "{{" in stripped:
            return
        try:
            if int(stripped) < 0:
                ctx.error(job, at, text)
        except ValueError:
            ctx.error(job, at, text)


def _check_retry(ctx: Ctx, job: Job, retry: dict[str, Any] | None, path: str) -> None:
    if retry is None:
        return
    policy = retry.get("retryPolicy")
    if isinstance(policy, str) and policy not in RETRY_POLICIES:
        ctx.error(
            job,
            child(path, "retryPolicy"),
            f"{policy} is not a valid RetryPolicy (one of Always, OnFailure, OnError, OnTransientError)",
        )
    limit = retry.get("limit")
    if isinstance(limit, str) and "{{" not in limit:
        try:
            int(limit)
        except ValueError:
            ctx.error(job, child(path, "limit"), f'limit "{limit}" is not an integer')
    check_expression(ctx, job, retry.get("expression"), child(path, "expression"), "retryStrategy.expression")
    backoff = get_map(retry, "backoff")
    if backoff is not None:
        from workflow.validate.durations import duration_error

        for field in ("duration", "maxDuration", "cap"):
            value = backoff.get(field)
            text = scalar_text(value) if not isinstance(value, bool) else None
            if text and "{{" not in text:
                problem = duration_error(text, bare_seconds=True)
                if problem:
                    ctx.error(job, child(child(path, "backoff"), field), problem)


def _check_memoize(ctx: Ctx, job: Job, memo: dict[str, Any] | None, path: str) -> None:
    if memo is None:
        return
    from workflow.validate.durations import duration_error

    key = memo.get("key")
    if isinstance(key, str) and "{{" not in key and not CACHE_KEY_RE.match(key):
        ctx.error(job, child(path, "key"), f"invalid cache key: {key} (it must match {CACHE_KEY_RE.pattern})")
    max_age = memo.get("maxAge")
    if isinstance(max_age, str) and max_age and "{{" not in max_age:
        problem = duration_error(max_age)
        if problem:
            ctx.error(job, child(path, "maxAge"), f"invalid maxAge: {problem}")
    cache = get_map(memo, "cache")
    if memo.get("cache") is not None and not get_str(get_map(cache, "configMap"), "name"):
        ctx.error(job, child(path, "cache"), "cache.configMap.name is required")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
