"""One pod the engine asked for, run as a local process.

The pod is read the way the executor reads it: the user's command and args follow the launcher's `--`
in `main`'s command, env and working dir are `main`'s, and the processed template (script source,
output paths, input artifacts) is in the init container's `ARGO_TEMPLATE`. Paths are isolated per node
(paths.py). After the process exits, what the `wait` container would report is collected: stdout as
`result` (when the pod says to include it), output parameters from their files, output artifacts into
the artifact directory; the pod and its task result are then reported as observations.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import shutil
import signal
import stat
import subprocess
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sluice.runner import artifacts, cowroot, images, leftovers
from sluice.runner.paths import SYSTEM_DIRS, PathMap, isolation_map, normal
from workflow import outputs as output_rules
from workflow.engine import ContainerObservation, PodObservation, TaskResultObservation

SHIMS = Path(__file__).resolve().parent / "shims"  # programs some example images carry (cowsay)
SCRIPT_PATH = "/argo/staging/script"
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
INTERNAL_MOUNTS = ("var-run-argo", "argo-staging", "input-artifacts")
# Directories every image has: moved to the node's root, they exist there too; other moved directories
# (`/mnt/out`) do not, as in a fresh container.
IMAGE_DIRS = frozenset({"/tmp", "/var/tmp", "/mnt", "/home", "/root", "/opt", "/srv", "/media"})


@dataclass(frozen=True, slots=True)
class RunPaths:
    run_dir: Path
    artifact_dir: Path

    @property
    def volumes(self) -> Path:
        return self.run_dir / "volumes"


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


LINE_MAX = 1024 * 1024  # bytes of output read at once (a longer line comes in pieces)


def _readable_by_all(path: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    if stat.S_ISLNK(mode):
        return True  # copied as a link, never followed
    if stat.S_ISDIR(mode):
        return bool(mode & stat.S_IROTH and mode & stat.S_IXOTH)
    return stat.S_ISREG(mode) and bool(mode & stat.S_IROTH)


def _not_readable_by_all(directory: str, names: list[str]) -> list[str]:
    return [name for name in names if not _readable_by_all(Path(directory) / name)]


def _tail(path: Path, size: int) -> bytes:
    """The last `size` bytes of a file (b"" when it is missing): never the whole of a big stdout."""
    try:
        with open(path, "rb") as stream:
            stream.seek(max(0, stream.seek(0, os.SEEK_END) - size))
            return stream.read()
    except FileNotFoundError:
        return b""


def _env_value(pod: dict[str, Any], entry: dict[str, Any]) -> str | None:
    if "value" in entry:
        return str(entry.get("value") or "")
    field = ((entry.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
    meta = pod.get("metadata") or {}
    if field == "metadata.name":
        return meta.get("name", "")
    if field == "metadata.namespace":
        return meta.get("namespace", "")
    if field and field.startswith("metadata.annotations['"):
        return (meta.get("annotations") or {}).get(field[len("metadata.annotations['") : -2], "")
    if field and field.startswith("metadata.labels['"):
        return (meta.get("labels") or {}).get(field[len("metadata.labels['") : -2], "")
    return None


class LocalPod:
    def __init__(self, pod: dict[str, Any], node_id: str, paths: RunPaths, workflow_name: str):
        self.pod = pod
        self.node_id = node_id
        self.name: str = pod["metadata"]["name"]
        self.node_name: str = (pod["metadata"].get("annotations") or {}).get(
            "workflows.argoproj.io/node-name", ""
        )
        self.paths = paths
        self.workflow_name = workflow_name
        spec = pod.get("spec") or {}
        self.spec = spec
        init = next((c for c in spec.get("initContainers") or () if c.get("name") == "init"), {})
        env = {e.get("name"): e.get("value") for e in init.get("env") or ()}
        try:
            self.template: dict[str, Any] = json.loads(env.get("ARGO_TEMPLATE") or "{}")
        except ValueError:
            self.template = {}
        self.main = next((c for c in spec.get("containers") or () if c.get("name") == "main"), None)
        sidecar_names = {c.get("name") for c in self.template.get("sidecars") or () if isinstance(c, dict)}
        self.containers = [
            c
            for c in spec.get("containers") or ()
            if c.get("name") != "wait" and c.get("name") not in sidecar_names
        ]
        if isinstance(self.template.get("containerSet"), dict):
            deps = {
                c.get("name"): c.get("dependencies")
                for c in self.template["containerSet"].get("containers") or ()
                if isinstance(c, dict)
            }
            self.containers = [dict(c, dependencies=deps.get(c.get("name")) or []) for c in self.containers]
        self.result_container = (
            "main"
            if any(c.get("name") == "main" for c in self.containers)
            else (self.containers[0].get("name") if self.containers else "main")
        )
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.tokens: dict[str, str] = {}  # container name -> the mark its processes carry (leftovers.py)
        self.states: dict[str, tuple[str, int | None, float | None, float | None]] = {}
        main_env = {e.get("name"): e.get("value") for e in (self.main or {}).get("env") or ()}
        self.include_result = main_env.get("ARGO_INCLUDE_SCRIPT_OUTPUT") == "true"
        self.deadline = spec.get("activeDeadlineSeconds")
        self.dir = paths.run_dir / "pods" / self.name
        self.state = "pending"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started: float | None = None
        self.finished: float | None = None
        self.exit_code: int | None = None
        self.message = ""
        self.reason = ""
        self.wait_error = ""
        self.outputs: dict[str, Any] | None = None
        self.terminating = False
        self.deadline_hit = False
        self._threads: list[threading.Thread] = []
        self.layer: cowroot.Layer | None = None  # the step's own view of `/` (prepare), where allowed

    # --- preparing -----------------------------------------------------------------------------------

    def _mounts(self) -> dict[str, Path]:
        volumes = {v.get("name"): v for v in self.spec.get("volumes") or ()}
        own = {v.get("name") for v in self.template.get("volumes") or () if isinstance(v, dict)}
        out: dict[str, Path] = {}
        for container in self.containers:
            for mount in container.get("volumeMounts") or ():
                name = mount.get("name")
                if name in INTERNAL_MOUNTS or not mount.get("mountPath") or mount["mountPath"] in out:
                    continue
                volume = volumes.get(name) or {}
                if isinstance(volume.get("hostPath"), dict):
                    target = Path(volume["hostPath"].get("path") or "/")
                elif any(k in volume for k in ("secret", "configMap", "projected", "downwardAPI")):
                    kind = next(k for k in ("secret", "configMap", "projected", "downwardAPI") if k in volume)
                    raise artifacts.ArtifactError(
                        f"volume {name!r} is a {kind} volume, which the local runner cannot provide"
                    )
                elif name in own and "emptyDir" in volume:
                    target = self.dir / "volumes" / str(name)  # the template's own emptyDir: this pod's
                else:
                    target = self.paths.volumes / str(name)
                if mount.get("subPath"):
                    target = target / mount["subPath"]
                target.mkdir(parents=True, exist_ok=True)
                out[mount["mountPath"]] = target
        return out

    def prepare(self) -> None:
        if not self.containers:
            raise images.MissingProgram("the pod has no main container")
        if isinstance(self.template.get("resource"), dict):
            raise images.MissingProgram(
                "resource templates need a Kubernetes cluster; the local runner cannot run them"
            )
        if isinstance(self.template.get("data"), dict):
            raise images.MissingProgram(
                "data templates read an artifact repository; the local runner cannot run them"
            )
        if self.template.get("sidecars"):
            raise images.MissingProgram("sidecars need their images; the local runner cannot run them")
        if self.spec.get("hostAliases"):
            # The names would resolve through this machine's DNS instead: a different answer, not a run.
            raise images.MissingProgram(
                "hostAliases add names to the pod's /etc/hosts, which the local runner cannot provide"
            )
        root = self.dir / "root"
        self.tmp = self.dir / "tmp"
        self.mounts = self._mounts()
        if not cowroot.available(str(self.paths.run_dir.parent)):
            # The step's own copy-on-write view of `/`: its paths are its own, unchanged (cowroot.py).
            self.layer = cowroot.Layer(self.dir / "layer")
            self.layer.create()
            self.pathmap = PathMap({**self.layer.layered(), **self.mounts}, root=self.layer.root())
        else:
            root.mkdir(parents=True, exist_ok=True)
            self.tmp.mkdir(parents=True, exist_ok=True)
            extra = {SCRIPT_PATH: self.dir / "script", "/var/run/argo": self.dir / "var-run-argo"}
            (self.dir / "var-run-argo").mkdir(exist_ok=True)
            self.pathmap = isolation_map(self.template, self.mounts, root, extra)
        for source, target in self.pathmap.mapping.items():
            if target.is_relative_to(root):
                if source in IMAGE_DIRS:
                    target.mkdir(parents=True, exist_ok=True)  # every image has it (/tmp)
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
        for art in (self.template.get("inputs") or {}).get("artifacts") or ():
            if isinstance(art, dict) and art.get("path"):
                artifacts.load(art, self.pathmap.local(art["path"]), self.paths.artifact_dir)
        script = self.template.get("script")
        if isinstance(script, dict):
            script_file = self.pathmap.local(SCRIPT_PATH)
            script_file.parent.mkdir(parents=True, exist_ok=True)
            script_file.write_text(self.pathmap.rewrite(str(script.get("source") or "")))
            script_file.chmod(0o755)  # `command: [sh, -c]` runs the file itself
        self.commands = {c.get("name"): self._command(c) for c in self.containers}

    def _command(self, container: dict[str, Any]) -> tuple[list[str], dict[str, str], Path]:
        command = list(container.get("command") or [])
        if "--" in command:
            command = command[command.index("--") + 1 :]
        command = [self.pathmap.rewrite(str(c)) for c in command]
        args = [self.pathmap.rewrite(str(a)) for a in container.get("args") or ()]
        env = dict(os.environ)
        for entry in container.get("env") or ():
            value = _env_value(self.pod, entry)
            if value is not None and entry.get("name"):
                env[entry["name"]] = self.pathmap.rewrite(value)
        env["TMPDIR"] = "/tmp" if self.layer is not None else str(self.tmp)
        env[leftovers.TOKEN_VAR] = self.tokens.setdefault(str(container.get("name")), leftovers.new_token())
        env["PATH"] = os.pathsep.join(p for p in (env.get("PATH"), str(SHIMS)) if p)
        argv = images.resolve(str(container.get("image") or ""), command, args, env.get("PATH"))
        workdir = container.get("workingDir")
        if self.layer is not None:
            inside = normal(workdir) if isinstance(workdir, str) and workdir.startswith("/") else "/"
            self.pathmap.local(inside).mkdir(parents=True, exist_ok=True)  # a container's workingDir exists
            config = self.dir / f"{container.get('name')}.view.json"
            return self.layer.launcher(argv, inside, self.mounts, config), env, self.dir
        root = self.dir / "root"
        cwd = root
        if isinstance(workdir, str) and workdir:
            local = Path(self.pathmap.rewrite(workdir))
            if local == Path(workdir) and not local.is_dir():
                local = root / workdir.lstrip("/")
            local.mkdir(parents=True, exist_ok=True)
            cwd = local
        return argv, env, cwd

    # --- running -------------------------------------------------------------------------------------

    def _fail_to_start(self, message: str, on_exit: Callable[[LocalPod], None]) -> None:
        self.finished = time.time()
        self.state = "done"
        self.message = message
        self.reason = "LocalRunnerError"
        self.exit_code = 127
        on_exit(self)

    def start(
        self, on_exit: Callable[[LocalPod], None], on_line: Callable[[LocalPod, str, str], None]
    ) -> None:
        self.started = time.time()
        self.state = "running"
        try:
            self.prepare()
        except (images.MissingProgram, artifacts.ArtifactError, OSError) as exc:
            self._fail_to_start(str(exc), on_exit)
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        thread = threading.Thread(target=self._run_all, args=(on_exit, on_line), daemon=True)
        thread.start()
        self._threads = [thread]

    def _run_all(self, on_exit, on_line) -> None:
        """Run the containers, each once all its `dependencies` succeeded (a containerSet's DAG)."""
        pending = {c.get("name"): list(c.get("dependencies") or ()) for c in self.containers}
        running: dict[str, threading.Thread] = {}
        done = threading.Condition()

        def one(name: str) -> None:
            code = self._run_one(name, on_line)
            with done:
                self.states[name] = ("terminated", code, self.states[name][2], time.time())
                done.notify_all()

        with done:
            while pending or running:
                for name in list(pending):
                    deps = pending[name]
                    failed = [
                        d
                        for d in deps
                        if self.states.get(d, ("",))[0] == "terminated" and self.states[d][1] != 0
                    ]
                    if failed or self.terminating:
                        del pending[name]
                        self.states[name] = ("terminated", 1 if failed else 143, None, time.time())
                    elif all(self.states.get(d, ("",))[0] == "terminated" for d in deps):
                        del pending[name]
                        self.states[name] = ("running", None, time.time(), None)
                        thread = running[name] = threading.Thread(target=one, args=(name,), daemon=True)
                        thread.start()
                for name in [
                    n for n, t in running.items() if not t.is_alive() and self.states[n][0] == "terminated"
                ]:
                    running.pop(name).join()
                if pending or running:
                    done.wait(timeout=0.5)
        self.finished = time.time()
        codes = {n: st[1] for n, st in self.states.items()}
        main = "main" if "main" in codes else next(iter(codes))
        self.exit_code = codes[main] if codes[main] is not None else 1
        if self.exit_code == 0:
            bad = [code for code in codes.values() if code not in (0, None)]
            self.exit_code = bad[0] if bad and main != "main" else 0
        self._collect()
        self.state = "done"
        on_exit(self)

    def _run_one(self, name: str, on_line) -> int:
        argv, env, cwd = self.commands[name]
        stdout_path = self.dir / ("stdout" if name == self.result_container else f"{name}.stdout")
        container: dict[str, Any] = next((c for c in self.containers if c.get("name") == name), {})
        try:
            if container.get("tty") is True:
                proc, terminal = _start_on_a_terminal(argv, cwd, env)
            else:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    start_new_session=True,
                )
        except OSError as exc:
            self.message = f"cannot start {argv[0]}: {exc}"
            self.reason = "LocalRunnerError"
            return 127
        self.procs[name] = proc
        if name == self.result_container:
            self.proc = proc
        lock = threading.Lock()
        label = "stdout" if len(self.containers) == 1 else name

        def pump(stream, path: Path) -> None:
            # A terminal's reader gets EIO once the last process holding it exits: the end of output.
            # Lines are read at most LINE_MAX bytes at a time: 200 MB without a newline took 620 MB.
            with (
                open(path, "wb") as out,
                open(self.dir / "combined", "ab") as combined,
                contextlib.suppress(OSError),
            ):
                for line in iter(lambda: stream.readline(LINE_MAX), b""):
                    out.write(line)
                    out.flush()  # readable as it comes: `sluice ui` follows these files (sluice/ui/sources.py)
                    with lock:
                        combined.write(line)
                    on_line(self, label, line.decode("utf-8", "replace").rstrip("\n"))
            stream.close()

        if proc.stdout is None:  # on a terminal: stdout and stderr are one stream, as with a pod's tty
            readers = [threading.Thread(target=pump, args=(terminal, stdout_path), daemon=True)]
        else:
            readers = [
                threading.Thread(target=pump, args=(proc.stdout, stdout_path), daemon=True),
                threading.Thread(target=pump, args=(proc.stderr, self.dir / f"{name}.stderr"), daemon=True),
            ]
        for reader in readers:
            reader.start()
        code = proc.wait()
        # main's exit ends the container: what it left running (background, setsid, nohup) ends too.
        leftovers.stop(proc.pid, self.tokens.get(name, ""))
        for reader in readers:
            reader.join()
        return output_rules.exit_code(code)

    def check_deadline(self, now: float) -> float | None:
        """Enforce `activeDeadlineSeconds`; returns seconds until the deadline (None: none)."""
        if self.state != "running" or self.deadline is None or self.started is None:
            return None
        left = self.started + float(self.deadline) - now
        if left <= 0 and not self.deadline_hit:
            self.deadline_hit = True
            self.terminate(grace=2)
        return max(left, 0.0)

    def terminate(self, grace: float = 10) -> None:
        self.terminating = True
        for proc in list(self.procs.values()):
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

    def kill(self) -> None:
        self.terminating = True
        for name, proc in list(self.procs.items()):
            leftovers.stop(proc.pid if proc.poll() is None else None, self.tokens.get(name, ""))

    # --- outputs -------------------------------------------------------------------------------------

    def _output_path(self, path: str) -> Path:
        """Where an output was written: the node's own copy, or else a path the host already has (`/etc`,
        as an image would). From the host only what every user may read is taken: a file readable by
        all, a directory copied without the entries that are not (no /etc/shadow in a status)."""
        path = normal(path)
        local = self.pathmap.local(path)
        top = "/" + path.strip("/").split("/", 1)[0]
        host = Path(path)
        if local.exists() or local == host or top not in SYSTEM_DIRS or not host.exists():
            return local
        if host.is_dir() and _readable_by_all(host):
            with contextlib.suppress(shutil.Error, OSError):  # what could not be copied is left out
                shutil.copytree(host, local, symlinks=True, ignore=_not_readable_by_all, dirs_exist_ok=True)
            return local
        return host if host.is_file() and _readable_by_all(host) else local

    def _collect(self) -> None:
        outputs: dict[str, Any] = {}
        errors: list[str] = []
        if self.include_result:
            outputs["result"] = output_rules.result(_tail(self.dir / "stdout", output_rules.RESULT_TAIL))
        declared = self.template.get("outputs") or {}
        params = output_rules.output_parameters(
            declared.get("parameters"), lambda path: self._output_path(path).read_bytes()
        )
        errors.extend(params.errors)
        if params.parameters:
            outputs["parameters"] = params.parameters
        arts = []
        for art in declared.get("artifacts") or ():
            if not art.get("path"):
                continue
            try:
                saved = artifacts.save(
                    art,
                    self._output_path(art["path"]),
                    self.paths.artifact_dir,
                    self.workflow_name,
                    self.name,
                )
            except (artifacts.ArtifactError, OSError) as exc:
                errors.append(str(exc))
                continue
            if saved is not None:
                arts.append(saved)
        if arts:
            outputs["artifacts"] = arts
        self.outputs = outputs or None
        if errors and self.exit_code == 0:
            self.wait_error = "; ".join(errors)

    # --- observations --------------------------------------------------------------------------------

    def _container_observations(self, started: str, finished: str) -> tuple[ContainerObservation, ...]:
        out = []
        for container in self.containers:
            name = container.get("name") or "main"
            state, code, began, ended = self.states.get(name, ("waiting", None, None, None))
            if self.state == "done" and state != "terminated":
                state, code = "terminated", self.exit_code if name == self.result_container else 0
            out.append(
                ContainerObservation(
                    name,
                    state,
                    code if state == "terminated" else None,
                    ("Completed" if code == 0 else "Error") if state == "terminated" else "",
                    started_at=_stamp(began) if began else started,
                    finished_at=(_stamp(ended) if ended else finished) if state == "terminated" else None,
                    ready=state == "running",
                )
            )
        return tuple(out)

    def observation(self) -> PodObservation:
        if self.state == "pending":
            return PodObservation(name=self.name, node_id=self.node_id, phase="Pending")
        started = _stamp(self.started or time.time())
        if self.state == "running":
            return PodObservation(
                name=self.name,
                node_id=self.node_id,
                phase="Running",
                host_node_name="localhost",
                pod_ip="127.0.0.1",
                containers=(
                    ContainerObservation("wait", "running", started_at=started),
                    *self._container_observations(started, started),
                ),
            )
        finished = _stamp(self.finished or time.time())
        code = self.exit_code if self.exit_code is not None else 1
        wait_code = 1 if self.wait_error else 0
        wait = ContainerObservation(
            "wait",
            "terminated",
            wait_code,
            "Error" if wait_code else "Completed",
            message=self.wait_error,
            started_at=started,
            finished_at=finished,
        )
        containers = self._container_observations(started, finished)
        if not containers:
            containers = (
                ContainerObservation(
                    "main",
                    "terminated",
                    code,
                    "Completed" if code == 0 else "Error",
                    started_at=started,
                    finished_at=finished,
                ),
            )
        message, reason = self.message, self.reason
        if self.deadline_hit:
            message, reason = DEADLINE_MESSAGE, "DeadlineExceeded"
        failed = any(c.exit_code not in (0, None) for c in containers)
        phase = "Succeeded" if code == 0 and not failed and not self.wait_error and not message else "Failed"
        return PodObservation(
            name=self.name,
            node_id=self.node_id,
            phase=phase,
            containers=(wait, *containers),
            message=message,
            reason=reason,
            host_node_name="localhost",
        )

    def task_result(self) -> TaskResultObservation | None:
        if self.state != "done":
            return None
        return TaskResultObservation(node_id=self.node_id, outputs=self.outputs, completed=True)


def _start_on_a_terminal(argv: list[str], cwd: Path, env: dict[str, str]):
    """A container with `tty: true`: the process gets a pseudo-terminal as stdin, stdout and stderr, as
    the kubelet gives it one. Output processing is off so its bytes (and `outputs.result`) keep `\n`."""
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
