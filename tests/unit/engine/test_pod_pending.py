"""Pending pods: the node stays Pending and its message says why the pod does not run (waiting reasons,
image pulls naming the image, Unschedulable); rows in pod_rows.py's form."""

from __future__ import annotations

from engine_world import World
from pod_rows import (
    CONTAINER,
    IMAGE,
    PULL_BACKOFF,
    Case,
    check,
    created_pod,
    once,
    one_pod_workflow,
    pod,
    rows,
    waiting,
)

from workflow.engine.observe import pod_observation

UNSCHEDULABLE = "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available."

PENDING = [
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
]


@rows(PENDING)
def test_pending_pod(case: Case) -> None:
    check(case)


def test_an_api_pod_pulling_a_missing_image_names_it_on_the_node():
    """From the Pod the API returns (observe.py) to the node: the kubelet's message here lacks the image."""
    world = World(one_pod_workflow(CONTAINER))
    world.step()
    created = created_pod(world)
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
