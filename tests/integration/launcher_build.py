"""Builds the launcher for tests (executor-sidecar/build-launcher.sh, cached by its sources)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "executor-sidecar" / "build-launcher.sh"


def build(out: Path) -> Path:
    done = subprocess.run([str(BUILD), str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"build-launcher.sh failed:\n{done.stderr}"
    return out / "sluice-launcher"
