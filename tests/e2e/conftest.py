"""The e2e tier: a real Kubernetes cluster.

SLUICE_E2E_KUBECONFIG names any cluster (a user's kind cluster, ...); otherwise the project's own
cluster, brought up by `make cluster-up`, is used through $SLUICE_CLUSTER_DIR/kubeconfig (default
.cluster/kubeconfig). A missing cluster is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from . import concurrency

REPO = Path(__file__).resolve().parents[2]
CLUSTER_DIR = Path(os.environ.get("SLUICE_CLUSTER_DIR", REPO / ".cluster"))
OWN_KUBECONFIG = CLUSTER_DIR / "kubeconfig"


if concurrency.missing_files():
    raise pytest.UsageError(
        f"tests/e2e/concurrency.py CLUSTER_WIDE names no file: {concurrency.missing_files()}"
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Several workers (cluster/e2e.sh): one unit per file, the cluster-wide files one unit together
    (tests/e2e/concurrency.py; xdist's own loadgroup does not group under pytest 9)."""
    if config.getvalue("dist") in ("loadgroup", "loadfile"):
        return concurrency.make_scheduler(config, log)
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Every test outside the cluster-wide group holds the cluster's shared lock while it runs (setup to
    teardown), so the quick-start's install can wait until none runs (concurrency.cluster_exclusive).
    Outermost (tryfirst): time spent waiting is not counted by pytest-timeout. (Every test of a session
    that collected this folder passes here, the fast tiers' too: those are left alone.)"""
    if concurrency.e2e_file(item.nodeid) is None or concurrency.unit_of(item.nodeid) == concurrency.GROUP:
        return (yield)
    with concurrency.cluster_shared(_kubeconfig()[0]):
        return (yield)


def _kubeconfig() -> tuple[Path, bool]:
    env = os.environ.get("SLUICE_E2E_KUBECONFIG")
    if env:
        return Path(env), Path(env).resolve() == OWN_KUBECONFIG.resolve()
    return OWN_KUBECONFIG, True


@pytest.fixture(scope="session")
def kubeconfig() -> Path:
    path, _ = _kubeconfig()
    if not path.is_file():
        pytest.fail(
            f"no kubeconfig at {path}: run `make cluster-up` (the project's cluster) "
            "or set SLUICE_E2E_KUBECONFIG to any cluster's kubeconfig"
        )
    return path


@pytest.fixture(scope="session")
def own_cluster(kubeconfig: Path) -> bool:
    """True on the project's own cluster (cluster/up.sh), where its images and host checks apply."""
    return _kubeconfig()[1]


def kubectl_for(kubeconfig: Path):
    """kubectl(*args, input=None, check=True, timeout=60) -> stdout, against `kubeconfig`'s cluster."""
    binary = CLUSTER_DIR / "bin" / "kubectl"
    exe = str(binary) if binary.exists() else shutil.which("kubectl")
    if exe is None:
        pytest.fail("kubectl not found: run `make cluster-up`, or put kubectl on PATH")

    def run(*args: str, input: str | None = None, check: bool = True, timeout: float = 60) -> str:
        proc = subprocess.run(
            [exe, "--kubeconfig", str(kubeconfig), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}"
            )
        return proc.stdout

    def popen(*args: str) -> subprocess.Popen:
        """A long-running kubectl (e.g. --watch) whose stdout the caller reads; the caller stops it."""
        return subprocess.Popen(
            [exe, "--kubeconfig", str(kubeconfig), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    run.popen = popen  # type: ignore[attr-defined]
    return run


@pytest.fixture(scope="session")
def kubectl(kubeconfig: Path):
    """kubectl(*args, input=None, check=True) -> stdout, on the e2e cluster."""
    return kubectl_for(kubeconfig)


def fresh_namespace(kubectl, prefix: str):
    """A new namespace `<prefix>-<random>` whose default service account exists (yielded), deleted after."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    wait_default_service_account(kubectl, name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", check=False)


def wait_default_service_account(kubectl, namespace: str, timeout: float = 180) -> None:
    """Until the namespace's default service account exists (pods are refused before), which the
    controller manager creates a moment after the namespace, or minutes on a loaded machine. (`kubectl
    wait` on an object not yet created fails at once with NotFound: it raced here under load.)"""
    deadline = time.monotonic() + timeout
    while not kubectl(
        "get", "serviceaccount", "default", "-n", namespace, "--ignore-not-found", "-o", "name", check=False
    ).strip():
        if time.monotonic() > deadline:
            raise AssertionError(f"namespace {namespace}: no default service account after {timeout:.0f} s")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def namespace(kubectl) -> str:
    """A fresh namespace for this test session, deleted afterwards."""
    yield from fresh_namespace(kubectl, "sluice-e2e")


@pytest.fixture(scope="session", autouse=True)
def crds_installed(kubectl, tmp_path_factory) -> list[str]:
    """Apply crds/ server-side and wait until every CRD is Established and served: first, for every
    e2e test (a new cluster has none, and the controller, CLI and executor tests need them).
    Under pytest-xdist each worker runs this: the first applies, the others wait for it and reuse it."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return _apply_crds(kubectl)
    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of this run
    done = shared / f"crds-{run}.json"
    with concurrency.file_lock(shared / "crds.lock"):
        if done.is_file():
            return json.loads(done.read_text())
        names = _apply_crds(kubectl)
        done.write_text(json.dumps(names))
        return names


def _apply_crds(kubectl) -> list[str]:
    out = kubectl(
        "apply",
        "--server-side",
        "--field-manager=sluice-e2e-crds",
        "--force-conflicts",
        "-k",
        str(REPO / "crds"),
        "-o",
        "name",
        timeout=300,
    )
    names = [line.split("/", 1)[1] for line in out.split()]
    assert len(names) == 6, out
    kubectl(
        "wait", "--for=condition=Established", "--timeout=120s", *[f"crd/{n}" for n in names], timeout=150
    )
    return names
