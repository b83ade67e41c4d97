"""webhook/stoppable.py: a check running in a thread is stopped at its next bytecode, leaves no lock
held and no stop pending for the thread's next job; shielded sections are finished first."""

from __future__ import annotations

import threading
import time

import pytest

from webhook.sources import TemplateStore
from webhook.stoppable import StoppableCall, Stopped, shielded
from workflow.check import CheckCaches, CheckOptions, check_object


def wide_loop(n: int) -> dict:
    """A valid workflow whose check takes a while: one step looping over n small objects."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "big", "namespace": "default"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [[{"name": "s", "template": "t", "withItems": [{"a": i} for i in range(n)]}]],
                },
                {"name": "t", "container": {"image": "a:1", "command": ["true"]}},
            ],
        },
    }


def _when_running(call: StoppableCall) -> None:
    deadline = time.monotonic() + 60
    while call._ident is None and time.monotonic() < deadline:
        time.sleep(0.001)


def test_the_core_check_is_stopped_and_its_caches_stay_usable():
    caches = CheckCaches.create(threading.Lock)
    obj = wide_loop(300_000)
    call = StoppableCall()
    outcome: list[object] = []

    def work():
        try:
            outcome.append(call.run(check_object, obj, TemplateStore(), CheckOptions(), caches))
        except Stopped:
            outcome.append("stopped")

    thread = threading.Thread(target=work)
    thread.start()
    _when_running(call)
    assert call.stop() is True
    thread.join(60)
    assert outcome == ["stopped"]  # the check (0.2-0.5 s of CPU) did not run to its end
    # No lock left held, nothing half-cached: the same caches check the same object to the same report.
    small = wide_loop(10)
    assert check_object(small, TemplateStore(), CheckOptions(), caches).errors == []
    assert call.stop() is False  # once only


def test_a_stop_after_the_call_ended_does_not_reach_the_threads_next_work():
    call = StoppableCall()
    assert call.run(sum, [1, 2]) == 3
    assert call.stop() is False
    total = 0
    for i in range(200_000):  # bytecodes enough for a pending exception to be delivered
        total += i
    assert total == sum(range(200_000))


def test_a_stop_during_a_shielded_section_is_raised_when_it_ends():
    call = StoppableCall()
    inside, resume = threading.Event(), threading.Event()
    steps: list[str] = []

    def fn():
        with shielded():
            inside.set()
            resume.wait(60)
            for _ in range(100_000):  # bytecodes: a stop delivered here would cut the section
                pass
            steps.append("section finished")
        steps.append("after the section")  # never reached

    outcome: list[str] = []

    def work():
        try:
            call.run(fn)
        except Stopped:
            outcome.append("stopped")

    thread = threading.Thread(target=work)
    thread.start()
    assert inside.wait(60)
    assert call.stop() is True
    resume.set()
    thread.join(60)
    assert steps == ["section finished"] and outcome == ["stopped"]


def test_shielded_outside_a_stoppable_call_is_a_plain_block():
    with shielded():
        value = 1
    assert value == 1


def test_a_call_stopped_before_it_began_does_not_run():
    call = StoppableCall()
    call.stop()
    with pytest.raises(Stopped):
        call.run(lambda: pytest.fail("ran"))
