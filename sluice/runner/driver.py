"""The local runner: drives `workflow.engine.step` with local processes instead of pods.

Loop: step the engine with what is observed (local pods, their outputs, locks, the memoization cache,
resume requests), apply its actions (start/stop processes, patch the workflow, grant/release locks, save
cache entries), then sleep until something happens: a process exits, the engine's requeue time comes, a
deadline passes, or a resume request arrives. The workflow object is written to `<run>/workflow.json`
after every step, so another shell can see it.

Ctrl-C: the first asks the engine to stop (`spec.shutdown: Stop`: running steps get SIGTERM, exit
handlers still run); the second terminates (`Terminate`: no exit handlers); the third kills everything.
"""

from __future__ import annotations

import copy
import json
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sluice.runner import state
from sluice.runner.display import Display
from sluice.runner.localpod import LocalPod, RunPaths
from workflow.engine import (
    AcquireLock,
    CacheEntry,
    CreatePod,
    DeletePod,
    LockObservation,
    Observed,
    PatchObject,
    ReleaseLock,
    SaveCache,
    TerminatePod,
    step,
)
from workflow.engine.model import EngineConfig

DONE = ("Succeeded", "Failed", "Error")
POLL_SECONDS = 0.5


@dataclass
class RunOptions:
    run_dir: Path
    artifact_dir: Path
    parallelism: int | None = None
    templates: Any = None
    config_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    handle_signals: bool = True
    # `sluice run` has checked the workflow against these templates and it passed: the engine's first
    # step does not check it again (Observed.checked)
    checked: bool = False


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class Runner:
    def __init__(self, workflow: dict[str, Any], options: RunOptions, display: Display | None = None):
        self.workflow = workflow
        self.options = options
        self.display = display or Display(quiet=True)
        self.paths = RunPaths(options.run_dir, options.artifact_dir)
        self.pods: dict[str, LocalPod] = {}
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.locks: dict[str, LockObservation] = {}
        self.cache: dict[str, dict[str, CacheEntry]] = {}
        self.interrupts = 0
        self.steps = 0
        self.engine_seconds = 0.0
        self.first_step_seconds = 0.0
        self.config = EngineConfig(  # images.py knows entrypoints; the template is read in-process
            executor_image="sluice/local", require_command=False, template_offload_bytes=None
        )

    # --- observations ------------------------------------------------------------------------------

    def observed(self) -> Observed:
        pods = {}
        results = {}
        for node_id, pod in self.pods.items():
            pods[node_id] = pod.observation()
            result = pod.task_result()
            if result is not None:
                results[node_id] = result
        return Observed(
            pods=pods,
            task_results=results,
            config_maps=self.options.config_maps,
            locks=dict(self.locks),
            cache=self.cache,
            resume=tuple(state.take_requests(self.options.run_dir)) if self._suspended() else (),
            templates=self.options.templates,
            config=self.config,
            checked=self.options.checked,
        )

    def _suspended(self) -> bool:
        """Resume requests wait in their directory until something is suspended."""
        if (self.workflow.get("spec") or {}).get("suspend"):
            return True
        nodes = (self.workflow.get("status") or {}).get("nodes") or {}
        return any(
            n.get("type") == "Suspend" and n.get("phase") in ("Pending", "Running") for n in nodes.values()
        )

    # --- actions -----------------------------------------------------------------------------------

    def apply(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, CreatePod):
                if action.node_id not in self.pods:
                    self.pods[action.node_id] = LocalPod(
                        action.pod, action.node_id, self.paths, self.workflow["metadata"]["name"]
                    )
            elif isinstance(action, (TerminatePod, DeletePod)):
                pod = self.pods.get(action.node_id)
                if pod is not None:
                    if pod.state == "pending":
                        pod.state = "done"
                        pod.exit_code = 143
                        pod.message = action.reason or "deleted"
                    else:
                        pod.terminate(grace=getattr(action, "grace_seconds", 10))
            elif isinstance(action, PatchObject) and action.kind == "Workflow":
                merge_patch(self.workflow, action.patch)
            elif isinstance(action, AcquireLock):
                lock = self.locks.get(action.lock) or LockObservation(action.lock, action.limit)
                if action.holder not in lock.holders and len(lock.holders) < action.limit:
                    lock = LockObservation(action.lock, action.limit, (*lock.holders, action.holder))
                    self.events.put(("wake", None))
                self.locks[action.lock] = lock
            elif isinstance(action, ReleaseLock):
                lock = self.locks.get(action.lock)
                if lock is not None and action.holder in lock.holders:
                    holders = tuple(h for h in lock.holders if h != action.holder)
                    self.locks[action.lock] = LockObservation(lock.name, lock.limit, holders)
                    self.events.put(("wake", None))
            elif isinstance(action, SaveCache):
                entry = action.entry
                self.cache.setdefault(action.config_map, {})[action.key] = CacheEntry(
                    node_id=entry.get("nodeID", ""),
                    outputs=entry.get("outputs"),
                    creation_timestamp=entry.get("creationTimestamp", ""),
                    last_hit_timestamp=entry.get("lastHitTimestamp"),
                )

    def start_pending(self) -> None:
        limit = self.options.parallelism
        running = sum(1 for p in self.pods.values() if p.state == "running")
        for pod in self.pods.values():
            if pod.state != "pending":
                continue
            if limit is not None and running >= limit:
                break
            pod.start(self._on_exit, self._on_line)
            running += 1

    def _on_exit(self, pod: LocalPod) -> None:
        self.events.put(("exit", pod))

    def _on_line(self, pod: LocalPod, stream: str, line: str) -> None:
        label = pod.node_name.rsplit(".", 1)[-1] if pod.node_name else pod.name
        nodes = (self.workflow.get("status") or {}).get("nodes") or {}
        node = nodes.get(pod.node_id)
        if node is not None:
            label = node.get("displayName") or label
        self.display.log(label, line)

    # --- signals -----------------------------------------------------------------------------------

    def _interrupt(self, signum: int, frame: Any) -> None:
        self.interrupts += 1
        self.events.put(("interrupt", self.interrupts))

    def _handle_interrupt(self, count: int) -> None:
        spec = self.workflow.setdefault("spec", {})
        if count == 1:
            spec["shutdown"] = "Stop"
            self.display.message(
                "stopping: running steps get SIGTERM, exit handlers still run (Ctrl-C again to terminate)"
            )
        elif count == 2:
            spec["shutdown"] = "Terminate"
            self.display.message("terminating (Ctrl-C again to kill everything now)")
        else:
            for pod in self.pods.values():
                pod.kill()
            raise KeyboardInterrupt

    # --- the loop ----------------------------------------------------------------------------------

    def _timeout(self, requeue: float | None) -> float:
        now = time.time()
        waits = [requeue] if requeue is not None else []
        for pod in self.pods.values():
            left = pod.check_deadline(now)
            if left is not None:
                waits.append(left)
        nodes = (self.workflow.get("status") or {}).get("nodes") or {}
        suspended = any(
            n.get("type") == "Suspend" and n.get("phase") in ("Pending", "Running") for n in nodes.values()
        )
        if suspended or self.workflow.get("spec", {}).get("suspend"):
            waits.append(POLL_SECONDS)
        if not waits:
            waits.append(5.0)
        return max(0.0, min(waits))

    def run(self) -> dict[str, Any]:
        run_dir = self.options.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.options.artifact_dir.mkdir(parents=True, exist_ok=True)
        state.write_pid(run_dir)
        previous = {}
        if self.options.handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, self._interrupt)
        try:
            return self._loop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for pod in self.pods.values():
                pod.kill()
            (run_dir / "pid").unlink(missing_ok=True)

    def _loop(self) -> dict[str, Any]:
        while True:
            started = time.perf_counter()
            decision = step(self.workflow, self.observed(), datetime.now(UTC))
            elapsed = time.perf_counter() - started
            self.engine_seconds += elapsed
            if self.steps == 0:
                self.first_step_seconds = elapsed
            self.steps += 1
            self.workflow["status"] = decision.status
            self.apply(decision.actions)
            self._save()
            phase = decision.status.get("phase")
            if phase in DONE:
                self.display.update(self.workflow, force=True)
                self.display.finish(self.workflow)
                return self.workflow
            self.display.update(self.workflow)
            self.start_pending()
            self._wait(self._timeout(decision.requeue_after))

    def _wait(self, timeout: float) -> None:
        try:
            kind, value = self.events.get(timeout=timeout)
        except queue.Empty:
            return
        self._event(kind, value)
        while True:  # take everything already there: one engine step for a burst of exits
            try:
                kind, value = self.events.get_nowait()
            except queue.Empty:
                return
            self._event(kind, value)

    def _event(self, kind: str, value: Any) -> None:
        if kind == "interrupt":
            self._handle_interrupt(value)

    def _save(self) -> None:
        path = self.options.run_dir / "workflow.json"
        tmp = path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(self.workflow))
            os.replace(tmp, path)
        except OSError:
            pass
