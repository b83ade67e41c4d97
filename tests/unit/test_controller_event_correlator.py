"""controller/event_correlator.py: client-go's three rules (aggregation, de-duplication, spam filter), on a
fake clock, each shown doing what a controller without it would not."""

from __future__ import annotations

from typing import Any

import pytest

from controller.event_correlator import COMBINED_PREFIX, CorrelatorSettings, EventCorrelator, Lru

pytestmark = pytest.mark.unit


def event(
    message: str,
    reason: str = "WorkflowNodeSucceeded",
    wf: str = "wf",
    name: str | None = None,
    annotations: dict[str, str] | None = None,
    stamp: str = "2026-12-06T15:00:00Z",
) -> dict[str, Any]:
    """An Event as controller/apply.py `emit_event` builds it."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name or f"{wf}.{abs(hash(message)):x}",
            "namespace": "ns",
            "annotations": annotations or {},
        },
        "involvedObject": {"kind": "Workflow", "name": wf, "namespace": "ns", "uid": f"uid-{wf}"},
        "reason": reason,
        "message": message,
        "type": "Normal",
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "source": {"component": "workflow-controller"},
        "reportingComponent": "workflow-controller",
        "reportingInstance": "pod-1",
    }


def test_defaults_are_client_go_s_with_argo_s_burst() -> None:
    s = CorrelatorSettings()
    assert (s.spam_burst, s.spam_refill_seconds) == (10_000, 300.0)
    assert (s.aggregate_max_events, s.aggregate_interval_seconds, s.cache_entries) == (10, 600.0, 4_096)
    assert s.aggregate_with_annotations is False


def test_an_identical_event_again_is_a_patch_of_the_first_s_count() -> None:
    c = EventCorrelator()
    first = c.correlate(event("Pod node a succeeded", name="wf.1", stamp="2026-12-06T15:00:00Z"), 0.0)
    assert first is not None and first.patch is None and first.body["metadata"]["name"] == "wf.1"
    again = c.correlate(event("Pod node a succeeded", name="wf.2", stamp="2026-12-06T15:00:07Z"), 7.0)
    assert again is not None and again.key == first.key
    assert again.patch == {
        "count": 2,
        "lastTimestamp": "2026-12-06T15:00:07Z",
        "message": "Pod node a succeeded",
    }
    # the whole body names the first Event, so a create after a 404 restores it with the count so far
    assert again.body["metadata"]["name"] == "wf.1"
    assert again.body["firstTimestamp"] == "2026-12-06T15:00:00Z" and again.body["count"] == 2
    third = c.correlate(event("Pod node a succeeded", name="wf.3"), 8.0)
    assert third is not None and third.patch is not None and third.patch["count"] == 3


def test_a_different_message_reason_or_workflow_is_another_event() -> None:
    c = EventCorrelator()
    keys = set()
    for ev in (event("m1"), event("m2"), event("m1", reason="WorkflowNodeRunning"), event("m1", wf="other")):
        out = c.correlate(ev, 0.0)
        assert out is not None and out.patch is None
        keys.add(out.key)
    assert len(keys) == 4


def test_the_tenth_similar_event_within_ten_minutes_is_combined_and_later_ones_count_on_it() -> None:
    c = EventCorrelator()
    outs = [c.correlate(event(f"Pod node n{i} succeeded", name=f"wf.{i}"), float(i)) for i in range(12)]
    assert all(o is not None for o in outs)
    singles, rest = outs[:9], outs[9:]
    assert all(
        not o.combined and o.patch is None and not o.body["message"].startswith(COMBINED_PREFIX)
        for o in singles
    )  # type: ignore[union-attr]
    tenth = rest[0]
    assert tenth is not None and tenth.combined and tenth.patch is None
    assert tenth.body["message"] == COMBINED_PREFIX + "Pod node n9 succeeded"
    assert tenth.body["metadata"] == {"name": "wf.9", "namespace": "ns"}  # no one node's annotations
    for n, later in enumerate(rest[1:], start=2):
        assert later is not None and later.combined and later.key == tenth.key
        assert later.body["metadata"]["name"] == "wf.9"
        assert later.patch is not None and later.patch["count"] == n
        assert later.patch["message"] == COMBINED_PREFIX + f"Pod node n{8 + n} succeeded"


def test_similar_events_further_apart_than_the_interval_start_a_new_group() -> None:
    c = EventCorrelator()
    t = 0.0
    for i in range(30):  # 601 s apart: never 10 in one group
        t += 601.0
        out = c.correlate(event(f"m{i}"), t)
        assert out is not None and not out.combined


def test_annotations_in_the_group_key_keep_node_events_apart_as_argo_s_option_does() -> None:
    c = EventCorrelator(CorrelatorSettings(aggregate_with_annotations=True))
    for i in range(20):
        out = c.correlate(event(f"m{i}", annotations={"workflows.argoproj.io/node-id": f"n{i}"}), float(i))
        assert out is not None and not out.combined


def test_the_spam_filter_allows_a_burst_per_workflow_then_one_per_refill() -> None:
    c = EventCorrelator(CorrelatorSettings(spam_burst=25))  # client-go's own default
    # distinct reasons, so neither aggregation nor de-duplication folds them
    passed = [c.correlate(event("m", reason=f"R{i}"), 0.0) is not None for i in range(40)]
    assert passed == [True] * 25 + [False] * 15
    assert c.correlate(event("m", reason="R", wf="other"), 0.0) is not None  # per involved object
    assert c.correlate(event("m", reason="S1"), 299.0) is None
    assert c.correlate(event("m", reason="S2"), 301.0) is not None  # one token refilled after 300 s
    assert c.correlate(event("m", reason="S3"), 302.0) is None


def test_with_argo_s_burst_forty_distinct_events_all_pass() -> None:
    c = EventCorrelator()
    assert all(c.correlate(event("m", reason=f"R{i}"), 0.0) is not None for i in range(40))


def test_an_event_the_filter_drops_still_counts_so_the_next_patch_carries_it() -> None:
    c = EventCorrelator(CorrelatorSettings(spam_burst=1, spam_refill_seconds=10))
    assert c.correlate(event("same"), 0.0) is not None
    assert c.correlate(event("same"), 1.0) is None  # dropped, but seen
    out = c.correlate(event("same"), 11.0)
    assert out is not None and out.patch is not None and out.patch["count"] == 3


def test_caches_are_lru_bounded() -> None:
    c = EventCorrelator(CorrelatorSettings(cache_entries=3, spam_burst=1, spam_refill_seconds=1e9))
    for i in range(100):
        assert c.correlate(event("m", wf=f"wf{i}"), 0.0) is not None
    assert len(c._buckets) == 3 and len(c._groups) == 3 and len(c._seen) == 3
    # wf0's bucket was evicted: it starts full again (a bounded cache forgets, as client-go's does)
    assert c.correlate(event("m2", wf="wf0"), 0.0) is not None
    assert c.correlate(event("m3", wf="wf99"), 0.0) is None  # still cached, still empty


def test_lru_keeps_the_most_recently_used() -> None:
    lru: Lru[str, int] = Lru(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the newest
    lru.put("c", 3)
    assert lru.get("b") is None and lru.get("a") == 1 and lru.get("c") == 3


def test_argo_s_environment_variable_or_the_config_puts_annotations_in_the_group_key() -> None:
    from controller.run import event_rules

    assert event_rules(CorrelatorSettings(), False).aggregate_with_annotations is False
    assert event_rules(CorrelatorSettings(), True) == CorrelatorSettings(aggregate_with_annotations=True)
    configured = CorrelatorSettings(spam_burst=5, aggregate_with_annotations=True)
    assert event_rules(configured, False) == configured
