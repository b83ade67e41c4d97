"""Which artifact repository a workflow uses, resolved once when it starts and kept in
`status.artifactRepositoryRef` (Argo's order):

1. `spec.artifactRepositoryRef` {configMap (default `artifact-repositories`), key (default: the
   ConfigMap's `workflows.argoproj.io/default-artifact-repository` annotation)} in the workflow's
   namespace;
2. else the namespace's `artifact-repositories` ConfigMap, by its default-key annotation;
3. else the controller configuration's `artifactRepository` (`{default: true, ...}` as Argo writes it).

The engine turns the resolved repository into each pod's archive location (workflow/engine/pod_executor.py).
Pure: the ConfigMaps come in through `lookup(namespace, name) -> ConfigMap | None`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from workflow.labels import ANN_DEFAULT_ARTIFACT_REPOSITORY

DEFAULT_CONFIGMAP = "artifact-repositories"

Lookup = Callable[[str, str], dict[str, Any] | None]


class RepositoryError(ValueError):
    pass


def _from_configmap(cm: dict[str, Any], name: str, namespace: str, key: str | None) -> dict[str, Any] | None:
    annotations = (cm.get("metadata") or {}).get("annotations") or {}
    key = key or annotations.get(ANN_DEFAULT_ARTIFACT_REPOSITORY)
    if not key:
        return None
    text = (cm.get("data") or {}).get(key)
    if text is None:
        raise RepositoryError(
            f'failed to find artifact repository: key "{key}" not found in ConfigMap {namespace}/{name}'
        )
    try:
        repo = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RepositoryError(
            f"artifact repository {namespace}/{name} key {key}: not YAML: {' '.join(str(exc).split())[:200]}"
        ) from None
    if not isinstance(repo, dict):
        raise RepositoryError(f"artifact repository {namespace}/{name} key {key}: must be a mapping")
    return {"configMap": name, "key": key, "namespace": namespace, "artifactRepository": repo}


def resolve(
    workflow: dict[str, Any], lookup: Lookup, default: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The `status.artifactRepositoryRef` for `workflow`; None when no repository is configured anywhere."""
    namespace = (workflow.get("metadata") or {}).get("namespace") or ""
    ref = (workflow.get("spec") or {}).get("artifactRepositoryRef")
    if isinstance(ref, dict):
        name = str(ref.get("configMap") or DEFAULT_CONFIGMAP)
        cm = lookup(namespace, name)
        if cm is None:
            raise RepositoryError(
                f'failed to find artifact repository: ConfigMap "{name}" not found in namespace "{namespace}"'
            )
        resolved = _from_configmap(cm, name, namespace, str(ref["key"]) if ref.get("key") else None)
        if resolved is None:
            raise RepositoryError(
                f"failed to find artifact repository: ConfigMap {namespace}/{name} names "
                f"no key and has no {ANN_DEFAULT_ARTIFACT_REPOSITORY} annotation"
            )
        return resolved
    cm = lookup(namespace, DEFAULT_CONFIGMAP)
    if cm is not None:
        resolved = _from_configmap(cm, DEFAULT_CONFIGMAP, namespace, None)
        if resolved is not None:
            return resolved
    if default:
        return {"default": True, "artifactRepository": default}
    return None
