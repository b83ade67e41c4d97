"""The controller's pure bookkeeping: work queue, expectations, lock manager (controller/)."""

from __future__ import annotations

import asyncio

from controller.expectations import Expectations
from controller.locks import LockManager
from controller.queue import Core, WorkQueue


def test_keys_are_deduplicated_and_never_held_twice():
    q = Core()
    assert q.add("ns/a") and not q.add("ns/a")
    q.add("ns/b")
    assert q.take() == "ns/a"
    q.add("ns/a")  # while a worker holds it: dirty, not ready
    assert q.take() == "ns/b" and q.take() is None
    q.done("ns/a")  # released: handed out once more
    assert q.take() == "ns/a" and q.take() is None


def test_delays_keep_the_earliest_and_an_immediate_add_wins():
    q = Core()
    q.add_after("k", 10, now=0)
    q.add_after("k", 5, now=0)
    q.add_after("k", 20, now=0)
    assert q.promote(now=4) == 5 and q.take() is None
    assert q.promote(now=5) is None and q.take() == "k"
    q.done("k")
    q.add_after("k", 30, now=5)
    q.add("k")
    assert q.take() == "k"
    q.done("k")
    assert q.promote(now=100) is None and q.take() is None  # the superseded delay is gone


def test_backoff_doubles_per_key_and_forget_resets():
    q = Core(base_backoff=1, max_backoff=5)
    assert [q.backoff("a") for _ in range(5)] == [1, 2, 4, 5, 5]
    assert q.backoff("b") == 1
    q.forget("a")
    assert q.backoff("a") == 1


async def test_workers_never_process_one_key_at_once():
    queue = WorkQueue()
    active: set[str] = set()
    overlaps = []
    handled = []

    async def worker():
        while (key := await queue.get()) is not None:
            if key in active:
                overlaps.append(key)
            active.add(key)
            await asyncio.sleep(0)  # let others run while holding the key
            handled.append(key)
            active.discard(key)
            queue.done(key)

    workers = [asyncio.create_task(worker()) for _ in range(4)]
    for i in range(200):
        queue.add(f"ns/w{i % 7}")
        if i % 13 == 0:
            await asyncio.sleep(0)
    while queue.depth() or queue.core.processing:
        await asyncio.sleep(0)
    queue.close()
    await asyncio.gather(*workers)
    assert overlaps == []
    assert set(handled) == {f"ns/w{i}" for i in range(7)}


async def test_a_delayed_key_wakes_a_waiting_worker():
    queue = WorkQueue()
    queue.add("ns/later", after=0.01)
    assert await asyncio.wait_for(queue.get(), 10) == "ns/later"


def test_expectations_hide_lag_and_lapse():
    e = Expectations(ttl=60)
    e.expect("ns/wf", "n1", "wf-a-1", now=0)
    e.expect("ns/wf", "n2", "wf-b-2", now=30)
    assert e.pending("ns/wf", now=10) == {"n1": "wf-a-1", "n2": "wf-b-2"}
    e.observed("ns/wf", "n1")
    assert e.pending("ns/wf", now=10) == {"n2": "wf-b-2"}
    assert e.pending("ns/wf", now=100) == {} and len(e) == 0


def test_locks_grant_by_priority_then_arrival_and_wake_waiters():
    m = LockManager()
    assert m.acquire("ns/Mutex/m", "ns/a", 1)
    assert not m.acquire("ns/Mutex/m", "ns/b", 1, priority=0)
    assert not m.acquire("ns/Mutex/m", "ns/c", 1, priority=5)
    assert m.acquire("ns/Mutex/m", "ns/a", 1)  # asking again keeps the slot
    assert m.release("ns/Mutex/m", "ns/a") == ["ns/c"]
    assert not m.acquire("ns/Mutex/m", "ns/b", 1)  # c is ahead
    assert m.acquire("ns/Mutex/m", "ns/c", 1)
    obs = m.observation()["ns/Mutex/m"]
    assert obs.holders == ("ns/c",) and obs.queue == ("ns/b",)


def test_semaphore_limits_and_deleted_workflows_free_their_slots():
    m = LockManager()
    name = "ns/ConfigMap/cm/k"
    assert m.acquire(name, "ns/a/n1", 2) and m.acquire(name, "ns/a/n2", 2)
    assert not m.acquire(name, "ns/b", 2)
    assert m.drop_workflow("ns/a") == ["ns/b"]
    assert m.holds("ns/a") == 0 and m.acquire(name, "ns/b", 2)


def test_a_raised_semaphore_limit_grants_its_waiters_in_priority_order():
    m = LockManager()
    name = "ns/ConfigMap/cm/k"
    assert m.acquire(name, "ns/a", 1)
    assert not m.acquire(name, "ns/b/n1", 1) and not m.acquire(name, "ns/c", 1, priority=3)
    assert m.acquire("ns/ConfigMap/other/k", "ns/x", 1) and not m.acquire("ns/ConfigMap/other/k", "ns/d", 1)
    # The ConfigMap `cm` changed: its waiters (not other ConfigMaps' waiters) are to look again.
    assert m.waiting_on_config_map("ns", "cm") == ["ns/b", "ns/c"]
    assert m.waiting_on_config_map("other-ns", "cm") == []
    # Limit 2 now: b reconciles first, yet c is ahead by priority and takes the one new slot.
    assert not m.acquire(name, "ns/b/n1", 2)
    assert m.acquire(name, "ns/c", 2)
    assert m.waiting_on_config_map("ns", "cm") == ["ns/b"]


def test_a_semaphore_limit_of_zero_grants_nothing_until_raised():
    m = LockManager()
    name = "ns/ConfigMap/cm/k"
    assert not m.acquire(name, "ns/a", 0) and not m.acquire(name, "ns/b", 0)
    assert m.observation()[name].holders == ()
    assert m.waiting_on_config_map("ns", "cm") == ["ns/a", "ns/b"]
    assert m.acquire(name, "ns/a", 1) and not m.acquire(name, "ns/b", 1)


def test_locks_are_rebuilt_from_workflow_status():
    wf = {
        "metadata": {"namespace": "ns", "name": "wf"},
        "status": {
            "phase": "Running",
            "synchronization": {
                "semaphore": {"holding": [{"semaphore": "ns/ConfigMap/cm/k", "holders": ["wf-123"]}]},
                "mutex": {"holding": [{"mutex": "ns/Mutex/m", "holder": "wf"}]},
            },
        },
    }
    done = {
        "metadata": {"namespace": "ns", "name": "old"},
        "status": {
            "phase": "Succeeded",
            "synchronization": {"mutex": {"holding": [{"mutex": "ns/Mutex/m", "holder": "old"}]}},
        },
    }
    m = LockManager()
    m.rebuild([wf, done])
    obs = m.observation()
    assert obs["ns/ConfigMap/cm/k"].holders == ("ns/wf/wf-123",)
    assert obs["ns/Mutex/m"].holders == ("ns/wf",)
    assert not m.acquire("ns/Mutex/m", "ns/other", 1)
