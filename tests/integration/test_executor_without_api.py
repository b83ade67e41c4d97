"""The executor's commands as the pod runs them (`python -m sluice_executor ...`, a real process) when no
Kubernetes API client can be made (executor-sidecar/sluice_executor/__main__.py): the node's error is in
the termination log, the exit code is 1, and nothing prints a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATES = {
    "wait": {"name": "main", "container": {"image": "busybox", "command": ["true"]}},
    "data": {"name": "main", "data": {"source": {"artifactPaths": {"s3": {"key": "k"}}}}},
    "resource": {
        "name": "main",
        "resource": {
            "action": "create",
            "manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        },
    },
}


@pytest.mark.parametrize("phase", sorted(TEMPLATES))
# no kubeconfig: the pod's service account, and here there is none (no token, no service host)
@pytest.mark.parametrize("kubeconfig", ["none", "missing", "not-yaml"])
def test_no_api_client_is_the_nodes_error_not_a_traceback(tmp_path: Path, phase: str, kubeconfig: str):
    config = tmp_path / "kubeconfig"
    if kubeconfig == "not-yaml":
        config.write_text("{[ this is not a kubeconfig")
    termination_log = tmp_path / "termination-log"
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "ARGO_TEMPLATE": json.dumps(TEMPLATES[phase]),
        "ARGO_NODE_ID": "wf-1-123",
        "ARGO_WORKFLOW_NAME": "wf-1",
        "ARGO_WORKFLOW_UID": "uid-1",
        "ARGO_POD_NAME": "wf-1-main-123",
        "ARGO_NAMESPACE": "ns",
        "SLUICE_RUN_DIR": str(tmp_path / "run"),
        "SLUICE_TERMINATION_LOG": str(termination_log),
    }
    argv = [sys.executable, "-m", "sluice_executor", phase, *(["create"] if phase == "resource" else [])]
    if kubeconfig != "none":
        argv += ["--kubeconfig", str(config)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    message = termination_log.read_text()
    assert message.startswith("cannot reach the Kubernetes API: "), message
    assert f"{phase}: cannot reach the Kubernetes API" in done.stderr
