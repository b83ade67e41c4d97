"""Leaf templates: container, containerSet, script, resource, data, http, plugin, suspend."""

from __future__ import annotations

import re
from typing import Any

import yaml

from workflow.errors import child
from workflow.validate.context import Ctx, Job
from workflow.validate.durations import duration_error
from workflow.validate.tags import check_expression, check_tags
from workflow.validate.util import (
    enum_message,
    field_name_errors,
    get_list,
    get_map,
    get_str,
    named,
    scalar_text,
)
from workflow.validate.variables import Scope

RESOURCE_ACTIONS = ("get", "create", "apply", "delete", "replace", "patch")
MERGE_STRATEGIES = ("strategic", "merge", "json")
RESERVED_CONTAINERS = ("wait", "supervisor")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")  # the API server refuses any other on the pod
_ANY_TAG = re.compile(r"\{\{.*?\}\}", re.S)


def reserved(name: str) -> bool:
    return name in RESERVED_CONTAINERS or name.startswith("artifact-plugin-")


def validate_leaf(ctx: Ctx, job: Job, scope: Scope, kind: str) -> None:
    tmpl, path, label = job.tmpl, job.path, job.label
    body = {k: v for k, v in tmpl.items() if k != "outputs"}  # outputs are checked with outputs.py
    check_tags(ctx, job, body, path, scope)
    if kind == "container":
        _check_container(ctx, job, get_map(tmpl, "container"), child(path, "container"))
    elif kind == "script":
        script = get_map(tmpl, "script")
        if script is not None and not get_str(script, "image") and not _default_image(ctx, job, "script"):
            ctx.error(job, child(child(path, "script"), "image"), f"{label}: script.image may not be empty")
    elif kind == "containerSet":
        _check_container_set(ctx, job, get_map(tmpl, "containerSet"), child(path, "containerSet"))
    elif kind == "resource":
        _check_resource(ctx, job, get_map(tmpl, "resource"), child(path, "resource"))
    elif kind == "data":
        for i, step in named(get_list(get_map(tmpl, "data"), "transformation")):
            at = child(child(child(path, "data"), "transformation"), i)
            check_expression(
                ctx, job, step.get("expression"), child(at, "expression"), "transformation expression"
            )
    elif kind == "http":
        http = get_map(tmpl, "http")
        if http is not None:
            if not get_str(http, "url"):
                ctx.error(job, child(child(path, "http"), "url"), f"{label}: http.url is required")
            check_expression(
                ctx,
                job,
                http.get("successCondition"),
                child(child(path, "http"), "successCondition"),
                "successCondition",
            )
    elif kind == "suspend":
        duration = scalar_text((get_map(tmpl, "suspend") or {}).get("duration"))
        if duration and "{{" not in duration:
            problem = duration_error(duration, bare_seconds=True)
            if problem:
                ctx.error(job, child(child(path, "suspend"), "duration"), problem)
    check_pull_policies(ctx, job, tmpl, path)
    for i, sidecar in named(get_list(tmpl, "sidecars")):
        name = get_str(sidecar, "name")
        if reserved(name):
            ctx.error(
                job,
                child(child(child(path, "sidecars"), i), "name"),
                f'{label}: sidecars: "{name}" is a reserved Argo container name',
            )


def check_pull_policies(ctx: Ctx, job: Job | None, tmpl: dict[str, Any] | None, path: str) -> None:
    """Every container of a template (or of `templateDefaults`) becomes a pod's container: an
    `imagePullPolicy` the API server would refuse is refused here, with the allowed values (a `{{...}}`
    value is known only at run time)."""
    if tmpl is None:
        return
    found: list[tuple[dict[str, Any], str]] = []
    for field in ("container", "script"):
        single = get_map(tmpl, field)
        if single is not None:
            found.append((single, child(path, field)))
    members = child(child(path, "containerSet"), "containers")
    found += [(c, child(members, i)) for i, c in named(get_list(get_map(tmpl, "containerSet"), "containers"))]
    for field in ("initContainers", "sidecars"):
        found += [(c, child(child(path, field), i)) for i, c in named(get_list(tmpl, field))]
    for container, at in found:
        policy = container.get("imagePullPolicy")
        if isinstance(policy, str) and policy not in PULL_POLICIES and "{{" not in policy:
            ctx.error(job, child(at, "imagePullPolicy"), enum_message(policy, PULL_POLICIES))


