"""Policy rules in worker processes (webhook/policy/worker.py): the same answers as in-process, and
evaluations stopped at the time limit, the memory limit and the input budget, the pool recovering."""

from __future__ import annotations

import time

import pytest

from webhook.policy.cel import evaluator
from webhook.policy.engine import PolicyStopped, evaluate_rules
from webhook.policy.worker import PolicyWorkers

VALUES = {
    "object": {"metadata": {"name": "wf"}, "spec": {"templates": [{"name": "a"}, {"name": "b"}]}},
    "expanded": {"kind": "Workflow", "spec": {"templates": [{"name": "a"}, {"name": "b"}]}},
    "containers": [{"name": "main", "image": "x/y:1", "path": "spec.templates[0].container"}],
    "request": {"operation": "CREATE"},
}
RULES = [
    ("containers.all(c, c.image.startsWith('x/'))", None),
    ("templates.size() == 3", "'there are ' + string(templates.size())"),
    ("object.missing", None),
    ("spec.templates[0].name", None),
    ("request.operation == 'CREATE' && object.metadata.name == 'wf'", None),
]


@pytest.fixture(scope="module")
def workers():
    pool = PolicyWorkers("cel-rust", 1, timeout=2.0, input_budget=1024 * 1024)
    yield pool
    pool.close()


def wait_started(pool):
    import time

    deadline = time.monotonic() + 120
    while pool.started < 1 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_same_answers_as_in_process(workers):
    wait_started(workers)
    cel = evaluator("cel-rust")
    local = evaluate_rules(
        cel, VALUES, [(cel.compile(e), None if m is None else cel.compile(m)) for e, m in RULES]
    )
    assert workers.run(VALUES, RULES) == [tuple(r) for r in local]
    assert local[1] == ("ok", False, "there are 2")
    assert local[2][0] == "error" and local[3] == ("ok", "str", None)


def test_an_evaluation_over_the_time_limit_is_killed_and_the_worker_replaced(workers):
    wait_started(workers)
    values = {"object": {"xs": list(range(300))}}
    results = workers.run(values, [("object.xs.all(a, object.xs.all(b, object.xs.all(c, true)))", None)])
    assert results == [("error", "evaluation stopped after 2s", None)]
    assert workers.stopped >= 1
    # The replacement answers (the idle queue waits for it to start, within the time limit or at once).
    wait_started(workers)
    for _ in range(200):
        try:
            assert workers.run(VALUES, RULES[:1]) == [("ok", True, None)]
            break
        except PolicyStopped as exc:  # still starting on a loaded machine
            assert "no policy worker free" in str(exc)
    else:
        raise AssertionError("no worker came back")


def test_input_over_the_budget_is_not_evaluated(workers):
    big = {"object": {"xs": ["x" * 100] * 20_000}}  # ~2 MB of JSON
    with pytest.raises(PolicyStopped, match="over the 1,048,576-byte budget"):
        workers.run(big, [("true", None)])


def test_an_evaluation_over_the_memory_limit_is_stopped():
    pool = PolicyWorkers("cel-rust", 1, timeout=60.0, memory=400 * 1024 * 1024)
    try:
        wait_started(pool)
        values = {"object": {"xs": list(range(3000)), "s": "x" * 500_000}}
        # 3,000 new strings of 1 MB each: 3 GB.
        results = pool.run(values, [("object.xs.map(a, object.s + object.s).size() > 0", None)])
        assert results[0][0] == "error" and "memory limit" in results[0][1], results
    finally:
        pool.close()


def test_an_answer_is_kept_by_its_exact_input_and_a_resubmission_skips_the_worker():
    pool = PolicyWorkers("cel-rust", 1, timeout=30.0, keep_answers=2)
    try:
        wait_started(pool)
        first = pool.run(VALUES, RULES)
        assert pool.answer_hits == 0
        assert pool.run(VALUES, RULES) == first and pool.answer_hits == 1
        # Any difference in the input is a different answer: evaluated again, not taken from the kept one.
        other = {**VALUES, "object": {"metadata": {"name": "other"}}}
        assert pool.run(other, RULES[4:]) == [("ok", False, None)]
        assert pool.answer_hits == 1
        # With no worker left, a kept answer is still given (proof it did not reach a worker) and a new
        # input is not.
        pool.close()
        assert pool.run(VALUES, RULES) == first and pool.answer_hits == 2
        assert pool.run({**VALUES, "request": {"operation": "UPDATE"}}, RULES[4:])[0][0] == "error"
    finally:
        pool.close()


def test_a_stopped_rule_is_the_only_one_reported_stopped():
    """Issue 13: one slow rule used to mark every rule of the request stopped."""
    pool = PolicyWorkers("cel-rust", 2, timeout=2.0, rest_timeout=30.0)
    try:
        deadline = time.monotonic() + 120
        while pool.started < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        values = {"object": {"xs": list(range(300)), "name": "wf"}}
        slow = "object.xs.all(a, object.xs.all(b, object.xs.all(c, true)))"
        rules = [
            ("object.name == 'wf'", None),
            (slow, None),
            ("object.name == 'other'", "'named ' + object.name"),
            ("object.missing", None),
        ]
        results = pool.run(values, rules)
        assert results == [
            ("ok", True, None),
            ("error", "evaluation stopped after 2s", None),
            ("ok", False, "named wf"),
            ("error", results[3][1], None),
        ]
        assert "no such key" in results[3][1]
        assert pool.stopped == 1
        # Two offenders in one request: the second is reported stopped, the rest not evaluated.
        pool.rest_timeout = 1.0
        results = pool.run(values, [(slow, None), (slow, None), ("true", None)])
        assert results[0] == ("error", "evaluation stopped after 2s", None)
        assert results[1][0] == "error" and (
            "stopped after" in results[1][1] or "no policy worker free" in results[1][1]
        )
        assert results[2][0] == "error" and "not evaluated" in results[2][1]
    finally:
        pool.close()
