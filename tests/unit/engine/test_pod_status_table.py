"""Pod states -> node phase and message, one row per case (in the style of Tekton's pod-status tables).

Each row drives the public engine (`workflow.engine.step`) on a one-pod workflow: the pod the engine asks
for is replaced by the row's observations in order (time moving between them as the row says), and the
node is compared after the last one. The rules are Argo's (its exit-code and phase mapping,
inferFailedReason, assessNodeStatus, podReconciliation), implemented in
workflow/engine/reconcile.py.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pytest
from engine_world import World

from workflow.engine import (
    ContainerObservation,
    CreatePod,
    EngineConfig,
    PodObservation,
    TaskResultObservation,
)
from workflow.engine.observe import pod_observation
from workflow.engine.reconcile import infer_failure

IMAGE = "registry.example/team/tool:1.2"
FINISHED = "2024-01-01T12:00:00Z"
GONE = None  # the pod is not observed any more

CONTAINER = {"name": "main", "container": {"image": IMAGE, "command": ["tool"]}}
CONTAINER_SET = {
    "name": "main",
    "containerSet": {
        "containers": [
            {"name": "a", "image": "busybox", "command": ["true"]},
            {"name": "b", "image": "busybox", "command": ["true"], "dependencies": ["a"]},
        ]
    },
}


def done(name: str, code: int = 0, reason: str = "", message: str = "") -> ContainerObservation:
    reason = reason or ("Completed" if code == 0 else "Error")
    return ContainerObservation(name, "terminated", code, reason, message, finished_at=FINISHED)


def running(name: str) -> ContainerObservation:
    return ContainerObservation(name, "running", ready=True)


def waiting(name: str, reason: str, message: str = "", image: str = "") -> ContainerObservation:
    return ContainerObservation(name, "waiting", reason=reason, message=message, image=image)


def pod(
    phase: str, *containers: ContainerObservation, init: tuple[ContainerObservation, ...] = (), **fields: Any
) -> PodObservation:
    return PodObservation(
        name="", node_id="", phase=phase, containers=containers, init_containers=init, **fields
    )


def result(completed: bool = True, **outputs: Any) -> TaskResultObservation:
    return TaskResultObservation(node_id="", outputs=outputs or None, completed=completed)


@dataclass(frozen=True)
class Seen:
    """One observation: `after` seconds after the previous step, the pod (or GONE) and its task result."""

    pod: PodObservation | None
    result: TaskResultObservation | None = None
    after: float = 1


@dataclass(frozen=True)
class Case:
    id: str
    seen: tuple[Seen, ...]
    phase: str
    message: str = ""
    template: dict[str, Any] = field(default_factory=lambda: CONTAINER)
    exit_code: str | None = None  # outputs.exitCode
    synced: bool = True  # taskResultSynced
    workflow: str | None = None  # the workflow's phase, when the row is about not getting stuck
    containers: dict[str, tuple[str, str]] = field(default_factory=dict)  # Container node -> (phase, message)
    config: EngineConfig = field(default_factory=EngineConfig)


def once(p: PodObservation | None, r: TaskResultObservation | None = None, **kw: Any) -> tuple[Seen, ...]:
    return (Seen(p, r),) + tuple(Seen(**s) for s in kw.get("then", ()))


MAIN_OK, WAIT_OK = done("main"), done("wait")
PULL_BACKOFF = waiting("main", "ImagePullBackOff", f'Back-off pulling image "{IMAGE}"', IMAGE)
EVICTED = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 20Mi."
DEADLINE = "Pod was active on the node longer than the specified deadline"
UNSCHEDULABLE = "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available."

CASES = [
    # --- Pending: the message says why the pod does not run -------------------------------------------
    Case("pending-no-status", once(pod("Pending")), "Pending", ""),
    Case(
        "pending-container-creating",
        once(pod("Pending", waiting("wait", "ContainerCreating"), waiting("main", "ContainerCreating"))),
        "Pending",
        "ContainerCreating",
    ),
    Case(
        "image-pull-backoff",
        once(pod("Pending", waiting("wait", "PodInitializing"), PULL_BACKOFF)),
        "Pending",
        f'ImagePullBackOff: Back-off pulling image "{IMAGE}"',
    ),
    Case(
        "err-image-pull-names-image",
        once(pod("Pending", waiting("main", "ErrImagePull", "manifest unknown", IMAGE))),
        "Pending",
        f'ErrImagePull: manifest unknown (image "{IMAGE}")',
    ),
    Case(
        "invalid-image-name",
        once(pod("Pending", waiting("main", "InvalidImageName", "", "Bad:Name:"))),
        "Pending",
        'InvalidImageName (image "Bad:Name:")',
    ),
    Case(
        "executor-image-pull-backoff",
        once(
            pod(
                "Pending",
                waiting("wait", "PodInitializing"),
                waiting("main", "PodInitializing"),
                init=(
                    waiting(
                        "init",
                        "ImagePullBackOff",
                        'Back-off pulling image "sluice/executor:v1"',
                        "sluice/executor:v1",
                    ),
                ),
            )
        ),
        "Pending",
        'ImagePullBackOff: Back-off pulling image "sluice/executor:v1"',
    ),
    Case(
        "create-container-config-error",
        once(pod("Pending", waiting("main", "CreateContainerConfigError", 'secret "creds" not found'))),
        "Pending",
        'CreateContainerConfigError: secret "creds" not found',
    ),
    Case(
        "unschedulable",
        once(pod("Pending", message=f"Unschedulable: {UNSCHEDULABLE}")),
        "Pending",
        f"Unschedulable: {UNSCHEDULABLE}",
    ),
    Case(
        "unschedulable-no-message",
        once(pod("Pending", message="Unschedulable")),
        "Pending",
        "Unschedulable",
    ),
    Case(
        "pending-reason-cleared-when-pulled",
        once(
            pod("Pending", PULL_BACKOFF), then=[{"pod": pod("Pending", waiting("main", "ContainerCreating"))}]
        ),
        "Pending",
        "ContainerCreating",
    ),
    # --- Running ----------------------------------------------------------------------------------------
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
    # --- main's exit code -------------------------------------------------------------------------------
    Case("main-exit-0", once(pod("Succeeded", WAIT_OK, MAIN_OK), result()), "Succeeded", "", exit_code="0"),
    Case(
        "main-exit-1",
        once(pod("Failed", WAIT_OK, done("main", 1))),
        "Failed",
        "main: Error (exit code 1)",
        exit_code="1",
    ),
    Case(
        "main-exit-1-termination-message",
        once(pod("Failed", WAIT_OK, done("main", 1, message="boom"))),
        "Failed",
        "main: Error (exit code 1): boom",
        exit_code="1",
    ),
    Case(
        "main-exit-137-killed",
        once(pod("Failed", WAIT_OK, done("main", 137))),
        "Failed",
        "main: Error (exit code 137)",
        exit_code="137",
    ),
    Case(
        "main-exit-143-terminated",
        once(pod("Failed", WAIT_OK, done("main", 143))),
        "Failed",
        "main: Error (exit code 143)",
        exit_code="143",
    ),
    Case(
        "oom-killed",
        once(pod("Failed", WAIT_OK, done("main", 137, "OOMKilled"))),
        "Failed",
        "main: OOMKilled (exit code 137)",
        exit_code="137",
    ),
    # --- the pod's own message wins ---------------------------------------------------------------------
    Case(
        "evicted",
        once(pod("Failed", done("main", 137), reason="Evicted", message=EVICTED), result(False)),
        "Failed",
        EVICTED,
        exit_code="137",
        workflow="Failed",
    ),
    Case(
        "active-deadline-exceeded",
        once(
            pod("Failed", done("wait", 137), done("main", 137), reason="DeadlineExceeded", message=DEADLINE)
        ),
        "Failed",
        DEADLINE,
        exit_code="137",
    ),
    # --- init, wait and sidecar containers --------------------------------------------------------------
    Case(
        "init-failed",
        once(
            pod(
                "Failed",
                waiting("wait", "PodInitializing"),
                waiting("main", "PodInitializing"),
                init=(done("init", 1, message="failed to load artifact"),),
            )
        ),
        "Error",
        "init: Error (exit code 1): failed to load artifact",
    ),
    Case(
        "user-init-container-failed",
        once(pod("Failed", waiting("main", "PodInitializing"), init=(done("init"), done("setup", 2)))),
        "Failed",
        "setup: Error (exit code 2)",
    ),
    Case(
        "wait-failed-main-succeeded",
        once(pod("Failed", done("wait", 1, message="failed to save outputs"), MAIN_OK), result(False)),
        "Error",
        "wait: Error (exit code 1): failed to save outputs",
        exit_code="0",
        workflow="Error",
    ),
    Case(
        "main-failed-and-wait-failed",
        once(pod("Failed", done("wait", 1), done("main", 2))),
        "Failed",
        "main: Error (exit code 2)",
        exit_code="2",
    ),
    Case(
        "sidecar-killed-is-ignored",
        once(pod("Failed", WAIT_OK, MAIN_OK, done("nginx", 137)), result()),
        "Succeeded",
        "",
        exit_code="0",
        workflow="Succeeded",
    ),
    Case(
        "sidecar-failed",
        once(pod("Failed", WAIT_OK, MAIN_OK, done("nginx", 1))),
        "Failed",
        "nginx: Error (exit code 1)",
        exit_code="0",
    ),
    Case(
        "container-never-started",
        once(pod("Failed", waiting("wait", "PodInitializing"), PULL_BACKOFF)),
        "Error",
        f'Pod failed before main container starts due to ImagePullBackOff: Back-off pulling image "{IMAGE}"',
    ),
    Case(
        "failed-without-statuses",
        once(pod("Failed")),
        "Failed",
        "can't find failed message for pod pods namespace default",
    ),
    Case(
        "failed-nothing-failed-but-wait-missing-exit",
        once(pod("Failed", done("wait", 0), running("main"))),
        "Failed",
        "pod failed: main container did not complete successfully",
    ),
    Case("unknown-pod-phase", once(pod("Unknown")), "Error", "Unexpected pod phase for pods: Unknown"),
    Case(
        "deleted-while-running",
        once(
            pod("Running", running("wait"), running("main"), deleting=True),
            then=[{"pod": pod("Failed", done("wait", 0), done("main", 143))}],
        ),
        "Failed",
        "main: Error (exit code 143)",
        exit_code="143",
    ),
    # --- a pod that vanished ----------------------------------------------------------------------------
    Case(
        "vanished-within-grace",
        once(pod("Running", running("wait"), running("main")), then=[{"pod": GONE, "after": 5}]),
        "Running",
        "",
    ),
    Case(
        "vanished-after-grace",
        once(pod("Running", running("wait"), running("main")), then=[{"pod": GONE, "after": 30}]),
        "Error",
        "pod deleted",
        workflow="Error",
    ),
    Case(
        "vanished-with-incomplete-result",
        once(
            pod("Running", running("wait"), running("main")), result(False), then=[{"pod": GONE, "after": 30}]
        ),
        "Error",
        "pod deleted",
        workflow="Error",
    ),
    # --- a task result that never arrives ---------------------------------------------------------------
    Case(
        "result-incomplete-waits",
        once(pod("Succeeded", WAIT_OK, MAIN_OK), result(False)),
        "Succeeded",
        "",
        exit_code="0",
        synced=False,
        workflow="Running",
    ),
    Case(
        "result-arrives",
        once(
            pod("Succeeded", WAIT_OK, MAIN_OK),
            result(False),
            then=[{"pod": pod("Succeeded", WAIT_OK, MAIN_OK), "result": result(result="hi")}],
        ),
        "Succeeded",
        "",
        exit_code="0",
        workflow="Succeeded",
    ),
    Case(
        "result-never-arrives",
        once(
            pod("Succeeded", WAIT_OK, MAIN_OK),
            result(False),
            then=[{"pod": pod("Succeeded", WAIT_OK, MAIN_OK), "result": result(False), "after": 601}],
        ),
        "Error",
        "outputs never reported: the task result was still incomplete 10m0s after the pod finished",
        exit_code="0",
        workflow="Error",
    ),
    Case(
        "result-timeout-configurable",
        once(
            pod("Succeeded", WAIT_OK, MAIN_OK),
            result(False),
            then=[{"pod": pod("Succeeded", WAIT_OK, MAIN_OK), "result": result(False), "after": 31}],
        ),
        "Error",
        "outputs never reported: the task result was still incomplete 30s after the pod finished",
        exit_code="0",
        workflow="Error",
        config=EngineConfig(task_result_timeout_seconds=30),
    ),
    Case(
        "result-never-arrives-failed-node-keeps-message",
        once(
            pod("Failed", WAIT_OK, done("main", 3)),
            result(False),
            then=[{"pod": pod("Failed", WAIT_OK, done("main", 3)), "result": result(False), "after": 601}],
        ),
        "Failed",
        "main: Error (exit code 3)",
        exit_code="3",
        workflow="Failed",
    ),
    Case(
        "result-never-arrives-pod-gone",
        once(
            pod("Succeeded", WAIT_OK, MAIN_OK),
            result(False),
            then=[{"pod": GONE, "result": result(False), "after": 601}],
        ),
        "Error",
        "outputs never reported: the task result was still incomplete 10m0s after the pod was deleted",
        exit_code="0",
        workflow="Error",
    ),
    Case(
        "result-pod-gone-waits-for-timeout",
        once(
            pod("Succeeded", WAIT_OK, MAIN_OK),
            result(False),
            then=[{"pod": GONE, "result": result(False), "after": 300}],
        ),
        "Succeeded",
        "",
        exit_code="0",
        synced=False,
        workflow="Running",
    ),
    # --- containerSet members ---------------------------------------------------------------------------
    Case(
        "container-set-running",
        once(pod("Running", running("wait"), done("a"), running("b"))),
        "Running",
        "",
        template=CONTAINER_SET,
        containers={"a": ("Succeeded", ""), "b": ("Running", "")},
    ),
    Case(
        "container-set-waiting",
        once(pod("Running", running("wait"), running("a"), waiting("b", "PodInitializing"))),
        "Running",
        "",
        template=CONTAINER_SET,
        containers={"a": ("Running", ""), "b": ("Pending", "")},
    ),
    Case(
        "container-set-succeeded",
        once(pod("Succeeded", WAIT_OK, done("a"), done("b")), result()),
        "Succeeded",
        "",
        template=CONTAINER_SET,
        containers={"a": ("Succeeded", ""), "b": ("Succeeded", "")},
        workflow="Succeeded",
    ),
    Case(
        "container-set-member-failed",
        once(pod("Failed", WAIT_OK, done("a"), done("b", 1))),
        "Failed",
        "b: Error (exit code 1)",
        template=CONTAINER_SET,
        containers={"a": ("Succeeded", ""), "b": ("Failed", "b: Error (exit code 1): ")},
        workflow="Failed",
    ),
    Case(
        "container-set-member-failed-with-a-message",
        once(pod("Failed", WAIT_OK, done("a"), done("b", 2, message="no input"))),
        "Failed",
        "b: Error (exit code 2): no input",
        template=CONTAINER_SET,
        containers={"a": ("Succeeded", ""), "b": ("Failed", "b: Error (exit code 2): no input")},
        workflow="Failed",
    ),
    Case(
        "container-set-member-oom-killed",
        once(pod("Failed", WAIT_OK, done("a", 137, "OOMKilled"))),
        "Failed",
        "a: OOMKilled (exit code 137)",
        template=CONTAINER_SET,
        containers={
            "a": ("Failed", "a: OOMKilled (exit code 137): "),
            "b": ("Failed", "Pod Failed whilst container running"),
        },
        workflow="Failed",
    ),
    Case(
        "container-set-launcher-error",
        once(pod("Failed", WAIT_OK, done("a", 64))),
        "Failed",
        "a: Error (exit code 64)",
        template=CONTAINER_SET,
        containers={
            "a": ("Error", "a: Error (exit code 64): "),
            "b": ("Failed", "Pod Failed whilst container running"),
        },
        workflow="Failed",
    ),
    Case(
        "container-set-pod-deleted",
        once(pod("Running", running("wait"), done("a"), running("b")), then=[{"pod": GONE, "after": 30}]),
        "Error",
        "pod deleted",
        template=CONTAINER_SET,
        containers={"a": ("Succeeded", ""), "b": ("Error", "container deleted")},
        workflow="Error",
    ),
]


def run_case(case: Case) -> World:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "pods"},
        "spec": {"entrypoint": "main", "templates": [case.template]},
    }
    world = World(doc, config=case.config)
    world.step()
    [created] = [a for a in world.decisions[0].actions if isinstance(a, CreatePod)]
    node_id, name = created.node_id, created.name
    for seen in case.seen:
        world.tick(seen.after)
        if seen.pod is GONE:
            world.pods.pop(node_id, None)
        else:
            world.pods[node_id] = dataclasses.replace(seen.pod, name=name, node_id=node_id)
        if seen.result is not None:
            world.results[node_id] = dataclasses.replace(seen.result, node_id=node_id)
        world.step()
    return world


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pod_status(case: Case):
    world = run_case(case)
    node = world.node("pods")
    assert (node["phase"], node.get("message", "")) == (case.phase, case.message)
    assert (node.get("outputs") or {}).get("exitCode") == case.exit_code
    assert node.get("taskResultSynced") is case.synced
    if case.workflow is not None:
        assert world.phase == case.workflow
    got = {
        n["name"].rsplit(".", 1)[-1]: (n["phase"], n.get("message", ""))
        for n in world.status["nodes"].values()
        if n["type"] == "Container"
    }
    assert got == case.containers


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_waiting_for_a_result_asks_to_be_woken_at_the_timeout():
    case = Case("wake", once(pod("Succeeded", WAIT_OK, MAIN_OK), result(False)), "Succeeded")
    world = run_case(case)
    # the pod finished at 12:00:00 (FINISHED); the timeout is 10 minutes after that; the clock is at 12:00:01
    assert world.decisions[-1].requeue_after == pytest.approx(599)


def test_vanished_pod_asks_to_be_woken_after_the_grace_period():
    case = Case(
        "wake",
        once(pod("Running", running("wait"), running("main")), then=[{"pod": GONE, "after": 5}]),
        "Running",
    )
    world = run_case(case)
    # the node started at 12:00:00; the grace period is 10 s (+1 s to be past it); the clock is at 12:00:06
    assert world.decisions[-1].requeue_after == pytest.approx(5)


def test_sidecars_killed_with_137_or_143_do_not_fail_the_pod():
    for code in (137, 143):
        p = PodObservation("p", "n", "Failed", containers=(WAIT_OK, MAIN_OK, done("istio-proxy", code)))
        assert infer_failure(p) == ("Succeeded", "")


def test_container_set_members_are_main_containers():
    p = PodObservation("p", "n", "Failed", containers=(WAIT_OK, done("build", 137), done("test", 0)))
    # read as sidecars, 137 is ignored and no main container finished...
    assert infer_failure(p) == ("Failed", "pod failed: main container did not complete successfully")
    assert infer_failure(p, main_names=("build", "test")) == (
        "Failed",
        "build: Error (exit code 137)",
    )  # ...but a member's 137 fails the pod


def test_an_api_pod_pulling_a_missing_image_names_it_on_the_node():
    """From the Pod the API returns (observe.py) to the node: the kubelet's message here lacks the image."""
    world = World(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": "pods"},
            "spec": {"entrypoint": "main", "templates": [CONTAINER]},
        }
    )
    world.step()
    [created] = [a for a in world.decisions[0].actions if isinstance(a, CreatePod)]
    api_pod = dict(created.pod)
    api_pod["status"] = {
        "phase": "Pending",
        "containerStatuses": [
            {"name": "wait", "state": {"waiting": {"reason": "PodInitializing"}}},
            {"name": "main", "state": {"waiting": {"reason": "ErrImagePull", "message": "manifest unknown"}}},
        ],
    }
    observed = pod_observation(api_pod)
    assert observed is not None
    world.pods[created.node_id] = observed
    world.step()
    assert world.node("pods")["message"] == f'ErrImagePull: manifest unknown (image "{IMAGE}")'


def test_a_daemon_that_exits_fails():
    """Argo: a daemon pod that Succeeded is a Failed node (it was to serve until its steps end)."""
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "pods"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [{"name": "server", "template": "srv"}],
                        [{"name": "client", "template": "cli"}],
                    ],
                },
                {"name": "srv", "daemon": True, "container": {"image": "nginx", "command": ["nginx"]}},
                {"name": "cli", "container": {"image": "busybox", "command": ["true"]}},
            ],
        },
    }
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
