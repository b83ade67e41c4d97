"""A private kube-apiserver (with its own etcd) for tests that need an API server shaped differently from
the shared cluster's: other CRDs (e.g. manifests/overlays/argo-crds, without status subresources), or
one the test may stop and start.

Both listen on 127.0.0.1 only, on free ports, with their data in the test's temporary directory. The
API server makes its own self-signed serving certificate; clients authenticate with static tokens:
`kubeconfig` is an admin (`system:masters`), `kubeconfig_for(user)` one of the `users` named at
construction, who may do only what the test grants them with RBAC. No controller manager, scheduler or kubelet: objects are stored and served, nothing
runs them. The binaries are the ones cluster/up.sh installs (`$SLUICE_CLUSTER_DIR/bin`), or on PATH.
Starting takes a few seconds and ~300 MB.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import CLUSTER_DIR
from .controller_support import free_port


class ExitedEarly(AssertionError):
    pass


def binary(name: str) -> str:
    path = CLUSTER_DIR / "bin" / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"{name} not found in {CLUSTER_DIR / 'bin'} or on PATH: run `make cluster-up`")
    return found


class PrivateApiServer:
    def __init__(self, workdir: Path, users: tuple[str, ...] = ()) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.tokens = {user: secrets.token_hex(16) for user in users}
        self.kubeconfig = self.dir / "kubeconfig"
        self.procs: list[subprocess.Popen] = []
        self.logs: list = []

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.dir / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        self.logs.append(log)
        self.procs.append(
            subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, start_new_session=True)
        )

    def start(self, timeout: float = 180, attempts: int = 2) -> PrivateApiServer:
        """Start etcd and the API server; once more on fresh ports if one of them exits while starting
        (a free port taken by another process in between)."""
        for attempt in range(attempts):
            try:
                return self._start_once(timeout)
            except ExitedEarly:
                self.stop()
                if attempt + 1 == attempts:
                    raise
                self.port, self.procs, self.logs = free_port(), [], []
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> PrivateApiServer:
        client, peer = free_port(), free_port()
        self._spawn(
            "etcd",
            [
                binary("etcd"),
                "--name=private",
                f"--data-dir={self.dir / f'etcd-{client}'}",  # fresh on each attempt
                f"--listen-client-urls=http://127.0.0.1:{client}",
                f"--advertise-client-urls=http://127.0.0.1:{client}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=private=http://127.0.0.1:{peer}",
            ],
        )
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self.dir / "sa.key").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (self.dir / "sa.pub").write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        (self.dir / "tokens.csv").write_text(
            f"{self.token},e2e-admin,e2e-admin,system:masters\n"
            + "".join(f"{token},{user},{user}\n" for user, token in self.tokens.items())
        )
        self._spawn(
            "kube-apiserver",
            [
                binary("kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{client}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--cert-dir={self.dir / 'certs'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={self.dir / 'sa.pub'}",
                f"--service-account-signing-key-file={self.dir / 'sa.key'}",
                f"--token-auth-file={self.dir / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.96.0.0/24",
                "--profiling=false",
            ],
        )
        self._write_kubeconfig()
        self._wait_ready(timeout)
        return self

    def _write_kubeconfig(self, path: Path | None = None, token: str | None = None) -> Path:
        server = f"https://127.0.0.1:{self.port}"
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "private", "cluster": {"server": server, "insecure-skip-tls-verify": True}}
            ],
            "users": [{"name": "user", "user": {"token": token or self.token}}],
            "contexts": [{"name": "private", "context": {"cluster": "private", "user": "user"}}],
            "current-context": "private",
        }
        path = path or self.kubeconfig
        path.write_text(yaml.safe_dump(doc))
        return path

    def kubeconfig_for(self, user: str) -> Path:
        return self._write_kubeconfig(self.dir / f"kubeconfig-{user}", self.tokens[user])

    def _wait_ready(self, timeout: float) -> None:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # its own fresh self-signed cert
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.port}/readyz", headers={"Authorization": f"Bearer {self.token}"}
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc, name in zip(self.procs, ("etcd", "kube-apiserver"), strict=False):
                if proc.poll() is not None:
                    raise ExitedEarly(f"{name} exited: {self.tail(name)}")
            try:
                with urllib.request.urlopen(request, timeout=5, context=context) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(
            f"private kube-apiserver not ready within {timeout}s: {self.tail('kube-apiserver')}"
        )

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for proc in reversed(self.procs):  # the API server first, then its etcd
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
        for log in self.logs:
            log.close()
