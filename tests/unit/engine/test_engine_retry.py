"""retryStrategy: attempts as children, limit, policies, backoff as a requeue, expression."""

from __future__ import annotations

from engine_world import World


def wf(name, strategy, steps=True):
    leaf = {
        "name": "flaky",
        "retryStrategy": strategy,
        "container": {"image": "busybox", "command": ["false"]},
    }
    if steps:
        main = {"name": "main", "steps": [[{"name": "fail", "template": "flaky"}]]}
    else:
        main = {**leaf, "name": "main"}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": {"entrypoint": "main", "templates": [main, leaf]},
    }


def test_failed_retries_names_ids_and_messages():
    world = World(wf("failed-retries-tjjsc", {"limit": 1}))
    world.run(outcome=lambda pod: (1, None))
    assert world.phase == "Failed"
    retry = world.node("failed-retries-tjjsc[0].fail")
    attempts = [world.node("failed-retries-tjjsc[0].fail(0)"), world.node("failed-retries-tjjsc[0].fail(1)")]
    assert retry["id"] == "failed-retries-tjjsc-20069324"
    assert [a["id"] for a in attempts] == [
        "failed-retries-tjjsc-1229492679",
        "failed-retries-tjjsc-759866442",
    ]
    assert retry["type"] == "Retry" and retry["phase"] == "Failed"
    assert retry["message"] == "No more retries left"
    assert retry["children"] == [a["id"] for a in attempts]
    assert [a["displayName"] for a in attempts] == ["fail(0)", "fail(1)"]
    assert all(a["nodeFlag"] == {"retried": True} and a["type"] == "Pod" for a in attempts)
    assert world.created == ["failed-retries-tjjsc-flaky-1229492679", "failed-retries-tjjsc-flaky-759866442"]


def test_retry_succeeds_on_second_attempt_and_copies_outputs():
    world = World(wf("retry-ok", {"limit": 3}))
    calls = []

    def outcome(pod):
        calls.append(pod["metadata"]["name"])
        return (1, None) if len(calls) == 1 else (0, {"result": "done"})

    world.run(outcome=outcome)
    assert world.phase == "Succeeded"
    retry = world.node("retry-ok[0].fail")
    assert retry["phase"] == "Succeeded"
    assert retry["outputs"]["exitCode"] == "0"
    assert len(retry["children"]) == 2


def test_on_error_policy_does_not_retry_a_failure():
    world = World(wf("retry-onerror", {"limit": 3, "retryPolicy": "OnError"}))
    world.run(outcome=lambda pod: (1, None))
    assert len(world.node("retry-onerror[0].fail")["children"]) == 1
    assert world.node("retry-onerror[0].fail")["message"] == "main: Error (exit code 1)"


def test_backoff_waits_and_asks_to_be_requeued():
    world = World(wf("retry-backoff", {"limit": 2, "backoff": {"duration": "10s", "factor": 2}}))
    world.step()
    world.finish("retry-backoff[0].fail(0)", 1)
    decision = world.step()
    retry = world.node("retry-backoff[0].fail")
    assert retry["message"] == "Backoff for 10s"
    assert decision.requeue_after == 10
    assert len(retry["children"]) == 1
    world.tick(10)
    world.step()
    assert len(world.node("retry-backoff[0].fail")["children"]) == 2
    world.finish("retry-backoff[0].fail(1)", 1)
    decision = world.step()
    assert decision.requeue_after == 20  # 10s * 2^1
    assert world.node("retry-backoff[0].fail")["message"] == "Backoff for 20s"


def test_backoff_max_duration_gives_up():
    world = World(wf("retry-maxdur", {"limit": 5, "backoff": {"duration": "10s", "maxDuration": "5s"}}))
    world.step()
    world.finish("retry-maxdur[0].fail(0)", 1)
    world.step()
    assert world.node("retry-maxdur[0].fail")["message"] == "Max duration limit exceeded"
    assert world.phase == "Failed"


def test_expression_false_stops_retrying():
    world = World(wf("retry-expr", {"limit": 5, "expression": "asInt(lastRetry.exitCode) == 2"}))
    world.run(outcome=lambda pod: (1, None))
    retry = world.node("retry-expr[0].fail")
    assert retry["message"] == "retryStrategy.expression evaluated to false"
    assert len(retry["children"]) == 1


def test_expression_true_retries_with_always_policy():
    world = World(wf("retry-expr2", {"limit": 2, "expression": "lastRetry.status == 'Failed'"}))
    world.run(outcome=lambda pod: (1, None))
    assert len(world.node("retry-expr2[0].fail")["children"]) == 3


def test_retry_at_the_root_names_attempts_after_the_workflow():
    world = World(wf("retry-root", {"limit": 1}, steps=False))
    world.run(outcome=lambda pod: (1, None))
    root = world.node("retry-root")
    assert root["type"] == "Retry"
    assert "boundaryID" not in world.node("retry-root(0)")
    assert world.node("retry-root(0)")["displayName"] == "retry-root(0)"
    assert world.created == [
        "retry-root-main-" + world.node("retry-root(0)")["id"].rsplit("-", 1)[1],
        "retry-root-main-" + world.node("retry-root(1)")["id"].rsplit("-", 1)[1],
    ]


def test_retries_variable_reaches_the_pod():
    doc = wf("retry-var", {"limit": 1})
    doc["spec"]["templates"][1]["container"]["args"] = ["attempt {{retries}}"]
    world = World(doc)
    world.run(outcome=lambda pod: (1, None))
    args = [
        world.pod_specs[world.node(f"retry-var[0].fail({i})")["id"]]["spec"]["containers"][1]["args"]
        for i in range(2)
    ]
    assert args == [["attempt 0"], ["attempt 1"]]
