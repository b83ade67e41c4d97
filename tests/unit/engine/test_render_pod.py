"""render_pod (workflow/engine/pods.py) as tables: the pod each template type becomes, and the executor's
part in it (commands, mounts, security, resources, credentials, archive location, entrypoints)."""

from __future__ import annotations

import json

import pytest

from tests.unit.engine.engine_world import World
from workflow.engine import EngineConfig
from workflow.engine.pod_containers import LAUNCHER
from workflow.engine.pod_executor import EXECUTOR_RESOURCES, EXECUTOR_SECURITY_CONTEXT

REPO = {
    "archiveLogs": True,
    "s3": {
        "endpoint": "minio.sluice.svc:9000",
        "bucket": "art",
        "insecure": True,
        "accessKeySecret": {"name": "minio-creds", "key": "accesskey"},
        "secretKeySecret": {"name": "minio-creds", "key": "secretkey"},
        "keyFormat": "{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}",
    },
}


def render(template: dict, config: EngineConfig | None = None, **spec) -> tuple[dict, World]:
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "ns", "uid": "u1"},
        "spec": {"entrypoint": template["name"], "templates": [template], **spec},
    }
    world = World(wf, config=config or EngineConfig(executor_image="sluice.local/sluice:dev"))
    world.step()
    pods = list(world.pod_specs.values())
    return (pods[0] if pods else {}), world


def containers(pod: dict) -> dict[str, dict]:
    spec = pod["spec"]
    return {c["name"]: c for c in spec.get("initContainers", []) + spec["containers"]}


def template_of(pod: dict) -> dict:
    env = {e["name"]: e.get("value") for e in containers(pod)["init"]["env"]}
    return json.loads(env["ARGO_TEMPLATE"])


