"""`wait` is woken by the launcher's files (inotify on the shared volume, sluice_executor/watch.py), not by
polling: with the safety-net wake-up pushed to an hour, wait still sees main end, and sees a launcher
killed outright (the kernel closing its `running` file); without inotify, or past the uid's inotify
instances, it polls."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest
from sluice_executor import wait as wait_module
from sluice_executor import watch
from sluice_executor.init import run_init
from sluice_executor.wait import Waiter

from tests.integration.executor_support import RecordingAPI, pod_env
from tests.integration.launcher_build import build
from tests.integration.test_executor_pod import drivers_for, script_template

HOUR = 3600.0


@pytest.fixture(scope="module")
def launcher_bin(tmp_path_factory):
    return build(tmp_path_factory.mktemp("launcher"))


@pytest.fixture
def no_fallback(monkeypatch):
    """Only inotify can wake wait within the test's time."""
    monkeypatch.setattr(watch, "FALLBACK_SECONDS", HOUR)
    monkeypatch.setattr(watch, "POLL_SECONDS", HOUR)
    monkeypatch.setattr(wait_module, "PROGRESS_SECONDS", HOUR)  # progress reports wake it too


def start_main(env, *command: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(env.layout.launcher), "--", *command],
        env={
            "PATH": "/usr/bin:/bin",
            "SLUICE_RUN_DIR": str(env.layout.run),
            "ARGO_CONTAINER_NAME": "main",
            "SLUICE_TERMINATION_LOG": str(env.layout.run / "main.termination-log"),
        },
        start_new_session=True,
    )


def run_wait_beside(env, api, main_command, then=None) -> int:
    """wait starts first (before main has created its directory), then main runs beside it."""

    async def scenario() -> int:
        task = asyncio.create_task(Waiter(env, api, drivers_for(env.layout.run.parent / "store")).run())
        await asyncio.sleep(0.3)
        assert not task.done()
        proc = start_main(env, *main_command)
        try:
            if then is not None:
                await then(proc)
            return await asyncio.wait_for(task, timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    return asyncio.run(scenario())


def test_wait_is_woken_by_main_ending(launcher_bin, tmp_path, no_fallback):
    assert watch.Inotify is not None
    (tmp_path / "store").mkdir()
    env = pod_env(tmp_path, script_template(""), include_result=True)
    assert run_init(env, drivers_for(tmp_path / "store"), launcher_bin) == 0
    api = RecordingAPI()
    assert run_wait_beside(env, api, ["sh", "-c", "sleep 0.5; echo woke"]) == 0
    assert api.result("wf-1-123")["outputs"]["result"] == "woke"


def test_wait_is_woken_by_a_launcher_killed_outright(launcher_bin, tmp_path, no_fallback):
    (tmp_path / "store").mkdir()
    env = pod_env(tmp_path, script_template(""))
    assert run_init(env, drivers_for(tmp_path / "store"), launcher_bin) == 0

    async def kill_when_running(proc):
        running = env.layout.ctr("main") / "running"
        for _ in range(3000):
            if running.exists():
                break
            await asyncio.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)

    api = RecordingAPI()
    assert run_wait_beside(env, api, ["sleep", "600"], then=kill_when_running) == 0
    assert api.result("wf-1-123")["outputs"]["exitCode"] == "137"


def test_without_inotify_wait_polls(launcher_bin, tmp_path, monkeypatch):
    monkeypatch.setattr(watch, "Inotify", None)
    (tmp_path / "store").mkdir()
    env = pod_env(tmp_path, script_template(""), include_result=True)
    assert run_init(env, drivers_for(tmp_path / "store"), launcher_bin) == 0
    assert not watch.ExitWatch(env.layout.run, ["main"]).event_driven
    api = RecordingAPI()
    assert run_wait_beside(env, api, ["sh", "-c", "echo polled"]) == 0
    assert api.result("wf-1-123")["outputs"]["result"] == "polled"


def test_past_the_uids_inotify_instances_wait_polls(tmp_path):
    """fs.inotify.max_user_instances (128 by default) counts per uid, and every `wait` on a node runs as the
    same uid: past it, inotify_init1 fails with EMFILE and the watch polls every 20 ms. Shown for real in
    a forked child under a uid nothing else on this machine uses, so nobody else's instances are taken."""
    if os.geteuid() != 0:
        pytest.skip("switching to a fresh uid needs root")
    limit = int(Path("/proc/sys/fs/inotify/max_user_instances").read_text())
    run = tmp_path / "run"
    (run / "ctr" / "main").mkdir(parents=True)
    for path in (tmp_path, run, run / "ctr", run / "ctr" / "main"):
        path.chmod(0o755)
    uid = 1_900_000_000 + os.getpid() % 100_000
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to the fresh uid, take every instance it may have, then watch
        code = 1
        try:
            os.close(reader)
            # enough descriptors that the uid's instance limit, not this process's, is what stops it
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit + 256, limit + 256))
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            held, failure = [], 0
            while len(held) <= limit:
                try:
                    held.append(watch.Inotify())
                except OSError as exc:
                    failure = exc.errno or 0
                    break
            sleeps: list[float] = []

            async def sleep(seconds: float) -> None:
                sleeps.append(seconds)

            exit_watch = watch.ExitWatch(run, ["main"], sleep=sleep)
            asyncio.run(exit_watch.changed(5.0))
            answer = {"held": len(held), "errno": failure, "event": exit_watch.event_driven, "sleeps": sleeps}
            os.write(writer, json.dumps(answer).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and data, status
    answer = json.loads(data)
    assert answer["held"] == limit and answer["errno"] == errno.EMFILE, answer
    assert answer["event"] is False and answer["sleeps"] == [watch.POLL_SECONDS], answer
