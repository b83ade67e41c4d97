"""Nothing waits forever: a pod that vanished becomes Error after a grace period, a task result that never
arrives is given up after `EngineConfig.task_result_timeout_seconds`, and the engine asks to be woken at
those moments; rows in pod_rows.py's form."""

from __future__ import annotations

import pytest
from pod_rows import (
    GONE,
    MAIN_OK,
    WAIT_OK,
    Case,
    Seen,
    check,
    done,
    once,
    pod,
    result,
    rows,
    run_case,
    running,
)

from workflow.engine import EngineConfig, PodObservation

FINISHED_OK = pod("Succeeded", WAIT_OK, MAIN_OK)


def result_late(p: PodObservation, after: float, gone: bool = False) -> tuple[Seen, ...]:
    """The finished pod `p` with its task result incomplete, and again `after` seconds later (the pod the
    same, or GONE), the result still incomplete."""
    then = GONE if gone else p
    return once(p, result(False), then=[{"pod": then, "result": result(False), "after": after}])


GONE_OR_LATE = [
    # --- a pod that vanished ----------------------------------------------------------------------
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
    # --- a task result that never arrives ---------------------------------------------------------
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
        result_late(FINISHED_OK, 601),
        "Error",
        "outputs never reported: the task result was still incomplete 10m0s after the pod finished",
        exit_code="0",
        workflow="Error",
    ),
    Case(
        "result-timeout-configurable",
        result_late(FINISHED_OK, 31),
        "Error",
        "outputs never reported: the task result was still incomplete 30s after the pod finished",
        exit_code="0",
        workflow="Error",
        config=EngineConfig(task_result_timeout_seconds=30),
    ),
    Case(
        "result-never-arrives-failed-node-keeps-message",
        result_late(pod("Failed", WAIT_OK, done("main", 3)), 601),
        "Failed",
        "main: Error (exit code 3)",
        exit_code="3",
        workflow="Failed",
    ),
    Case(
        "result-never-arrives-pod-gone",
        result_late(FINISHED_OK, 601, gone=True),
        "Error",
        "outputs never reported: the task result was still incomplete 10m0s after the pod was deleted",
        exit_code="0",
        workflow="Error",
    ),
    Case(
        "result-pod-gone-waits-for-timeout",
        result_late(FINISHED_OK, 300, gone=True),
        "Succeeded",
        "",
        exit_code="0",
        synced=False,
        workflow="Running",
    ),
]


@rows(GONE_OR_LATE)
def test_pod_gone_or_result_late(case: Case) -> None:
    check(case)


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