# template -> (init containers, containers, main command after the launcher, main args)
TYPES = {
    "container": (
        {"name": "t", "container": {"image": "alpine", "command": ["sh", "-c"], "args": ["echo hi"]}},
        ["init"],
        ["wait", "main"],
        ["sh", "-c"],
        ["echo hi"],
    ),
    "script": (
        {"name": "t", "script": {"image": "python", "command": ["python"], "source": "print(1)"}},
        ["init"],
        ["wait", "main"],
        ["python"],
        ["/argo/staging/script"],
    ),
    "containerSet": (
        {
            "name": "t",
            "containerSet": {
                "containers": [
                    {"name": "a", "image": "alpine", "command": ["true"]},
                    {
                        "name": "main",
                        "image": "alpine",
                        "command": ["echo"],
                        "args": ["x"],
                        "dependencies": ["a"],
                    },
                ]
            },
        },
        ["init"],
        ["wait", "a", "main"],
        ["echo"],
        ["x"],
    ),
    "sidecars": (
        {
            "name": "t",
            "container": {"image": "alpine", "command": ["true"]},
            "sidecars": [{"name": "db", "image": "redis", "command": ["redis-server"]}],
        },
        ["init"],
        ["wait", "main", "db"],
        ["true"],
        None,
    ),
    "user-init": (
        {
            "name": "t",
            "container": {"image": "alpine", "command": ["true"]},
            "initContainers": [{"name": "prep", "image": "alpine", "command": ["true"]}],
        },
        ["init", "prep"],
        ["wait", "main"],
        ["true"],
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(TYPES))
def test_template_types(case):
    tmpl, init_names, names, command, args = TYPES[case]
    pod, _ = render(tmpl)
    spec = pod["spec"]
    assert [c["name"] for c in spec["initContainers"]] == init_names
    assert [c["name"] for c in spec["containers"]] == names
    main = containers(pod)["main"]
    assert main["command"] == [LAUNCHER, "--", *command]
    assert main.get("args") == args
    assert {"name": "var-run-argo", "mountPath": "/var/run/argo"} in main["volumeMounts"]
    assert all("dependencies" not in c for c in spec["containers"])  # not a Pod field
    for name in ("init", "wait"):
        executor = containers(pod)[name]
        assert executor["command"] == ["sluice", "executor", name]
        assert executor["image"] == "sluice.local/sluice:dev"
        assert executor["securityContext"] == EXECUTOR_SECURITY_CONTEXT
        assert executor["resources"] == EXECUTOR_RESOURCES
        assert {"name": "tmp-dir-argo", "mountPath": "/tmp"} in executor["volumeMounts"]
    for sidecar in names[names.index("main") + 1 :]:
        assert containers(pod)[sidecar]["command"][:2] == [LAUNCHER, "--"]
        assert {"name": "var-run-argo", "mountPath": "/var/run/argo"} in containers(pod)[sidecar][
            "volumeMounts"
        ]
        env = {e["name"]: e.get("value") for e in containers(pod)[sidecar]["env"]}
        assert env["ARGO_CONTAINER_NAME"] == sidecar


def test_script_source_is_staged_by_init_and_read_by_main():
    pod, _ = render(TYPES["script"][0])
    staging = {"name": "argo-staging", "mountPath": "/argo/staging"}
    assert staging in containers(pod)["init"]["volumeMounts"]
    assert staging in containers(pod)["main"]["volumeMounts"]
    assert staging not in containers(pod)["wait"]["volumeMounts"]
    assert template_of(pod)["script"]["source"] == "print(1)"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("resource", {"action": "create", "manifest": "kind: ConfigMap"}),
        ("data", {"source": {}, "transformation": []}),
    ],
)
def test_resource_and_data_run_the_executor_image_without_wait(kind, body):
    pod, _ = render({"name": "t", kind: body})
    assert [c["name"] for c in pod["spec"]["containers"]] == ["main"]
    main = containers(pod)["main"]
    assert main["image"] == "sluice.local/sluice:dev"
    assert main["command"][:3] == ["sluice", "executor", kind]
    assert main["securityContext"] == EXECUTOR_SECURITY_CONTEXT
    env = {e["name"]: e for e in main["env"]}
    assert env["ARGO_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert "ARGO_TEMPLATE" not in env  # main reads the template init wrote into the shared volume
    assert {"name": "tmp-dir-argo", "mountPath": "/tmp"} in main["volumeMounts"]


def test_input_artifacts_are_downloaded_by_init_and_mounted_at_their_paths():
    tmpl = {
        "name": "t",
        "container": {"image": "alpine", "command": ["true"]},
        "inputs": {"artifacts": [{"name": "data", "path": "/in/data.csv", "s3": {"key": "k"}}]},
    }
    pod, _ = render(tmpl)
    assert {"name": "input-artifacts", "mountPath": "/argo/inputs/artifacts"} in containers(pod)["init"][
        "volumeMounts"
    ]
    assert {"name": "input-artifacts", "mountPath": "/in/data.csv", "subPath": "data"} in containers(pod)[
        "main"
    ]["volumeMounts"]


def test_args_only_takes_the_entrypoint_from_the_images_config():
    tmpl = {"name": "t", "container": {"image": "argoproj/argosay:v2", "args": ["echo", "hi"]}}
    config = EngineConfig(images={"argoproj/argosay": {"entrypoint": ["/argosay"]}})
    pod, _ = render(tmpl, config)
    main = containers(pod)["main"]
    assert main["command"] == [LAUNCHER, "--", "/argosay"]
    assert main["args"] == ["echo", "hi"]
    # the image's cmd is the default args
    config = EngineConfig(images={"python:3": {"entrypoint": ["python3"], "cmd": ["-V"]}})
    pod, _ = render({"name": "t", "container": {"image": "python:3"}}, config)
    assert containers(pod)["main"]["command"][2:] == ["python3"] and containers(pod)["main"]["args"] == ["-V"]


def test_args_only_with_an_unknown_image_fails_the_node_naming_the_fix():
    pod, world = render({"name": "t", "container": {"image": "registry.corp/tool:1", "args": ["run"]}})
    assert pod == {}
    node = world.node("wf")
    assert node["phase"] == "Error"
    assert "templates.t.container: image 'registry.corp/tool:1' has no `command`" in node["message"]
    assert "set `command` in the template" in node["message"]


def test_the_local_runner_resolves_entrypoints_itself():
    pod, _ = render(
        {"name": "t", "container": {"image": "busybox", "args": ["true"]}},
        EngineConfig(require_command=False),
    )
    assert containers(pod)["main"]["command"] == [LAUNCHER, "--"]


def test_archive_location_from_the_repository_with_its_key_format():
    tmpl = {
        "name": "t",
        "container": {"image": "alpine", "command": ["true"]},
        "outputs": {"artifacts": [{"name": "a", "path": "/tmp/a"}]},
    }
    pod, _ = render(tmpl, EngineConfig(artifact_repository=REPO))
    location = template_of(pod)["archiveLocation"]
    assert location["archiveLogs"] is True
    assert location["s3"]["key"] == f"ns/wf/{pod['metadata']['name']}"
    assert location["s3"]["bucket"] == "art" and "keyFormat" not in location["s3"]
    # credentials: the Secret is mounted for the executor only, read-only
    mount = {"name": "argo-secret-minio-creds", "mountPath": "/argo/secret/minio-creds", "readOnly": True}
    assert (
        mount in containers(pod)["init"]["volumeMounts"] and mount in containers(pod)["wait"]["volumeMounts"]
    )
    assert mount not in containers(pod)["main"]["volumeMounts"]
    assert {
        "name": "argo-secret-minio-creds",
        "secret": {"secretName": "minio-creds", "defaultMode": 0o444},
    } in pod["spec"]["volumes"]


def test_a_gcs_repository_gives_its_key_and_mounts_its_service_account_key_for_the_executor_only():
    repo = {
        "gcs": {
            "bucket": "art",
            "keyFormat": "{{workflow.name}}/{{pod.name}}",
            "serviceAccountKeySecret": {"name": "gcs-key", "key": "key.json"},
        }
    }
    tmpl = {
        "name": "t",
        "container": {"image": "alpine", "command": ["true"]},
        "outputs": {"artifacts": [{"name": "a", "path": "/tmp/a"}]},
    }
    pod, _ = render(tmpl, EngineConfig(artifact_repository=repo))
    location = template_of(pod)["archiveLocation"]["gcs"]
    assert location == {
        "bucket": "art",
        "key": f"wf/{pod['metadata']['name']}",
        "serviceAccountKeySecret": {"name": "gcs-key", "key": "key.json"},
    }
    mount = {"name": "argo-secret-gcs-key", "mountPath": "/argo/secret/gcs-key", "readOnly": True}
    assert (
        mount in containers(pod)["init"]["volumeMounts"] and mount in containers(pod)["wait"]["volumeMounts"]
    )
    assert mount not in containers(pod)["main"]["volumeMounts"]


def test_workflow_repository_ref_wins_and_archive_logs_can_be_turned_off():
    tmpl = {
        "name": "t",
        "container": {"image": "alpine", "command": ["true"]},
        "archiveLocation": {"archiveLogs": False},
    }
    other = {"s3": {"bucket": "theirs", "endpoint": "127.0.0.1:9000"}}
    wf_status = {"artifactRepositoryRef": {"artifactRepository": other}}
    world_wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "ns", "uid": "u1"},
        "spec": {"entrypoint": "t", "templates": [tmpl]},
        "status": wf_status,
    }
    world = World(world_wf, config=EngineConfig(artifact_repository=REPO))
    world.step()
    pod = next(iter(world.pod_specs.values()))
    location = template_of(pod)["archiveLocation"]
    assert location["s3"]["bucket"] == "theirs"
    assert location["s3"]["key"] == f"wf/{pod['metadata']['name']}"  # the default keyFormat
    assert location["archiveLogs"] is False


