"""Running `sluice controller` on this host against the e2e cluster, for the controller's e2e tests.

Each controller is a real process (`python -m sluice controller --kubeconfig ...`) confined to one
test namespace (`--namespaced`) and one instance ID, so it never touches workflows of other tests or
of an installed controller; its health/metrics server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
INSTANCE_LABEL = "workflows.argoproj.io/controller-instanceid"
DONE = ("Succeeded", "Failed", "Error")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def eventually(check, seconds: float = 120, every: float = 0.5, what: str = ""):
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
            last = result
        except (AssertionError, subprocess.TimeoutExpired) as exc:  # not yet, or a loaded API server
            last = exc
        time.sleep(every)
    raise AssertionError(f"{what or 'condition'} not true within {seconds}s: {last}")


class LocalController:
    def __init__(
        self,
        kubeconfig: Path,
        namespace: str,
        instance_id: str,
        log_dir: Path,
        *,
        leader_elect: bool = False,
        lease: str = "sluice-controller",
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        python_args: tuple[str, ...] = (),
    ) -> None:
        self.port = free_port()
        self.log_path = log_dir / f"controller-{self.port}.log"
        args = [
            sys.executable,
            *python_args,  # e.g. benchmarks/bench_scale.py --profile: -m cProfile -o FILE
            "-m",
            "sluice",
            "controller",
            "--kubeconfig",
            str(kubeconfig),
            "--namespaced",
            "--managed-namespace",
            namespace,
            "--namespace",
            namespace,
            "--instance-id",
            instance_id,
            "--health-host",
            "127.0.0.1",
            "--health-port",
            str(self.port),
            "--lease-name",
            lease,
            "--log-format",
            "json",
            "--workflow-workers",
            "4",
            *extra,
        ]
        if not leader_elect:
            args.append("--no-leader-elect")
        env = {k: v for k, v in os.environ.items() if k not in ("KUBERNETES_SERVICE_HOST",)} | (env or {})
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, cwd=REPO, env=env, start_new_session=True
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metric(self, name: str) -> float:
        _, text = self.get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_serving(self, timeout: float = 60) -> None:
        def up():
            assert self.proc.poll() is None, f"controller exited: {self.tail()}"
            try:
                return self.get("/healthz")[0] == 200
            except OSError:
                return False

        eventually(up, timeout, 0.2, "controller /healthz")

    def wait_ready(self, timeout: float = 90) -> None:
        self.wait_serving(timeout)
        eventually(
            lambda: self.get("/readyz")[0] == 200 and self.metric("sluice_controller_leader") == 1,
            timeout,
            0.2,
            f"controller leading and ready ({self.log_path})",
        )

    def tail(self, lines: int = 30) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text().splitlines()[-lines:])

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
        return self.proc.returncode


@contextlib.contextmanager
def running_controller(kubeconfig: Path, namespace: str, instance_id: str, log_dir: Path, **options: Any):
    """A LocalController, ready and leading; stopped after, and it must exit 0 on SIGTERM."""
    ctl = LocalController(kubeconfig, namespace, instance_id, log_dir, **options)
    try:
        ctl.wait_ready()
        yield ctl
    finally:
        code = ctl.stop()
        assert code == 0, f"controller exited {code} on SIGTERM:\n{ctl.tail()}"


def create_all(kubectl, namespace: str, items: list[dict[str, Any]]) -> None:
    """Create the objects in one request (a v1 List), e.g. many workflows at once."""
    kubectl(
        "create",
        "-n",
        namespace,
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}),
    )


def grant_executor(kubectl, namespace: str, account: str = "default") -> None:
    """The executor's rights (manifests/base/rbac-executor.yaml) for `account` in `namespace`, as a Role:
    the ClusterRole belongs to an install, which this test may not have."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "sluice-executor-e2e", "namespace": namespace},
        "rules": [
            {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}
        ],
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "sluice-executor-e2e", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "sluice-executor-e2e"},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
    }
    kubectl(
        "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": [role, binding]})
    )


def workflow(name: str, instance_id: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    labels = {INSTANCE_LABEL: instance_id, **meta.pop("labels", {})}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "labels": labels, **meta},
        "spec": spec,
    }


def get_wf(kubectl, namespace: str, name: str) -> dict[str, Any]:
    return json.loads(kubectl("get", "workflow", name, "-n", namespace, "-o", "json"))


def wait_done(kubectl, namespace: str, name: str, timeout: float = 180) -> dict[str, Any]:
    def done():
        wf = get_wf(kubectl, namespace, name)
        return wf if (wf.get("status") or {}).get("phase") in DONE else None

    return eventually(done, timeout, 0.5, f"workflow {namespace}/{name} completed")


async def watch_pod_creations(
    kubeconfig: Path, namespace: str, workflows: set[str], creations: dict[str, set[str]], stop: asyncio.Event
):
    """Record every creation of a pod of `workflows` (the namespace is shared with other tests' pods)."""
    from kubernetes_asyncio import client, config, watch

    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    async with client.ApiClient(cfg) as api:
        core = client.CoreV1Api(api)
        version = ""
        while not stop.is_set():
            async with watch.Watch().stream(
                core.list_namespaced_pod, namespace, timeout_seconds=30, resource_version=version or None
            ) as stream:
                async for event in stream:
                    raw = event["raw_object"]
                    meta = raw.get("metadata") or {}
                    version = meta.get("resourceVersion") or version
                    node = (meta.get("annotations") or {}).get("workflows.argoproj.io/node-id")
                    owner = (meta.get("labels") or {}).get("workflows.argoproj.io/workflow")
                    if node and owner in workflows and event["type"] == "ADDED":
                        creations.setdefault(node, set()).add(meta["uid"])
                    if stop.is_set():
                        return
