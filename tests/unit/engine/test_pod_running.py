"""Running pods, a pod being deleted, and a daemon's pod; rows in pod_rows.py's form."""

from __future__ import annotations

import dataclasses

from engine_world import World
from pod_rows import (
    MAIN_OK,
    PULL_BACKOFF,
    WAIT_OK,
    Case,
    check,
    once,
    one_pod_workflow,
    pod,
    rows,
    running,
)

RUNNING = [
    Case("running", once(pod("Running", running("wait"), running("main"))), "Running", ""),
    Case(
        "running-clears-pending-reason",
        once(pod("Pending", PULL_BACKOFF), then=[{"pod": pod("Running", running("wait"), running("main"))}]),
        "Running",
        "",
    ),
    Case(
        "main-done-wait-still-saving",
        once(pod("Running", running("wait"), MAIN_OK)),
        "Running",
        "",
        exit_code="0",
    ),
    Case(
        "deleting-running-pod",
        once(pod("Running", running("wait"), running("main"), deleting=True)),
        "Running",
        "",
    ),
]


@rows(RUNNING)
def test_running_pod(case: Case) -> None:
    check(case)


def test_a_daemon_that_exits_fails():
    """Argo: a daemon pod that Succeeded is a Failed node (it was to serve until its steps end)."""
    doc = one_pod_workflow(
        {
            "name": "main",
            "steps": [[{"name": "server", "template": "srv"}], [{"name": "client", "template": "cli"}]],
        },
        {"name": "srv", "daemon": True, "container": {"image": "nginx", "command": ["nginx"]}},
        {"name": "cli", "container": {"image": "busybox", "command": ["true"]}},
    )
    world = World(doc)
    world.step()
    server = world.node("pods[0].server")
    world.pods[server["id"]] = dataclasses.replace(
        pod("Running", running("wait"), running("main")), name="srv-pod", node_id=server["id"]
    )
    world.tick(1)
    world.step()
    assert world.node("pods[0].server").get("daemoned") is True
    client = world.node("pods[1].client")  # the next group started: the daemon serves it
    assert client["phase"] == "Pending"
    world.pods[server["id"]] = dataclasses.replace(
        pod("Succeeded", WAIT_OK, MAIN_OK), name="srv-pod", node_id=server["id"]
    )
    world.tick(1)
    world.step()
    server = world.node("pods[0].server")
    assert (server["phase"], server.get("message")) == (
        "Failed",
        "daemon exited before the steps or DAG it serves ended",
    )
    assert not server.get("daemoned")
