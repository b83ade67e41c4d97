"""Resource conditions and jsonPath outputs (executor-sidecar/sluice_executor/conditions.py), as tables."""

from __future__ import annotations

import pytest
from sluice_executor import conditions

JOB = {
    "metadata": {"name": "pi", "labels": {"app": "x"}},
    "status": {
        "succeeded": 1,
        "failed": 0,
        "active": None,
        "phase": "Running",
        "ready": True,
        "conditions": [{"type": "Complete", "status": "True"}],
    },
    "spec": {"completions": 3, "items": ["a", "b"]},
}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("status.succeeded > 0", True),
        ("status.succeeded > 1", False),
        ("status.failed > 3", False),
        ("status.succeeded < 2", True),
        ("status.phase == Running", True),
        ("status.phase = Running", True),
        ("status.phase != Running", False),
        ("status.phase in (Failed, Running)", True),
        ("status.phase notin (Failed, Error)", True),
        ("status.phase", True),
        ("status.active", False),  # null is absent
        ("!status.active", True),
        ("!status.phase", False),
        ("status.missing != x", True),  # absent keys satisfy != and notin, as label selectors do
        ("status.missing == x", False),
        ("status.missing > 0", False),
        ("status.ready == true", True),
        ("status.conditions.0.type == Complete", True),
        ("status.succeeded > 0, status.phase == Running", True),
        ("status.succeeded > 0, status.phase == Done", False),
        ("status.phase > 1", False),  # not a number
        ("spec.completions > 2", True),
    ],
)
def test_conditions(condition, expected):
    assert conditions.all_match(conditions.parse(condition), JOB) is expected


def test_failure_is_any_requirement():
    failed = conditions.first_failure(conditions.parse("status.failed > 3, status.phase == Running"), JOB)
    assert failed is not None and str(failed) == "status.phase == Running"
    assert conditions.first_failure(conditions.parse("status.failed > 3"), JOB) is None
    assert conditions.first_failure([], JOB) is None


@pytest.mark.parametrize(
    "bad", ["status.phase in Failed", "status.x > y", "!status.x == 1", "status.phase ==", "a b c"]
)
def test_bad_conditions_name_themselves(bad):
    with pytest.raises(conditions.ConditionError) as err:
        conditions.parse(bad)
    assert "cannot parse condition" in str(err.value)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("{.metadata.name}", "pi"),
        (".metadata.name", "pi"),
        ("metadata.name", "pi"),
        ("{.status.succeeded}", "1"),
        ("{.status.ready}", "true"),
        ("{.metadata.labels}", '{"app":"x"}'),
        ("{.spec.items[*]}", "a b"),
        ("{.spec.items[1]}", "b"),
        ("{.status.conditions[0].type}", "Complete"),
    ],
)
def test_json_path(path, expected):
    assert conditions.json_path(JOB, path) == expected
