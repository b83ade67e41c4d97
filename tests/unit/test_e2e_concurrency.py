"""The e2e tier's grouping on pytest-xdist workers and its cluster lock (tests/e2e/concurrency.py): the
real scheduler class, driven as pytest-xdist's controlling process drives it, with stand-in workers."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.e2e import concurrency

NODEIDS = [
    "tests/e2e/cli/test_logs.py::test_logs_follow",
    "tests/e2e/cli/test_submit.py::test_a",
    "tests/e2e/cli/test_submit.py::test_b",
    "tests/e2e/test_controller.py::test_a",
    "tests/e2e/test_controller.py::test_b",
    "tests/e2e/test_controller.py::test_c",
    "tests/e2e/test_crd_roundtrip.py::test_a",
    "tests/e2e/test_crd_roundtrip.py::test_b",
    "tests/e2e/test_images.py::test_image_runs[busybox]",
    "tests/e2e/test_images.py::test_image_runs[alpine]",
    "tests/e2e/test_install.py::test_a",
    "tests/e2e/test_quick_start.py::test_programs",
    "tests/e2e/test_quick_start.py::test_argo_example_reaches_its_expected_phase[dag-diamond.yaml]",
    "tests/e2e/test_quick_start.py::test_argo_example_reaches_its_expected_phase[x@y.yaml]",
    "tests/e2e/test_smoke.py::test_crd_pod_logs_delete",
    "tests/e2e/test_webhook_admission.py::test_a",
    "tests/e2e/test_webhook_admission.py::test_b",
]
GROUP_FILES = {"test_crd_roundtrip.py", "test_quick_start.py", "test_webhook_admission.py"}


class Worker:
    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.queue: list[int] = []
        self.ran: list[str] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.queue.extend(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


def run(workers: int) -> tuple[list[Worker], list[str]]:
    """Every test run to completion, one worker at a time in turn; returns the workers and the lines
    the scheduler wrote."""
    lines: list[str] = []
    config = SimpleNamespace(
        getvalue=lambda name: {"tx": [f"{workers}*popen"]}[name],
        option=SimpleNamespace(loadscopereorder=True),
        get_terminal_writer=lambda: SimpleNamespace(line=lines.append),
    )
    quiet = SimpleNamespace(loadscopesched=lambda *args: None)  # xdist's log producer, silenced
    sched = concurrency.make_scheduler(config, quiet)
    nodes = [Worker(f"gw{i}") for i in range(workers)]
    for node in nodes:
        sched.add_node(node)
    for node in nodes:
        sched.add_node_collection(node, NODEIDS)
    sched.schedule()
    while any(node.queue for node in nodes):
        for node in nodes:
            if node.queue:
                index = node.queue.pop(0)
                node.ran.append(NODEIDS[index])
                sched.mark_test_complete(node, index)
    assert sched.tests_finished
    return nodes, lines


def file_of(nodeid: str) -> str:
    return nodeid.split("::")[0].removeprefix("tests/e2e/")


@pytest.mark.parametrize("workers", [1, 2, 3, 5])
def test_each_test_runs_once_each_file_on_one_worker_the_cluster_wide_files_together(workers):
    nodes, lines = run(workers)
    ran = [n for node in nodes for n in node.ran]
    assert sorted(ran) == sorted(NODEIDS)
    where = {}
    for node in nodes:
        for nodeid in node.ran:
            unit = "group" if file_of(nodeid) in GROUP_FILES else file_of(nodeid)
            assert where.setdefault(unit, node.gateway.id) == node.gateway.id, unit
    # the group: sent first, to the first worker, the quick-start first, then collection order
    first = nodes[0].ran
    group = [n for n in first if file_of(n) in GROUP_FILES]
    assert first[: len(group)] == group
    assert [file_of(n) for n in group] == ["test_quick_start.py"] * 3 + ["test_crd_roundtrip.py"] * 2 + [
        "test_webhook_admission.py"
    ] * 2
    assert lines == [
        f"e2e: 17 tests in 7 units on {workers} workers; serial group 'cluster-wide': 7 tests from "
        "test_crd_roundtrip.py, test_quick_start.py, test_webhook_admission.py"
    ]


def test_units_and_files():
    assert concurrency.e2e_file("tests/e2e/cli/test_logs.py::test_x[a::b]") == "cli/test_logs.py"
    assert concurrency.e2e_file("tests/unit/test_names.py::test_x") is None
    assert concurrency.unit_of("tests/e2e/test_quick_start.py::test_x[y]") == concurrency.GROUP
    assert concurrency.unit_of("tests/e2e/test_smoke.py::test_x") == "tests/e2e/test_smoke.py"
    assert concurrency.missing_files() == []  # every cluster-wide entry names a file


# --- the cluster lock -----------------------------------------------------------------------------


def free(path: Path, mode: int) -> bool:
    """Whether `mode` could be taken on `path` now (taken and released at once)."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


@pytest.fixture
def kubeconfig(tmp_path):
    path = tmp_path / "kubeconfig"
    yield path
    for lock in concurrency.lock_paths(path):
        lock.unlink(missing_ok=True)


def test_tests_share_the_lock_and_the_install_excludes_them(kubeconfig):
    turnstile, lock = concurrency.lock_paths(kubeconfig)
    assert turnstile.parent == lock.parent and turnstile != lock
    with concurrency.cluster_shared(kubeconfig):
        assert free(lock, fcntl.LOCK_SH) and not free(lock, fcntl.LOCK_EX)
        assert free(turnstile, fcntl.LOCK_EX)  # a reader holds no turnstile while it runs
    with concurrency.cluster_exclusive(kubeconfig):
        assert not free(lock, fcntl.LOCK_SH) and not free(turnstile, fcntl.LOCK_EX)
    assert free(lock, fcntl.LOCK_EX) and free(turnstile, fcntl.LOCK_EX)


def test_the_install_waits_for_running_tests_and_holds_back_new_ones(kubeconfig):
    """A reader runs; the writer waits for it at the lock, holding the turnstile; a reader coming then
    waits behind the writer (no starvation), and runs once the writer is done."""
    turnstile, _ = concurrency.lock_paths(kubeconfig)
    order: list[str] = []
    release_first = threading.Event()
    first_in = threading.Event()

    def first_reader():
        with concurrency.cluster_shared(kubeconfig):
            first_in.set()
            release_first.wait(30)
            order.append("first reader ends")

    def writer():
        with concurrency.cluster_exclusive(kubeconfig):
            order.append("writer")

    def late_reader():
        with concurrency.cluster_shared(kubeconfig):
            order.append("late reader")

    threads = [threading.Thread(target=first_reader)]
    threads[0].start()
    assert first_in.wait(30)
    threads.append(threading.Thread(target=writer))
    threads[1].start()
    deadline = time.monotonic() + 30
    while free(turnstile, fcntl.LOCK_EX):  # until the writer holds the turnstile (and waits at the lock)
        assert time.monotonic() < deadline, "the writer never took the turnstile"
        time.sleep(0.01)
    threads.append(threading.Thread(target=late_reader))
    threads[2].start()
    threads[2].join(0.3)  # it must be waiting (without the turnstile it would run beside the first)
    assert threads[2].is_alive() and order == []
    release_first.set()
    for thread in threads:
        thread.join(30)
    assert order == ["first reader ends", "writer", "late reader"]


def test_file_lock_is_one_holder_at_a_time(tmp_path):
    path = tmp_path / "x.lock"
    with concurrency.file_lock(path):
        assert not free(path, fcntl.LOCK_EX)
    assert free(path, fcntl.LOCK_EX)
