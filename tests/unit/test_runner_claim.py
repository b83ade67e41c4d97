"""A run's name is claimed atomically (sluice/runner/state.py `claim`): of several `sluice run`s started
at once with one name, exactly one gets it; a killed holder never keeps a name taken."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from sluice.runner import state

pytestmark = pytest.mark.unit

# A process that waits for "go", claims NAME, says what happened, then holds its claim until stdin ends.
CLAIMER = """
import sys
from sluice.runner import state
sys.stdin.readline()
try:
    claimed = state.claim(sys.argv[1])
except state.NameInUse as exc:
    print("refused", exc, flush=True)
else:
    print("won", claimed.replaced, flush=True)
sys.stdin.read()
"""


def claimers(home, count: int, name: str) -> list[subprocess.Popen]:
    env = dict(os.environ, SLUICE_HOME=str(home))
    return [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(count)
    ]


def test_of_runs_claiming_one_name_at_once_exactly_one_gets_it(tmp_path):
    # Before the lock, every one of them found no directory (or the same finished one) and went on.
    procs = claimers(tmp_path, 6, "same")
    try:
        for proc in procs:  # all started and importing; now let them race
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        answers = [proc.stdout.readline().split(" ", 1) for proc in procs if proc.stdout is not None]
        won = [a for a in answers if a[0] == "won"]
        refused = [a for a in answers if a[0] == "refused"]
        assert len(won) == 1 and len(refused) == 5, answers
        for answer in refused:
            assert answer[1].startswith('workflow "same" is already running')
            assert answer[1].rstrip().endswith("choose another --name")
        assert (tmp_path / "runs" / "same" / "pid").is_file()
    finally:
        for proc in procs:
            proc.kill()
            proc.communicate(timeout=60)


def test_a_killed_holder_leaves_the_name_free_and_its_files_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path))
    (holder,) = claimers(tmp_path, 1, "gone")
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    assert holder.stdout.readline() == "won False\n"
    with pytest.raises(state.NameInUse, match=rf'"gone" is already running \(pid {holder.pid}\)'):
        state.claim("gone")
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=60)
    claimed = state.claim("gone")
    try:
        assert claimed.replaced and claimed.directory == tmp_path / "runs" / "gone"
        assert state.running_pid(claimed.directory) == os.getpid()
    finally:
        claimed.release()


def test_a_released_name_can_be_claimed_again_and_leaves_no_lock_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path))
    first = state.claim("again")
    with pytest.raises(state.NameInUse):
        state.claim("again")  # another open of the lock file, even in this process
    (first.directory / "pid").unlink()  # as the runner does when the run ends
    first.release()
    assert not (tmp_path / "locks" / "again").exists()
    second = state.claim("again")
    second.release()
    assert second.replaced


def test_a_lock_is_only_ever_a_run_name(tmp_path, monkeypatch):
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path))
    with pytest.raises(ValueError):
        state.NameLock("../escape")
    assert not (tmp_path / "escape").exists()


def test_delete_local_takes_the_names_lock_and_refuses_a_held_name(tmp_path, monkeypatch):
    from sluice import localruns
    from sluice.cluster import CliError

    monkeypatch.setenv("SLUICE_HOME", str(tmp_path))
    held = state.claim("held")
    (held.directory / "pid").unlink()  # no pid: only the lock says the name is taken
    with pytest.raises(CliError, match="local run 'held' is still running"):
        localruns.delete("held")
    assert held.directory.is_dir()
    held.release()
    localruns.delete("held")
    assert not held.directory.exists() and not (tmp_path / "locks" / "held").exists()
    with pytest.raises(CliError, match="no local run named '../runs'"):
        localruns.delete("../runs")


def test_delete_local_says_so_when_the_lock_cannot_be_taken(tmp_path, monkeypatch):
    from sluice import localruns
    from sluice.cluster import CliError

    monkeypatch.setenv("SLUICE_HOME", str(tmp_path))
    (tmp_path / "runs" / "kept").mkdir(parents=True)
    (tmp_path / "locks").write_text("a file where the locks' folder should be")
    with pytest.raises(CliError, match="local run 'kept': cannot take its lock: "):
        localruns.delete("kept")
    assert (tmp_path / "runs" / "kept").is_dir()


def test_a_lock_file_removed_between_open_and_lock_is_opened_again(tmp_path, monkeypatch):
    # What a holder's release looks like from a process that had just opened the file: the lock it then
    # gets is on a file nobody else can find, so it must open the path again.
    monkeypatch.setenv("SLUICE_HOME", str(tmp_path))
    real_flock = state.fcntl.flock
    calls = []

    def flock_after_a_release(fd, op):
        calls.append(os.fstat(fd).st_ino)
        if len(calls) == 1:
            (tmp_path / "locks" / "raced").unlink()
        return real_flock(fd, op)

    monkeypatch.setattr(state.fcntl, "flock", flock_after_a_release)
    lock = state.NameLock("raced")
    try:
        assert len(calls) == 2
        assert os.fstat(lock.fd).st_ino == os.stat(tmp_path / "locks" / "raced").st_ino
    finally:
        lock.release()
