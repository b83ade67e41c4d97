"""DAG templates.

Scope: a task sees only its ancestors (its transitive depends/dependencies), which is what the DAG
resolves at runtime; Argo's validation lets a non-ancestor through and the workflow fails mid-run, so we
refuse it and say which dependency is missing. The template's outputs and `target` see every task.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from workflow.errors import child
from workflow.validate.calls import check_after_call, check_call_site, check_name, has_hooks, own_fields
from workflow.validate.context import Ctx, Job
from workflow.validate.expressions import depends_summary
from workflow.validate.leaf import _find_cycle
from workflow.validate.tags import check_tags
from workflow.validate.templates import call
from workflow.validate.util import get_list, get_map, get_str, is_param_tag, named
from workflow.validate.variables import Producer, Scope, Visibility, Visible, producer_fields

MAX_TASKS = 200
ITEMS_RESULTS = ("AnySucceeded", "AllFailed")


def validate_dag(ctx: Ctx, job: Job, base: Scope) -> Scope:
    dag = get_map(job.tmpl, "dag") or {}
    dag_path = child(job.path, "dag")
    tasks_path = child(dag_path, "tasks")
    tasks = get_list(dag, "tasks")
    label = job.label
    if not tasks:
        ctx.error(job, tasks_path, f"{label} must have at least one task")
    elif len(tasks) > MAX_TASKS:
        ctx.error(job, tasks_path, f"{label}: too many tasks: {len(tasks)}, at most {MAX_TASKS}")
    entries = named(tasks)
    using_depends = any(get_str(t, "depends") for _, t in entries)
    seen: set[str] = set()
    names: list[tuple[int, dict[str, Any], str]] = []
    paths: dict[int, str] = {}
    for i, task in entries:
        at = paths[i] = f"{tasks_path}[{i}]"
        names.append((i, task, check_name(ctx, job, task, at, "task", seen)))
    producers = {name: Producer(name, None, False, i) for i, _, name in names if name}
    looped_names = {name for _, task, name in names if _is_looped(task)}
    deps: dict[str, list[str]] = {}
    for i, task, name in names:
        deps[name] = _dependencies(
            ctx, job, label, task, paths[i], name, using_depends, producers, looped_names
        )
    _check_cycles(ctx, job, deps, names, tasks_path)
    ancestry = _Ancestry(deps)
    scopes: dict[int, Scope] = {}
    nouns: dict[int, str] = {}
    for i, task, name in names:
        at = paths[i]
        noun = nouns[i] = f'task "{name}"' if name else f"tasks[{i}]"
        items, any_item, looped = check_call_site(ctx, job, task, at, noun)
        scope = base.for_producers(
            "tasks", producers, _visibility(producers, ancestry, name, has_hooks(task)), items, any_item
        )
        scopes[i] = scope
        res, info = call(ctx, job, task, at, caller=noun, scope=scope)
        if name:
            producers[name].info = info if res.template is not None else None
            producers[name].aggregate = looped
    # Hooks, onExit and tags once every task's template is known: an ancestor may be listed after the task.
    for i, task, _ in names:
        check_after_call(ctx, job, task, paths[i], nouns[i], scopes[i])
    full = base.for_producers("tasks", producers, lambda n: producer_fields(producers[n], True))
    _check_target(ctx, job, dag, child(dag_path, "target"), full, producers)
    return full


def _dependencies(
    ctx: Ctx,
    job: Job,
    label: str,
    task: dict[str, Any],
    at: str,
    name: str,
    using_depends: bool,
    producers: dict[str, Producer],
    looped: set[str],
) -> list[str]:
    """The task's dependencies, after checking how they are written."""
    depends = task.get("depends")
    if not isinstance(depends, str):
        depends = ""
    dependencies = task.get("dependencies")
    dependencies = [d for d in dependencies if isinstance(d, str)] if isinstance(dependencies, list) else []
    if name and name[0].isdigit() and (using_depends or dependencies):
        ctx.error(
            job,
            child(at, "name"),
            f"{label}: task name '{name}' cannot begin with a digit when using either 'depends' or 'dependencies'",
        )
    if depends and dependencies:
        ctx.error(job, at, f"{label}: task \"{name}\" cannot use both 'depends' and 'dependencies'")
    elif using_depends and dependencies:
        ctx.error(
            job,
            child(at, "dependencies"),
            f"{label} cannot use both 'depends' and 'dependencies' in the same DAG template",
        )
    if using_depends and task.get("continueOn") is not None:
        ctx.error(
            job,
            child(at, "continueOn"),
            f"{label} cannot use 'continueOn' when using 'depends'. Instead use 'dep-task.Failed'/'dep-task.Errored'",
        )
    found: list[str] = []
    if depends:
        refs, problem, tasks, items = depends_summary(depends)
        if problem:
            ctx.error(job, child(at, "depends"), f'task "{name}": invalid depends: {problem}')
        elif all(map(producers.__contains__, tasks)) and (
            not items or all(dep in looped for dep, _ in items)
        ):
            refs = ()  # the loop below would report nothing and keep every task named, in order
            found = list(tasks)
        for dep, result in refs:
            if dep not in producers:
                ctx.error(
                    job, child(at, "depends"), f"{label}: task \"{name}\" dependency '{dep}' not defined"
                )
                continue
            if result in ITEMS_RESULTS and dep not in looped:
                ctx.error(
                    job,
                    child(at, "depends"),
                    f"{label}: task \"{name}\" dependency '{dep}' uses an items-based condition such as "
                    ".AnySucceeded or .AllFailed but does not contain any items",
                )
            if dep not in found:
                found.append(dep)
    for j, dep in enumerate(dependencies):
        if dep not in producers:
            ctx.error(
                job,
                child(child(at, "dependencies"), j),
                f"{label}: task \"{name}\" dependency '{dep}' not defined",
            )
        elif dep not in found:
            found.append(dep)
    return found


