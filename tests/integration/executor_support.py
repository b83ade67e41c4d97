"""Helpers to run a Sluice pod's three parts on this machine: init, main under the real launcher, wait.

The WorkflowTaskResult API is an in-memory recorder (merge-patch semantics as the API server's), the
store a directory or a real server, chosen per test.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

from sluice_executor.podenv import Layout, PodEnv
from sluice_executor.taskresult import ResultAPIError


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class RecordingAPI:
    """Task results kept in memory; `fail` maps a call name to the statuses its next calls fail with."""

    def __init__(self, fail: dict[str, list[int]] | None = None):
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str, Any]] = []
        self.fail = fail or {}

    def _maybe_fail(self, call: str) -> None:
        pending = self.fail.get(call)
        if pending:
            status = pending.pop(0)
            raise ResultAPIError(f"injected {status}", status)

    async def create(self, namespace: str, body: dict[str, Any]) -> None:
        self.calls.append(("create", body["metadata"]["name"], body))
        self._maybe_fail("create")
        key = (namespace, body["metadata"]["name"])
        if key in self.objects:
            raise ResultAPIError("AlreadyExists", 409)
        self.objects[key] = copy.deepcopy(body)

    async def patch(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self.calls.append(("patch", name, patch))
        self._maybe_fail("patch")
        key = (namespace, name)
        if key not in self.objects:
            raise ResultAPIError("NotFound", 404)
        self.objects[key] = merge_patch(self.objects[key], patch)

    def result(self, name: str, namespace: str = "ns") -> dict[str, Any]:
        return self.objects[(namespace, name)]


def layout(root: Path) -> Layout:
    return Layout(
        run=root / "var-run-argo",
        staging=root / "staging",
        inputs=root / "inputs",
        secrets=root / "secrets",
        mainctrfs=root / "mainctrfs",
        termination_log=root / "termination-log",
    )


def pod_env(
    root: Path, template: dict[str, Any], include_result: bool = False, node_id: str = "wf-1-123"
) -> PodEnv:
    return PodEnv.from_env(
        {
            "ARGO_TEMPLATE": json.dumps(template),
            "ARGO_NODE_ID": node_id,
            "ARGO_WORKFLOW_NAME": "wf-1",
            "ARGO_WORKFLOW_UID": "uid-1",
            "ARGO_POD_NAME": "wf-1-step-123",
            "ARGO_NAMESPACE": "ns",
            "ARGO_INCLUDE_SCRIPT_OUTPUT": "true" if include_result else "false",
            "ARGO_PROGRESS_FILE": str(root / "var-run-argo" / "progress"),
            "SLUICE_RUN_DIR": str(root / "var-run-argo"),
            "SLUICE_STAGING_DIR": str(root / "staging"),
            "SLUICE_INPUTS_DIR": str(root / "inputs"),
            "SLUICE_SECRETS_DIR": str(root / "secrets"),
            "SLUICE_MAINCTRFS": str(root / "mainctrfs"),
            "SLUICE_TERMINATION_LOG": str(root / "termination-log"),
        }
    )


def run_main(launcher: Path, env: PodEnv, *command: str, container: str = "main", timeout: float = 120):
    """main under the launcher, as the pod runs it."""
    proc_env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "SLUICE_RUN_DIR": str(env.layout.run),
        "SLUICE_TERMINATION_LOG": str(env.layout.run / f"{container}.termination-log"),
        "ARGO_CONTAINER_NAME": container,
    }
    return subprocess.run(
        [str(launcher), "--", *command], env=proc_env, capture_output=True, text=True, timeout=timeout
    )
