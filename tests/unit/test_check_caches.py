"""The core's caches are the program's (workflow.check.CheckCaches) and safe when its threads share them.

The webhook runs checks in a thread pool over one CheckCaches with locks (webhook/run.py). These tests
hammer one shared set from many threads with tiny bounds, so that lookups, inserts and evictions
interleave (a very short thread switch interval makes that happen often), and check that every answer is
the one a single thread gets and that the bounds hold.
"""

from __future__ import annotations

import copy
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from workflow.check import CheckCaches, CheckOptions, check_object
from workflow.resolve import ParseCache
from workflow.resolve.sources import ListSource
from workflow.validate.memo import TemplateMemo

THREADS = 8


def library(i: int) -> dict:
    """A WorkflowTemplate with a resourceVersion (as an informer holds it) and one invalid template."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": f"lib{i}", "namespace": "ns", "uid": f"u{i}", "resourceVersion": str(i)},
        "spec": {
            "templates": [
                {
                    "name": "ok",
                    "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.x}}"]},
                    "inputs": {"parameters": [{"name": "x"}]},
                },
                {"name": "bad", "container": {"image": "busybox"}, "retryStrategy": {"limit": f"x{i}"}},
            ]
        },
    }


def workflow(i: int, libs: int) -> dict:
    tasks = []
    for k in range(6):
        lib = (i + k) % libs
        tasks.append(
            {
                "name": f"t{k}",
                "templateRef": {"name": f"lib{lib}", "template": "ok" if k % 2 else "bad"},
                "arguments": {"parameters": [{"name": "x", "value": str(k)}]},
            }
        )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": f"w{i}", "namespace": "ns"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": tasks}}]},
    }


def outcome(report) -> tuple:
    return (
        [(p.field, p.message) for p in report.errors],
        [(p.field, p.message) for p in report.warnings],
        report.expanded,
    )


@pytest.fixture
def busy_switching():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_shared_caches_give_every_thread_the_single_threaded_answer(busy_switching):
    libs = 12
    source = ListSource([library(i) for i in range(libs)])
    docs = [workflow(i, libs) for i in range(40)]
    expected = [outcome(check_object(copy.deepcopy(d), source, CheckOptions())) for d in docs]
    assert all(errors for errors, _, _ in expected), "every workflow reaches an invalid template"
    # Bounds far below what the work needs: entries are evicted while other threads read them.
    caches = CheckCaches(ParseCache(3, threading.Lock()), TemplateMemo(max_entries=4, lock=threading.Lock()))

    def run(i: int) -> tuple:
        return outcome(check_object(copy.deepcopy(docs[i % len(docs)]), source, CheckOptions(), caches))

    with ThreadPoolExecutor(THREADS) as pool:
        got = list(pool.map(run, range(len(docs) * 6)))
    assert got == [expected[i % len(docs)] for i in range(len(docs) * 6)]
    assert len(caches.parse) <= 3
    assert len(caches.memo) <= 4


def test_parse_cache_and_memo_stay_bounded_and_consistent_under_threads(busy_switching):
    cache = ParseCache(5, threading.Lock())
    memo = TemplateMemo(max_entries=5, lock=threading.Lock())
    docs = [library(i) for i in range(50)]
    entry_caches = CheckCaches.create()
    check_object(workflow(0, 1), ListSource([library(0)]), CheckOptions(), entry_caches)
    entry = entry_caches.memo.entries()[0]
    errors: list[BaseException] = []

    def hammer(t: int) -> None:
        try:
            for n in range(400):
                doc = docs[(t * 7 + n) % len(docs)]
                parsed = cache.parse(doc)
                assert parsed.name == doc["metadata"]["name"]
                memo.put((t, n % 9), entry)
                for variant in memo.get((t, n % 9)):
                    assert variant is entry
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's own failure
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(cache) <= 5
    assert len(memo) <= 5


def test_without_caches_nothing_outlives_a_check():
    source = ListSource([library(0)])
    first = check_object(workflow(0, 1), source, CheckOptions())
    caches = CheckCaches.create()
    second = check_object(workflow(0, 1), source, CheckOptions(), caches)
    assert outcome(first) == outcome(second)
    assert len(caches.memo) > 0 and len(caches.parse) > 0
