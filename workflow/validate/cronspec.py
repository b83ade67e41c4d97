"""Cron schedules as Argo reads them: robfig/cron's ParseStandard (five fields, or a descriptor).

Only parsing: whether a schedule is valid, and why not, in robfig's words. The controller's scheduling
(next run, timezones, DST) lives with the cron controller.
"""

from __future__ import annotations

import re

from workflow.validate.durations import parse_duration

DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# (name, minimum, maximum, names) of the five standard fields.
FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {
            m: i + 1
            for i, m in enumerate(
                ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            )
        },
    ),
    ("day of week", 0, 6, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}),
)
# The CRD's pattern for `schedules` items.
CRD_PATTERN = re.compile(
    r"^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every\s+([0-9]+(ns|us|µs|ms|s|m|h))+"
    r"|([A-Za-z0-9*,/?-]+\s+){4}[A-Za-z0-9*,/?-]+)$"
)


def schedule_error(schedule: str) -> tuple[str | None, str | None]:
    """(why the schedule does not parse, the timezone named by a CRON_TZ=/TZ= prefix)."""
    spec = schedule.strip()
    tz = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, spec = spec.partition(" ")
        tz = head.split("=", 1)[1]
        spec = spec.strip()
    if spec.startswith("@"):
        if spec.startswith("@every"):
            text = spec[len("@every") :].strip()
            seconds = parse_duration(text) if text else None
            if seconds is None:
                return f'failed to parse duration {spec}: time: invalid duration "{text}"', tz
            return None, tz
        if spec in DESCRIPTORS:
            return None, tz
        return f"unrecognized descriptor: {spec}", tz
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]", tz
    for text, (_, low, high, names) in zip(fields, FIELDS, strict=True):
        for part in text.split(","):
            problem = _range_error(part, low, high, names)
            if problem:
                return problem, tz
    return None, tz


def _number(text: str, names: dict[str, int], expr: str) -> tuple[int | None, str | None]:
    if text.lower() in names:
        return names[text.lower()], None
    if not re.fullmatch(r"-?[0-9]+", text):
        return None, f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
    value = int(text)
    if value < 0:
        return None, f"negative number ({value}) not allowed: {expr}"
    return value, None


def _range_error(expr: str, low: int, high: int, names: dict[str, int]) -> str | None:
    range_and_step = expr.split("/")
    if len(range_and_step) > 2:
        return f"too many slashes: {expr}"
    bounds = range_and_step[0].split("-")
    if len(bounds) > 2:
        return f"too many hyphens: {expr}"
    start: int | None
    end: int | None
    if bounds[0] in ("*", "?"):
        start, end = low, high
    else:
        start, problem = _number(bounds[0], names, expr)
        if problem:
            return problem
        end = start
        if len(bounds) == 2:
            end, problem = _number(bounds[1], names, expr)
            if problem:
                return problem
        elif len(range_and_step) == 2:
            end = high
    if len(range_and_step) == 2:
        step, problem = _number(range_and_step[1], {}, expr)
        if problem:
            return problem
        if step == 0:
            return f"step of range should be a positive number: {expr}"
    assert start is not None and end is not None
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    return None
