"""containerSet pods: the pod node and one Container node per member, which follow their containers;
rows in pod_rows.py's form."""

from __future__ import annotations

from pod_rows import (
    CONTAINER_SET,
    GONE,
    WAIT_OK,
    Case,
    check,
    done,
    once,
    pod,
    result,
    rows,
    running,
    waiting,
)

from workflow.engine import PodObservation
from workflow.engine.reconcile import infer_failure

CONTAINER_SET_PODS = [
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


@rows(CONTAINER_SET_PODS)
def test_container_set_pod(case: Case) -> None:
    check(case)


def test_container_set_members_are_main_containers():
    p = PodObservation("p", "n", "Failed", containers=(WAIT_OK, done("build", 137), done("test", 0)))
    # read as sidecars, 137 is ignored and no main container finished...
    assert infer_failure(p) == ("Failed", "pod failed: main container did not complete successfully")
    assert infer_failure(p, main_names=("build", "test")) == (
        "Failed",
        "build: Error (exit code 137)",
    )  # ...but a member's 137 fails the pod
