"""What the controller's informer caches keep of each object (kube/informer.py `Store.transform`).

Memory at thousands of live workflows is mostly these caches. Every object loses
`metadata.managedFields` (~40% of a pod's or a Workflow's JSON). A pod keeps its metadata and status
and, of its spec, only what the controller reads: `nodeName` and each container's name and image
(workflow/engine/observe.py `pod_observation`); the rest of the spec (the executor's containers with
their environment, volumes, security contexts: ~40% of what is left) is never read from the cache.
"""

from __future__ import annotations

from typing import Any

from kube.informer import strip_managed_fields

_CONTAINER_KEYS = ("name", "image")


def _containers(items: Any) -> list[dict[str, Any]]:
    return [{k: c[k] for k in _CONTAINER_KEYS if k in c} for c in items or () if isinstance(c, dict)]


def slim_pod(pod: dict[str, Any]) -> dict[str, Any]:
    pod = strip_managed_fields(pod)
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return pod
    kept: dict[str, Any] = {
        "containers": _containers(spec.get("containers")),
        "initContainers": _containers(spec.get("initContainers")),
    }
    if "nodeName" in spec:
        kept["nodeName"] = spec["nodeName"]
    return {**pod, "spec": kept}
