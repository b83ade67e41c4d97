"""workflow/cron_schedule.py on an injected clock: robfig schedules, DST as robfig, every policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflow.cron_schedule import (
    ANN_SCHEDULED,
    LABEL_CRON,
    Child,
    ScheduleError,
    child_workflow,
    latest_due,
    next_after,
    parse,
    tick,
    zone,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hits(schedule: str, tz: str, start: str, count: int) -> list[str]:
    s, zone_info = parse(schedule), zone(tz)
    t, out = utc(start), []
    for _ in range(count):
        t = next_after(s, t, zone_info)
        out.append(t.astimezone(zone_info).strftime("%Y-%m-%d %H:%M %Z"))
    return out


# --- schedules ------------------------------------------------------------------------------------------

SCHEDULES = [
    ("*/15 * * * *", "UTC", "2026-03-01T10:07:00", ["2026-03-01 10:15 UTC", "2026-03-01 10:30 UTC"]),
    (
        "0 9 * * mon-fri",
        "UTC",
        "2026-12-04T10:00:00",  # a Friday after 9: next is Monday
        ["2026-12-07 09:00 UTC", "2026-12-08 09:00 UTC"],
    ),
    ("0 0 1,15 * *", "UTC", "2026-01-01T00:00:00", ["2026-01-15 00:00 UTC", "2026-02-01 00:00 UTC"]),
    # day of month AND day of week both restricted: either matches (robfig, like Vixie cron)
    ("0 0 13 * fri", "UTC", "2026-02-01T00:00:00", ["2026-02-06 00:00 UTC", "2026-02-13 00:00 UTC"]),
    ("@daily", "Europe/London", "2026-06-01T12:00:00", ["2026-06-02 00:00 BST", "2026-06-03 00:00 BST"]),
    ("@hourly", "UTC", "2026-06-01T12:00:00", ["2026-06-01 13:00 UTC", "2026-06-01 14:00 UTC"]),
    ("@every 90s", "UTC", "2026-06-01T12:00:00", ["2026-06-01 12:01 UTC", "2026-06-01 12:03 UTC"]),
    ("0 12 * jan *", "UTC", "2026-02-01T00:00:00", ["2027-01-01 12:00 UTC", "2027-01-02 12:00 UTC"]),
    ("30 6 * * *", "Asia/Kolkata", "2026-06-01T00:00:00", ["2026-06-01 06:30 IST", "2026-06-02 06:30 IST"]),
]


@pytest.mark.parametrize(("schedule", "tz", "start", "expected"), SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_next_hits(schedule, tz, start, expected):
    assert hits(schedule, tz, start, len(expected)) == expected


# --- daylight saving: skipped and repeated hours, as robfig -------------------------------------------------

DST = [
    # New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist that day
    ("30 2 * * *", "America/New_York", "2026-03-07T12:00:00", ["2026-03-09 02:30 EDT"]),
    (
        "30 * * * *",
        "America/New_York",
        "2026-03-08T06:00:00",  # 01:30 EST, then 03:30 EDT
        ["2026-03-08 01:30 EST", "2026-03-08 03:30 EDT"],
    ),
    # New York falls back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice
    (
        "30 1 * * *",
        "America/New_York",
        "2026-11-01T04:00:00",
        ["2026-11-01 01:30 EDT", "2026-11-01 01:30 EST", "2026-11-02 01:30 EST"],
    ),
    (
        "0 9 * * *",
        "America/New_York",
        "2026-11-01T00:00:00",  # outside the changed hour: once, in EST
        ["2026-11-01 09:00 EST", "2026-11-02 09:00 EST"],
    ),
    # London springs forward 2026-03-29 01:00 GMT -> 02:00 BST
    ("30 1 * * *", "Europe/London", "2026-03-28T12:00:00", ["2026-03-30 01:30 BST"]),
    # London falls back 2026-10-25 02:00 BST -> 01:00 GMT
    (
        "30 1 * * *",
        "Europe/London",
        "2026-10-24T12:00:00",
        ["2026-10-25 01:30 BST", "2026-10-25 01:30 GMT", "2026-10-26 01:30 GMT"],
    ),
]


@pytest.mark.parametrize(
    ("schedule", "tz", "start", "expected"), DST, ids=[f"{d[0]} {d[1]} {d[2][:10]}" for d in DST]
)
def test_daylight_saving_skips_and_repeats(schedule, tz, start, expected):
    assert hits(schedule, tz, start, len(expected)) == expected


def test_the_repeated_hour_gives_two_distinct_child_names():
    s, ny = parse("30 1 * * *"), zone("America/New_York")
    first = next_after(s, utc("2026-11-01T04:00:00"), ny)
    second = next_after(s, first, ny)
    assert (second - first) == timedelta(hours=1)
    assert (
        child_workflow({"metadata": {"name": "c"}}, first)["metadata"]["name"]
        != child_workflow({"metadata": {"name": "c"}}, second)["metadata"]["name"]
    )


@pytest.mark.parametrize("bad", ["61 * * * *", "* * *", "@sometimes", "TZ=UTC * * * * *"])
def test_bad_schedules_are_refused(bad):
    with pytest.raises(ScheduleError):
        parse(bad)


def test_latest_due_picks_only_the_latest_hit():
    s = [parse("*/10 * * * *"), parse("@every 7m")]
    assert latest_due(s, zone("UTC"), utc("2026-01-01T00:00:00"), utc("2026-01-01T00:45:00")) == utc(
        "2026-01-01T00:42:00"
    )
    assert latest_due(s, zone("UTC"), utc("2026-01-01T00:00:00"), utc("2026-01-01T00:05:00")) is None


# --- tick: policies ------------------------------------------------------------------------------------------


def cron(**spec):
    status = spec.pop("status", {})
    return {
        "metadata": {
            "name": "nightly",
            "uid": "u1",
            "namespace": "ns",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"schedules": ["* * * * *"], "workflowSpec": {"entrypoint": "main"}, **spec},
        "status": {"lastScheduledTime": "2026-06-01T11:59:00Z", **status},
    }


NOW = utc("2026-06-01T12:00:10")


def child(name, phase, minutes_ago=5):
    return Child(
        name,
        phase,
        NOW - timedelta(minutes=minutes_ago),
        None if phase in ("", "Running") else NOW - timedelta(minutes=minutes_ago - 1),
    )


def test_a_due_hit_creates_one_child_named_by_its_time():
    d = tick(cron(), [], NOW)
    assert d.create == f"nightly-{int(utc('2026-06-01T12:00:00').timestamp())}"
    assert d.scheduled == utc("2026-06-01T12:00:00") and d.cursor == d.scheduled
    assert d.wake == utc("2026-06-01T12:01:00") and not d.skipped
    again = tick(cron(status={"lastScheduledTime": "2026-06-01T12:00:00Z"}), [], NOW)
    assert again.create is None and not again.skipped  # nothing new is due


@pytest.mark.parametrize(
    ("policy", "create", "terminate", "skipped"),
    [
        ("Allow", True, [], ""),
        ("", True, [], ""),
        ("Forbid", False, [], "Forbid"),
        ("Replace", True, ["nightly-1"], ""),
    ],
)
def test_concurrency_policies_with_a_child_running(policy, create, terminate, skipped):
    running = [child("nightly-1", "Running"), child("nightly-0", "Succeeded", 10)]
    d = tick(cron(concurrencyPolicy=policy), running, NOW)
    assert (d.create is not None) is create
    assert d.terminate == terminate and d.skipped == skipped
    assert d.active == ["nightly-1"]
    assert d.cursor == utc("2026-06-01T12:00:00")  # handled either way: Forbid does not retry the hit


def test_forbid_runs_when_nothing_is_active():
    assert tick(cron(concurrencyPolicy="Forbid"), [child("nightly-1", "Succeeded")], NOW).create


def test_suspend_and_when_skip_the_hit():
    assert tick(cron(suspend=True), [], NOW).skipped == "suspend"
    d = tick(cron(), [], NOW, when_allows=False)
    assert d.create is None and d.skipped == "when" and d.cursor == utc("2026-06-01T12:00:00")


def test_stop_strategy_stops_for_good():
    d = tick(cron(), [], NOW, stop_now=True)
    assert d.stopped and d.create is None
    assert tick(cron(status={"phase": "Stopped"}), [], NOW).stopped


def test_missed_runs_after_downtime_without_a_deadline_are_skipped():
    late = utc("2026-06-01T15:05:00")  # the controller was down for three hours
    d = tick(cron(schedules=["0 * * * *"]), [], late)
    assert d.create is None and d.skipped == "missed"
    assert d.wake == utc("2026-06-01T16:00:00")


def test_missed_runs_within_starting_deadline_run_once_the_latest():
    late = utc("2026-06-01T15:20:00")  # 12:00 .. 15:00 missed; 15:00 is 20 minutes late
    d = tick(cron(schedules=["0 * * * *"], startingDeadlineSeconds=1800), [], late)
    assert d.scheduled == utc("2026-06-01T15:00:00") and d.create == "nightly-" + str(
        int(utc("2026-06-01T15:00:00").timestamp())
    )
    too_late = tick(cron(schedules=["0 * * * *"], startingDeadlineSeconds=600), [], late)
    assert too_late.create is None and too_late.skipped == "missed"


def test_long_downtime_is_bounded_work():
    years_late = utc("2029-06-01T12:00:30")
    d = tick(cron(), [], years_late)  # every minute for three years: only the last window is looked at
    assert d.scheduled == utc("2029-06-01T12:00:00")


def test_history_limits_delete_the_oldest_finished_children():
    kids = (
        [child(f"ok-{i}", "Succeeded", 100 - i) for i in range(5)]
        + [child(f"bad-{i}", "Failed", 50 - i) for i in range(3)]
        + [child("err", "Error", 1), child("run", "Running")]
    )
    d = tick(cron(), kids, NOW)
    assert d.delete == sorted(["ok-0", "ok-1", "bad-0", "bad-1", "bad-2"])
    d = tick(cron(successfulJobsHistoryLimit=0, failedJobsHistoryLimit=2), kids, NOW)
    assert d.delete == sorted([f"ok-{i}" for i in range(5)] + ["bad-0", "bad-1"])


def test_a_bad_spec_is_a_spec_error_not_an_exception():
    assert "invalid timezone" in tick(cron(timezone="Mars/Olympus"), [], NOW).error
    assert tick(cron(schedules=["bad"]), [], NOW).error
    assert tick(cron(schedules=[]), [], NOW).error == "cron workflow must have at least one schedule"


def test_timezone_decides_the_hit():
    # 09:00 in New York is 13:00 UTC in June
    d = tick(
        cron(
            schedules=["0 9 * * *"],
            timezone="America/New_York",
            status={"lastScheduledTime": "2026-06-01T00:00:00Z"},
        ),
        [],
        utc("2026-06-01T13:00:20"),
    )
    assert d.scheduled == utc("2026-06-01T13:00:00")


def test_the_child_is_named_labelled_and_owned_as_argo_does():
    c = cron(workflowMetadata={"labels": {"team": "a"}, "annotations": {"note": "x"}})
    c["metadata"]["labels"] = {"workflows.argoproj.io/controller-instanceid": "i1"}
    wf = child_workflow(c, utc("2026-06-01T12:00:00"))
    assert wf["metadata"]["name"] == "nightly-1780315200"
    assert wf["metadata"]["labels"] == {
        "team": "a",
        LABEL_CRON: "nightly",
        "workflows.argoproj.io/controller-instanceid": "i1",
    }
    assert wf["metadata"]["annotations"] == {"note": "x", ANN_SCHEDULED: "2026-06-01T12:00:00Z"}
    assert wf["metadata"]["ownerReferences"][0] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "name": "nightly",
        "uid": "u1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert wf["spec"] == {"entrypoint": "main"}
