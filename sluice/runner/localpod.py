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
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sluice.runner import artifacts, images
from sluice.runner.paths import SYSTEM_DIRS, isolation_map
from workflow.engine import ContainerObservation, PodObservation, TaskResultObservation

RESULT_LIMIT = 256 * 1024
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
        self.node_name: str = (pod["metadata"].get("annotations") or {}).get("workflows.argoproj.io/node-name", "")
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

    # --- preparing -----------------------------------------------------------------------------------

    def _mounts(self) -> dict[str, Path]:
        volumes = {v.get("name"): v for v in self.spec.get("volumes") or ()}
        out: dict[str, Path] = {}
        for mount in (self.main or {}).get("volumeMounts") or ():
            name = mount.get("name")
            if name in INTERNAL_MOUNTS or not mount.get("mountPath"):
                continue
            volume = volumes.get(name) or {}
            if isinstance(volume.get("hostPath"), dict):
                target = Path(volume["hostPath"].get("path") or "/")
            elif any(k in volume for k in ("secret", "configMap", "projected", "downwardAPI")):
                kind = next(k for k in ("secret", "configMap", "projected", "downwardAPI") if k in volume)
                raise artifacts.ArtifactError(f"volume {name!r} is a {kind} volume, which the local runner cannot provide")
            else:
                target = self.paths.volumes / str(name)
            if mount.get("subPath"):
                target = target / mount["subPath"]
            target.mkdir(parents=True, exist_ok=True)
            out[mount["mountPath"]] = target
        return out

    def prepare(self) -> tuple[list[str], dict[str, str], Path]:
        if self.main is None:
            raise images.MissingProgram("the pod has no main container")
        if isinstance(self.template.get("resource"), dict):
            raise images.MissingProgram("resource templates need a Kubernetes cluster; the local runner cannot run them")
        if isinstance(self.template.get("data"), dict):
            raise images.MissingProgram("data templates read an artifact repository; the local runner cannot run them")
        if isinstance(self.template.get("containerSet"), dict):
            raise images.MissingProgram("containerSet templates are not supported by the local runner yet")
        if self.template.get("sidecars"):
            raise images.MissingProgram("sidecars need their images; the local runner cannot run them")
        root = self.dir / "root"
        tmp = self.dir / "tmp"
        root.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(parents=True, exist_ok=True)
        extra = {SCRIPT_PATH: self.dir / "script", "/var/run/argo": self.dir / "var-run-argo"}
        (self.dir / "var-run-argo").mkdir(exist_ok=True)
        self.pathmap = isolation_map(self.template, self._mounts(), root, extra)
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
            (self.dir / "script").write_text(self.pathmap.rewrite(str(script.get("source") or "")))
            (self.dir / "script").chmod(0o755)  # `command: [sh, -c]` runs the file itself
        command = list(self.main.get("command") or [])
        if "--" in command:
            command = command[command.index("--") + 1 :]
        command = [self.pathmap.rewrite(str(c)) for c in command]
        args = [self.pathmap.rewrite(str(a)) for a in self.main.get("args") or ()]
        env = dict(os.environ)
        for entry in self.main.get("env") or ():
            value = _env_value(self.pod, entry)
            if value is not None and entry.get("name"):
                env[entry["name"]] = self.pathmap.rewrite(value)
        env["TMPDIR"] = str(tmp)
        env["PATH"] = os.pathsep.join(p for p in (env.get("PATH"), str(SHIMS)) if p)
        argv = images.resolve(str(self.main.get("image") or ""), command, args, env.get("PATH"))
        workdir = self.main.get("workingDir")
        cwd = root
        if isinstance(workdir, str) and workdir:
            local = Path(self.pathmap.rewrite(workdir))
            if local == Path(workdir) and not local.is_dir():
                local = root / workdir.lstrip("/")
            local.mkdir(parents=True, exist_ok=True)
            cwd = local
        return argv, env, cwd

    # --- running -------------------------------------------------------------------------------------

    def start(self, on_exit: Callable[[LocalPod], None], on_line: Callable[[LocalPod, str, str], None]) -> None:
        self.started = time.time()
        self.state = "running"
        try:
            argv, env, cwd = self.prepare()
        except (images.MissingProgram, artifacts.ArtifactError, OSError) as exc:
            self.finished = time.time()
            self.state = "done"
            self.message = str(exc)
            self.reason = "LocalRunnerError"
            self.exit_code = 127
            on_exit(self)
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self.proc = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            self.finished = time.time()
            self.state = "done"
            self.message = f"cannot start {argv[0]}: {exc}"
            self.reason = "LocalRunnerError"
            self.exit_code = 127
            on_exit(self)
            return
        combined = open(self.dir / "combined", "ab")  # noqa: SIM115 (closed by the waiter)
        lock = threading.Lock()

        def pump(stream, path: Path, label: str) -> None:
            with open(path, "wb") as out:
                for line in iter(stream.readline, b""):
                    out.write(line)
                    with lock:
                        combined.write(line)
                    on_line(self, label, line.decode("utf-8", "replace").rstrip("\n"))
            stream.close()

        readers = [
            threading.Thread(target=pump, args=(self.proc.stdout, self.dir / "stdout", "stdout"), daemon=True),
            threading.Thread(target=pump, args=(self.proc.stderr, self.dir / "stderr", "stderr"), daemon=True),
        ]
        for reader in readers:
            reader.start()

        def waiter() -> None:
            code = self.proc.wait()
            for reader in readers:
                reader.join()
            combined.close()
            self.finished = time.time()
            self.exit_code = 128 - code if code < 0 else code
            self._collect()
            self.state = "done"
            on_exit(self)

        thread = threading.Thread(target=waiter, daemon=True)
        thread.start()
        self._threads = [*readers, thread]

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
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminating = True
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        proc = self.proc

        def killer() -> None:
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)

        threading.Thread(target=killer, daemon=True).start()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    # --- outputs -------------------------------------------------------------------------------------

    def _output_path(self, path: str) -> Path:
        """Where an output was written: the node's own copy, or else a path the host already has (`/etc`)."""
        local = self.pathmap.local(path)
        top = "/" + path.strip("/").split("/", 1)[0]
        if not local.exists() and local != Path(path) and top in SYSTEM_DIRS and Path(path).exists():
            return Path(path)
        return local

    def _collect(self) -> None:
        outputs: dict[str, Any] = {}
        errors: list[str] = []
        if self.include_result:
            data = (self.dir / "stdout").read_bytes() if (self.dir / "stdout").exists() else b""
            text = data[-RESULT_LIMIT:].decode("utf-8", "replace")
            outputs["result"] = text[:-1] if text.endswith("\n") else text
        declared = self.template.get("outputs") or {}
        params = []
        for param in declared.get("parameters") or ():
            value_from = param.get("valueFrom") or {}
            path = value_from.get("path")
            if not path:
                continue
            local = self._output_path(path)
            value = None
            try:
                if local.is_file():
                    value = local.read_text()
                    value = value[:-1] if value.endswith("\n") else value
            except OSError:
                value = None
            if value is None:
                if value_from.get("default") is not None:
                    value = str(value_from["default"])
                else:
                    errors.append(f"output parameter {param.get('name')}: {path}: no such file or directory")
                    continue
            out = {k: v for k, v in param.items() if k != "value"}
            out["value"] = value
            params.append(out)
        if params:
            outputs["parameters"] = params
        arts = []
        for art in declared.get("artifacts") or ():
            if not art.get("path"):
                continue
            try:
                saved = artifacts.save(art, self._output_path(art["path"]), self.paths.artifact_dir,
                                       self.workflow_name, self.name)
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

    def observation(self) -> PodObservation:
        if self.state == "pending":
            return PodObservation(name=self.name, node_id=self.node_id, phase="Pending")
        started = _stamp(self.started or time.time())
        if self.state == "running":
            return PodObservation(
                name=self.name, node_id=self.node_id, phase="Running", host_node_name="localhost", pod_ip="127.0.0.1",
                containers=(ContainerObservation("wait", "running", started_at=started),
                            ContainerObservation("main", "running", started_at=started, ready=True)),
            )
        finished = _stamp(self.finished or time.time())
        code = self.exit_code if self.exit_code is not None else 1
        main = ContainerObservation("main", "terminated", code, "Completed" if code == 0 else "Error",
                                    started_at=started, finished_at=finished)
        wait_code = 1 if self.wait_error else 0
        wait = ContainerObservation("wait", "terminated", wait_code, "Error" if wait_code else "Completed",
                                    message=self.wait_error, started_at=started, finished_at=finished)
        message, reason = self.message, self.reason
        if self.deadline_hit:
            message, reason = DEADLINE_MESSAGE, "DeadlineExceeded"
        phase = "Succeeded" if code == 0 and not self.wait_error and not message else "Failed"
        return PodObservation(name=self.name, node_id=self.node_id, phase=phase, containers=(wait, main),
                              message=message, reason=reason, host_node_name="localhost")

    def task_result(self) -> TaskResultObservation | None:
        if self.state != "done":
            return None
        return TaskResultObservation(node_id=self.node_id, outputs=self.outputs, completed=True)
