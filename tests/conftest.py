"""Marks every test with its tier from the folder it lives in (tests/<tier>/...)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TIERS = ("unit", "integration", "e2e", "conformance")
REPO = Path(__file__).resolve().parent.parent
# Argo's examples live beside the repository, never inside it.
ARGO_EXAMPLES = Path(os.environ.get("SLUICE_ARGO_EXAMPLES", REPO.parent / "shared" / "argo-examples"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).relative_to(REPO / "tests").parts
        if parts and parts[0] in TIERS:
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def argo_examples() -> Path:
    if not ARGO_EXAMPLES.is_dir():
        pytest.fail(f"Argo's examples are missing at {ARGO_EXAMPLES} (set SLUICE_ARGO_EXAMPLES)")
    return ARGO_EXAMPLES
