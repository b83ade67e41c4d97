"""A run's pid file (sluice/runner/state.py): `running_pid` names a live run, and never a process that
only reuses a dead run's pid (the UI's stop sends that pid a Ctrl-C)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sluice.runner import state

pytestmark = pytest.mark.unit


def test_this_process_recorded_is_found(tmp_path):
    state.write_pid(tmp_path)
    assert state.running_pid(tmp_path) == os.getpid()


def test_a_reused_pid_is_not_the_run(tmp_path):
    # This process's pid with another start time: what a killed run's file looks like once the kernel
    # gave its pid to someone else.
    started = state._start_time(os.getpid())
    assert started is not None
    (tmp_path / "pid").write_text(f"{os.getpid()} {started + 12345}")
    assert state.running_pid(tmp_path) is None


def test_a_finished_process_is_not_running(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    (tmp_path / "pid").write_text(f"{done.stdout.strip()} 1")
    assert state.running_pid(tmp_path) is None


@pytest.mark.parametrize("text", ["", "abc", "-1 5", "0"])
def test_a_broken_pid_file_names_no_run(tmp_path, text):
    (tmp_path / "pid").write_text(text)
    assert state.running_pid(tmp_path) is None


def test_no_pid_file_names_no_run(tmp_path):
    assert state.running_pid(tmp_path) is None


def test_an_older_file_with_only_the_pid_still_counts(tmp_path):
    (tmp_path / "pid").write_text(str(os.getpid()))
    assert state.running_pid(tmp_path) == os.getpid()


def test_a_command_name_with_spaces_and_parentheses_is_read(tmp_path):
    # /proc/PID/stat's field 2 is the command in parentheses, and may hold both: the start time is
    # counted from the last ')'.
    rename = "open('/proc/self/comm', 'w').write('a (b) c'); print('ok', flush=True); sys.stdin.read()"
    proc = subprocess.Popen(
        [sys.executable, "-c", f"import sys; {rename}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ok\n"
        assert ") c)" in Path(f"/proc/{proc.pid}/stat").read_text()
        (tmp_path / "pid").write_text(f"{proc.pid} {state._start_time(proc.pid)}")
        assert state._start_time(proc.pid) is not None
        assert state.running_pid(tmp_path) == proc.pid
    finally:
        proc.kill()
        proc.wait()
