"""Ending every process a step started, as the end of a container does (issue 13 item 11).

In a pod, main's exit ends its container and everything in it. Locally a step's processes are a
process group (killed when main exits), but `setsid` or a daemonising child leaves the group, and a
child that ignores SIGTERM outlived the step. Each container's processes carry a random token in their
environment (inherited by every descendant, whatever session it moves to); when the container's main
process exits, its group and every process of this user carrying the token are killed. Linux only
(/proc); elsewhere only the group is. A process that rewrites its own environment can still escape:
a real container (or item 12's per-step namespace) is the full answer.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal

TOKEN_VAR = "SLUICE_STEP_TOKEN"


def new_token() -> str:
    return secrets.token_hex(12)


def stop(pgid: int | None, token: str) -> int:
    """SIGKILL the group `pgid` and every process marked with `token`; how many marked were found."""
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    found = 0
    for _ in range(5 if token else 0):  # a process may fork while we look: look again until none is left
        marked = _marked(token)
        if not marked:
            break
        found += len(marked)
        for pid in marked:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    return found


def _marked(token: str) -> list[int]:
    needle = f"{TOKEN_VAR}={token}".encode()
    me = os.getpid()
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for name in entries:
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                environ = f.read()
            with open(f"/proc/{name}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != b"Z" and needle in environ.split(b"\0"):
            out.append(int(name))
    return out
