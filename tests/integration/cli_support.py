"""The `sluice` command as the integration tests run it: a real process from this tree, its state under a
test-owned SLUICE_HOME, no terminal on stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def sluice(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`sluice ARGS...` run to its end; its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "sluice", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, SLUICE_HOME=str(home)),
        cwd=REPO,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    """`sluice ARGS...` started and left running (the caller kills it); stdout and stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "sluice", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, SLUICE_HOME=str(home)),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
    )
