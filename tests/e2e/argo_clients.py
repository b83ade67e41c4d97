"""Real Argo clients for the e2e tier, built from their Go modules by cluster/build-argo-cli.sh (cached
in $SLUICE_CACHE_DIR/argo-cli-<version>): Argo's `argo` CLI, run in kube mode (no argo-server), and
Argo CD's health code (gitops-engine's pkg/health at the version Argo CD pins) behind a small
program that reads objects on stdin (cluster/argocd-health/main.go).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")
REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "cluster" / "build-argo-cli.sh"


def built(product: str) -> Path:
    """The cache directory of `product` ("cli": bin/argo; "argocd": bin/argocd-health), built when
    missing (cold: minutes; cluster/e2e.sh builds both before the tier)."""
    proc = subprocess.run([str(BUILD), product], capture_output=True, text=True, timeout=1500)
    if proc.returncode != 0:
        pytest.fail(f"{BUILD} {product} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return Path(proc.stdout.strip().splitlines()[-1])


def argocd_health(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Argo CD's health verdict ({"status", "message"}) for each object, by Argo CD's own code
    (cluster/argocd-health/main.go)."""
    binary = built("argocd") / "bin" / "argocd-health"
    proc = subprocess.run(
        [str(binary)], input=json.dumps(objects), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    verdicts = json.loads(proc.stdout)
    assert len(verdicts) == len(objects)
    return verdicts


class ArgoCLI:
    """`argo <args> --kubeconfig K -n NS --instanceid ID`: kube mode, talking to the API server only.
    The instance ID is the controller's: Argo's CLI refuses (get, logs) or never sees (list, wait) a
    Workflow whose controller-instanceid label is not its own ("not managed by the current Argo Server")."""

    def __init__(self, binary: Path, kubeconfig: Path, namespace: str, instance_id: str) -> None:
        self.binary, self.kubeconfig, self.namespace = binary, kubeconfig, namespace
        self.instance_id = instance_id

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        # ARGO_SERVER unset: never the server mode; HOME of the test: no user's argo config is read.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGO_")}
        proc = subprocess.run(
            [
                str(self.binary),
                *args,
                "--kubeconfig",
                str(self.kubeconfig),
                "-n",
                self.namespace,
                "--instanceid",
                self.instance_id,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        # The CLI colours its tables and logs whatever the terminal: tests read plain text.
        proc.stdout = ANSI.sub("", proc.stdout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"argo {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
            )
        return proc
