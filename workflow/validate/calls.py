"""What steps and DAG tasks share: names, loops, hooks, `when`, and the scope of their outputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from workflow.errors import child
from workflow.validate.arguments import validate_arguments
from workflow.validate.context import Ctx, Job
from workflow.validate.expressions import when_error
from workflow.validate.tags import check_expression, check_tags
from workflow.validate.templates import call
from workflow.validate.util import FIELD_NAME_MAX, FIELD_NAME_RE, field_name_errors, get_str, key_child
from workflow.validate.variables import NODE_FIELDS, Producer, Scope, producer_fields


def check_name(ctx: Ctx, job: Job, item: dict[str, Any], at: str, noun: str, seen: set[str]) -> str:
    """The step's or task's name ("" when unusable), after checking it is present, valid and unique."""
    name = item.get("name")
    if not isinstance(name, str) or not name:
        ctx.error(job, child(at, "name"), f"{job.label}: {noun} name is required")
        return ""
    if name in seen:
        ctx.error(job, child(at, "name"), f"{job.label}: {noun} name '{name}' is not unique")
        return ""
    seen.add(name)
    # placeholders in names are tolerated (validate.go); a short name matching the pattern is fine
    if "{{" not in name and (len(name) > FIELD_NAME_MAX or not FIELD_NAME_RE.match(name)):
        errs = field_name_errors(name)
        if errs:
            ctx.error(
                job, child(at, "name"), f"{job.label}: {noun} name '{name}' is invalid: {';'.join(errs)}"
            )
    return name


def loop_items(
    ctx: Ctx, job: Job, item: dict[str, Any], at: str, noun: str
) -> tuple[set[str] | None, bool, bool]:
    """(item keys, any item, looped) of a step's or task's withItems/withParam/withSequence."""
    if "withItems" not in item and "withParam" not in item and "withSequence" not in item:
        return None, False, False  # the common case: no loop
    with_items, with_param, with_seq = item.get("withItems"), item.get("withParam"), item.get("withSequence")
    defined = [
        f
        for f, v in (("withItems", with_items), ("withParam", with_param), ("withSequence", with_seq))
        if v not in (None, "", [])
    ]
    if len(defined) > 1:
        ctx.error(
            job,
            child(at, defined[1]),
            f"{noun}: only one of withItems, withParam, withSequence can be specified",
        )
    if isinstance(with_items, list) and with_items:
        keys: set[str] = set()
        for i, value in enumerate(with_items):
            if isinstance(value, dict):
                keys.update(f"item.{k}" for k in value)
            elif isinstance(value, list):
                keys.update(f"item.[{j}]" for j in range(len(value)))
            elif isinstance(value, (str, int, float, bool)):
                keys.add("item")
            else:
                ctx.error(
                    job, child(child(at, "withItems"), i), f"{noun}: unsupported withItems type: {value!r}"
                )
        return keys, False, True
    if isinstance(with_param, str) and with_param:
        if "{{" not in with_param and not _json_list(with_param):
            ctx.error(
                job, child(at, "withParam"), f"{noun}: withParam value could not be parsed as a JSON list"
            )
        return {"item"}, True, True
    if isinstance(with_seq, dict):
        if with_seq.get("count") is not None and with_seq.get("end") is not None:
            ctx.error(
                job,
                child(at, "withSequence"),
                f"{noun}: only one of count or end can be defined in withSequence",
            )
        for field in ("count", "start", "end"):
            value = with_seq.get(field)
            if isinstance(value, str) and "{{" not in value and not value.strip().lstrip("-").isdigit():
                ctx.error(
                    job,
                    child(child(at, "withSequence"), field),
                    f'{noun}: withSequence.{field} "{value}" is not an integer',
                )
        return {"item"}, False, True
    return None, False, False


def _json_list(text: str) -> bool:
    try:
        return isinstance(json.loads(text), list)
    except (ValueError, RecursionError):
        return False


def check_when(ctx: Ctx, job: Job, when: Any, at: str, noun: str) -> None:
    if isinstance(when, str) and when.strip():
        problem = when_error(when)
        if problem:
            ctx.error(job, at, f"{noun}: invalid 'when' expression: {problem}")


def check_call_site(
    ctx: Ctx, job: Job, item: dict[str, Any], at: str, noun: str
) -> tuple[set[str] | None, bool, bool]:
    """What a step or task says before its template is called: its loop, arguments and `when`.
    Returns loop_items' (item keys, any item, looped)."""
    loop = loop_items(ctx, job, item, at, noun)
    if item.get("arguments") is not None:
        validate_arguments(ctx, job, item["arguments"], child(at, "arguments"), allow_empty=False)
    if item.get("when"):
        check_when(ctx, job, item["when"], child(at, "when"), noun)
    return loop


def check_after_call(ctx: Ctx, job: Job, item: dict[str, Any], at: str, noun: str, scope: Scope) -> None:
    """What a step or task says that reads the outputs of its call: its hooks, onExit and tags."""
    if item.get("hooks"):
        check_hooks(ctx, job, item["hooks"], child(at, "hooks"), noun, scope)
    on_exit = get_str(item, "onExit")
    if on_exit:
        call(
            ctx,
            job,
            {"template": on_exit},
            child(at, "onExit"),
            caller=f"onExit of {noun}",
            scope=scope,
            check_args=False,
            named_at=True,
        )
    check_tags(
        ctx, job, {k: v for k, v in item.items() if k != "inline"} if "inline" in item else item, at, scope
    )


def check_hooks(ctx: Ctx, job: Job, hooks: Any, path: str, noun: str, scope: Scope | None) -> None:
    """Lifecycle hooks: every hook but `exit` needs an expression; each calls a template."""
    if not isinstance(hooks, dict):
        return
    for name, hook in hooks.items():
        if not isinstance(hook, dict) or not isinstance(name, str):
            continue
        at = key_child(path, name)
        if name != "exit" and not get_str(hook, "expression"):
            ctx.error(job, child(at, "expression"), f"{noun}: hooks.{name} Expression required")
        check_expression(ctx, job, hook.get("expression"), child(at, "expression"), "hook expression")
        validate_arguments(ctx, job, hook.get("arguments"), child(at, "arguments"), allow_empty=False)
        call(ctx, job, hook, at, caller=f'hook "{name}" of {noun}', scope=scope)


def own_fields(p: Producer, hooked: bool) -> Callable[[str], str | None]:
    """What a step or task may name of itself: its status, and its outputs in its own (exit) hooks."""
    if hooked:
        return producer_fields(p, True)

    def check(rest: str) -> str | None:
        if rest == "status" or rest in NODE_FIELDS:
            return None
        return "a step or task can only use its own outputs in its hooks"

    return check


def has_hooks(item: dict[str, Any]) -> bool:
    if "hooks" not in item and "onExit" not in item:
        return False
    hooks, on_exit = item.get("hooks"), item.get("onExit")
    return bool(hooks) and isinstance(hooks, dict) or bool(on_exit) and isinstance(on_exit, str)
