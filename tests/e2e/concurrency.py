"""Running the e2e tier on several pytest-xdist workers (cluster/e2e.sh: SLUICE_E2E_WORKERS, default 3).

Most e2e files are safe beside each other: each works in a namespace of its own (the worker's session
namespace or one it makes), under a controller instance ID of its own, with a local controller
confined to that namespace. The files in CLUSTER_WIDE are not: they change what the whole cluster does,
or are upset by the file that does; they run one after another on one worker, while the other files
run beside them on the other workers.

Grouping: each file is one unit of work (as --dist loadfile: its module-scoped fixtures run once) and
the CLUSTER_WIDE files are one unit together. pytest-xdist's own `--dist loadgroup` cannot do it with
pytest 9 (xdist 3.8 renames `item._nodeid`, which pytest 9 no longer reads, so every test is its own
unit), so `E2EScheduling` groups by file path, which the controlling process sees without collecting.

The quick-start's install window: `kubectl apply -k` registers its webhook (failurePolicy Fail, every
namespace) before the webhook's pods serve and before its caBundle is filled in, so a Workflow created
anywhere during that minute is refused. `cluster_exclusive()` (a writer) waits until no other e2e test
runs and keeps new ones from starting until it ends; every other test holds the shared side for its
whole run (`pytest_runtest_protocol` in tests/e2e/conftest.py). Locks are flock(2) on files named after
the cluster's kubeconfig, so they also order two e2e sessions on one cluster, and the kernel releases
them when a process dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent

# file (relative to tests/e2e) -> why it cannot run beside the others
CLUSTER_WIDE = {
    "test_quick_start.py": "installs the quick-start: a controller that runs every unlabelled workflow "
    "and a validating webhook (failurePolicy Fail) on every namespace; Argo's examples at parallelism 20",
    "test_webhook_admission.py": "its namespace's admission must be its own webhook's alone (defaults, "
    "warnings, policies): the quick-start's webhook would answer there too",
    "test_crd_roundtrip.py": "round-trips every Argo example (unlabelled Workflows, CronWorkflows, "
    "ClusterWorkflowTemplates) through admission: the quick-start's webhook would mutate or refuse "
    "them and its controller would run them",
}
if os.environ.get("SLUICE_E2E_EXCLUSIVE") == "1":
    CLUSTER_WIDE["test_install.py"] = (
        "SLUICE_E2E_EXCLUSIVE=1: the literal quick-start into `sluice`, as above"
    )
GROUP = "cluster-wide"
# Within the group the quick-start goes first: its install waits for the other workers' running tests
# (cluster_exclusive), which are short at the start of a session (the longest units are queued later).
GROUP_ORDER = ("test_quick_start.py",)


def e2e_file(nodeid: str) -> str | None:
    """`tests/e2e/cli/test_logs.py::test_x[y]` -> `cli/test_logs.py`; None outside tests/e2e."""
    path = nodeid.split("::", 1)[0]
    marker = "tests/e2e/"
    return path.split(marker, 1)[1] if marker in path else None


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: the cluster-wide group, else its file."""
    return GROUP if e2e_file(nodeid) in CLUSTER_WIDE else nodeid.split("::", 1)[0]


def missing_files() -> list[str]:
    """CLUSTER_WIDE entries naming no file (a rename would silently let the file run beside others)."""
    return sorted(f for f in CLUSTER_WIDE if not (HERE / f).is_file())


def make_scheduler(config, log):
    """A LoadScopeScheduling whose scopes are unit_of(nodeid), the cluster-wide group sent first."""
    from xdist.scheduler import LoadScopeScheduling

    class E2EScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

        def _assign_work_unit(self, node) -> None:
            if GROUP in self.workqueue:  # the longest unit first; its tests in GROUP_ORDER
                rank = {f: i for i, f in enumerate(GROUP_ORDER)}
                unit = self.workqueue[GROUP]
                self.workqueue[GROUP] = dict(
                    sorted(unit.items(), key=lambda kv: rank.get(e2e_file(kv[0]) or "", len(rank)))
                )
                self.workqueue.move_to_end(GROUP, last=False)
                self._report()
            super()._assign_work_unit(node)

        def _report(self) -> None:
            group = [n for n in self.collection or () if unit_of(n) == GROUP]
            files = sorted({e2e_file(n) or n for n in group})
            units = len({unit_of(n) for n in self.collection or ()})
            self.config.get_terminal_writer().line(
                f"e2e: {len(self.collection or ())} tests in {units} units on {len(self.nodes)} workers; "
                f"serial group {GROUP!r}: {len(group)} tests from {', '.join(files)}"
            )

    return E2EScheduling(config, log)


# --- the cluster-wide lock -------------------------------------------------------------------------


def lock_paths(kubeconfig: Path) -> tuple[Path, Path]:
    """(turnstile, lock) for the cluster behind `kubeconfig`, in this machine's temporary folder."""
    key = hashlib.sha256(str(kubeconfig.resolve()).encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"sluice-e2e-{key}"
    return base.with_suffix(".turnstile"), base.with_suffix(".lock")


def _locked(path: Path, mode: int):
    handle = open(path, "a")  # noqa: SIM115 - closed by the caller's ExitStack
    fcntl.flock(handle, mode)
    return handle


@contextlib.contextmanager
def cluster_shared(kubeconfig: Path) -> Iterator[None]:
    """Held by every test outside the cluster-wide group while it runs. Passing the turnstile first means
    a waiting writer is not starved by tests that keep starting."""
    turnstile, lock = lock_paths(kubeconfig)
    _locked(turnstile, fcntl.LOCK_EX).close()  # wait out a writer, let the next one in
    with _locked(lock, fcntl.LOCK_SH):
        yield


@contextlib.contextmanager
def cluster_exclusive(kubeconfig: Path) -> Iterator[None]:
    """No other e2e test runs on this cluster meanwhile: new ones wait at the turnstile, the running ones
    are waited for. Only for tests of the cluster-wide group (they hold no shared side themselves)."""
    turnstile, lock = lock_paths(kubeconfig)
    with _locked(turnstile, fcntl.LOCK_EX), _locked(lock, fcntl.LOCK_EX):
        yield


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """One holder at a time of `path` (created when missing), across processes."""
    with _locked(path, fcntl.LOCK_EX):
        yield
