"""Custom metrics (workflow/engine/custom_metrics.py): what each step emits for `metrics.prometheus`, read
from the decisions of a run on the fake world."""

from __future__ import annotations

from engine_world import World

from workflow.engine import EmitMetric

REALTIME = {
    "name": "duration_gauge",
    "help": "Duration",
    "gauge": {"realtime": True, "value": "{{duration}}"},
}


def wf(spec: dict) -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "m"}, "spec": spec}


def emitted(world: World) -> list[EmitMetric]:
    return [a for d in world.decisions for a in d.actions if isinstance(a, EmitMetric)]


def spec_with(template_metrics: list[dict], **extra) -> dict:
    return {
        "entrypoint": "main",
        "templates": [
            {"name": "main", "steps": [[{"name": "a", "template": "work"}]]},
            {
                "name": "work",
                "inputs": {"parameters": [{"name": "who", "value": "alice"}]},
                "outputs": {"parameters": [{"name": "n", "valueFrom": {"path": "/tmp/n"}}]},
                "metrics": {"prometheus": template_metrics},
                "container": {"image": "busybox", "command": ["true"]},
            },
        ],
        **extra,
    }


def outcome(pod):
    return 0, {"parameters": [{"name": "n", "value": "7"}], "exitCode": "0"}


def run_for(world: World, seconds: float) -> None:
    """The pod runs `seconds` on the world's clock, then the run goes to its end."""
    world.step()
    world.tick(seconds)
    world.finish_all(outcome)
    world.run(outcome)


def test_a_completed_node_emits_counter_gauge_and_histogram_with_its_variables():
    metrics = [
        {
            "name": "runs",
            "help": "Runs by status",
            "labels": [
                {"key": "status", "value": "{{status}}"},
                {"key": "who", "value": "{{inputs.parameters.who}}"},
            ],
            "counter": {"value": "1"},
        },
        {"name": "last_n", "help": "n", "gauge": {"value": "{{outputs.parameters.n}}", "operation": "Add"}},
        {
            "name": "n_hist",
            "help": "n",
            "histogram": {"value": "{{outputs.parameters.n}}", "buckets": [10, 5]},
        },
        {"name": "took", "help": "seconds", "gauge": {"value": "{{duration}}"}},
        {"name": "exit", "help": "code", "gauge": {"value": "{{exitCode}}"}},
    ]
    world = World(wf(spec_with(metrics)))
    run_for(world, 5)
    assert world.phase == "Succeeded"
    got = {m.name: m for m in emitted(world)}
    assert set(got) == {"runs", "last_n", "n_hist", "took", "exit"}  # once each: the node completed once
    assert len(emitted(world)) == 5
    assert got["runs"] == EmitMetric(
        name="runs",
        help="Runs by status",
        kind="counter",
        value=1.0,
        labels=(("status", "Succeeded"), ("who", "alice")),
    )
    assert (got["last_n"].kind, got["last_n"].value, got["last_n"].operation) == ("gauge", 7.0, "Add")
    assert (got["n_hist"].kind, got["n_hist"].value, got["n_hist"].buckets) == ("histogram", 7.0, (5.0, 10.0))
    assert got["took"].value == 5.0  # the pod ran 5 s on the world's clock
    assert got["exit"].value == 0.0


def test_when_filters_and_a_bad_value_is_a_metrics_error_condition():
    metrics = [
        {"name": "failed_only", "help": "h", "when": "{{status}} == Failed", "counter": {"value": "1"}},
        {"name": "ok_only", "help": "h", "when": "{{status}} == Succeeded", "counter": {"value": "1"}},
        {"name": "broken", "help": "h", "gauge": {"value": "{{inputs.parameters.who}}"}},
    ]
    world = World(wf(spec_with(metrics)))
    world.run(outcome)
    assert [m.name for m in emitted(world)] == ["ok_only"]
    conditions = {c["type"]: c for c in world.status["conditions"]}
    assert "metric 'broken'" in conditions["MetricsError"]["message"]
    assert "'alice' is not a number" in conditions["MetricsError"]["message"]
    assert world.phase == "Succeeded"  # a metric never fails the run


