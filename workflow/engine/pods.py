"""The pod a leaf node needs, as data (the pod Argo's controller writes).

Shape: `initContainers: [init, ...user]`, `containers: [wait, main, ...sidecars]`. Its parts, by concept:
the user's containers under the launcher and their volume mounts (workflow/engine/pod_containers.py),
the executor's `init` and `wait`, its Secrets and the archive location (workflow/engine/pod_executor.py),
a template too long for a variable travelling in a ConfigMap (workflow/engine/pod_offload.py). Here:
labels `workflows.argoproj.io/workflow|completed|on-exit`, annotations
`workflows.argoproj.io/node-name|node-id`, `kubectl.kubernetes.io/default-container: main`, owner
reference to the Workflow, `restartPolicy: Never`, `activeDeadlineSeconds` from the template
deadline/timeout and the workflow's remaining time, the pod fields of the template and the workflow,
`podSpecPatch`. The processed template travels in `ARGO_TEMPLATE` on `init` and `wait`: the executor (and
the local runner) read the script source, output paths and input artifacts from it.
"""

from __future__ import annotations

import copy
import json
import math
from typing import TYPE_CHECKING, Any

import yaml

from workflow import names
from workflow.engine import clock, subst
from workflow.engine.defs import ERROR, SUCCEEDED, Opts
from workflow.engine.model import CreateObject, CreatePod, TerminatePod
from workflow.engine.pod_containers import (
    PodSpecError,
    container_field,
    main_containers,
    mirror_mounts,
    mount,
    with_mirrored_mounts,
    wrap,
)
from workflow.engine.pod_executor import (
    INPUT_ARTIFACTS,
    STAGING,
    VAR_RUN_ARGO,
    archive_location,
    credential_secrets,
    executor_containers,
    mount_secrets,
)
from workflow.engine.pod_offload import OFFLOADED, mount_config_map, offloaded, template_config_map
from workflow.labels import (
    ANN_NODE_ID,
    ANN_NODE_NAME,
    ANN_POD_GC,
    LABEL_COMPLETED,
    LABEL_INSTANCE,
    LABEL_ON_EXIT,
    LABEL_WORKFLOW,
)
from workflow.merge import strategic_merge

if TYPE_CHECKING:  # execute.py imports this module; the engine is only a type here
    from workflow.engine.execute import Engine

ANN_DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
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
    # every container of the pod lists these same entries: one dict each, shared (a pod is read-only data)
    common_entries = _env(common_env)
    where = f"templates.{tmpl.get('name') or node['name']}"
    location = archive_location(op, spec, tmpl, pod_name)
    carried = dict(tmpl)
    if location is not None:
        carried["archiveLocation"] = location
    template_json = json.dumps(carried, separators=(",", ":"))
    is_offloaded = offloaded(config, template_json, where)
    run_mount = {"name": "var-run-argo", "mountPath": VAR_RUN_ARGO}
    tmp_mount = {"name": "tmp-dir-argo", "mountPath": "/tmp"}  # the read-only root's only scratch space
    executor_env: list[dict[str, Any]] = [
        *common_entries,
        {"name": "ARGO_TEMPLATE", "value": OFFLOADED if is_offloaded else template_json},
        {"name": "ARGO_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "ARGO_POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
    ]
    if config.instance_id:
        executor_env.append({"name": "ARGO_INSTANCE_ID", "value": config.instance_id})
    own = {e["name"] for e in executor_env}
    executor_env.extend(copy.deepcopy(e) for e in config.executor_env if e.get("name") not in own)
    executor, init, wait = executor_containers(config, executor_env, [run_mount, tmp_mount])

    volumes: list[dict[str, Any]] = [
        {"name": "var-run-argo", "emptyDir": {}},
        {"name": "tmp-dir-argo", "emptyDir": {}},
    ]
    if is_offloaded:
        mount_config_map(volumes, [init, wait], pod_name)
    user_containers = []
    runs_executor = isinstance(tmpl.get("resource"), dict) or isinstance(tmpl.get("data"), dict)
    for index, container in enumerate(main_containers(tmpl, config.executor_image)):
        if runs_executor:  # resource/data: main is the executor itself, with its own security
            container.setdefault("securityContext", copy.deepcopy(executor["securityContext"]))
            container.setdefault("resources", copy.deepcopy(executor["resources"]))
            container["env"] = [e for e in executor_env if e["name"] != "ARGO_TEMPLATE"]
            mount(container, tmp_mount)
        else:
            if isinstance(config.main_container, dict) and config.main_container:
                container = strategic_merge(copy.deepcopy(config.main_container), container)
            container = wrap(container, config, f"{where}.{container_field(tmpl, index)}")
        env = list(container.get("env") or [])
        env.append({"name": "ARGO_CONTAINER_NAME", "value": container.get("name") or "main"})
        env.extend(common_entries)
        container["env"] = env
        mount(container, run_mount)
        user_containers.append(container)
    if isinstance(tmpl.get("script"), dict) and user_containers:
        volumes.append({"name": "argo-staging", "emptyDir": {}})
        mount(init, {"name": "argo-staging", "mountPath": STAGING})
        mount(user_containers[0], {"name": "argo-staging", "mountPath": STAGING})
    in_arts = [
        a
        for a in ((tmpl.get("inputs") or {}).get("artifacts") or ())
        if isinstance(a, dict) and a.get("path")
    ]
    # a resource template reads its `manifestFrom` artifact from the volume
    manifest_from = (tmpl.get("resource") or {}).get("manifestFrom") if runs_executor else None
    if (in_arts or manifest_from) and user_containers:
        volumes.append({"name": "input-artifacts", "emptyDir": {}})
        mount(init, {"name": "input-artifacts", "mountPath": INPUT_ARTIFACTS})
    if runs_executor and manifest_from and user_containers:
        mount(
            user_containers[0],
            {"name": "input-artifacts", "mountPath": INPUT_ARTIFACTS, "readOnly": True},
        )
    elif in_arts and user_containers:
        for art in in_arts:
            mount(
                user_containers[0],
                {"name": "input-artifacts", "mountPath": art["path"], "subPath": art["name"]},
            )
    secrets = credential_secrets([tmpl.get("inputs"), tmpl.get("outputs"), tmpl.get("data"), location], set())
    # the executor's containers: init and wait, and main when main is the executor (data templates list
    # a store); a user's main never sees them
    readers = [init, wait] + (user_containers[:1] if runs_executor else [])
    mount_secrets(volumes, readers, secrets)

    sidecars = []
    for i, sidecar in enumerate(tmpl.get("sidecars") or ()):
        if not isinstance(sidecar, dict):
            continue
        # under the launcher too: it stops the sidecar once main has exited
        sidecar = wrap(with_mirrored_mounts(sidecar, user_containers), config, f"{where}.sidecars[{i}]")
        env = list(sidecar.get("env") or [])
        env.append({"name": "ARGO_CONTAINER_NAME", "value": sidecar.get("name") or ""})
        env.extend(common_entries)
        sidecar["env"] = env
        mount(sidecar, run_mount)
        sidecars.append(sidecar)
    needs_wait = not runs_executor
    if needs_wait:
        mirror_mounts(wait, user_containers)
    containers = ([wait] if needs_wait else []) + user_containers + sidecars
    init_containers = [init] + [
        with_mirrored_mounts(c, user_containers)
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
