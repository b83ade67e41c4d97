"""The two controllers under test, run as local processes on this host, read the same way.

- Sluice: `sluice controller` from this tree (tests/e2e/controller_support.py's LocalController:
  `--namespaced --managed-namespace`, its own instance ID, health/metrics on 127.0.0.1), with the
  shipped Deployment's 8 workflow workers unless told otherwise; `profile`: under cProfile, the
  profile written to that file when it stops.
- Argo: `workflow-controller` v4.0.5 from benchmarks/build-anchors.sh, `--namespaced
  --managed-namespace` on its own namespace, its configuration (instanceID, metrics port) in a
  ConfigMap there, leader election off (one replica), executor image `quay.io/argoproj/argoexec`.

Both are read alike: CPU seconds (utime + stime of the process and its reaped children, /proc), peak
RSS (VmHWM), and the API requests the controller sent as it counts them itself
(`sluice_controller_k8s_requests_total`, Argo's `argo_workflows_k8s_request_total`, both counted in the
client before each request is sent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.controller_support import LocalController, free_port  # noqa: E402

CACHE = Path(os.environ.get("SLUICE_CACHE_DIR", "/var/cache/sluice"))
ARGO_VERSION = os.environ.get("ARGO_VERSION", "v4.0.5")
TICK = os.sysconf("SC_CLK_TCK")
SLUICE_WORKERS = 8  # the shipped Deployment's --workflow-workers (manifests/base/controller.yaml)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime are fields 14-17 (1-based); fields[0] here is field 3
    return sum(int(f) for f in fields[11:15]) / TICK


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def plane_cpu(marker: str, exclude: set[int]) -> dict[str, float]:
    """CPU seconds so far of this host's processes whose command line mentions `marker` (the private
    control plane's directory: etcd, kube-apiserver, the scheduler, the controller manager, kwok), by
    command name, but those of `exclude` (the controllers, measured apart): where the rest of the
    machine's CPU went. The harness itself counts as `harness`."""
    out: dict[str, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in exclude:
            continue
        try:
            if marker not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                continue
            name = "harness" if int(proc.name) == os.getpid() else (proc / "comm").read_text().strip()
            seconds = cpu_seconds(int(proc.name))
        except OSError:  # gone meanwhile
            continue
        out[name] = out.get(name, 0.0) + seconds
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def scrape(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def scrape_series(port: int, name: str) -> dict[str, float]:
    """Each series of `name` by its label set as written (`{resource="pods",verb="POST"}`)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name) :].rsplit(" ", 1)
            out[labels] = out.get(labels, 0.0) + float(value)
    return out


class Sluice:
    kind = "sluice"
    requests_metric = "sluice_controller_k8s_requests_total"

    def __init__(
        self,
        kubeconfig: Path,
        namespace: str,
        instance_id: str,
        log_dir: Path,
        *,
        workers: int = SLUICE_WORKERS,
        profile: Path | None = None,
    ) -> None:
        python_args = ("-m", "cProfile", "-o", str(profile)) if profile else ()
        self.ctl = LocalController(
            kubeconfig,
            namespace,
            instance_id,
            log_dir,
            extra=("--workflow-workers", str(workers)),
            python_args=python_args,
        )
        self.pid = self.ctl.proc.pid
        self.port = self.ctl.port
        self.log_path = self.ctl.log_path

    def wait_ready(self) -> None:
        self.ctl.wait_ready(120)

    def requests(self) -> float:
        return scrape(self.port, self.requests_metric)

    def requests_by_series(self) -> dict[str, float]:
        return scrape_series(self.port, self.requests_metric)

    def stop(self) -> None:
        self.ctl.stop()


def argo_dir() -> Path:
    path = CACHE / f"argo-{ARGO_VERSION}"
    if not (path / "bin" / ".complete").exists():
        raise SystemExit(f"{path}/bin missing: run benchmarks/build-anchors.sh argo first")
    return path


class Argo:
    kind = "argo"
    requests_metric = "argo_workflows_k8s_request_total"

    def __init__(self, kubectl, kubeconfig: Path, namespace: str, instance_id: str, log_dir: Path) -> None:
        self.port = free_port()
        config = {
            "instanceID": instance_id,
            "metricsConfig": f"enabled: true\nport: {self.port}\nsecure: false\n",
        }
        kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "workflow-controller-configmap", "namespace": namespace},
                    "data": config,
                }
            ),
        )
        self.log_path = log_dir / f"argo-{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
        env |= {"LEADER_ELECTION_DISABLE": "true", "LEADER_ELECTION_IDENTITY": f"bench-{self.port}"}
        self.proc = subprocess.Popen(
            [
                str(argo_dir() / "bin" / "workflow-controller"),
                "--kubeconfig",
                str(kubeconfig),
                "--namespace",
                namespace,
                "--namespaced",
                "--managed-namespace",
                namespace,
                "--executor-image",
                f"quay.io/argoproj/argoexec:{ARGO_VERSION}",
                "--configmap",
                "workflow-controller-configmap",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"workflow-controller exited {self.proc.returncode}: see {self.log_path}")
            try:
                self.requests()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"workflow-controller metrics not served in {timeout}s: see {self.log_path}")

    def requests(self) -> float:
        return scrape(self.port, self.requests_metric)

    def requests_by_series(self) -> dict[str, float]:
        return scrape_series(self.port, self.requests_metric)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
