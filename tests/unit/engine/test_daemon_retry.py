"""A daemon with a retryStrategy (Argo's steps-daemon-retry-strategy.yaml, dag-daemon-retry-strategy.yaml):
once its attempt is up, the Retry node is daemoned too, so the steps or DAG go on and `{{steps.X.ip}}`
is the attempt's pod IP; when the scope ends the daemon is stopped and both nodes end Succeeded
(workflow/engine/retry.py, Argo's processNodeRetries)."""

from __future__ import annotations

import pytest
from engine_world import World

from workflow.engine import ContainerObservation, PodObservation, TerminatePod

SERVER = {
    "name": "server",
    "daemon": True,
    "retryStrategy": {"limit": "3"},
    "container": {"image": "nginx", "command": ["nginx"]},
}
CLIENT = {
    "name": "client",
    "inputs": {"parameters": [{"name": "ip"}]},
    "container": {"image": "busybox", "command": ["wget", "{{inputs.parameters.ip}}"]},
}
CALL = {"name": "client", "template": "client", "arguments": {"parameters": [{"name": "ip", "value": ""}]}}


def workflow(kind: str) -> dict:
    ip = "{{steps.server.ip}}" if kind == "steps" else "{{tasks.server.ip}}"
    call = {**CALL, "arguments": {"parameters": [{"name": "ip", "value": ip}]}}
    if kind == "steps":
        main = {"name": "main", "steps": [[{"name": "server", "template": "server"}], [call]]}
    else:
        main = {
            "name": "main",
            "dag": {"tasks": [{"name": "server", "template": "server"}, {**call, "depends": "server"}]},
        }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "ns", "uid": "u"},
        "spec": {"entrypoint": "main", "templates": [main, SERVER, CLIENT]},
    }


def by_display(world: World, name: str) -> dict:
    return next(n for n in world.status["nodes"].values() if n["displayName"] == name)


@pytest.mark.parametrize("kind", ["steps", "dag"])
def test_a_retried_daemon_serves_its_scope_and_is_stopped_with_it(kind):
    world = World(workflow(kind))
    world.step()
    attempt = by_display(world, "server(0)")
    ready = (ContainerObservation("wait", "running"), ContainerObservation("main", "running", ready=True))
    world.pods[attempt["id"]] = PodObservation(
        name=world.pods[attempt["id"]].name,
        node_id=attempt["id"],
        phase="Running",
        containers=ready,
        pod_ip="10.244.0.7",
    )
    world.tick(1)
    world.step()
    retry = by_display(world, "server")
    assert (retry["type"], retry["phase"], retry.get("daemoned")) == ("Retry", "Running", True)
    client = by_display(world, "client")
    assert client["phase"] == "Pending"  # the scope went on
    client_pod = world.pod_specs[client["id"]]
    main = next(c for c in client_pod["spec"]["containers"] if c["name"] == "main")
    assert main["command"][-1] == "10.244.0.7"  # {{steps.server.ip}}: the attempt's pod IP
    world.finish(by_display(world, "client")["name"])
    world.tick(1)
    decision = world.step()
    assert any(isinstance(a, TerminatePod) and a.node_id == attempt["id"] for a in decision.actions)
    assert world.phase == "Succeeded"
    for name in ("server", "server(0)"):
        node = by_display(world, name)
        assert node["phase"] == "Succeeded" and not node.get("daemoned"), node
