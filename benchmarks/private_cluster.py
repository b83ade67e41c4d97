"""A private control plane for the scale benchmark: etcd, kube-apiserver, kube-controller-manager and
kube-scheduler on 127.0.0.1, no kubelet (kwok's nodes run the pods), our CRDs (crds/) installed.

    .venv/bin/python benchmarks/private_cluster.py DIR      # prints DIR/kubeconfig; runs until SIGINT/SIGTERM
    .venv/bin/python benchmarks/bench_scale.py --kubeconfig DIR/kubeconfig --controllers sluice,argo --allow-crd-toggle

`benchmarks/bench_scale.py` without `--kubeconfig` starts one itself (`private_plane`) and stops it
after. Argo's run switches the Workflow CRD's status subresource off: on a cluster of its own that
disturbs nobody, so the comparison can run while the project's cluster is in use. The binaries are the
ones cluster/up.sh built ($SLUICE_CLUSTER_DIR/bin, or on PATH); tests/e2e/private_apiserver.py starts
etcd and the API server.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.private_apiserver import PrivateApiServer, binary  # noqa: E402


class PlaneExited(RuntimeError):
    pass


@contextlib.contextmanager
def private_plane(workdir: Path) -> Iterator[tuple[Path, list[subprocess.Popen]]]:
    """The plane running, as (its admin kubeconfig, the controller manager and scheduler processes);
    every process stopped after, however the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    server = PrivateApiServer(workdir).start()
    kubeconfig = server.kubeconfig
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        for name, args in (
            (
                "kube-controller-manager",
                [
                    f"--kubeconfig={kubeconfig}",
                    "--controllers=serviceaccount,serviceaccount-token,namespace,garbagecollector,podgc,nodelifecycle",
                    f"--service-account-private-key-file={workdir / 'sa.key'}",
                    "--leader-elect=false",
                    "--secure-port=0",
                    "--use-service-account-credentials=false",
                ],
            ),
            ("kube-scheduler", [f"--kubeconfig={kubeconfig}", "--leader-elect=false", "--secure-port=0"]),
        ):
            log = open(workdir / f"{name}.log", "w")  # noqa: SIM115 - closed at exit
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [binary(name), *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            )
        kubectl = [binary("kubectl"), "--kubeconfig", str(kubeconfig)]
        subprocess.run(
            [*kubectl, "apply", "--server-side", "-k", str(REPO / "crds")], check=True, capture_output=True
        )
        deadline = time.monotonic() + 120
        while subprocess.run(
            [*kubectl, "get", "sa", "default", "-n", "default"], capture_output=True
        ).returncode:
            if time.monotonic() > deadline:
                raise PlaneExited(f"no default service account: see {workdir}/kube-controller-manager.log")
            time.sleep(1)
        yield kubeconfig, procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()
        server.stop()


def main() -> int:
    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with private_plane(Path(sys.argv[1]).resolve()) as (kubeconfig, procs):
        print(kubeconfig, flush=True)
        while not stop and all(p.poll() is None for p in procs):
            time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
