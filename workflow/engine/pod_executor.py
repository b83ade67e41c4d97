"""The executor's containers in a pod: `init` and `wait` (`sluice executor init|wait`,
executor-sidecar/sluice_executor), and what they alone are given.

They run with a restricted security context and bounded resources unless the controller's config says
otherwise. Secrets named by artifact credentials are mounted read-only at /argo/secret/<name> in `init`
and `wait` only (and in main when main is the executor itself: resource and data templates). The
processed template they carry names its `archiveLocation`: the artifact repository with the key prefix
resolved from its `keyFormat`, and `archiveLogs`.
"""

from __future__ import annotations

import copy
from typing import Any

from workflow import artifact_rules
from workflow.engine.model import EngineConfig
from workflow.engine.pod_containers import EXECUTOR_COMMAND, mount
from workflow.engine.state import Operation

VAR_RUN_ARGO = "/var/run/argo"
SECRETS = "/argo/secret"
STAGING = "/argo/staging"
INPUT_ARTIFACTS = "/argo/inputs/artifacts"
# Pod Security Standards "restricted" for the executor's containers (its image runs as user 1000).
EXECUTOR_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
EXECUTOR_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "10m", "memory": "64Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}
CREDENTIAL_FIELDS = (
    "Secret",
    "SecretRef",
)  # `accessKeySecret`, `passwordSecretRef`, `sshPrivateKeySecret`...


def executor_containers(
    config: EngineConfig, env: list[dict[str, Any]], mounts: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(the executor's container fields, `init`, `wait`): the config's image, security and resources.

    `init` and `wait` share these field values (the env list and its entries, the mounts list, one copy
    of the security context and resources per pod): nothing changes them in place once rendered
    (`mount` gives a container a new list; podSpecPatch's merge builds new values), and drivers only
    read a pod. Two deep copies per pod were ~95 MiB of a 10,000-pod fan-out's first step
    (benchmarks/RESULTS.md, "memory of that run"). The config's own values are still copied: a pod
    never aliases the config.
    """
    executor: dict[str, Any] = {
        "image": config.executor_image,
        "env": env,
        "volumeMounts": mounts,
        "securityContext": copy.deepcopy(config.executor_security_context or EXECUTOR_SECURITY_CONTEXT),
        "resources": copy.deepcopy(config.executor_resources or EXECUTOR_RESOURCES),
    }
    if config.executor_image_pull_policy:
        executor["imagePullPolicy"] = config.executor_image_pull_policy
    init = {"name": "init", "command": [*EXECUTOR_COMMAND, "init"], **executor}
    wait = {"name": "wait", "command": [*EXECUTOR_COMMAND, "wait"], **executor}
    return executor, init, wait


def credential_secrets(value: Any, found: set[str]) -> set[str]:
    """Names of the Secrets an artifact location's credentials refer to (`accessKeySecret: {name, key}`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(CREDENTIAL_FIELDS) and isinstance(item, dict):
                if isinstance(item.get("name"), str) and item["name"]:
                    found.add(item["name"])
            else:
                credential_secrets(item, found)
    elif isinstance(value, list):
        for item in value:
            credential_secrets(item, found)
    return found


def mount_secrets(volumes: list[dict[str, Any]], readers: list[dict[str, Any]], secrets: set[str]) -> None:
    """Each Secret a volume, mounted read-only in the executor's containers (`readers`) only."""
    for secret in sorted(secrets):
        volume = f"argo-secret-{secret}"[:63]
        # readable by the executor's user (1000)
        volumes.append({"name": volume, "secret": {"secretName": secret, "defaultMode": 0o444}})
        for container in readers:
            mount(container, {"name": volume, "mountPath": f"{SECRETS}/{secret}", "readOnly": True})


def archive_location(
    op: Operation, spec: dict[str, Any], tmpl: dict[str, Any], pod_name: str
) -> dict[str, Any] | None:
    """The template's `archiveLocation` as the executor needs it: the template's own when it names a
    location, else the repository (the workflow's resolved `artifactRepositoryRef`, else the config's)
    with its `keyFormat` resolved to this pod's key prefix; `archiveLogs` from the template, the
    workflow (`spec`) or the repository."""
    given = tmpl.get("archiveLocation")
    own: dict[str, Any] = given if isinstance(given, dict) else {}
    if artifact_rules.location_kind(own) is not None:
        location: dict[str, Any] = copy.deepcopy(own)
    else:
        ref = (op.status.get("artifactRepositoryRef") or {}) if isinstance(op.status, dict) else {}
        repo = ref.get("artifactRepository") if isinstance(ref, dict) else None
        if not isinstance(repo, dict):
            repo = op.config.artifact_repository
        kind = artifact_rules.repository_kind(repo)
        if kind is None:
            return {"archiveLogs": True} if own.get("archiveLogs") is True else None
        assert repo is not None
        values = {k: v for k, v in op.globals.items() if isinstance(k, str) and isinstance(v, str)}
        values["pod.name"] = pod_name
        key = artifact_rules.resolve_key_format(repo[kind].get("keyFormat"), values)
        location = {kind: artifact_rules.repository_location(kind, repo[kind], key)}
        if repo.get("archiveLogs") is True:
            location["archiveLogs"] = True
    for flag in (own.get("archiveLogs"), spec.get("archiveLogs")):
        if isinstance(flag, bool):
            location["archiveLogs"] = flag
            break
    return location
