"""kwok on the shared cluster for the scale benchmark: simulated nodes whose pods run no containers.

Only nodes this run creates are kwok's: each is labelled `sluice.dev/bench-kwok=true` plus this run's
own label, tainted `sluice.dev/bench-kwok:NoSchedule` (no other pod lands on it), and kwok manages
exactly the nodes with this run's label (`--manage-nodes-with-label-selector`), so it touches no
other node or pod. Pod stages model start and run time (STAGES below). The nodes are deleted at the
end (their pods with them: the pod-delete stage removes what is left).

The kwok binary comes from benchmarks/build-anchors.sh ($SLUICE_CACHE_DIR/kwok-<version>/bin/kwok).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from scale_workloads import KWOK_NODE_LABEL, KWOK_TAINT_KEY

CACHE = Path(os.environ.get("SLUICE_CACHE_DIR", "/var/cache/sluice"))
KWOK_VERSION = os.environ.get("KWOK_VERSION", "v0.8.0")
RUN_LABEL = "sluice.dev/bench-run"

# A pod starts 0.5 to 1 s after it is bound, runs 1 to 1.5 s, then succeeds with every container
# terminated with exit code 0 (both controllers read `main`'s exit code). Fake pod IPs are never
# contacted by either controller.
_READY = """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: bench-pod-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Pending]}
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: NotIn, values: ['True']}
  delay: {durationMilliseconds: 500, jitterDurationMilliseconds: 1000}
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        started: true
        state: {running: {startedAt: {{ $now | Quote }}}}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}
      {{ end }}
      {{ $podIPs := PodIPsWith .spec.nodeName false ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
"""
_COMPLETE = """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: bench-pod-complete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Running]}
  delay: {durationMilliseconds: 1000, jitterDurationMilliseconds: 1500}
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}
      {{ end }}
      phase: Succeeded
"""
_DELETE = """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: bench-pod-delete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: Exists}
  next: {delete: true}
"""

# The nodes: Ready once kwok takes them, a heartbeat every 20 s (and kwok renews their Leases), so the
# node lifecycle controller never marks them NotReady.
_NODE_STATUS = """
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {type: Ready, status: "True", reason: KubeletReady, message: kwok, lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ or .metadata.creationTimestamp $now | Quote }}}
      - {type: MemoryPressure, status: "False", reason: KubeletHasSufficientMemory, message: kwok, lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ or .metadata.creationTimestamp $now | Quote }}}
      - {type: DiskPressure, status: "False", reason: KubeletHasNoDiskPressure, message: kwok, lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ or .metadata.creationTimestamp $now | Quote }}}
      - {type: PIDPressure, status: "False", reason: KubeletHasSufficientPID, message: kwok, lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ or .metadata.creationTimestamp $now | Quote }}}
      - {type: NetworkUnavailable, status: "False", reason: RouteCreated, message: kwok, lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ or .metadata.creationTimestamp $now | Quote }}}
      addresses:
      - {type: InternalIP, address: {{ NodeIP | Quote }}}
      - {type: Hostname, address: {{ NodeName | Quote }}}
      allocatable: {cpu: "1000", memory: 4Ti, pods: "5000"}
      capacity: {cpu: "1000", memory: 4Ti, pods: "5000"}
      nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: kwok, kubeProxyVersion: kwok, containerRuntimeVersion: kwok, kernelVersion: kwok, osImage: kwok, machineID: "", bootID: "", systemUUID: ""}
      phase: Running
"""
_NODE_INIT = (
    """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: bench-node-initialize}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: NotIn, values: ['True']}
  next:"""
    + _NODE_STATUS
)
_NODE_HEARTBEAT = (
    """
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: bench-node-heartbeat}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.status.conditions.[] | select( .type == "Ready" ) | .status', operator: In, values: ['True']}
  delay: {durationMilliseconds: 20000, jitterDurationMilliseconds: 25000}
  next:"""
    + _NODE_STATUS
)
STAGES = "---".join((_NODE_INIT, _NODE_HEARTBEAT, _READY, _COMPLETE, _DELETE))


def kwok_binary() -> Path:
    path = CACHE / f"kwok-{KWOK_VERSION}" / "bin" / "kwok"
    if not path.exists():
        raise SystemExit(f"{path} missing: run benchmarks/build-anchors.sh kwok first")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node(name: str, run: str) -> dict[str, Any]:
    big = {"cpu": "1000", "memory": "4Ti", "pods": "5000"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {KWOK_NODE_LABEL: "true", RUN_LABEL: run, "type": "kwok"},
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"taints": [{"key": KWOK_TAINT_KEY, "value": "true", "effect": "NoSchedule"}]},
        "status": {"allocatable": big, "capacity": big},
    }


class Kwok:
    """kwok managing `count` fresh nodes of its own; `close()` deletes them and stops kwok."""

    def __init__(self, kubectl, kubeconfig: Path, run: str, workdir: Path, count: int = 2) -> None:
        self.kubectl = kubectl
        self.run = run
        self.names = [f"bench-kwok-{run}-{i}" for i in range(count)]
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "kwok.yaml"
        config.write_text(STAGES)
        kubectl(
            "create",
            "-f",
            "-",
            input=json.dumps(
                {"apiVersion": "v1", "kind": "List", "items": [node(n, run) for n in self.names]}
            ),
        )
        self.log_path = workdir / "kwok.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [
                str(kwok_binary()),
                "--kubeconfig",
                str(kubeconfig),
                "--config",
                str(config),
                "--manage-all-nodes=false",
                f"--manage-nodes-with-label-selector={RUN_LABEL}={run}",
                "--server-address",
                f"127.0.0.1:{_free_port()}",
                "--cidr",
                "10.240.0.0/16",
                "--node-ip",
                "10.240.255.254",
                "--node-lease-duration-seconds",
                "40",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kwok exited {self.proc.returncode}: see {self.log_path}")
            out = self.kubectl("get", "nodes", "-l", f"{RUN_LABEL}={self.run}", "-o", "json")
            ready = [
                n
                for n in json.loads(out)["items"]
                if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (n.get("status") or {}).get("conditions") or []
                )
            ]
            if len(ready) == len(self.names):
                return
            time.sleep(1)
        raise RuntimeError(f"kwok nodes not Ready in {timeout}s: see {self.log_path}")

    def close(self) -> None:
        try:
            self.kubectl("delete", "nodes", "-l", f"{RUN_LABEL}={self.run}", "--wait=false")
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            self.log.close()