def _default_image(ctx: Ctx, job: Job, kind: str) -> bool:
    answer = default_image(ctx, job, kind)
    if ctx.recorder is not None:  # a question to the world around the template (memo.py)
        ctx.recorder.images_read[kind] = answer
    return answer


def default_image(ctx: Ctx, job: Job, kind: str) -> bool:
    """templateDefaults of the template's own object, or of the spec the workflow runs with, give an image."""
    for spec in (job.owner.spec, ctx.exec_spec):
        if get_str(get_map(get_map(spec, "templateDefaults"), kind), "image"):
            return True
    return False


def _check_mounts(ctx: Ctx, job: Job, container: dict[str, Any], path: str, mounts: dict[str, str]) -> None:
    for i, mount in named(get_list(container, "volumeMounts")):
        mount_path = get_str(mount, "mountPath")
        where = f"container.volumeMounts.{get_str(mount, 'name')}"
        if mount_path in mounts:
            ctx.error(
                job,
                child(child(child(path, "volumeMounts"), i), "mountPath"),
                f"{job.label}: mountPath '{mount_path}' already mounted in {mounts[mount_path]}",
            )
        else:
            mounts[mount_path] = where


def _check_container(ctx: Ctx, job: Job, container: dict[str, Any] | None, path: str) -> None:
    if container is None:
        return
    mounts: dict[str, str] = {}
    _check_mounts(ctx, job, container, path, mounts)
    inputs_path = child(child(job.path, "inputs"), "artifacts")
    for i, art in named(get_list(get_map(job.tmpl, "inputs"), "artifacts")):
        art_path = get_str(art, "path")
        if art_path and art_path in mounts:
            ctx.error(
                job,
                child(child(inputs_path, i), "path"),
                f"{job.label}: inputs.artifacts path '{art_path}' already mounted in {mounts[art_path]}",
            )
        elif art_path:
            mounts[art_path] = f"inputs.artifacts.{get_str(art, 'name')}"
    if not get_str(container, "image") and not _default_image(ctx, job, "container"):
        ctx.error(job, child(path, "image"), f"{job.label}: container.image may not be empty")


def _check_container_set(ctx: Ctx, job: Job, cs: dict[str, Any] | None, path: str) -> None:
    if cs is None:
        return
    label = job.label
    containers = named(get_list(cs, "containers"))
    list_path = child(path, "containers")
    if not containers:
        ctx.error(job, list_path, f"{label}: containers must have at least one container")
        return
    names: dict[str, int] = {}
    for i, c in containers:
        name = get_str(c, "name")
        at = child(child(list_path, i), "name")
        errs = field_name_errors(name) if name else ["name is required"]
        if errs:
            ctx.error(job, at, f"{label}: containers[{i}].name '{name}' is invalid: {';'.join(errs)}")
        elif name in names:
            ctx.error(job, at, f"{label}: containers[{i}].name '{name}' is not unique")
        elif reserved(name):
            ctx.error(job, at, f'{label}: "{name}" is a reserved Argo container name')
        names.setdefault(name, i)
    mounts: dict[str, str] = {}
    _check_mounts(ctx, job, cs, path, mounts)
    deps: dict[str, list[str]] = {}
    for i, c in containers:
        name = get_str(c, "name")
        deps[name] = []
        for j, dep in enumerate(get_list(c, "dependencies") or []):
            if not isinstance(dep, str):
                continue
            if dep not in names:
                ctx.error(
                    job,
                    child(child(child(list_path, i), "dependencies"), j),
                    f"{label}: containers.{name} dependency '{dep}' not defined",
                )
            else:
                deps[name].append(dep)
    cycle = _find_cycle(deps)
    if cycle:
        ctx.error(
            job,
            child(child(list_path, names[cycle[0]]), "dependencies"),
            f"{label}: containers dependency cycle detected: {'->'.join(cycle)}",
        )
    inputs, outputs = get_map(job.tmpl, "inputs"), get_map(job.tmpl, "outputs")
    needs_main = (
        get_list(inputs, "artifacts") or get_list(outputs, "parameters") or get_list(outputs, "artifacts")
    )
    if needs_main and "main" not in names:
        ctx.error(
            job, list_path, f'{label}: containers must have a container named "main" for input or output'
        )


