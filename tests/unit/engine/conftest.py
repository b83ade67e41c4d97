"""Engine tests see engine bugs as exceptions, not as an Error workflow."""

from __future__ import annotations

import pytest

from workflow.engine import operate


@pytest.fixture(autouse=True)
def _raise_internal_errors(monkeypatch):
    monkeypatch.setattr(operate, "RAISE_INTERNAL_ERRORS", True)
