"""A processed template too long for the `ARGO_TEMPLATE` variable travels in a ConfigMap instead.

Linux refuses one environment string over 128 KiB (E2BIG), so past the config's
`template_offload_bytes` the template goes into a ConfigMap named after the pod (created just before
it, owned by the Workflow), mounted read-only in `init` and `wait` at /argo/config, and the variable
says `offloaded`, as Argo offloads it (executor-sidecar/sluice_executor/podenv.py reads it there). Past
what a ConfigMap holds the node fails saying to move large values into artifacts.
"""

from __future__ import annotations

import copy
from typing import Any

from workflow.engine.model import EngineConfig
from workflow.engine.pod_containers import PodSpecError, mount
from workflow.labels import LABEL_WORKFLOW

CONFIG_DIR = "/argo/config"  # an offloaded template: <CONFIG_DIR>/ARGO_TEMPLATE
OFFLOADED = "offloaded"
CONFIG_MAP_LIMIT = 1024 * 1024 - 4096  # a ConfigMap's 1 MiB, less room for its metadata
CONFIG_VOLUME = "argo-env-config"


def offloaded(config: EngineConfig, template_json: str, where: str) -> bool:
    """Does the template travel in a ConfigMap (too long for ARGO_TEMPLATE)? Past what a ConfigMap holds,
    the node fails saying so."""
    limit = config.template_offload_bytes
    size = len(template_json.encode())
    if limit is None or size <= limit:
        return False
    if size > CONFIG_MAP_LIMIT:
        raise PodSpecError(
            f"{where}: the processed template is {size} bytes, over the {CONFIG_MAP_LIMIT} a ConfigMap can "
            "hold: move large values (scripts, manifests, parameters) into artifacts"
        )
    return True


def mount_config_map(volumes: list[dict[str, Any]], readers: list[dict[str, Any]], pod_name: str) -> None:
    """The ConfigMap request_pod creates first (the kubelet waits for it); init and wait read it."""
    volumes.append({"name": CONFIG_VOLUME, "configMap": {"name": pod_name}})
    for container in readers:
        mount(container, {"name": CONFIG_VOLUME, "mountPath": CONFIG_DIR, "readOnly": True})


def template_config_map(pod: dict[str, Any], template_json: str) -> dict[str, Any] | None:
    """The ConfigMap an offloaded template travels in (named after the pod, owned by the Workflow), or
    None when the pod carries its template in ARGO_TEMPLATE."""
    init = next(c for c in pod["spec"]["initContainers"] if c.get("name") == "init")
    if not any(e.get("name") == "ARGO_TEMPLATE" and e.get("value") == OFFLOADED for e in init["env"]):
        return None
    meta = pod["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": {LABEL_WORKFLOW: meta["labels"][LABEL_WORKFLOW]},
            "ownerReferences": copy.deepcopy(meta["ownerReferences"]),
        },
        "data": {"ARGO_TEMPLATE": template_json},
    }
