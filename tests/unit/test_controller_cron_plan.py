"""The cron loop's decisions (controller/cron_plan.py) on an injected clock: what it creates, terminates,
deletes and writes, hit after hit, with the children's phases played by the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controller.cron_plan import SPEC_ERROR, plan
from workflow.cron_expr import cron_scope, stop_holds, when_allows
from workflow.engine.clock import stamp
from workflow.labels import ANN_SCHEDULED, LABEL_CRON, LABEL_CRON_COMPLETED

T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def cron(**spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {
            "name": "tick",
            "namespace": "ns",
            "uid": "cron-uid",
            "creationTimestamp": stamp(at(-0.5)),
            "labels": {"team": "a"},
        },
        "spec": {"schedules": ["* * * * *"], "workflowSpec": {"entrypoint": "main"}, **spec},
    }


class World:
    """A CronWorkflow and its children, changed as the controller's writes and the test say."""

    def __init__(self, obj):
        self.cron = obj
        self.children: dict[str, dict] = {}
        self.cursor = None
        self.terminated: list[str] = []
        self.deleted: list[str] = []

    def step(self, now: datetime):
        p = plan(self.cron, list(self.children.values()), now, self.cursor)
        self.terminated += p.terminate
        for name in p.terminate:
            self.finish(name, "Failed", now)
        if p.create is not None:
            wf = p.create
            wf["metadata"].update(uid=f"uid-{wf['metadata']['name']}", creationTimestamp=stamp(now))
            self.children[wf["metadata"]["name"]] = wf
        for name in p.delete:
            self.deleted.append(name)
            del self.children[name]
        self.cron = {**self.cron, "status": p.status}
        if p.label_completed:
            self.cron["metadata"]["labels"][LABEL_CRON_COMPLETED] = "true"
        self.cursor = p.cursor
        return p

    def finish(self, name: str, phase: str, now: datetime) -> None:
        self.children[name]["status"] = {"phase": phase, "finishedAt": stamp(now)}

    def run(self, name: str) -> None:
        self.children[name]["status"] = {"phase": "Running"}

    @property
    def status(self):
        return self.cron.get("status") or {}

    def active(self) -> list[str]:
        return [r["name"] for r in self.status.get("active") or []]


def name_at(minutes: float) -> str:
    return f"tick-{int(at(minutes).timestamp())}"


def test_each_hit_creates_one_child_named_labelled_and_listed_active():
    world = World(cron(workflowMetadata={"labels": {"kind": "nightly"}}))
    assert world.step(at(0.2)).create is not None
    child = world.children[name_at(0)]
    assert child["metadata"]["labels"] == {"kind": "nightly", LABEL_CRON: "tick"}
    assert child["metadata"]["annotations"][ANN_SCHEDULED] == "2026-06-01T12:00:00Z"
    assert child["metadata"]["ownerReferences"][0]["uid"] == "cron-uid"
    assert world.status["lastScheduledTime"] == "2026-06-01T12:00:00Z"
    assert world.status["active"] == [
        {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "namespace": "ns", "name": name_at(0)}
    ]
    assert world.status["phase"] == "Active" and world.status["succeeded"] == 0
    # Later in the same minute: nothing new, and the loop sleeps until the next hit.
    p = world.step(at(0.7))
    assert p.create is None and p.wake == at(1)
    assert list(world.children) == [name_at(0)]


def test_one_child_per_minute_over_ten_minutes_and_counts_as_they_finish():
    world = World(cron(successfulJobsHistoryLimit=2))
    for minute in range(10):
        world.step(at(minute + 0.1))
        world.finish(name_at(minute), "Succeeded", at(minute + 0.3))
        world.step(at(minute + 0.4))  # the child's completion event
    assert world.status["succeeded"] == 10 and world.status["failed"] == 0
    assert world.active() == []
    assert sorted(world.children) == [name_at(8), name_at(9)]  # history limit 2
    assert world.deleted == [name_at(m) for m in range(8)]


def test_a_retried_reconcile_never_counts_a_child_twice():
    world = World(cron())
    world.step(at(0.1))
    world.finish(name_at(0), "Failed", at(0.2))
    world.step(at(0.3))
    world.step(at(0.35))
    assert world.status["failed"] == 1 and world.status["succeeded"] == 0


def test_forbid_skips_hits_while_a_child_runs_and_runs_again_after():
    world = World(cron(concurrencyPolicy="Forbid"))
    world.step(at(0.1))
    world.run(name_at(0))
    for minute in (1, 2):
        p = world.step(at(minute + 0.1))
        assert p.create is None and p.skipped == "Forbid"
    assert world.status["lastScheduledTime"] == "2026-06-01T12:00:00Z"  # the last run, as Argo keeps it
    world.finish(name_at(0), "Succeeded", at(2.5))
    p = world.step(at(2.6))  # the finish is seen: the skipped 12:02 hit is not run late
    assert p.create is None and world.active() == []
    assert world.step(at(3.1)).create is not None
    assert sorted(world.children) == [name_at(0), name_at(3)]


def test_replace_terminates_the_running_child_then_starts_the_new_one():
    world = World(cron(concurrencyPolicy="Replace"))
    world.step(at(0.1))
    world.run(name_at(0))
    p = world.step(at(1.1))
    assert p.terminate == [name_at(0)] and p.create["metadata"]["name"] == name_at(1)
    assert world.active() == [name_at(0), name_at(1)]  # until the terminated child is seen finished
    world.step(at(1.2))
    assert world.active() == [name_at(1)] and world.status["failed"] == 1


