"""The pod a leaf node needs, as data (the pod Argo's controller writes).

Shape: `initContainers: [init, ...user]`, `containers: [wait, main, ...sidecars]`; `init` and `wait` run
Sluice's executor (`sluice executor init|wait`, executor-sidecar/sluice_executor), the user's command runs
under the static launcher `init` stages (`/var/run/argo/launcher -- <command>`,
executor-sidecar/launcher), labels
`workflows.argoproj.io/workflow|completed|on-exit`, annotations `workflows.argoproj.io/node-name|node-id`,
`kubectl.kubernetes.io/default-container: main`, owner reference to the Workflow, `restartPolicy: Never`,
`activeDeadlineSeconds` from the template deadline/timeout and the workflow's remaining time.
The processed template travels in `ARGO_TEMPLATE` on `init` and `wait`: the executor (and the local
runner) read the script source, output paths and input artifacts from it (past 128 KiB, Linux's limit
for one environment string, it travels in a ConfigMap named after the pod, mounted at /argo/config, and
the variable says `offloaded`, as Argo offloads it); it carries the
`archiveLocation` (the artifact repository with the key prefix resolved from its `keyFormat`, and
`archiveLogs`). The executor's containers run with a restricted security context and bounded resources
unless the controller's config says otherwise; Secrets named by artifact credentials are mounted
read-only at /argo/secret/<name> in `init` and `wait` only. A container with no `command` takes its
image's entrypoint from the config's `images`; without it the node fails saying how to fix it.
"""

from __future__ import annotations

import copy
import json
import math
from typing import TYPE_CHECKING, Any

import yaml

from workflow import artifact_rules, names
from workflow.engine import clock, subst
from workflow.engine.defs import ERROR, SUCCEEDED, Opts
from workflow.engine.model import CreateObject, CreatePod, EngineConfig, TerminatePod
from workflow.merge import strategic_merge

if TYPE_CHECKING:  # execute.py imports this module; the engine is only a type here
    from workflow.engine.execute import Engine

LAUNCHER = "/var/run/argo/launcher"
EXECUTOR_COMMAND = ["sluice", "executor"]
VAR_RUN_ARGO = "/var/run/argo"
SECRETS = "/argo/secret"
STAGING = "/argo/staging"
SCRIPT_PATH = "/argo/staging/script"
INPUT_ARTIFACTS = "/argo/inputs/artifacts"
MAINCTRFS = "/mainctrfs"
CONFIG_DIR = "/argo/config"  # an offloaded template: <CONFIG_DIR>/ARGO_TEMPLATE
OFFLOADED = "offloaded"
CONFIG_MAP_LIMIT = 1024 * 1024 - 4096  # a ConfigMap's 1 MiB, less room for its metadata
LABEL_WORKFLOW = "workflows.argoproj.io/workflow"
LABEL_COMPLETED = "workflows.argoproj.io/completed"
LABEL_ON_EXIT = "workflows.argoproj.io/on-exit"
LABEL_INSTANCE = "workflows.argoproj.io/controller-instanceid"
ANN_NODE_NAME = "workflows.argoproj.io/node-name"
ANN_NODE_ID = "workflows.argoproj.io/node-id"
ANN_DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
ANN_POD_GC = "workflows.argoproj.io/pod-gc-strategy"
POD_FIELDS = (
    "nodeSelector",
    "affinity",
    "tolerations",
    "schedulerName",
    "priorityClassName",
    "hostAliases",
    "securityContext",
    "serviceAccountName",
    "automountServiceAccountToken",
    "imagePullSecrets",
    "dnsConfig",
    "dnsPolicy",
    "hostNetwork",
)
NO_DEADLINE = "0001-01-01T00:00:00Z"
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


class PodSpecError(ValueError):
    """The template cannot become a pod (the node fails with this message)."""


def has_result_ref(step_name: str, parent: dict[str, Any] | None) -> bool:
    """Argo's hasOutputResultRef: does the calling steps/dag template use `<step>.outputs.result`?"""
    if not parent or not step_name:
        return False
    text = _template_text(parent)
    if f"steps.{step_name}.outputs.result" in text or f"tasks.{step_name}.outputs.result" in text:
        return True
    # expression form: steps['name'].outputs.result / tasks["name"].outputs.result (quotes JSON-escaped)
    for quote in ("'", '\\"'):
        for kind in ("steps", "tasks"):
            if f"{kind}[{quote}{step_name}{quote}].outputs.result" in text:
                return True
    return False