def _is_looped(task: dict[str, Any]) -> bool:
    if "withItems" not in task and "withParam" not in task and "withSequence" not in task:
        return False
    for key in ("withItems", "withParam", "withSequence"):
        value = task.get(key)
        if value is not None and value not in ("", []):
            return True
    return False


def _check_cycles(
    ctx: Ctx,
    job: Job,
    deps: dict[str, list[str]],
    names: list[tuple[int, dict[str, Any], str]],
    tasks_path: str,
) -> None:
    if _in_order(deps):
        return
    cycle = _find_cycle({k: v for k, v in deps.items() if k})
    if cycle:
        index = next(i for i, _, n in names if n == cycle[0])
        ctx.error(
            job,
            child(child(tasks_path, index), "depends"),
            f"{job.label}: tasks dependency cycle detected: {'->'.join(cycle)}",
        )


def _in_order(deps: dict[str, list[str]]) -> bool:
    """Every task depends only on tasks listed before it (DAGs are mostly written so): no cycle."""
    position = {name: i for i, name in enumerate(deps)}
    for i, parents in enumerate(deps.values()):
        for parent in parents:
            if position.get(parent, i) >= i:
                return False
    return True


class _Ancestry:
    """Is X an ancestor of T? Answered by a search from T that stops when X is found (memoised)."""

    def __init__(self, deps: dict[str, list[str]]):
        self.deps = deps
        self.memo: dict[tuple[str, str], bool] = {}

    def is_ancestor(self, task: str, other: str) -> bool:
        direct = self.deps.get(task, ())
        if other in direct:
            return True  # the common case: a task reads the task it depends on
        key = (task, other)
        if key not in self.memo:
            seen = {task, *direct}
            queue = deque(direct)  # breadth first: near ancestors are found near the start
            found = False
            while queue and not found:
                for parent in self.deps.get(queue.popleft(), ()):
                    if parent == other:
                        found = True
                        break
                    if parent not in seen:
                        seen.add(parent)
                        queue.append(parent)
            self.memo[key] = found
        return self.memo[key]


def _visibility(producers: dict[str, Producer], ancestry: _Ancestry, me: str, hooked: bool) -> Visibility:
    def visible(name: str) -> Visible:
        p = producers[name]
        if name == me:
            return own_fields(p, hooked)
        if me and ancestry.is_ancestor(me, name):
            return producer_fields(p, True)
        return (
            f'missing dependency \'{name}\': task "{name}" is not an ancestor of task "{me}" '
            "(add it to depends or dependencies)"
        )

    return visible


def _check_target(
    ctx: Ctx, job: Job, dag: dict[str, Any], at: str, scope: Scope, producers: dict[str, Producer]
) -> None:
    target = get_str(dag, "target")
    if not target:
        return
    check_tags(ctx, job, target, at, scope)
    for name in target.split(" "):
        if name and not is_param_tag(name) and name not in producers:
            ctx.error(job, at, f"{job.label}: target '{name}' is not defined")
