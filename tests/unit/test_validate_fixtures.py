"""The table of invalid objects (tests/unit/fixtures/invalid/): each is rejected with exactly its errors.

Each fixture states in its comment header the rule it breaks, the options to check with, and every error
expected (`# error: <field path> :: <message fragment>`). The first document is the one checked; the
others are there to be referenced. Matching is exact both ways: every expected error is reported at its
path, and nothing else is reported (so a fixture also proves the other rules stay quiet).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workflow.check import CheckOptions, check_objects

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
CASES = sorted(FIXTURES.glob("*.yaml"))


def _header(text: str) -> tuple[str, CheckOptions, list[tuple[str, str]]]:
    rule, options, expected = "", CheckOptions(), []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].strip().partition(":")
        value = value.strip()
        if key == "rule":
            rule = value
        elif key == "options":
            for opt in value.split(","):
                name, _, arg = opt.strip().partition("=")
                setattr(options, name, arg if arg else True)
        elif key == "error":
            path, _, fragment = value.partition(" :: ")
            expected.append((path.strip(), fragment.strip()))
    return rule, options, expected


def test_the_table_is_large_and_covers_every_section():
    assert len(CASES) >= 60
    rules = " ".join(_header(p.read_text())[0] for p in CASES)
    for section in ("§5.1", "§5.2", "§5.3", "§5.4", "§5.5", "§5.6", "§5.7", "§5.8", "§5.9", "§5.10", "§5.11"):
        assert section in rules, f"no invalid fixture for {section}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_invalid_fixture_is_rejected_at_its_paths(path):
    text = path.read_text()
    rule, options, expected = _header(text)
    assert rule and expected, f"{path.name}: the header must state the rule and at least one error"
    docs = list(yaml.safe_load_all(text))
    report = check_objects(docs, options)[0]
    got = [(e.field, e.message) for e in report.errors]
    missing = [(p, f) for p, f in expected if not any(field == p and f in msg for field, msg in got)]
    unexpected = [(field, msg) for field, msg in got if not any(field == p and f in msg for p, f in expected)]
    assert not missing and not unexpected, (
        f"{path.name} ({rule})\nmissing: {missing}\nunexpected: {unexpected}"
    )
