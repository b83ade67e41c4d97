"""controller/event_sender.py: events leave the reconcile at once and are sent in order, bounded; repeats
are PATCHes of one Event, merged while they wait, spaced, and a PATCH of a vanished Event is a create."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from controller.event_correlator import CorrelatorSettings
from controller.event_sender import EventSender
from controller.metrics import Metrics
from kube.rest import ApiError

pytestmark = pytest.mark.unit


class Recorder:
    """Rest.create as the sender calls it; `gate` holds every create until set."""

    def __init__(self, fail: set[str] | None = None, gone: bool = False) -> None:
        self.created: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail = fail or set()
        self.gone = gone  # every PATCH answers 404, as for an Event the API server has expired

    async def merge_patch(self, api_version, kind, namespace, name, patch, subresource="", *, decode=True):
        assert (api_version, kind, namespace, decode) == ("v1", "Event", "ns", False)
        await self.gate.wait()
        if self.gone:
            raise ApiError(404, "NotFound", f"events {name!r} not found")
        self.patches.append((name, patch))
        return {}

    async def create(self, body: dict[str, Any], namespace: str | None = None, *, decode: bool = True):
        assert decode is False and namespace == "ns"
        await self.gate.wait()
        if body["reason"] in self.fail:
            raise ApiError(403, "Forbidden", "events is forbidden")
        self.created.append(body["reason"])
        self.bodies.append(body)
        return {}


def _event(reason: str, message: str = "", name: str = "wf.1", stamp: str = "T0") -> dict[str, Any]:
    return {
        "metadata": {"namespace": "ns", "name": name},
        "reason": reason,
        "message": message,
        "involvedObject": {"name": "wf"},
        "count": 1,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
    }


async def _until(check, timeout: float = 30.0) -> None:
    async def poll():
        while not check():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


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


async def test_repeats_waiting_behind_a_write_go_out_as_one_patch_with_the_final_count() -> None:
    rest = Recorder()
    rest.gate.clear()
    metrics = Metrics()
    sender = EventSender(rest, metrics, update_interval=0)  # type: ignore[arg-type]
    sender.start(senders=2)
    await sender.send(_event("BackOff", "again", name="wf.first", stamp="T0"))
    await asyncio.sleep(0)  # a sender holds the create
    for i in range(1, 5):
        await sender.send(_event("BackOff", "again", name=f"wf.{i}", stamp=f"T{i}"))
    rest.gate.set()
    await sender.stop(grace=10)
    assert rest.created == ["BackOff"] and rest.bodies[0]["metadata"]["name"] == "wf.first"
    # one PATCH, of the first Event, with the count and time of the last repeat
    assert rest.patches == [("wf.first", {"count": 5, "lastTimestamp": "T4", "message": "again"})]
    assert metrics.events_merged.get(rule="counted") == 4
    assert metrics.events_merged.get(rule="coalesced") == 3


async def test_a_patch_of_an_event_that_is_gone_is_sent_as_a_create_with_the_count() -> None:
    rest = Recorder(gone=True)
    sender = EventSender(rest, Metrics())  # type: ignore[arg-type]  # not started: sent at once
    await sender.send(_event("BackOff", "again", name="wf.first"))
    await sender.send(_event("BackOff", "again", name="wf.second", stamp="T1"))
    assert rest.created == ["BackOff", "BackOff"] and rest.patches == []
    recreated = rest.bodies[1]
    assert recreated["metadata"]["name"] == "wf.first" and recreated["count"] == 2
    assert (recreated["firstTimestamp"], recreated["lastTimestamp"]) == ("T0", "T1")


async def test_writes_to_one_event_are_spaced_and_stop_sends_what_a_timer_holds() -> None:
    rest = Recorder()
    sender = EventSender(rest, Metrics(), update_interval=3600)  # type: ignore[arg-type]
    sender.start(senders=1)
    await sender.send(_event("BackOff", "again"))
    await _until(lambda: rest.created == ["BackOff"])
    await sender.send(_event("BackOff", "again", stamp="T1"))
    await sender.send(_event("Other", "x", name="wf.o"))  # another Event is not held back
    await _until(lambda: rest.created == ["BackOff", "Other"])
    await asyncio.sleep(0.05)
    assert rest.patches == []  # the update waits for its interval
    await sender.stop(grace=10)
    assert rest.patches == [("wf.1", {"count": 2, "lastTimestamp": "T1", "message": "again"})]


async def test_events_over_the_spam_limit_are_counted_not_sent() -> None:
    rest = Recorder()
    metrics = Metrics()
    sender = EventSender(rest, metrics, settings=CorrelatorSettings(spam_burst=25))  # type: ignore[arg-type]
    for i in range(40):
        await sender.send(_event(f"R{i}"))
    assert len(rest.created) == 25
    assert metrics.events_filtered.get(rule="spam") == 15
    assert 'sluice_controller_events_filtered_total{rule="spam"} 15' in metrics.render()


async def test_configure_applies_new_rules_and_keeps_the_caches_when_they_are_the_same() -> None:
    rest = Recorder()
    sender = EventSender(rest, Metrics())  # type: ignore[arg-type]
    await sender.send(_event("BackOff", "again"))
    sender.configure(CorrelatorSettings(), 0.5)
    await sender.send(_event("BackOff", "again", stamp="T1"))
    assert rest.patches == [("wf.1", {"count": 2, "lastTimestamp": "T1", "message": "again"})]
    sender.configure(CorrelatorSettings(spam_burst=1), 0.5)  # fresh caches under the new rules
    await sender.send(_event("BackOff", "again", name="wf.2", stamp="T2"))
    await sender.send(_event("Other", "x", name="wf.3"))
    assert rest.created == ["BackOff", "BackOff"] and rest.bodies[1]["metadata"]["name"] == "wf.2"
    assert sender.update_interval == 0.5
