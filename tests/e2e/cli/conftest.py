"""Fixtures of the CLI's e2e tests: a namespace per module, the `sluice` command run as a user runs it,
and a local controller for the tests that need workflows really run."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from ..conftest import fresh_namespace
from ..controller_support import running_controller
from .support import REPO


@pytest.fixture(scope="module")
def ns(kubectl) -> str:
    yield from fresh_namespace(kubectl, "sluice-cli")


@pytest.fixture(scope="module")
def sluice(kubeconfig, ns):
    def run(
        *argv: str, kubeconfig_path: Path | None = None, timeout: float = 60, namespace: str | None = None
    ):
        cmd = [
            sys.executable,
            "-m",
            "sluice",
            *argv,
            "--kubeconfig",
            str(kubeconfig_path or kubeconfig),
            "-n",
            namespace or ns,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)

    def popen(*argv: str) -> subprocess.Popen:
        """The command left running (e.g. `submit --wait`); the caller ends it."""
        cmd = [sys.executable, "-m", "sluice", *argv, "--kubeconfig", str(kubeconfig), "-n", ns]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)

    run.popen = popen  # type: ignore[attr-defined]
    return run


@pytest.fixture
def controlled(kubeconfig, ns, tmp_path):
    """(instance ID, the controller): workflows labelled with the ID are run by it."""
    instance = f"cli-{uuid.uuid4().hex[:6]}"
    with running_controller(kubeconfig, ns, instance, tmp_path) as ctl:
        yield instance, ctl
