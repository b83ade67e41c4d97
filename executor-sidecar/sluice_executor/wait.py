"""`wait`: after `main` ends, collect its outputs and report them in the node's WorkflowTaskResult.

Order (Argo's `argoexec wait`): create the task result with `report-outputs-completed=false`;
wait for the exitcode file of every main container (the launcher writes it last, after copying the
declared output paths into the shared volume), reporting `ARGO_PROGRESS_FILE` changes meanwhile; read
`result`, output parameters and the exit code (rules: workflow/outputs.py), upload output artifacts and,
with `archiveLogs`, main's log as `main-logs` (rules: workflow/artifact_rules.py); patch the outputs in;
and always finish by setting the label to `true`. Any error is written to the termination log (the
node's message) and makes `wait` exit 1.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sluice_executor import transfer
from sluice_executor.podenv import PodEnv
from sluice_executor.taskresult import Reporter, ResultAPI, ResultAPIError
from sluice_executor.watch import ExitWatch
from workflow import artifact_rules as rules
from workflow import outputs as output_rules

PROGRESS_SECONDS = 3.0
PROGRESS = re.compile(r"^\d+/\d+$")
TERMINATION_LIMIT = 4096  # the kubelet keeps at most 4 KiB of a termination message


@dataclass(slots=True)
class Collected:
    outputs: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def read_tail(path: Path, size: int) -> bytes:
    try:
        with open(path, "rb") as stream:
            end = stream.seek(0, 2)
            stream.seek(max(0, end - size))
            return stream.read()
    except FileNotFoundError:
        return b""


KILLED = 137  # 128 + SIGKILL: what the kubelet reports for a container killed outright (OOMKilled)


def launcher_died(ctr: Path) -> bool:
    """Did this container's launcher die without writing its exit code? It holds an exclusive lock on
    `running` while it lives (executor-sidecar/launcher/launch.go holdRunning); the kernel drops the lock
    however it ends, also when the container is OOM-killed."""
    try:
        fd = os.open(ctr / "running", os.O_RDONLY)
    except OSError:
        return False  # not started yet
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return False  # locked: the launcher lives
    finally:
        os.close(fd)
    return not (ctr / "exitcode").exists()


def exit_codes(env: PodEnv) -> dict[str, int] | None:
    """Every main container's exit code, or None while one is still running. A launcher killed before
    it could write one (OOMKilled) counts as 137 rather than leaving `wait`, and the pod, running for ever."""
    codes = {}
    for name in env.main_containers:
        ctr = env.layout.ctr(name)
        try:
            code = output_rules.parse_exit_code((ctr / "exitcode").read_text())
        except OSError:
            code = None
        if code is None:
            if not launcher_died(ctr):
                return None
            print(f"wait: {name} ended without an exit code (its launcher was killed)", file=sys.stderr)
            code = KILLED
        codes[name] = code
    return codes


def _source(env: PodEnv, kind: str, path: str) -> Path:
    """Where an output is readable from `wait`: on a volume mirrored at /mainctrfs
    (workflow/engine/pod_containers.py mounts only main's volumes there) it is read in place, as every
    container left it (a containerSet member may write it after `main`'s launcher copied what it saw);
    else the launcher's copy."""
    root = env.layout.mainctrfs
    mirrored = root / os.path.normpath("/" + path).lstrip("/")
    if mirrored.exists() and _confined(mirrored, root):
        return mirrored
    return env.layout.output_copy(kind, path)


def _confined(path: Path, root: Path) -> bool:
    """Does everything under `path` stay inside `root`? A link on main's volume is followed in `wait`'s
    filesystem, which holds the artifact credentials: one pointing out is not read there."""
    top = root.resolve()
    if not path.resolve().is_relative_to(top):
        return False
    if not path.is_dir():
        return True
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            entry = Path(base) / name
            if entry.is_symlink() and not entry.resolve().is_relative_to(top):
                return False
    return True


def collect(env: PodEnv, codes: dict[str, int], drivers: transfer.DriverFor) -> Collected:
    """Read and upload what main left (blocking: run it in a thread)."""
    got = Collected()
    result_ctr = "main" if "main" in codes else next(iter(codes))
    main_code = codes[result_ctr]
    got.outputs["exitCode"] = str(main_code)
    if env.include_result:
        tail = read_tail(env.layout.ctr(result_ctr) / "stdout", output_rules.RESULT_TAIL)
        got.outputs["result"] = output_rules.result(tail)
    declared = env.template.get("outputs") or {}
    params = output_rules.output_parameters(
        declared.get("parameters"), lambda path: _source(env, "parameters", path).read_bytes()
    )
    got.errors.extend(params.errors)
    if params.parameters:
        got.outputs["parameters"] = params.parameters
    location = env.template.get("archiveLocation")
    location = location if isinstance(location, dict) else None
    # Archives are built in /tmp (the pod's tmp-dir-argo volume): the shared volume's directories belong
    # to main's user, which need not be wait's.
    scratch = Path(tempfile.mkdtemp(prefix="sluice-packing-"))
    artifacts = []
    for art in declared.get("artifacts") or ():
        if not isinstance(art, dict) or not art.get("path"):
            continue
        try:
            saved = transfer.save_output(
                art, _source(env, "artifacts", str(art["path"])), location, drivers, scratch
            )
        except transfer.ArtifactError as exc:
            got.errors.append(str(exc))
            continue
        except Exception as exc:  # anything unforeseen still names the artifact and keeps the others
            got.errors.append(f"output artifact {art.get('name')}: {type(exc).__name__}: {exc}")
            continue
        if saved is not None:
            artifacts.append(saved)
    if location is not None and rules.archive_logs(env.template):
        try:
            artifacts.append(transfer.save_logs(env.layout.ctr(result_ctr) / "combined", location, drivers))
        except transfer.ArtifactError as exc:
            got.errors.append(str(exc))
    shutil.rmtree(scratch, ignore_errors=True)
    if artifacts:
        got.outputs["artifacts"] = artifacts
    if main_code != 0 and got.errors:
        # main failed: the node is Failed for that; missing outputs are expected and only logged.
        for error in got.errors:
            print(f"wait: {error} (main exited {main_code})", file=sys.stderr)
        got.errors = []
    return got


class Waiter:
    def __init__(
        self,
        env: PodEnv,
        api: ResultAPI,
        drivers: transfer.DriverFor,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.env = env
        self.reporter = Reporter(api, env, sleep)
        self.drivers = drivers
        self.sleep = sleep
        self.progress = ""

    async def _wait_for_main(self) -> dict[str, int]:
        """Woken by the launchers' files changing (watch.py), re-reading the exit codes each time; progress
        is reported every PROGRESS_SECONDS meanwhile."""
        loop = asyncio.get_running_loop()
        next_progress = loop.time()
        with ExitWatch(self.env.layout.run, self.env.main_containers, self.sleep) as watch:
            while (codes := exit_codes(self.env)) is None:
                if loop.time() >= next_progress:
                    await self._report_progress()
                    next_progress = loop.time() + PROGRESS_SECONDS
                await watch.changed(max(0.0, next_progress - loop.time()))
        return codes

    async def _report_progress(self) -> None:
        if not self.env.progress_file:
            return
        try:
            text = Path(self.env.progress_file).read_text().strip()
        except OSError:
            return
        if PROGRESS.match(text) and text != self.progress:
            self.progress = text
            try:
                await self.reporter.report(progress=text)
            except ResultAPIError as exc:
                print(f"wait: reporting progress: {exc}", file=sys.stderr)

    async def run(self) -> int:
        errors: list[str] = []
        try:
            await self.reporter.start()
        except ResultAPIError as exc:
            errors.append(f"creating the task result {self.env.node_id}: {exc}")
        try:
            codes = await self._wait_for_main()
            got = await asyncio.to_thread(collect, self.env, codes, self.drivers)
            errors.extend(got.errors)
            await self._report_progress()
            await self.reporter.report(got.outputs)
        except ResultAPIError as exc:
            errors.append(f"reporting the outputs: {exc}")
        except Exception as exc:  # anything unforeseen still ends in a finished task result and a message
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            try:
                await self.reporter.finish()
            except ResultAPIError as exc:
                errors.append(f"finishing the task result {self.env.node_id}: {exc}")
        return conclude(self.env.layout.termination_log, errors, "wait")


async def report_then_finish(reporter: Reporter, outputs: dict[str, Any], errors: list[str]) -> None:
    """Report `outputs` (when there are any), then always finish the task result; API errors join `errors`."""
    try:
        if outputs:
            await reporter.report(outputs)
        await reporter.finish()
    except ResultAPIError as exc:
        errors.append(f"reporting the outputs: {exc}")


def conclude(termination_log: Path, errors: list[str], who: str) -> int:
    """An executor command's exit code: 0, or 1 with its errors in the termination log and on stderr."""
    if not errors:
        return 0
    write_termination_log(termination_log, errors)
    for error in errors:
        print(f"{who}: {error}", file=sys.stderr)
    return 1


def write_termination_log(path: Path, errors: list[str]) -> None:
    message = "; ".join(errors).encode()[:TERMINATION_LIMIT].decode("utf-8", "ignore")
    try:
        path.write_text(message)
    except OSError as exc:
        print(f"wait: cannot write {path}: {exc}", file=sys.stderr)
