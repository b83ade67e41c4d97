"""Marks every test with its tier from the folder it lives in (tests/<tier>/...)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TIERS = ("unit", "integration", "e2e", "conformance")
REPO = Path(__file__).resolve().parent.parent
# A GCS client made in a test without its own endpoint would go to storage.googleapis.com: point the
# variable the GCS driver reads (executor-sidecar/sluice_executor/drivers/gcs_client.py) at the discard
# port on this machine instead, for this process and every child it starts. Tests name their endpoint.
os.environ["STORAGE_EMULATOR_HOST"] = "http://127.0.0.1:9"
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