def test_realtime_gauges_start_with_the_node_and_workflow_level_metrics_at_both_ends():
    spec = spec_with(
        [REALTIME],
        metrics={
            "prometheus": [
                {
                    **REALTIME,
                    "name": "wf_duration",
                    "gauge": {"realtime": True, "value": "{{workflow.duration}}"},
                },
                {
                    "name": "wf_done",
                    "help": "h",
                    "labels": [{"key": "status", "value": "{{workflow.status}}"}],
                    "counter": {"value": "1"},
                },
            ]
        },
    )
    world = World(wf(spec))
    world.step()
    first = emitted(world)
    starts = {m.name: m for m in first}
    assert set(starts) == {"duration_gauge", "wf_duration"}
    assert all(m.since == "2024-01-01T12:00:00Z" and m.kind == "gauge" for m in first)
    world.tick(3)
    world.finish_all(outcome)
    world.run(outcome)
    final = emitted(world)[len(first) :]
    by_name = {m.name: m for m in final}
    assert by_name["duration_gauge"].since is None and by_name["duration_gauge"].value == 3.0  # frozen
    assert by_name["wf_done"].labels == (("status", "Succeeded"),)
    assert by_name["wf_duration"].since is None


def test_retry_attempts_do_not_emit_their_parents_metrics_again():
    spec = spec_with([{"name": "tries", "help": "h", "gauge": {"value": "{{retries}}"}}])
    spec["templates"][1]["retryStrategy"] = {"limit": 2}
    world = World(wf(spec))
    calls = iter([1, 0])

    def flaky(pod):
        return next(calls), {"parameters": [{"name": "n", "value": "1"}]}

    world.run(flaky)
    assert world.phase == "Succeeded"
    assert [(m.name, m.value) for m in emitted(world)] == [("tries", 1.0)]


def test_no_metrics_no_actions_and_no_condition():
    world = World(wf(spec_with([])))
    world.run(outcome)
    assert emitted(world) == []
    assert all(c["type"] != "MetricsError" for c in world.status["conditions"])


def test_a_new_controllers_first_look_starts_the_running_nodes_realtime_gauges_again():
    world = World(wf(spec_with([REALTIME], metrics={"prometheus": [{**REALTIME, "name": "wf_rt"}]})))
    world.step()
    world.tick(30)
    world.start_all()
    world.step()
    assert len(emitted(world)) == 2  # the first step's starts; nothing since
    world.extra["first_look"] = True  # the controller that emitted them is gone
    decision = world.step()
    again = sorted((a.name, a.since) for a in decision.actions if isinstance(a, EmitMetric))
    assert again == [("duration_gauge", "2024-01-01T12:00:00Z"), ("wf_rt", "2024-01-01T12:00:00Z")]


def test_a_node_whose_result_comes_after_its_pod_emits_once_when_the_result_is_in():
    from workflow.engine import TaskResultObservation

    world = World(wf(spec_with([{"name": "runs", "help": "h", "counter": {"value": "1"}}])))
    world.step()
    (node_id,) = world.running()
    world.finish("m[0].a", 0)
    world.results[node_id] = TaskResultObservation(node_id=node_id, outputs=None, completed=False)
    world.tick(1)
    world.step()
    world.tick(1)
    world.step()  # the pod is done, its outputs are not: the node is not done yet
    assert world.node("m[0].a")["taskResultSynced"] is False and emitted(world) == []
    world.results[node_id] = TaskResultObservation(node_id=node_id, outputs=outcome(None)[1], completed=True)
    world.tick(1)
    world.step()
    assert [m.name for m in emitted(world)] == ["runs"]
    world.run(outcome)
    assert [m.name for m in emitted(world)] == ["runs"]