def test_no_repository_no_archive_location():
    pod, _ = render({"name": "t", "container": {"image": "alpine", "command": ["true"]}})
    assert "archiveLocation" not in template_of(pod)


def test_executor_and_main_defaults_come_from_the_config():
    config = EngineConfig(
        executor_resources={"limits": {"memory": "1Gi"}},
        executor_security_context={"runAsUser": 2000},
        main_container={
            "resources": {"requests": {"cpu": "100m"}},
            "env": [{"name": "FROM_CONFIG", "value": "1"}],
        },
        executor_image_pull_policy="IfNotPresent",
        instance_id="i1",
        executor_env=(
            {"name": "STORAGE_EMULATOR_HOST", "value": "gcs.test:4443"},
            {"name": "ARGO_NODE_ID", "value": "not-this-one"},
        ),
    )
    pod, _ = render(
        {
            "name": "t",
            "container": {
                "image": "alpine",
                "command": ["true"],
                "resources": {"requests": {"memory": "1Mi"}},
            },
        },
        config,
    )
    wait = containers(pod)["wait"]
    assert wait["resources"] == {"limits": {"memory": "1Gi"}}
    assert wait["securityContext"] == {"runAsUser": 2000}
    assert wait["imagePullPolicy"] == "IfNotPresent"
    assert {"name": "ARGO_INSTANCE_ID", "value": "i1"} in wait["env"]
    for executor in (wait, containers(pod)["init"]):  # config variables, never over the pod's own
        assert {"name": "STORAGE_EMULATOR_HOST", "value": "gcs.test:4443"} in executor["env"]
        assert [e["value"] for e in executor["env"] if e["name"] == "ARGO_NODE_ID"] != ["not-this-one"]
        assert sum(e["name"] == "ARGO_NODE_ID" for e in executor["env"]) == 1
    main = containers(pod)["main"]
    assert main["resources"] == {
        "requests": {"cpu": "100m", "memory": "1Mi"}
    }  # the template's own wins per key
    assert {"name": "FROM_CONFIG", "value": "1"} in main["env"]