_TEXTS: dict[int, tuple[dict[str, Any], str]] = {}


def _template_text(tmpl: dict[str, Any]) -> str:
    """The JSON text of a calling template, remembered per object (every child of a loop asks)."""
    cached = _TEXTS.get(id(tmpl))
    if cached is None or cached[0] is not tmpl:
        if len(_TEXTS) > 256:
            _TEXTS.clear()
        cached = _TEXTS[id(tmpl)] = (tmpl, json.dumps(tmpl))
    return cached[1]


def _step_name(node: dict[str, Any]) -> str:
    """The step or task name a node was created for (`P[0].hello(1:x)(2)` -> `hello`)."""
    shown: str = node.get("displayName") or node["name"]
    name: str = node["name"]
    tail = name.rsplit(".", 1)[-1] if "." in name else shown
    return tail.split("(", 1)[0]


def _deadline(
    eng: Engine, node: dict[str, Any], tmpl: dict[str, Any], on_exit: bool
) -> tuple[int | None, str]:
    """(pod activeDeadlineSeconds, ARGO_DEADLINE)."""
    op = eng.op
    limits: list[float] = []
    ads = tmpl.get("activeDeadlineSeconds")
    if ads not in (None, ""):
        seconds = clock.parse_duration(ads)
        if seconds is not None:
            limits.append(seconds)
    timeout = tmpl.get("timeout")
    if timeout not in (None, ""):
        seconds = clock.parse_duration(timeout)
        started = clock.parse_stamp(node.get("startedAt")) or op.now
        if seconds is not None:
            limits.append(max(1.0, seconds - clock.seconds_between(started, op.now)))
    if not on_exit and eng.workflow_deadline is not None:
        limits.append(max(1.0, clock.seconds_between(op.now, eng.workflow_deadline)))
    if not limits:
        return None, NO_DEADLINE
    seconds = min(limits)
    return int(math.ceil(seconds)), clock.stamp(clock.add_seconds(op.now, seconds))


def _env(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs.items()]