def _find_cycle(deps: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a path (a->b->a), or None. Iterative, so deep chains are fine."""
    state: dict[str, int] = {}
    for start in deps:
        if state.get(start):
            continue
        stack = [(start, iter(deps.get(start, ())))]
        trail = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                trail.pop()
                continue
            if state.get(nxt) == 1:
                return trail[trail.index(nxt) :] + [nxt]
            if not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(deps.get(nxt, ()))))
                trail.append(nxt)
    return None


def _check_resource(ctx: Ctx, job: Job, res: dict[str, Any] | None, path: str) -> None:
    if res is None:
        return
    label = job.label
    action = get_str(res, "action")
    if "{{" not in action and action not in RESOURCE_ACTIONS:
        ctx.error(
            job,
            child(path, "action"),
            f"{label}: resource.action must be one of: {', '.join(RESOURCE_ACTIONS)}",
        )
    strategy = res.get("mergeStrategy")
    if isinstance(strategy, str) and strategy and strategy not in MERGE_STRATEGIES:
        ctx.error(
            job,
            child(path, "mergeStrategy"),
            f"{label}: resource.mergeStrategy must be one of: strategic, merge, json",
        )
    manifest, manifest_from = get_str(res, "manifest"), res.get("manifestFrom")
    if manifest and manifest_from is not None:
        ctx.error(
            job,
            path,
            f"{label}: shouldn't have both `manifest` and `manifestFrom` specified in `Manifest` for resource template",
        )
    elif action not in ("get", "delete") and not manifest and manifest_from is None:
        ctx.error(job, path, f"either resource.manifest or resource.manifestFrom must be specified ({label})")
    art_name = get_str(get_map(get_map(res, "manifestFrom"), "artifact"), "name")
    if manifest_from is not None and art_name:
        inputs = {get_str(a, "name") for _, a in named(get_list(get_map(job.tmpl, "inputs"), "artifacts"))}
        if art_name not in inputs:
            ctx.error(
                job,
                child(child(child(path, "manifestFrom"), "artifact"), "name"),
                f"{label}: artifact {art_name} in `manifestFrom` refer to a non-exist artifact",
            )
    if manifest and not _is_yaml(manifest):
        ctx.error(job, child(path, "manifest"), f"{label}: resource.manifest must be a valid yaml")
    if action == "delete":
        outs = get_map(job.tmpl, "outputs")
        if (
            get_str(res, "successCondition")
            or get_str(res, "failureCondition")
            or get_list(outs, "parameters")
        ):
            ctx.error(
                job,
                path,
                f"{label}: successCondition, failureCondition and outputs are not supported for delete action",
            )


def _is_yaml(manifest: str) -> bool:
    # Tags are substituted before the manifest is applied: they become placeholders first (validate.go).
    replaced = _ANY_TAG.sub("placeholder", manifest)
    try:
        for _ in yaml.safe_load_all(replaced):
            pass
    except yaml.YAMLError:
        return False
    except RecursionError:
        return False
    return True
