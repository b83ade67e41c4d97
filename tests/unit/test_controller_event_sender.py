"""controller/event_sender.py: events leave the reconcile at once and are sent in order, bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from controller.event_sender import EventSender
from controller.metrics import Metrics
from kube.rest import ApiError

pytestmark = pytest.mark.unit


class Recorder:
    """Rest.create as the sender calls it; `gate` holds every create until set."""

    def __init__(self, fail: set[str] | None = None) -> None:
        self.created: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = fail or set()

    async def create(self, body: dict[str, Any], namespace: str | None = None, *, decode: bool = True):
        assert decode is False and namespace == "ns"
        await self.gate.wait()
        if body["reason"] in self.fail:
            raise ApiError(403, "Forbidden", "events is forbidden")
        self.created.append(body["reason"])
        return {}


def _event(reason: str) -> dict[str, Any]:
    return {"metadata": {"namespace": "ns"}, "reason": reason, "involvedObject": {"name": "wf"}}


async def test_not_started_it_sends_at_once() -> None:
    rest = Recorder()
    sender = EventSender(rest, Metrics())  # type: ignore[arg-type]
    await sender.send(_event("WorkflowRunning"))
    assert rest.created == ["WorkflowRunning"]


async def test_started_a_send_returns_before_the_request_and_all_go_out_in_order() -> None:
    rest = Recorder()
    rest.gate.clear()
    sender = EventSender(rest, Metrics())  # type: ignore[arg-type]
    sender.start(senders=1)
    reasons = [f"E{i}" for i in range(5)]
    for reason in reasons:
        await asyncio.wait_for(sender.send(_event(reason)), 1)  # never waits for the API server
    assert rest.created == []
    rest.gate.set()
    await sender.stop(grace=10)
    assert rest.created == reasons


async def test_a_refused_event_is_logged_and_the_next_still_goes(caplog) -> None:
    rest = Recorder(fail={"Bad"})
    sender = EventSender(rest, Metrics())  # type: ignore[arg-type]
    sender.start()
    for reason in ("A", "Bad", "B"):
        await sender.send(_event(reason))
    await sender.stop(grace=10)
    assert sorted(rest.created) == ["A", "B"]
    assert any("event not recorded" in r.message for r in caplog.records)


async def test_a_full_queue_drops_and_counts_and_stop_without_grace_drops_the_rest() -> None:
    rest = Recorder()
    rest.gate.clear()
    metrics = Metrics()
    sender = EventSender(rest, metrics, capacity=2)  # type: ignore[arg-type]
    sender.start(senders=1)
    await sender.send(_event("taken"))
    await asyncio.sleep(0)  # the sender holds "taken", blocked on the gate
    for reason in ("q1", "q2", "dropped1", "dropped2"):
        await sender.send(_event(reason))
    assert metrics.events_dropped.get() == 2
    assert "sluice_controller_events_dropped_total 2" in metrics.render()
    await sender.stop(grace=0)
    rest.gate.set()
    await asyncio.sleep(0)
    assert rest.created == [] and sender.tasks == []
