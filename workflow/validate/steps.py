"""Steps templates.

Scope: a step sees the steps of earlier groups (document order), never a later step nor a sibling of its
own group (siblings run in parallel, so their outputs cannot be resolved yet: Argo's validation lets
that through and the workflow fails at runtime; we refuse it with the reason). The template's outputs
see every step, aggregated for looped ones.
"""

from __future__ import annotations

from typing import Any

from workflow.errors import child
from workflow.validate.calls import check_after_call, check_call_site, check_name, has_hooks, own_fields
from workflow.validate.context import Ctx, Job
from workflow.validate.templates import call
from workflow.validate.util import get_list
from workflow.validate.variables import Producer, Scope, Visibility, Visible, producer_fields


def validate_steps(ctx: Ctx, job: Job, base: Scope) -> Scope:
    groups = get_list(job.tmpl, "steps")
    steps_path = child(job.path, "steps")
    if groups is not None and not groups:
        ctx.error(job, steps_path, f"{job.label}: steps must have at least one step group")
    producers: dict[str, Producer] = {}
    group_of: dict[str, int] = {}
    # Every step is known up front (so a reference to a later one says so); its template once reached.
    order = 0
    for g, group in enumerate(groups or ()):
        for step in group if isinstance(group, list) else ():
            name = step.get("name") if isinstance(step, dict) else None
            if isinstance(name, str) and name and name not in producers:
                producers[name] = Producer(name, None, False, order)
                group_of[name] = g
            order += 1
    seen: set[str] = set()
    order = 0
    for g, group in enumerate(groups or ()):
        if not isinstance(group, list):
            continue
        for s, step in enumerate(group):
            if isinstance(step, dict):
                _validate_step(
                    ctx,
                    job,
                    base,
                    step,
                    child(child(steps_path, g), s),
                    (g, s, order),
                    producers,
                    group_of,
                    seen,
                )
            order += 1
    return base.for_producers("steps", producers, lambda name: producer_fields(producers[name], True))


def _validate_step(
    ctx: Ctx,
    job: Job,
    base: Scope,
    step: dict[str, Any],
    at: str,
    position: tuple[int, int, int],
    producers: dict[str, Producer],
    group_of: dict[str, int],
    seen: set[str],
) -> None:
    g, s, order = position
    name = check_name(ctx, job, step, at, "step", seen)
    noun = f'step "{name}"' if name else f"steps[{g}][{s}]"
    items, any_item, looped = check_call_site(ctx, job, step, at, noun)
    scope = base.for_producers(
        "steps", producers, _visibility(producers, group_of, order, g, name, has_hooks(step)), items, any_item
    )
    res, info = call(ctx, job, step, at, caller=noun, scope=scope)
    if name and producers[name].order == order:
        producers[name].info = info if res.template is not None else None
        producers[name].aggregate = looped
    check_after_call(ctx, job, step, at, noun, scope)


def _visibility(
    producers: dict[str, Producer], group_of: dict[str, int], order: int, group: int, me: str, hooked: bool
) -> Visibility:
    def visible(name: str) -> Visible:
        p = producers[name]
        if name == me and p.order == order:
            return own_fields(p, hooked)
        if p.order >= order:
            return f'step "{name}" runs after this one'
        if group_of.get(name) == group:
            return f'step "{name}" runs in parallel with this one (same step group), so its outputs are not available yet'
        return producer_fields(p, True)

    return visible
