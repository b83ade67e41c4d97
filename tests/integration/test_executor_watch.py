"""`wait` is woken by the launcher's files (inotify on the shared volume, sluice_executor/watch.py), not by
polling: with the safety-net wake-up pushed to an hour, wait still sees main end, and sees a launcher
killed outright (the kernel closing its `running` file); without inotify it polls."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess

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
