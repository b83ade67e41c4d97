"""Where runs live on this machine, and how `sluice resume` talks to a running `sluice run`.

Each run has a directory `<home>/runs/<workflow name>/` (home: $SLUICE_HOME, else
$XDG_STATE_HOME/sluice, else ~/.local/state/sluice) holding its pods' files, volumes, the default
artifact directory, `pid` while it runs, and `workflow.json` (the latest status). `sluice resume` drops
a request file into `resume/`; the runner picks it up on its next step. A run holds its name's lock
(`<home>/locks/<name>`, `claim`) from before its directory is made until it ends, so two runs never
share a name.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from workflow.engine import ResumeRequest


def home() -> Path:
    if os.environ.get("SLUICE_HOME"):
        return Path(os.environ["SLUICE_HOME"])
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "sluice"


def run_dir(name: str) -> Path:
    return home() / "runs" / name


# The API server's rule for object names (a DNS-1123 subdomain): a name is also a directory here.
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_NAME = 253


class NameInUse(Exception):
    pass


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a Workflow (the API server's message), or None."""
    if len(name) > MAX_NAME:
        return f"metadata.name: must be no more than {MAX_NAME} characters"
    if not _NAME_RE.match(name):
        return (
            f'metadata.name: Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
            "case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        )
    return None


def write_pid(directory: Path) -> None:
    """Record this process as the run's: its pid and its start time, so a pid the kernel reused for
    another process after a killed run is never taken for the run (and never sent its Ctrl-C)."""
    (directory / "pid").write_text(f"{os.getpid()} {_start_time(os.getpid()) or 0}")


def running_pid(directory: Path) -> int | None:
    """The pid of the run going on in `directory`, or None: no pid file, the process is gone, or the
    pid now belongs to another process (its start time differs from the one recorded)."""
    try:
        fields = (directory / "pid").read_text().split()
        pid = int(fields[0])
        started = int(fields[1]) if len(fields) > 1 else 0
    except (OSError, ValueError, IndexError):
        return None
    if pid <= 0 or not _alive(pid):
        return None
    now = _start_time(pid)
    if started and now is not None and now != started:
        return None
    return pid


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22); None off Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    try:
        return int(stat[stat.rindex(")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


class Claim:
    """A name held by this process (`claim`): its run directory, whether a previous run's files were
    removed, and the lock that keeps any other `sluice run` from taking the name until `release`."""

    def __init__(self, name: str, directory: Path, replaced: bool, lock: NameLock):
        self.name = name
        self.directory = directory
        self.replaced = replaced
        self._lock = lock

    def release(self) -> None:
        self._lock.release()


class NameLock:
    """An exclusive lock on a run name: `flock` on `<home>/locks/<name>`, held while this process keeps
    the file open. The kernel drops it when the process dies (even by SIGKILL), so a killed run never
    leaves its name taken; the file is removed on release, and a file removed under a process that had
    just opened it is noticed (its inode is no longer the path's) and opened again."""

    def __init__(self, name: str):
        if name_problem(name):  # a name is a file name here: never a path
            raise ValueError(f"not a run name: {name!r}")
        folder = home() / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / name
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise NameInUse(name) from None
            try:
                now, held = os.stat(self.path), os.fstat(fd)
                same = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
            except FileNotFoundError:
                same = False
            if same:
                self.fd: int | None = fd
                return
            os.close(fd)  # released and removed by its holder between our open and our lock

    def release(self) -> None:
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)  # while still held: a waiter then sees a new inode
        os.close(self.fd)
        self.fd = None


def claim(name: str) -> Claim:
    """The run directory of a new run named `name`, empty: a finished run of the same name is removed
    (never mixed with: its volumes would leak into this one); a running one makes this raise NameInUse.
    Atomic: the name's lock is taken first and kept by the returned Claim until it is released or this
    process ends, so of two runs started at once with one name exactly one gets it. The directory is
    made and the pid written under the lock. `name` must pass `name_problem`."""
    try:
        lock = NameLock(name)
    except NameInUse:
        pid = running_pid(run_dir(name))
        shown = f" (pid {pid})" if pid else ""
        raise NameInUse(f'workflow "{name}" is already running{shown}: choose another --name') from None
    try:
        directory = run_dir(name)
        replaced = directory.exists()
        if replaced:
            pid = running_pid(directory)  # a run by a sluice that took no lock
            if pid:
                raise NameInUse(f'workflow "{name}" is already running (pid {pid}): choose another --name')
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        write_pid(directory)
    except BaseException:
        lock.release()
        raise
    return Claim(name, directory, replaced, lock)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def active_runs() -> list[str]:
    runs = home() / "runs"
    if not runs.is_dir():
        return []
    out = []
    for entry in sorted(runs.iterdir()):
        if running_pid(entry):
            out.append(entry.name)
    return out


def suspended_nodes(name: str) -> list[dict[str, Any]] | None:
    """The active suspend nodes of a run (from its workflow.json); None when the run cannot be read."""
    try:
        workflow = json.loads((run_dir(name) / "workflow.json").read_text())
    except (OSError, ValueError):
        return None
    nodes = ((workflow.get("status") or {}).get("nodes") or {}).values()
    found = [n for n in nodes if n.get("type") == "Suspend" and n.get("phase") in ("Pending", "Running")]
    if (workflow.get("spec") or {}).get("suspend"):
        found.append({"id": name, "name": name, "displayName": name})
    return found


def request_resume(name: str, node: str | None, parameters: dict[str, str], action: str = "resume") -> Path:
    inbox = run_dir(name) / "resume"
    inbox.mkdir(parents=True, exist_ok=True)
    body = {"node": node, "parameters": parameters, "action": action}
    tmp = inbox / f".{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(body))
    final = inbox / f"{uuid.uuid4().hex}.json"
    os.replace(tmp, final)
    return final


def take_requests(directory: Path) -> list[ResumeRequest]:
    inbox = directory / "resume"
    if not inbox.is_dir():
        return []
    out = []
    for path in sorted(inbox.glob("*.json")):
        try:
            body: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):
            body = {}
        path.unlink(missing_ok=True)
        if not isinstance(body, dict):
            continue
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        out.append(
            ResumeRequest(
                node=body.get("node") if isinstance(body.get("node"), str) else None,
                action="stop" if body.get("action") == "stop" else "resume",
                parameters={str(k): str(v) for k, v in params.items()},
                message="" if body.get("action") != "stop" else "Stopped by: sluice resume",
            )
        )
    return out