def _image_repo(image: str) -> str:
    """`docker.io/library/busybox:1.36` -> `busybox` (digest and tag dropped), for the `images` lookup."""
    name = image.strip().rsplit("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name


def _entrypoint(container: dict[str, Any], config: EngineConfig) -> tuple[list[str], list[str]] | None:
    """(command, args) from the image's entrypoint/cmd in the config's `images`, as Argo's controller finds
    them; None when the image is not listed."""
    image = str(container.get("image") or "")
    known = config.images.get(image) or config.images.get(_image_repo(image))
    if not isinstance(known, dict):
        return None
    command = [str(c) for c in known.get("entrypoint") or known.get("command") or ()]
    args = [str(a) for a in container.get("args") or known.get("cmd") or ()]
    if not command:
        command, args = args[:1], args[1:]
    return command, args


def _wrap(container: dict[str, Any], config: EngineConfig, where: str) -> dict[str, Any]:
    """Run the container's command under the launcher; args stay as the user wrote them."""
    container = dict(container)
    command = [str(c) for c in container.get("command") or ()]
    if not command:
        found = _entrypoint(container, config)
        if found is not None:
            command, args = found
            if args:
                container["args"] = args
        elif config.require_command:
            raise PodSpecError(
                f"{where}: image {container.get('image')!r} has no `command` and its entrypoint is unknown: "
                "set `command` in the template, or list the image's entrypoint in the controller's `images` config"
            )
    container["command"] = [LAUNCHER, "--", *command]
    return container


def _credential_secrets(value: Any, found: set[str]) -> set[str]:
    """Names of the Secrets an artifact location's credentials refer to (`accessKeySecret: {name, key}`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.endswith(CREDENTIAL_FIELDS) and isinstance(item, dict):
                if isinstance(item.get("name"), str) and item["name"]:
                    found.add(item["name"])
            else:
                _credential_secrets(item, found)
    elif isinstance(value, list):
        for item in value:
            _credential_secrets(item, found)
    return found


def archive_location(eng: Engine, tmpl: dict[str, Any], pod_name: str) -> dict[str, Any] | None:
    """The template's `archiveLocation` as the executor needs it: the template's own when it names a
    location, else the repository (the workflow's resolved `artifactRepositoryRef`, else the config's)
    with its `keyFormat` resolved to this pod's key prefix; `archiveLogs` from the template, the
    workflow or the repository."""
    op = eng.op
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
    for flag in (own.get("archiveLogs"), eng.spec.get("archiveLogs")):
        if isinstance(flag, bool):
            location["archiveLogs"] = flag
            break
    return location


def _mount(container: dict[str, Any], mount: dict[str, Any]) -> None:
    mounts = list(container.get("volumeMounts") or [])
    if not any(m.get("mountPath") == mount["mountPath"] for m in mounts):
        mounts.append(mount)
    container["volumeMounts"] = mounts


EXECUTOR_VOLUMES = frozenset({"var-run-argo", "tmp-dir-argo", "argo-staging", "input-artifacts"})


def _mirror_mounts(wait: dict[str, Any], mains: list[dict[str, Any]]) -> None:
    """Main's volume mounts (every member's, for a containerSet) re-mounted read-only into `wait` under
    /mainctrfs, where it reads outputs written on a volume (as Argo mirrors them): a
    containerSet member other than `main` can only leave outputs there."""
    for container in mains:
        for mount in container.get("volumeMounts") or ():
            if not isinstance(mount, dict) or mount.get("name") in EXECUTOR_VOLUMES:
                continue
            path = str(mount.get("mountPath") or "")
            if not path.startswith("/"):
                continue
            mirrored = {
                "name": mount.get("name"),
                "mountPath": MAINCTRFS + path.rstrip("/"),
                "readOnly": True,
            }
            for key in ("subPath", "subPathExpr"):
                if mount.get(key):
                    mirrored[key] = mount[key]
            _mount(wait, mirrored)


def _offloaded(config: EngineConfig, template_json: str, where: str) -> bool:
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


def _with_mirrored_mounts(container: dict[str, Any], mains: list[dict[str, Any]]) -> dict[str, Any]:
    """A user init container or sidecar; `mirrorVolumeMounts: true` (not a Pod field) gives it main's
    volume mounts (Argo's `UserContainer` field), e.g. a docker-in-docker sidecar sharing main's
    workspace."""
    out = {k: v for k, v in container.items() if k != "mirrorVolumeMounts"}
    if container.get("mirrorVolumeMounts") is True:
        for main in mains[:1]:
            for mount in main.get("volumeMounts") or ():
                if isinstance(mount, dict) and mount.get("name") not in EXECUTOR_VOLUMES:
                    _mount(out, copy.deepcopy(mount))
    return out


def main_containers(tmpl: dict[str, Any], executor_image: str = "") -> list[dict[str, Any]]:
    """The user containers of a leaf template, `main` first (containerSet: its members)."""
    if isinstance(tmpl.get("containerSet"), dict):
        # `dependencies` is the launcher's business (it reads the template), not a Pod field; the set's
        # `volumeMounts` are every member's
        shared = [m for m in tmpl["containerSet"].get("volumeMounts") or () if isinstance(m, dict)]
        members = []
        for c in tmpl["containerSet"].get("containers") or ():
            if isinstance(c, dict):
                member = {k: v for k, v in c.items() if k != "dependencies"}
                for mount in shared:
                    _mount(member, copy.deepcopy(mount))
                members.append(member)
        return members
    if isinstance(tmpl.get("script"), dict):
        script = {k: v for k, v in tmpl["script"].items() if k != "source"}
        script["name"] = "main"
        script["args"] = [*(script.get("args") or []), SCRIPT_PATH]
        return [script]
    if isinstance(tmpl.get("container"), dict):
        main = dict(tmpl["container"])
        main["name"] = "main"
        return [main]
    if isinstance(tmpl.get("resource"), dict):
        action = str(tmpl["resource"].get("action") or "")
        return [{"name": "main", "image": executor_image, "command": [*EXECUTOR_COMMAND, "resource", action]}]
    if isinstance(tmpl.get("data"), dict):
        return [{"name": "main", "image": executor_image, "command": [*EXECUTOR_COMMAND, "data"]}]
    return []


def _container_field(tmpl: dict[str, Any], index: int) -> str:
    if isinstance(tmpl.get("containerSet"), dict):
        return f"containerSet.containers[{index}]"
    return "script" if isinstance(tmpl.get("script"), dict) else "container"


def workflow_level(eng: Engine, field: str) -> Any:
    """A pod field from the workflow's spec with the global tags (`{{workflow.parameters.x}}`, ...)
    replaced: Argo substitutes the globals into the whole spec but its templates before any pod is
    made; a template's own fields get theirs with its inputs (workflow/engine/scope.py)."""
    value = eng.spec.get(field)
    if value is None:
        return None
    return subst.render(value, eng.op.globals, {})


def render_pod(
    eng: Engine, node: dict[str, Any], tmpl: dict[str, Any], opts: Opts
) -> tuple[dict[str, Any], str]:
    """(the pod, the processed template's JSON it carries)."""
    op = eng.op
    spec = eng.spec
    config = op.config
    pod_name = names.pod_name(op.name, node["name"], tmpl.get("name"), config.pod_name_version)
    include_result = has_result_ref(_step_name(node), opts.parent)
    deadline_seconds, deadline_text = _deadline(eng, node, tmpl, opts.on_exit)

    labels = {LABEL_WORKFLOW: op.name, LABEL_COMPLETED: "false"}
    if opts.on_exit:
        labels[LABEL_ON_EXIT] = "true"
    if config.instance_id:
        labels[LABEL_INSTANCE] = config.instance_id
    annotations: dict[str, str] = {}
    for extra in (workflow_level(eng, "podMetadata"), tmpl.get("metadata")):
        if isinstance(extra, dict):
            labels.update({k: str(v) for k, v in (extra.get("labels") or {}).items()})
            annotations.update({k: str(v) for k, v in (extra.get("annotations") or {}).items()})
    annotations[ANN_NODE_NAME] = node["name"]
    annotations[ANN_NODE_ID] = node["id"]
    annotations[ANN_DEFAULT_CONTAINER] = "main"
    pod_gc = spec.get("podGC")
    if isinstance(pod_gc, dict) and pod_gc.get("strategy"):
        annotations[ANN_POD_GC] = f"{pod_gc['strategy']}/{pod_gc.get('deleteDelayDuration') or '5s'}"

    common_env = {
        "ARGO_POD_NAME": pod_name,
        "ARGO_WORKFLOW_NAME": op.name,
        "ARGO_WORKFLOW_UID": op.uid,
        "ARGO_NODE_ID": node["id"],
        "ARGO_INCLUDE_SCRIPT_OUTPUT": "true" if include_result else "false",
        "ARGO_DEADLINE": deadline_text,
        "ARGO_PROGRESS_FILE": f"{VAR_RUN_ARGO}/progress",
    }
    where = f"templates.{tmpl.get('name') or node['name']}"
    location = archive_location(eng, tmpl, pod_name)
    carried = dict(tmpl)
    if location is not None:
        carried["archiveLocation"] = location
    template_json = json.dumps(carried, separators=(",", ":"))
    offloaded = _offloaded(config, template_json, where)
    run_mount = {"name": "var-run-argo", "mountPath": VAR_RUN_ARGO}
    tmp_mount = {"name": "tmp-dir-argo", "mountPath": "/tmp"}  # the read-only root's only scratch space
    executor_env: list[dict[str, Any]] = [
        *_env({**common_env, "ARGO_TEMPLATE": OFFLOADED if offloaded else template_json}),
        {"name": "ARGO_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "ARGO_POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
    ]
    if config.instance_id:
        executor_env.append({"name": "ARGO_INSTANCE_ID", "value": config.instance_id})
    executor: dict[str, Any] = {
        "image": config.executor_image,
        "env": executor_env,
        "volumeMounts": [run_mount, tmp_mount],
        "securityContext": copy.deepcopy(config.executor_security_context or EXECUTOR_SECURITY_CONTEXT),
        "resources": copy.deepcopy(config.executor_resources or EXECUTOR_RESOURCES),
    }
    if config.executor_image_pull_policy:
        executor["imagePullPolicy"] = config.executor_image_pull_policy
    init = {"name": "init", "command": [*EXECUTOR_COMMAND, "init"], **copy.deepcopy(executor)}
    wait = {"name": "wait", "command": [*EXECUTOR_COMMAND, "wait"], **copy.deepcopy(executor)}

    volumes: list[dict[str, Any]] = [
        {"name": "var-run-argo", "emptyDir": {}},
        {"name": "tmp-dir-argo", "emptyDir": {}},
    ]
    if offloaded:
        # the ConfigMap request_pod creates first (the kubelet waits for it); init and wait read it
        volumes.append({"name": "argo-env-config", "configMap": {"name": pod_name}})
        for container in (init, wait):
            _mount(container, {"name": "argo-env-config", "mountPath": CONFIG_DIR, "readOnly": True})
    user_containers = []
    runs_executor = isinstance(tmpl.get("resource"), dict) or isinstance(tmpl.get("data"), dict)
    for index, container in enumerate(main_containers(tmpl, config.executor_image)):
        if runs_executor:  # resource/data: main is the executor itself, with its own security
            container.setdefault("securityContext", copy.deepcopy(executor["securityContext"]))
            container.setdefault("resources", copy.deepcopy(executor["resources"]))
            container["env"] = [e for e in executor_env if e["name"] != "ARGO_TEMPLATE"]
            _mount(container, tmp_mount)
        else:
            if isinstance(config.main_container, dict) and config.main_container:
                container = strategic_merge(copy.deepcopy(config.main_container), container)
            container = _wrap(container, config, f"{where}.{_container_field(tmpl, index)}")
        env = list(container.get("env") or [])
        env.extend(_env({"ARGO_CONTAINER_NAME": container.get("name") or "main", **common_env}))
        container["env"] = env
        _mount(container, run_mount)
        user_containers.append(container)
    if isinstance(tmpl.get("script"), dict) and user_containers:
        volumes.append({"name": "argo-staging", "emptyDir": {}})
        _mount(init, {"name": "argo-staging", "mountPath": STAGING})
        _mount(user_containers[0], {"name": "argo-staging", "mountPath": STAGING})
    in_arts = [
        a
        for a in ((tmpl.get("inputs") or {}).get("artifacts") or ())
        if isinstance(a, dict) and a.get("path")
    ]
    # a resource template reads its `manifestFrom` artifact from the volume
    manifest_from = (tmpl.get("resource") or {}).get("manifestFrom") if runs_executor else None
    if (in_arts or manifest_from) and user_containers:
        volumes.append({"name": "input-artifacts", "emptyDir": {}})
        _mount(init, {"name": "input-artifacts", "mountPath": INPUT_ARTIFACTS})
    if runs_executor and manifest_from and user_containers:
        _mount(
            user_containers[0],
            {"name": "input-artifacts", "mountPath": INPUT_ARTIFACTS, "readOnly": True},
        )
    elif in_arts and user_containers:
        for art in in_arts:
            _mount(
                user_containers[0],
                {"name": "input-artifacts", "mountPath": art["path"], "subPath": art["name"]},
            )
    secrets = _credential_secrets(
        [tmpl.get("inputs"), tmpl.get("outputs"), tmpl.get("data"), location], set()
    )
    # the executor's containers: init and wait, and main when main is the executor (data templates list
    # a store); a user's main never sees them
    readers = [init, wait] + (user_containers[:1] if runs_executor else [])
    for secret in sorted(secrets):
        volume = f"argo-secret-{secret}"[:63]
        # readable by the executor's user (1000)
        volumes.append({"name": volume, "secret": {"secretName": secret, "defaultMode": 0o444}})
        for container in readers:
            _mount(container, {"name": volume, "mountPath": f"{SECRETS}/{secret}", "readOnly": True})

    sidecars = []
    for i, sidecar in enumerate(tmpl.get("sidecars") or ()):
        if not isinstance(sidecar, dict):
            continue
        # under the launcher too: it stops the sidecar once main has exited
        sidecar = _wrap(_with_mirrored_mounts(sidecar, user_containers), config, f"{where}.sidecars[{i}]")
        env = list(sidecar.get("env") or [])
        env.extend(_env({"ARGO_CONTAINER_NAME": sidecar.get("name") or "", **common_env}))
        sidecar["env"] = env
        _mount(sidecar, run_mount)
        sidecars.append(sidecar)
    needs_wait = not runs_executor
    if needs_wait:
        _mirror_mounts(wait, user_containers)
    containers = ([wait] if needs_wait else []) + user_containers + sidecars
    init_containers = [init] + [
        _with_mirrored_mounts(c, user_containers)
        for c in tmpl.get("initContainers") or ()
        if isinstance(c, dict)
    ]
    mounted = {m.get("name") for c in containers + init_containers for m in c.get("volumeMounts") or ()}
    own_volumes = [v for v in tmpl.get("volumes") or () if isinstance(v, dict)]
    names_taken = {v["name"] for v in volumes}
    for vol in own_volumes + [v for v in workflow_level(eng, "volumes") or () if isinstance(v, dict)]:
        if vol.get("name") in mounted and vol.get("name") not in names_taken:
            volumes.append(copy.deepcopy(vol))
            names_taken.add(vol.get("name"))
    for claim in spec.get("volumeClaimTemplates") or ():
        cname = ((claim or {}).get("metadata") or {}).get("name")
        if isinstance(cname, str) and cname in mounted and cname not in names_taken:
            volumes.append(
                {"name": cname, "persistentVolumeClaim": {"claimName": names.pvc_name(op.name, cname)}}
            )
            names_taken.add(cname)

    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "initContainers": init_containers,
        "containers": containers,
        "volumes": volumes,
    }
    for field in POD_FIELDS:
        value = tmpl.get(field) if tmpl.get(field) is not None else workflow_level(eng, field)
        if field == "priorityClassName" and value is None:
            value = workflow_level(eng, "podPriorityClassName")
        if value is not None:
            pod_spec[field] = copy.deepcopy(value)
    executor_sa = ((tmpl.get("executor") or {}).get("serviceAccountName")) or (
        (spec.get("executor") or {}).get("serviceAccountName")
    )
    if executor_sa:
        annotations["workflows.argoproj.io/executor-service-account"] = str(executor_sa)
    if deadline_seconds is not None:
        pod_spec["activeDeadlineSeconds"] = deadline_seconds
    for patch in (workflow_level(eng, "podSpecPatch"), tmpl.get("podSpecPatch")):
        if isinstance(patch, str) and patch.strip():
            try:
                parsed = yaml.safe_load(patch)
            except yaml.YAMLError:
                parsed = None
            if isinstance(parsed, dict):
                pod_spec = strategic_merge(pod_spec, parsed)
    meta: dict[str, Any] = {
        "name": pod_name,
        "namespace": op.namespace,
        "labels": labels,
        "annotations": annotations,
        "ownerReferences": [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "name": op.name,
                "uid": op.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}, template_json


def request_pod(eng: Engine, node: dict[str, Any], tmpl: dict[str, Any], opts: Opts) -> None:
    """Ask for the pod of a Pending pod node that is not observed yet (AlreadyExists counts as done); a
    template that cannot become a pod fails the node with the reason."""
    try:
        pod, template_json = render_pod(eng, node, tmpl, opts)
    except PodSpecError as exc:
        eng.op.nodes.mark(node["id"], ERROR, str(exc))
        return
    config_map = template_config_map(pod, template_json)
    if config_map is not None:  # before the pod, which mounts it (AlreadyExists counts as done)
        eng.op.act(CreateObject(config_map))
    eng.op.act(CreatePod(node_id=node["id"], pod=pod))
    if isinstance(tmpl.get("containerSet"), dict):
        for container in tmpl["containerSet"].get("containers") or ():
            if not isinstance(container, dict) or not container.get("name"):
                continue
            child_name = names.container_node_name(node["name"], container["name"])
            if eng.op.nodes.by(child_name) is None:
                eng.op.nodes.init_node(
                    child_name,
                    "Container",
                    node["id"],
                    "Pending",
                    template_name=node.get("templateName"),
                    template_scope=node.get("templateScope"),
                )
                eng.op.nodes.add_child(node["name"], child_name)


def kill_daemoned_children(eng: Engine, boundary_id: str) -> None:
    """When a steps/dag node is done, its daemons are stopped and marked Succeeded."""
    op = eng.op
    if not op.nodes.daemons:
        return
    for node_id in list(op.nodes.daemons):
        node = op.nodes.get(node_id)
        if node is None or node.get("boundaryID") != boundary_id or not node.get("daemoned"):
            continue
        pod = op.observed.pods.get(node_id)
        if pod is not None:
            op.act(TerminatePod(name=pod.name, node_id=node_id, reason="daemon no longer needed"))
        op.nodes.update(node_id, daemoned=None, podIP=None)
        op.nodes.mark(node_id, SUCCEEDED)
        op.nodes.daemons.discard(node_id)