def test_allow_runs_beside_a_running_child():
    world = World(cron())
    world.step(at(0.1))
    world.run(name_at(0))
    world.step(at(1.1))
    assert world.active() == [name_at(0), name_at(1)]


def test_suspend_skips_hits_and_resuming_does_not_run_them_late():
    world = World(cron(suspend=True))
    p = world.step(at(0.1))
    assert p.create is None and p.skipped == "suspend" and p.wake == at(1)
    world.cron["spec"] = {**world.cron["spec"], "suspend": False}
    assert world.step(at(0.5)).create is None
    assert world.step(at(1.1)).create is not None


def test_when_reads_the_last_run_and_now():
    when = "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 150 }}"
    world = World(cron(when=when))
    created = [m for m in range(7) if world.step(at(m + 0.1)).create is not None]
    assert created == [0, 3, 6]


def test_stop_strategy_stops_for_good_and_labels_the_cron():
    world = World(cron(stopStrategy={"expression": "cronworkflow.failed >= 2"}))
    for minute in range(2):
        world.step(at(minute + 0.1))
        world.finish(name_at(minute), "Failed", at(minute + 0.2))
    p = world.step(at(1.3))
    assert p.label_completed and world.status["phase"] == "Stopped" and world.status["failed"] == 2
    assert world.cron["metadata"]["labels"][LABEL_CRON_COMPLETED] == "true"
    assert world.step(at(2.1)).create is None
    assert not world.step(at(2.2)).label_completed  # labelled once


def test_a_child_that_already_exists_is_the_hit_run():
    world = World(cron(concurrencyPolicy="Replace"))
    world.step(at(0.1))
    world.run(name_at(0))
    world.cron = {**world.cron, "status": {}}  # the status write was lost
    world.cursor = None
    p = world.step(at(0.2))
    assert p.create is None and p.terminate == [] and p.skipped == "exists"
    assert world.status["lastScheduledTime"] == "2026-06-01T12:00:00Z"
    assert world.active() == [name_at(0)]


def test_bad_expressions_and_check_failures_are_spec_errors_and_nothing_runs():
    world = World(cron(when="{{= 1 + }}"))
    assert world.step(at(0.1)).create is None
    (condition,) = world.status["conditions"]
    assert condition["type"] == SPEC_ERROR and "when expression" in condition["message"]
    world.cron["spec"] = {**world.cron["spec"], "when": "true"}
    assert world.step(at(1.1)).create is not None
    assert "conditions" not in world.status  # fixed: the condition is cleared

    p = plan(cron(), [], at(0.1), None, spec_problems="spec.workflowSpec.entrypoint: required")
    assert p.create is None
    assert p.status["conditions"][0]["message"] == "spec.workflowSpec.entrypoint: required"

    bad_zone = plan(cron(timezone="Mars/Olympus"), [], at(0.1))
    assert bad_zone.create is None and "invalid timezone" in bad_zone.status["conditions"][0]["message"]


def test_missed_hits_after_downtime_run_once_within_the_starting_deadline():
    hourly = {"schedules": ["0 * * * *"]}
    world = World(cron(startingDeadlineSeconds=900, **hourly))
    p = world.step(at(10))  # the controller was away at 12:00
    assert p.create["metadata"]["name"] == name_at(0)
    assert world.step(at(11)).create is None  # one catch-up run only
    late = World(cron(**hourly))
    p = late.step(at(10))
    assert p.create is None and p.skipped == "missed" and p.wake == at(60)


def test_the_expression_scope():
    obj = {**cron(), "status": {"lastScheduledTime": "2026-06-01T11:59:00Z"}}
    scope = cron_scope(obj, 3, 1)
    assert scope["cronworkflow.lastScheduledTime"] == at(-1)
    assert when_allows({**obj, "spec": {"when": "{{cronworkflow.labels.team}} == a"}}, scope, T0)
    assert not when_allows({**obj, "spec": {"when": "{{= cronworkflow.succeeded < 3 }}"}}, scope, T0)
    assert stop_holds(
        {**obj, "spec": {"stopStrategy": {"expression": "cronworkflow.succeeded > 2"}}}, scope, T0
    )


def test_argo_s_cron_examples_run_as_argo_runs_them(argo_examples):
    """Argo's own CronWorkflow examples, planned minute after minute for ten minutes."""
    import yaml

    def runs(name: str) -> list[str]:
        doc = yaml.safe_load((argo_examples / f"{name}.yaml").read_text())
        doc["metadata"].update(namespace="ns", uid="u", creationTimestamp=stamp(at(-0.5)))
        world = World(doc)
        out = []
        for minute in range(10):
            p = world.step(at(minute + 0.1))
            if p.create is not None:
                out.append(stamp(at(minute)))
                world.finish(p.create["metadata"]["name"], "Succeeded", at(minute + 0.05))
        return [t[11:16] for t in out]

    assert runs("cron-workflow") == [f"12:{m:02d}" for m in range(10)]
    # */2 every day and */3 on weekdays (2026-06-01 is a Monday), in Los Angeles
    assert runs("cron-workflow-multiple-schedules") == [
        "12:00",
        "12:02",
        "12:03",
        "12:04",
        "12:06",
        "12:08",
        "12:09",
    ]
    # "at most every six minutes": the first hit, then once lastScheduledTime is over 360 s old (at
    # 12:06 `now()` is a moment past the hit, in Argo as here)
    assert runs("cron-when") == ["12:00", "12:06"]
    assert runs("dag-inline-cronworkflow") == ["12:00", "12:05"]
