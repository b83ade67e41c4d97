"""Finished pods: main's exit code, the pod's own message (eviction, deadline), init, wait and sidecar
containers (Argo's inferFailedReason); rows in pod_rows.py's form."""

from __future__ import annotations

from pod_rows import (
    IMAGE,
    MAIN_OK,
    PULL_BACKOFF,
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

EVICTED = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 20Mi."
DEADLINE = "Pod was active on the node longer than the specified deadline"

FINISHED_PODS = [
    # --- main's exit code -------------------------------------------------------------------------
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
    *(
        Case(
            f"main-exit-{code}-{how}",
            once(pod("Failed", WAIT_OK, done("main", code))),
            "Failed",
            f"main: Error (exit code {code})",
            exit_code=str(code),
        )
        for code, how in ((137, "killed"), (143, "terminated"))
    ),
    Case(
        "oom-killed",
        once(pod("Failed", WAIT_OK, done("main", 137, "OOMKilled"))),
        "Failed",
        "main: OOMKilled (exit code 137)",
        exit_code="137",
    ),
    # --- the pod's own message wins ---------------------------------------------------------------
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
    # --- init, wait and sidecar containers --------------------------------------------------------
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
]


@rows(FINISHED_PODS)
def test_finished_pod(case: Case) -> None:
    check(case)


def test_sidecars_killed_with_137_or_143_do_not_fail_the_pod():
    for code in (137, 143):
        p = PodObservation("p", "n", "Failed", containers=(WAIT_OK, MAIN_OK, done("istio-proxy", code)))
        assert infer_failure(p) == ("Succeeded", "")