def test_executor_env_names_the_pod():
    pod, _ = render({"name": "t", "container": {"image": "alpine", "command": ["true"]}})
    env = {e["name"]: e for e in containers(pod)["wait"]["env"]}
    for name in (
        "ARGO_POD_NAME",
        "ARGO_WORKFLOW_NAME",
        "ARGO_WORKFLOW_UID",
        "ARGO_NODE_ID",
        "ARGO_TEMPLATE",
        "ARGO_INCLUDE_SCRIPT_OUTPUT",
        "ARGO_DEADLINE",
        "ARGO_PROGRESS_FILE",
    ):
        assert name in env
    assert env["ARGO_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert env["ARGO_POD_NAME"]["value"] == pod["metadata"]["name"]


def test_a_data_template_main_reads_the_repository_credentials():
    tmpl = {
        "name": "t",
        "data": {"source": {"artifactPaths": {"name": "a", "s3": {"key": "logs"}}}, "transformation": []},
    }
    pod, _ = render(tmpl, EngineConfig(executor_image="sluice.local/sluice:dev", artifact_repository=REPO))
    mount = {"name": "argo-secret-minio-creds", "mountPath": "/argo/secret/minio-creds", "readOnly": True}
    assert mount in containers(pod)["main"]["volumeMounts"]
    assert containers(pod)["main"]["command"] == ["sluice", "executor", "data"]


WF_PARAMS = {"parameters": [{"name": "mem-limit", "value": "100Mi"}, {"name": "zone", "value": "z1"}]}


def test_workflow_level_pod_spec_patch_gets_the_workflow_parameters():
    """pod-spec-yaml-patch.yaml: the workflow's patch names `{{workflow.parameters.mem-limit}}`."""
    patch = 'containers:\n  - name: main\n    resources:\n      limits:\n        memory: "{{workflow.parameters.mem-limit}}"\n'
    pod, _ = render(
        {"name": "t", "container": {"image": "busybox", "command": ["echo"]}},
        arguments=WF_PARAMS,
        podSpecPatch=patch,
    )
    assert containers(pod)["main"]["resources"]["limits"]["memory"] == "100Mi"


def test_workflow_and_template_patches_both_substituted_template_last():
    """pod-spec-patch-wf-tmpl.yaml: the workflow's patch, then the template's, each with its parameters."""
    template = {
        "name": "t",
        "podSpecPatch": '{"containers":[{"name":"main","resources":{"limits":{"cpu":"{{workflow.parameters.cpu}}"}}}]}',
        "container": {"image": "busybox", "command": ["echo"]},
    }
    pod, _ = render(
        template,
        arguments={"parameters": [{"name": "cpu", "value": "100m"}, {"name": "mem", "value": "64Mi"}]},
        podSpecPatch='{"containers":[{"name":"main","resources":{"limits":{"memory":"{{workflow.parameters.mem}}","cpu":"1"}}}]}',
    )
    assert containers(pod)["main"]["resources"]["limits"] == {"memory": "64Mi", "cpu": "100m"}


def test_workflow_level_pod_fields_get_the_globals_and_unknown_tags_stay():
    pod, _ = render(
        {"name": "t", "container": {"image": "busybox", "command": ["echo"]}},
        arguments=WF_PARAMS,
        nodeSelector={"zone": "{{workflow.parameters.zone}}"},
        podMetadata={"labels": {"wf": "{{workflow.name}}"}, "annotations": {"later": "{{pod.name}}"}},
    )
    assert pod["spec"]["nodeSelector"] == {"zone": "z1"}
    assert pod["metadata"]["labels"]["wf"] == "wf"
    assert pod["metadata"]["annotations"]["later"] == "{{pod.name}}"


def test_containerset_volume_mounts_reach_every_member_and_are_mirrored_into_wait():
    """Argo's container-set-template/workspace-workflow.yaml: member `a` writes /workspace/out, `wait`
    reads it through /mainctrfs/workspace."""
    tmpl = {
        "name": "t",
        "volumes": [{"name": "workspace", "emptyDir": {}}],
        "containerSet": {
            "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
            "containers": [
                {"name": "a", "image": "alpine", "command": ["sh"]},
                {"name": "main", "image": "alpine", "command": ["true"]},
            ],
        },
        "inputs": {"artifacts": [{"name": "in", "path": "/in/x", "raw": {"data": "x"}}]},
        "outputs": {"parameters": [{"name": "out", "valueFrom": {"path": "/workspace/out"}}]},
    }
    pod, _ = render(tmpl)
    for name in ("a", "main"):
        assert {"name": "workspace", "mountPath": "/workspace"} in containers(pod)[name]["volumeMounts"]
    wait = containers(pod)["wait"]["volumeMounts"]
    assert {"name": "workspace", "mountPath": "/mainctrfs/workspace", "readOnly": True} in wait
    # the executor's own volumes are not mirrored
    assert [m for m in wait if m["mountPath"].startswith("/mainctrfs")] == [
        {"name": "workspace", "mountPath": "/mainctrfs/workspace", "readOnly": True}
    ]
    assert {"name": "workspace", "emptyDir": {}} in pod["spec"]["volumes"]


def test_main_volume_mounts_are_mirrored_into_wait_with_their_sub_path():
    tmpl = {
        "name": "t",
        "container": {
            "image": "alpine",
            "command": ["true"],
            "volumeMounts": [{"name": "data", "mountPath": "/data/", "subPath": "run1"}],
        },
    }
    pod, _ = render(tmpl, volumes=[{"name": "data", "emptyDir": {}}])
    assert {
        "name": "data",
        "mountPath": "/mainctrfs/data",
        "readOnly": True,
        "subPath": "run1",
    } in containers(pod)["wait"]["volumeMounts"]


def test_manifest_from_mounts_the_input_artifacts_into_the_resource_main():
    tmpl = {
        "name": "t",
        "inputs": {"artifacts": [{"name": "m", "raw": {"data": "kind: ConfigMap"}}]},
        "resource": {"action": "create", "manifestFrom": {"artifact": {"name": "m"}}},
    }
    pod, _ = render(tmpl)
    assert {"name": "input-artifacts", "mountPath": "/argo/inputs/artifacts"} in containers(pod)["init"][
        "volumeMounts"
    ]
    assert {"name": "input-artifacts", "mountPath": "/argo/inputs/artifacts", "readOnly": True} in containers(
        pod
    )["main"]["volumeMounts"]
    assert {"name": "input-artifacts", "emptyDir": {}} in pod["spec"]["volumes"]


def _big_script(size: int) -> dict:
    return {"name": "t", "script": {"image": "python", "command": ["python"], "source": "#" * size}}


def test_a_template_past_128_kib_travels_in_a_config_map_named_after_the_pod():
    """Linux refuses an environment string over 128 KiB (MAX_ARG_STRLEN): the template goes into a
    ConfigMap the pod mounts at /argo/config, created before the pod, owned by the Workflow."""
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "ns", "uid": "u1"},
        "spec": {"entrypoint": "t", "templates": [_big_script(200 * 1024)]},
    }
    world = World(wf, config=EngineConfig(executor_image="sluice.local/sluice:dev"))
    decision = world.step()
    kinds = [type(a).__name__ for a in decision.actions if type(a).__name__ in ("CreateObject", "CreatePod")]
    assert kinds == ["CreateObject", "CreatePod"]
    config_map = next(a.obj for a in decision.actions if type(a).__name__ == "CreateObject")
    [pod] = world.pod_specs.values()
    name = pod["metadata"]["name"]
    assert config_map["metadata"]["name"] == name and config_map["metadata"]["namespace"] == "ns"
    assert config_map["metadata"]["ownerReferences"][0]["uid"] == "u1"
    assert json.loads(config_map["data"]["ARGO_TEMPLATE"])["script"]["source"] == "#" * 200 * 1024
    assert {"name": "argo-env-config", "configMap": {"name": name}} in pod["spec"]["volumes"]
    for executor in ("init", "wait"):
        env = {e["name"]: e.get("value") for e in containers(pod)[executor]["env"]}
        assert env["ARGO_TEMPLATE"] == "offloaded"
        assert {"name": "argo-env-config", "mountPath": "/argo/config", "readOnly": True} in containers(pod)[
            executor
        ]["volumeMounts"]
    assert all(len(json.dumps(e)) < 4096 for c in containers(pod).values() for e in c.get("env", []))


