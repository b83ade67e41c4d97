"""One pod the engine asked for, run as local processes: its life from pending to done.

The pod is read the way the executor reads it (pod_spec.py): the user's command and args follow the
launcher's `--` in each container's command, env and working dir are the container's. Paths are
isolated per node (paths.py, or the step's own copy-on-write view of `/`: cowroot.py). Each container
runs as a process (container_process.py), a containerSet's in the order of its dependencies. After they
exit, what the `wait` container would report is collected (pod_outputs.py); the pod and its task result
are then reported as observations (pod_observation.py).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sluice.runner import (
    artifacts,
    container_process,
    cowroot,
    images,
    leftovers,
    pod_observation,
    pod_outputs,
    pod_spec,
)
from sluice.runner.paths import PathMap, isolation_map, normal
from workflow import outputs as output_rules
from workflow.engine import PodObservation, TaskResultObservation
from workflow.engine.pod_containers import SCRIPT_PATH

SHIMS = Path(__file__).resolve().parent / "shims"  # programs some example images carry (cowsay)
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
        self.template = pod_spec.template(spec)
        self.main = next((c for c in spec.get("containers") or () if c.get("name") == "main"), None)
        self.containers = pod_spec.user_containers(spec, self.template)
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

    def prepare(self) -> None:
        pod_spec.check_runnable(self.spec, self.template, self.containers)
        root = self.dir / "root"
        self.tmp = self.dir / "tmp"
        self.mounts = pod_spec.mounts(self.spec, self.template, self.containers, self.dir, self.paths.volumes)
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
            value = pod_spec.env_value(self.pod, entry)
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
            proc, terminal = container_process.start(argv, cwd, env, tty=container.get("tty") is True)
        except OSError as exc:
            self.message = f"cannot start {argv[0]}: {exc}"
            self.reason = "LocalRunnerError"
            return 127
        self.procs[name] = proc
        if name == self.result_container:
            self.proc = proc
        lock = threading.Lock()
        label = "stdout" if len(self.containers) == 1 else name

        combined = self.dir / "combined"

        def read_into(stream, path: Path) -> threading.Thread:
            def line(text: str) -> None:
                on_line(self, label, text)

            args = (stream, path, combined, lock, line)
            return threading.Thread(target=container_process.pump, args=args, daemon=True)

        if terminal is not None:  # on a terminal: stdout and stderr are one stream, as with a pod's tty
            readers = [read_into(terminal, stdout_path)]
        else:
            readers = [
                read_into(proc.stdout, stdout_path),
                read_into(proc.stderr, self.dir / f"{name}.stderr"),
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
        container_process.terminate(list(self.procs.values()), grace)

    def kill(self) -> None:
        self.terminating = True
        for name, proc in list(self.procs.items()):
            leftovers.stop(proc.pid if proc.poll() is None else None, self.tokens.get(name, ""))

    # --- outputs and observations --------------------------------------------------------------------

    def _collect(self) -> None:
        stdout = self.dir / "stdout" if self.include_result else None
        collected = pod_outputs.collect(
            self.template, self.pathmap, stdout, self.paths.artifact_dir, self.workflow_name, self.name
        )
        self.outputs = collected.outputs
        if collected.errors and self.exit_code == 0:
            self.wait_error = "; ".join(collected.errors)

    def observation(self) -> PodObservation:
        return pod_observation.observation(self)

    def task_result(self) -> TaskResultObservation | None:
        return pod_observation.task_result(self)
