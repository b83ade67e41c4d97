"""What a rendered pod shares (workflow/engine/pod_executor.py `executor_containers`, workflow/engine/pods.py
`render_pod`): `init` and `wait` share their env and security values, and every container of a pod
shares the ARGO_* entries (the memory of a 10,000-pod fan-out rests on it, benchmarks/RESULTS.md), but
a pod never aliases the engine's config nor another pod, so a driver that changed one pod could not
change the next."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.unit.engine.engine_world import World
from workflow.engine import EngineConfig
from workflow.engine.pod_executor import EXECUTOR_RESOURCES, EXECUTOR_SECURITY_CONTEXT

pytestmark = pytest.mark.unit

SECURITY = {"runAsUser": 7, "capabilities": {"drop": ["ALL"]}}
RESOURCES = {"requests": {"cpu": "1", "memory": "1Gi"}}
EXTRA_ENV = (
    {"name": "X", "value": "1"},
    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
)
WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "wf", "namespace": "ns", "uid": "u1"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "fan", "template": "echo", "withItems": ["a", "b", "c"]}]]},
            {
                "name": "echo",
                "container": {"image": "alpine", "command": ["echo", "hi"]},
                "sidecars": [{"name": "db", "image": "redis", "command": ["redis-server"]}],
            },
        ],
    },
}


def config() -> EngineConfig:
    return EngineConfig(
        executor_image="img",
        executor_security_context=copy.deepcopy(SECURITY),
        executor_resources=copy.deepcopy(RESOURCES),
        executor_env=copy.deepcopy(EXTRA_ENV),
    )


def pods(cfg: EngineConfig) -> list[dict[str, Any]]:
    world = World(WORKFLOW, config=cfg)
    world.step()
    found = list(world.pod_specs.values())
    assert len(found) == 3
    return found


def by_name(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = pod["spec"]
    return {c["name"]: c for c in spec["initContainers"] + spec["containers"]}


def wreck(value: Any) -> None:
    """Empty every dict and list reachable from `value`, innermost first."""
    if isinstance(value, dict):
        for item in value.values():
            wreck(item)
        value.clear()
    elif isinstance(value, list):
        for item in value:
            wreck(item)
        value.clear()


def test_init_and_wait_share_their_values_and_the_containers_their_argo_entries() -> None:
    pod = pods(config())[0]
    named = by_name(pod)
    init, wait, main, db = named["init"], named["wait"], named["main"], named["db"]
    assert init["env"] is wait["env"]
    assert init["securityContext"] is wait["securityContext"] and init["securityContext"] == SECURITY
    assert init["resources"] is wait["resources"] and init["resources"] == RESOURCES
    argo = {id(e) for e in init["env"] if e["name"] in ("ARGO_POD_NAME", "ARGO_NODE_ID", "ARGO_DEADLINE")}
    assert len(argo) == 3
    for user in (main, db):
        assert argo <= {id(e) for e in user["env"]}
    # the values every container reads are the same, and only the executor's carry the template
    assert {e["name"] for e in main["env"]} == {e["name"] for e in db["env"]}
    assert "ARGO_TEMPLATE" in {e["name"] for e in init["env"]} - {e["name"] for e in main["env"]}
    # wait mirrors main's mounts into its own list; init keeps the executor's own
    assert [m["name"] for m in init["volumeMounts"]] == ["var-run-argo", "tmp-dir-argo"]


def test_a_pod_changed_in_place_changes_neither_the_config_nor_the_other_pods() -> None:
    cfg = config()
    first, *others = pods(cfg)
    before = [json.dumps(p, sort_keys=True) for p in others]
    wreck(first)
    assert first == {}
    assert cfg.executor_security_context == SECURITY
    assert cfg.executor_resources == RESOURCES
    assert cfg.executor_env == EXTRA_ENV
    assert [json.dumps(p, sort_keys=True) for p in others] == before
    # and the next step renders from an intact config
    again = pods(cfg)[1]
    assert by_name(again)["init"]["securityContext"] == SECURITY
    assert {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in by_name(again)[
        "wait"
    ]["env"]


def test_without_a_config_the_defaults_are_copied_into_each_pod() -> None:
    saved = copy.deepcopy((EXECUTOR_SECURITY_CONTEXT, EXECUTOR_RESOURCES))
    first, second, _ = pods(EngineConfig(executor_image="img"))
    assert by_name(first)["init"]["securityContext"] is not by_name(second)["init"]["securityContext"]
    wreck(first)
    assert saved == (EXECUTOR_SECURITY_CONTEXT, EXECUTOR_RESOURCES)
    assert by_name(second)["wait"]["securityContext"] == EXECUTOR_SECURITY_CONTEXT
