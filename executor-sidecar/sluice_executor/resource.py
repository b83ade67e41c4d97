"""Resource templates (`sluice executor resource ACTION`): the pod's main, running with the workflow's
service account (as Argo's `argoexec resource`).

Actions: `get`, `create`, `apply` (server-side apply, field manager `sluice`), `replace`, `delete`
(`--ignore-not-found` and `--wait=false` understood among `flags`), `patch` (`mergeStrategy` strategic,
the default, `merge` or `json`). The manifest is the template's `manifest` (YAML), or the input artifact
`manifestFrom` names (downloaded by `init`); its namespace defaults to the pod's, and `setOwnerReference`
makes the Workflow its owner. Then, with `successCondition`/`failureCondition` (conditions.py), the
object is read again until one holds, the failure condition first. Output parameters by `jsonPath` or
`jqFilter` (conditions.py, jqfilter.py) are read from the final object. The outputs go to the node's
WorkflowTaskResult, as `wait` reports them; an error goes to the termination log and the exit code is 1.
"""

from __future__ import annotations

import asyncio
import copy
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import yaml

from sluice_executor import conditions, jqfilter
from sluice_executor.podenv import PodEnv
from sluice_executor.taskresult import Reporter, ResultAPI, ResultAPIError
from sluice_executor.wait import conclude, report_then_finish

ACTIONS = ("get", "create", "apply", "delete", "replace", "patch")
POLL_FIRST, POLL_MAX = 1.0, 10.0  # seconds between reads while waiting for a condition


class ResourceError(Exception):
    """The action failed; the message is fit for the node's status."""


class NotFoundError(ResourceError):
    pass


