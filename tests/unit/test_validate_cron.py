"""Cron schedules as robfig/cron's ParseStandard reads them, durations as Go's ParseDuration, and the
CronWorkflow checks that use them."""

from __future__ import annotations

import pytest
import yaml

from workflow.check import check_object
from workflow.resolve.sources import NoSource
from workflow.validate.cronspec import CRD_PATTERN, schedule_error
from workflow.validate.durations import duration_error, parse_duration

VALID = [
    "* * * * *",
    "*/5 * * * *",
    "0 0 * * 0",
    "0 9-17 * * 1-5",
    "30 2 1,15 * *",
    "0 0 1 JAN,jul *",
    "0 12 ? * MON-FRI",
    "5/10 * * * *",
    "0 0 31 12 6",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "@every 1h30m",
    "@every 90s",
    "CRON_TZ=Asia/Tokyo 0 6 * * *",
]
INVALID = {
    "* * * *": "expected exactly 5 fields, found 4",
    "0 0 * * * *": "expected exactly 5 fields, found 6",
    "60 * * * *": "end of range (60) above maximum (59)",
    "* 24 * * *": "end of range (24) above maximum (23)",
    "* * 0 * *": "beginning of range (0) below minimum (1)",
    "* * * 13 *": "end of range (13) above maximum (12)",
    "* * * * 7": "end of range (7) above maximum (6)",
    "5-2 * * * *": "beginning of range (5) beyond end of range (2)",
    "*/0 * * * *": "step of range should be a positive number",
    "1-2-3 * * * *": "too many hyphens",
    "*/2/3 * * * *": "too many slashes",
    "x * * * *": "failed to parse int from x",
    "* * * FOO *": "failed to parse int from FOO",
    "@every": "failed to parse duration",
    "@every tomorrow": "failed to parse duration",
    "@sometimes": "unrecognized descriptor",
}


@pytest.mark.parametrize("schedule", VALID)
def test_robfig_accepts(schedule):
    assert schedule_error(schedule)[0] is None


@pytest.mark.parametrize("schedule,fragment", INVALID.items())
def test_robfig_refuses(schedule, fragment):
    problem, _ = schedule_error(schedule)
    assert problem is not None and fragment in problem


def test_the_crd_pattern_refuses_the_time_zone_prefix_robfig_accepts():
    assert schedule_error("CRON_TZ=Asia/Tokyo 0 6 * * *") == (None, "Asia/Tokyo")
    assert not CRD_PATTERN.match("CRON_TZ=Asia/Tokyo 0 6 * * *")
    assert CRD_PATTERN.match("@every 1h30m") and CRD_PATTERN.match("0 12 ? * MON-FRI")


def test_go_durations():
    assert parse_duration("1h30m") == 5400 and parse_duration("1.5s") == 1.5 and parse_duration("-2m") == -120
    assert parse_duration("0") == 0 and parse_duration("300ms") == 0.3
    for bad in ("", "1", "1d", "h", "1h 30m", ".s"):
        assert parse_duration(bad) is None, bad
    assert duration_error("30", bare_seconds=True) is None and duration_error("30") is not None


def test_a_cron_workflow_with_a_bad_schedule_and_time_zone_reports_both():
    doc = yaml.safe_load("""
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: nightly}
spec:
  schedules: ["0 2 * * *", "CRON_TZ=Nowhere/City 0 3 * * *"]
  timezone: Europe/Paris
  workflowSpec:
    entrypoint: main
    templates: [{name: main, container: {image: busybox}}]
""")
    report = check_object(doc, NoSource())
    assert [e.field for e in report.errors] == ["spec.schedules[1]", "spec.schedules[1]"]
    assert 'invalid timezone "Nowhere/City"' in report.errors[0].message + report.errors[1].message
