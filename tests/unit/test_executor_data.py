"""Data templates' transformations (executor-sidecar/sluice_executor/data.py), as a table."""

from __future__ import annotations

import pytest
from sluice_executor.data import DataError, transform

PATHS = ["a/main.log", "a/other.txt", "b/main.log"]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([], PATHS),
        ([{"expression": 'filter(data, {# endsWith "main.log"})'}], ["a/main.log", "b/main.log"]),
        (
            [
                {"expression": 'filter(data, {# endsWith "main.log"})'},
                {"expression": "map(data, {upper(#)})"},
            ],
            ["A/MAIN.LOG", "B/MAIN.LOG"],
        ),
        ([{"expression": "len(data)"}], 3),
        ([{"expression": 'filter(data, {# startsWith "z"})'}], []),
    ],
)
def test_transformations(steps, expected):
    assert transform(PATHS, steps) == expected


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"expression": "filter(data,"}], "data.transformation[0]:"),
        ([{"expression": "len(data)"}, {"expression": "nope("}], "data.transformation[1]:"),
        ([{"other": "x"}], "data.transformation[0]: only `expression` transformations are supported"),
    ],
)
def test_bad_transformations_name_their_index(steps, message):
    with pytest.raises(DataError) as err:
        transform(PATHS, steps)
    assert str(err.value).startswith(message)
