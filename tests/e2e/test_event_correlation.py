"""Kubernetes Events as a real API server stores them after correlation (controller/event_correlator.py,
controller/event_sender.py): 40 events about one workflow, built by controller/apply.py `emit_event` and
sent by the started sender, end as 11 Events whose counts add up to 40, one of them the combined Event
of client-go's aggregation; a repeat of an Event the server no longer has is created again; a spam limit
keeps the first 25.

A private kube-apiserver (tests/e2e/private_apiserver.py) serves them, so the shared cluster's event
store is not read or written. Runs in the e2e tier beside tests/e2e/test_argo_shaped_crds.py, the other
private-server test (`pytest --noconftest tests/e2e/test_event_correlation.py` runs it alone, without
the shared cluster).
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from controller.apply import emit_event
from controller.event_correlator import COMBINED_PREFIX, CorrelatorSettings
from controller.event_sender import EventSender
from controller.metrics import Metrics
from kube.client import api_client
from kube.rest import Rest
from workflow.engine.model import Event

from .private_apiserver import PrivateApiServer

pytestmark = pytest.mark.e2e
NS = "events"
T0 = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    plane = PrivateApiServer(tmp_path_factory.mktemp("events-apiserver"))
    try:
        plane.start()
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        logs = plane.tail("kube-apiserver")
        plane.stop()
        raise AssertionError(f"private API server set-up failed: {exc}\n{logs}") from None
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture
async def rest(server):
    api = await api_client(str(server.kubeconfig))
    try:
        rest = Rest(api, timeout=60)
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
        try:
            await rest.create(ns, decode=False)
        except Exception as exc:  # the module's second test finds it made
            assert "AlreadyExists" in str(exc) or "409" in str(exc), exc
        yield rest
    finally:
        await api.close()


def _workflow(name: str) -> dict[str, Any]:
    nodes = {f"{name}-{i}": {"name": f"{name}[{i}]", "type": "Pod"} for i in range(40)}
    return {
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{name}", "resourceVersion": "7"},
        "status": {"nodes": nodes},
    }


async def _stored(rest: Rest, wf: str) -> list[dict[str, Any]]:
    answer = await rest.request(
        "GET", f"/api/v1/namespaces/{NS}/events", query={"fieldSelector": f"involvedObject.name={wf}"}
    )
    return answer.get("items") or []


async def test_forty_events_of_one_workflow_are_stored_as_client_go_would_store_them(rest: Rest) -> None:
    metrics = Metrics()
    sender = EventSender(rest, metrics)
    ctl = SimpleNamespace(identity="sluice-controller-0", events=sender)
    wf = _workflow("wf-forty")
    sender.start()
    for i in range(30):  # similar: one reason, 30 messages
        node = f"wf-forty-{i}"
        ev = Event("Normal", "WorkflowNodeSucceeded", f"Pod node wf-forty[{i}] succeeded", node_id=node)
        await emit_event(ctl, wf, ev, T0 + timedelta(seconds=i))  # type: ignore[arg-type]
    for i in range(10):  # identical
        ev = Event("Warning", "WorkflowTimedOut", "Workflow timed out")
        await emit_event(ctl, wf, ev, T0 + timedelta(seconds=30 + i))  # type: ignore[arg-type]
    await sender.stop(grace=120)

    events = await _stored(rest, "wf-forty")
    assert len(events) == 11, [(e["reason"], e["message"], e["count"]) for e in events]
    assert sum(e["count"] for e in events) == 40
    succeeded = [e for e in events if e["reason"] == "WorkflowNodeSucceeded"]
    singles = sorted(e["message"] for e in succeeded if e["count"] == 1)
    assert singles == sorted(f"Pod node wf-forty[{i}] succeeded" for i in range(9))
    for single in (e for e in succeeded if e["count"] == 1):
        assert single["metadata"]["annotations"]["workflows.argoproj.io/node-name"] in single["message"]
    (combined,) = [e for e in succeeded if e["count"] > 1]
    # the 10th to the 30th: one Event, its message the last one's, its first time the 10th's
    assert combined["count"] == 21
    assert combined["message"] == COMBINED_PREFIX + "Pod node wf-forty[29] succeeded"
    assert combined["firstTimestamp"] == "2026-12-06T15:00:09Z"
    assert combined["lastTimestamp"] == "2026-12-06T15:00:29Z"
    assert not (combined["metadata"].get("annotations") or {})
    (timed_out,) = [e for e in events if e["reason"] == "WorkflowTimedOut"]
    assert (timed_out["count"], timed_out["type"], timed_out["message"]) == (
        10,
        "Warning",
        "Workflow timed out",
    )
    assert timed_out["lastTimestamp"] == "2026-12-06T15:00:39Z"
    assert metrics.events_merged.get(rule="combined") == 21
    assert metrics.events_filtered.get(rule="spam") == 0

    # the Event expires (the API server's TTL) or is deleted; a repeat is recorded again, with its count
    await rest.request("DELETE", f"/api/v1/namespaces/{NS}/events/{timed_out['metadata']['name']}")
    await sender.send(
        {
            **timed_out,
            "apiVersion": "v1",  # a list's items carry neither
            "kind": "Event",
            "metadata": {"name": "wf-forty.again", "namespace": NS},
            "lastTimestamp": "2026-12-06T15:01:00Z",
            "count": 1,
        }
    )  # not started: sent at once
    (again,) = [e for e in await _stored(rest, "wf-forty") if e["reason"] == "WorkflowTimedOut"]
    assert again["metadata"]["name"] == timed_out["metadata"]["name"]
    assert (again["count"], again["lastTimestamp"]) == (11, "2026-12-06T15:01:00Z")


async def test_a_spam_limit_keeps_the_first_events_of_a_workflow(rest: Rest) -> None:
    metrics = Metrics()
    sender = EventSender(rest, metrics, settings=CorrelatorSettings(spam_burst=25))  # client-go's default
    ctl = SimpleNamespace(identity="sluice-controller-0", events=sender)
    wf = _workflow("wf-spam")
    sender.start()
    for i in range(40):  # distinct reasons: neither combined nor counted
        await emit_event(ctl, wf, Event("Normal", f"Reason{i}", "m"), T0)  # type: ignore[arg-type]
    await sender.stop(grace=120)
    events = await _stored(rest, "wf-spam")
    assert sorted(e["reason"] for e in events) == sorted(f"Reason{i}" for i in range(25))
    assert metrics.events_filtered.get(rule="spam") == 15