def test_small_templates_stay_inline_and_the_local_runner_never_offloads():
    pod, _ = render(_big_script(1000))
    assert template_of(pod)["script"]["source"] == "#" * 1000
    pod, _ = render(_big_script(200 * 1024), EngineConfig(executor_image="x", template_offload_bytes=None))
    assert template_of(pod)["script"]["source"] == "#" * 200 * 1024


def test_a_template_past_a_config_maps_size_fails_its_node_saying_why():
    pod, world = render(_big_script(1100 * 1024))
    assert pod == {}
    node = world.node("wf")
    assert node["phase"] == "Error"
    assert "templates.t: the processed template is" in node["message"]
    assert "over the 1044480 a ConfigMap can hold" in node["message"]


def test_mirror_volume_mounts_gives_init_containers_and_sidecars_mains_mounts():
    """init-container.yaml and sidecar-dind.yaml: `mirrorVolumeMounts: true` (not a Pod field) copies main's
    volume mounts into the user init container or sidecar; without it they get none."""
    tmpl = {
        "name": "t",
        "container": {
            "image": "alpine",
            "command": ["echo"],
            "volumeMounts": [{"name": "foo", "mountPath": "/foo"}],
        },
        "inputs": {"artifacts": [{"name": "in", "path": "/in/x", "raw": {"data": "x"}}]},
        "initContainers": [
            {"name": "hello", "image": "alpine", "command": ["echo"], "mirrorVolumeMounts": True},
            {"name": "plain", "image": "alpine", "command": ["echo"]},
        ],
        "sidecars": [{"name": "dind", "image": "docker", "command": ["dockerd"], "mirrorVolumeMounts": True}],
    }
    pod, _ = render(tmpl, volumes=[{"name": "foo", "emptyDir": {}}])
    every = containers(pod)
    assert every["hello"]["volumeMounts"] == [{"name": "foo", "mountPath": "/foo"}]
    assert "volumeMounts" not in every["plain"]
    assert {"name": "foo", "mountPath": "/foo"} in every["dind"]["volumeMounts"]
    assert not any(m["name"] == "input-artifacts" for m in every["dind"]["volumeMounts"])
    assert all("mirrorVolumeMounts" not in c for c in every.values())
