"""A pod the engine rendered, read the way the in-pod executor reads it.

The processed template (script source, output paths, input artifacts, a containerSet's dependencies)
is the init container's `ARGO_TEMPLATE`; the user's containers are the pod's without `wait` and the
template's sidecars; env values come from `value` or the pod's own metadata (`fieldRef`). What the
local runner cannot provide (resource and data templates, sidecars, secret or configMap volumes,
hostAliases) is refused here with a message saying so. Used by localpod.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sluice.runner import artifacts, images

INTERNAL_MOUNTS = ("var-run-argo", "argo-staging", "input-artifacts")
_CLUSTER_VOLUMES = ("secret", "configMap", "projected", "downwardAPI")


def template(spec: dict[str, Any]) -> dict[str, Any]:
    """The init container's `ARGO_TEMPLATE` ({} when absent or not JSON)."""
    init = next((c for c in spec.get("initContainers") or () if c.get("name") == "init"), {})
    env = {e.get("name"): e.get("value") for e in init.get("env") or ()}
    try:
        return json.loads(env.get("ARGO_TEMPLATE") or "{}")
    except ValueError:
        return {}


def user_containers(spec: dict[str, Any], tmpl: dict[str, Any]) -> list[dict[str, Any]]:
    """The containers to run, each with its containerSet `dependencies` (none outside a set)."""
    sidecar_names = {c.get("name") for c in tmpl.get("sidecars") or () if isinstance(c, dict)}
    containers = [
        c
        for c in spec.get("containers") or ()
        if c.get("name") != "wait" and c.get("name") not in sidecar_names
    ]
    if isinstance(tmpl.get("containerSet"), dict):
        deps = {
            c.get("name"): c.get("dependencies")
            for c in tmpl["containerSet"].get("containers") or ()
            if isinstance(c, dict)
        }
        containers = [dict(c, dependencies=deps.get(c.get("name")) or []) for c in containers]
    return containers


def check_runnable(spec: dict[str, Any], tmpl: dict[str, Any], containers: list[dict[str, Any]]) -> None:
    """Raise images.MissingProgram for a pod the local runner cannot run."""
    if not containers:
        raise images.MissingProgram("the pod has no main container")
    if isinstance(tmpl.get("resource"), dict):
        raise images.MissingProgram(
            "resource templates need a Kubernetes cluster; the local runner cannot run them"
        )
    if isinstance(tmpl.get("data"), dict):
        raise images.MissingProgram(
            "data templates read an artifact repository; the local runner cannot run them"
        )
    if tmpl.get("sidecars"):
        raise images.MissingProgram("sidecars need their images; the local runner cannot run them")
    if spec.get("hostAliases"):
        # The names would resolve through this machine's DNS instead: a different answer, not a run.
        raise images.MissingProgram(
            "hostAliases add names to the pod's /etc/hosts, which the local runner cannot provide"
        )


def mounts(
    spec: dict[str, Any],
    tmpl: dict[str, Any],
    containers: list[dict[str, Any]],
    pod_dir: Path,
    run_volumes: Path,
) -> dict[str, Path]:
    """Each mount path to the directory standing in for its volume (created): a hostPath is itself,
    the template's own emptyDir this pod's, any other volume the run's, shared by its pods."""
    volumes = {v.get("name"): v for v in spec.get("volumes") or ()}
    own = {v.get("name") for v in tmpl.get("volumes") or () if isinstance(v, dict)}
    out: dict[str, Path] = {}
    for container in containers:
        for mount in container.get("volumeMounts") or ():
            name = mount.get("name")
            if name in INTERNAL_MOUNTS or not mount.get("mountPath") or mount["mountPath"] in out:
                continue
            volume = volumes.get(name) or {}
            if isinstance(volume.get("hostPath"), dict):
                target = Path(volume["hostPath"].get("path") or "/")
            elif any(k in volume for k in _CLUSTER_VOLUMES):
                kind = next(k for k in _CLUSTER_VOLUMES if k in volume)
                raise artifacts.ArtifactError(
                    f"volume {name!r} is a {kind} volume, which the local runner cannot provide"
                )
            elif name in own and "emptyDir" in volume:
                target = pod_dir / "volumes" / str(name)
            else:
                target = run_volumes / str(name)
            if mount.get("subPath"):
                target = target / mount["subPath"]
            target.mkdir(parents=True, exist_ok=True)
            out[mount["mountPath"]] = target
    return out


def env_value(pod: dict[str, Any], entry: dict[str, Any]) -> str | None:
    """An env entry's value (None: one the local runner does not fill, such as a secret's)."""
    if "value" in entry:
        return str(entry.get("value") or "")
    field = ((entry.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
    meta = pod.get("metadata") or {}
    if field == "metadata.name":
        return meta.get("name", "")
    if field == "metadata.namespace":
        return meta.get("namespace", "")
    if field and field.startswith("metadata.annotations['"):
        return (meta.get("annotations") or {}).get(field[len("metadata.annotations['") : -2], "")
    if field and field.startswith("metadata.labels['"):
        return (meta.get("labels") or {}).get(field[len("metadata.labels['") : -2], "")
    return None
