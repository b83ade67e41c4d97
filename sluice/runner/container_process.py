"""A container's command as a local process: started, its output read, stopped.

Each process leads its own session (its process group is the container's: a signal reaches whatever it
started). Without `tty`, stdout and stderr are pipes; with `tty: true` one pseudo-terminal is stdin,
stdout and stderr, as the kubelet gives one. Output is read line by line into the container's files
and the pod's `combined` log, each line also handed on (the run's display, sluice/runner/display.py).
Used by localpod.py.
"""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import subprocess
import termios
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

LINE_MAX = 1024 * 1024  # bytes of output read at once (a longer line comes in pieces)


def start(
    argv: list[str], cwd: Path, env: dict[str, str], tty: bool
) -> tuple[subprocess.Popen[bytes], IO[bytes] | None]:
    """The started process, and on a terminal the terminal's reading end (else None: read its pipes)."""
    if tty:
        return _start_on_a_terminal(argv, cwd, env)
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    return proc, None


def _start_on_a_terminal(
    argv: list[str], cwd: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    """Output processing is off so the process's bytes (and `outputs.result`) keep `\n`."""
    leader, follower = pty.openpty()
    try:
        attrs = termios.tcgetattr(follower)
        attrs[1] &= ~termios.OPOST
        termios.tcsetattr(follower, termios.TCSANOW, attrs)
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower, start_new_session=True
        )
    except BaseException:
        os.close(leader)
        raise
    finally:
        os.close(follower)
    return proc, open(leader, "rb")  # noqa: SIM115 (closed by the reader thread)


def pump(
    stream: IO[bytes], path: Path, combined_path: Path, lock: threading.Lock, on_line: Callable[[str], None]
) -> None:
    """Copy `stream` into `path` and (under `lock`, shared by a container's readers) `combined_path`."""
    # A terminal's reader gets EIO once the last process holding it exits: the end of output.
    # Lines are read at most LINE_MAX bytes at a time: 200 MB without a newline took 620 MB.
    with (
        open(path, "wb") as out,
        open(combined_path, "ab") as combined,
        contextlib.suppress(OSError),
    ):
        for line in iter(lambda: stream.readline(LINE_MAX), b""):
            out.write(line)
            out.flush()  # readable as it comes: `sluice ui` follows these files (sluice/ui/sources.py)
            with lock:
                combined.write(line)
            on_line(line.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def terminate(procs: list[subprocess.Popen[bytes]], grace: float) -> None:
    """SIGTERM each running process's group, SIGKILL after `grace` seconds (without waiting here)."""
    for proc in procs:
        if proc.poll() is not None:
            continue
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            continue

        def killer(proc: subprocess.Popen[bytes] = proc) -> None:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)

        threading.Thread(target=killer, daemon=True).start()