class ResourceAPI(Protocol):
    async def get(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def create(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def apply(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def replace(self, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def patch(self, obj: dict[str, Any], body: Any, patch_type: str) -> dict[str, Any]: ...

    async def delete(self, obj: dict[str, Any]) -> None: ...


def describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta.get('namespace')}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')} {where}{meta.get('name') or meta.get('generateName') or '?'}"


MANIFEST_LIMIT = 3 * 1024 * 1024  # past the API server's request limit: no object could be that big


def manifest_artifact(resource: dict[str, Any]) -> str | None:
    """The input artifact `manifestFrom` names, if any."""
    source = resource.get("manifestFrom")
    artifact = source.get("artifact") if isinstance(source, dict) else None
    name = artifact.get("name") if isinstance(artifact, dict) else None
    return str(name) if name else None


def manifest_text(env: PodEnv, resource: dict[str, Any]) -> Any:
    """The manifest's text: the template's `manifest`, or the input artifact `manifestFrom` names (init
    downloaded it into /argo/inputs/artifacts/<name>)."""
    name = manifest_artifact(resource)
    if name is None:
        return resource.get("manifest")
    path = env.layout.inputs / name
    try:
        with open(path, "rb") as stream:
            data = stream.read(MANIFEST_LIMIT + 1)
    except IsADirectoryError:
        raise ResourceError(f"manifestFrom: input artifact {name} is a directory, not a manifest") from None
    except OSError as exc:
        raise ResourceError(f"manifestFrom: input artifact {name} cannot be read: {exc.strerror}") from None
    if len(data) > MANIFEST_LIMIT:
        raise ResourceError(
            f"manifestFrom: input artifact {name} is over {MANIFEST_LIMIT // 1024 // 1024} MiB"
        )
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ResourceError(f"manifestFrom: input artifact {name} is not UTF-8 text") from None


def manifest(env: PodEnv, resource: dict[str, Any]) -> Any:
    text = manifest_text(env, resource)
    if not isinstance(text, str) or not text.strip():
        raise ResourceError(
            "the resource template has no manifest (`manifest`, or `manifestFrom` an artifact)"
        )
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ResourceError(f"the manifest is not YAML: {' '.join(str(exc).split())[:300]}") from None
    return doc


def target(env: PodEnv, doc: Any, set_owner: bool, from_flags: bool = False) -> dict[str, Any]:
    if not isinstance(doc, dict) or not doc.get("kind") or not (doc.get("apiVersion") or from_flags):
        raise ResourceError("the manifest must be one object with apiVersion and kind")
    obj = copy.deepcopy(doc)
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise ResourceError("the manifest's metadata must be an object")
    meta.setdefault("namespace", env.namespace)
    if set_owner and env.workflow_uid:
        owners = [o for o in meta.get("ownerReferences") or () if isinstance(o, dict)]
        owners.append(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "name": env.workflow_name,
                "uid": env.workflow_uid,
                "blockOwnerDeletion": True,
            }
        )
        meta["ownerReferences"] = owners
    return obj


async def act(
    api: ResourceAPI, action: str, resource: dict[str, Any], doc: Any, obj: dict[str, Any]
) -> dict | None:
    flags = [str(f) for f in resource.get("flags") or ()]
    if action == "get":
        return await api.get(obj)
    if action == "create":
        return await api.create(obj)
    if action == "apply":
        return await api.apply(obj)
    if action == "replace":
        return await api.replace(obj)
    if action == "delete":
        try:
            await api.delete(obj)
        except NotFoundError:
            if "--ignore-not-found" not in flags and "--ignore-not-found=true" not in flags:
                raise
        return None
    strategy = str(resource.get("mergeStrategy") or "strategic")
    if strategy not in ("strategic", "merge", "json"):
        raise ResourceError(f"mergeStrategy {strategy!r}: must be strategic, merge or json")
    if strategy == "json" and not isinstance(doc, list):
        raise ResourceError("a json patch manifest must be a list of operations")
    if strategy != "json" and not isinstance(doc, dict):
        raise ResourceError(f"a {strategy} patch manifest must be an object")
    if not obj.get("metadata", {}).get("name"):
        raise ResourceError(
            "the patch names no object: give its name in the manifest or in flags (KIND NAME)"
        )
    return await api.patch(obj, doc, strategy)


async def wait_for_conditions(
    api: ResourceAPI, obj: dict[str, Any], resource: dict[str, Any], sleep: Callable[[float], Awaitable[None]]
) -> dict[str, Any]:
    success = conditions.parse(str(resource.get("successCondition") or ""))
    failure = conditions.parse(str(resource.get("failureCondition") or ""))
    delay = POLL_FIRST
    while True:
        current = await api.get(obj)
        failed = conditions.first_failure(failure, current)
        if failed is not None:
            raise ResourceError(f"{describe(current)}: failure condition '{failed}' evaluated true")
        if not success or conditions.all_match(success, current):
            return current
        await sleep(delay)
        delay = min(POLL_MAX, delay * 2)


def outputs(env: PodEnv, final: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    params, errors = [], []
    for param in (env.template.get("outputs") or {}).get("parameters") or ():
        value_from = param.get("valueFrom") if isinstance(param, dict) else None
        if not isinstance(value_from, dict):
            continue
        value = None
        if value_from.get("jsonPath"):
            read, text = conditions.json_path, str(value_from["jsonPath"])
        elif value_from.get("jqFilter"):
            read, text = jqfilter.jq_filter, str(value_from["jqFilter"])
        else:
            continue
        try:
            value = read(final, text) if final is not None else None
        except conditions.ConditionError as exc:
            if value_from.get("default") is None:
                errors.append(f"output parameter {param.get('name')}: {exc}")
                continue
            value = ""  # the default below
        if value is None or value == "":
            if value_from.get("default") is not None:
                value = str(value_from["default"])
            elif value is None:
                errors.append(f"output parameter {param.get('name')}: the object is gone (deleted)")
                continue
        params.append({**{k: v for k, v in param.items() if k != "value"}, "value": value})
    return ({"parameters": params} if params else {}), errors


async def run_resource(
    env: PodEnv,
    action: str,
    api: ResourceAPI,
    results: ResultAPI,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    reporter = Reporter(results, env, sleep)
    errors: list[str] = []
    got: dict[str, Any] = {}
    try:
        await reporter.start()
        resource = env.template.get("resource")
        if not isinstance(resource, dict):
            raise ResourceError("the template is not a resource template")
        if action not in ACTIONS:
            raise ResourceError(f"action {action!r}: must be one of {', '.join(ACTIONS)}")
        doc = manifest(env, resource)
        named = flag_target(resource)
        if named is not None:
            obj = target(env, named, False, from_flags=True)
        else:
            obj = target(env, doc, resource.get("setOwnerReference") is True)
        final = await act(api, action, resource, doc, obj)
        if final is not None and (resource.get("successCondition") or resource.get("failureCondition")):
            final = await wait_for_conditions(api, final, resource, sleep)
        got, errors = outputs(env, final)
        print(f"{action}: {describe(final or obj)}", file=sys.stderr)
    except (ResourceError, conditions.ConditionError, ResultAPIError) as exc:
        errors.append(str(exc))
    finally:
        await report_then_finish(reporter, got, errors)
    return conclude(env.layout.termination_log, errors, "resource")


def flag_target(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The object `flags` name, as kubectl takes it (`pod NAME` or `pod/NAME`); None without one. Its kind is
    resolved by the API (kind, singular, plural or short name)."""
    words = [str(f) for f in resource.get("flags") or () if not str(f).startswith("-")]
    if len(words) == 1 and "/" in words[0]:
        words = words[0].split("/", 1)
    if len(words) != 2:
        return None
    return {"apiVersion": "", "kind": words[0], "metadata": {"name": words[1]}}
