"""Synchronization (semaphores and mutexes) as decisions on observed lock state.

The engine never grants a lock itself: it proceeds only once the observed lock lists this holder, and
otherwise asks for it (AcquireLock) and waits with Argo's message. Granting, priority and fairness
between workflows belong to the driver's lock manager (the controller's, or the local runner's). Locks of
fulfilled nodes, and of a completed workflow, are released with ReleaseLock.
"""

from __future__ import annotations

from typing import Any

from workflow.engine.defs import fulfilled
from workflow.engine.model import AcquireLock, ReleaseLock
from workflow.engine.state import Operation


def lock_names(op: Operation, sync: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    """(lock key, kind "semaphore"|"mutex", limit when known) for each lock a synchronization names."""
    out: list[tuple[str, str, int | None]] = []
    for sem in sync.get("semaphores") or ():
        if not isinstance(sem, dict):
            continue
        ns = sem.get("namespace") or op.namespace
        ref = sem.get("configMapKeyRef")
        if isinstance(ref, dict):
            limit = None
            data = op.observed.config_maps.get(f"{ns}/{ref.get('name')}")
            if data is not None and ref.get("key") in data:
                try:
                    limit = int(str(data[ref["key"]]).strip())
                except ValueError:
                    limit = None
            out.append((f"{ns}/ConfigMap/{ref.get('name')}/{ref.get('key')}", "semaphore", limit))
        elif isinstance(sem.get("database"), dict):
            out.append((f"{ns}/Database/{sem['database'].get('key')}", "semaphore", None))
    for mutex in sync.get("mutexes") or ():
        if not isinstance(mutex, dict):
            continue
        ns = mutex.get("namespace") or op.namespace
        if mutex.get("database"):
            out.append((f"{ns}/Database/Mutex/{mutex.get('name')}", "mutex", 1))
        else:
            out.append((f"{ns}/Mutex/{mutex.get('name')}", "mutex", 1))
    return out


def _try(op: Operation, holder: str, sync: dict[str, Any], priority: int) -> tuple[bool, str, str]:
    """(acquired, the lock waited for, the node's message while it waits)."""
    for name, _kind, limit in lock_names(op, sync):
        observed = op.observed.locks.get(name)
        if limit is None:
            limit = observed.limit if observed is not None else 1
        holders = observed.holders if observed is not None else ()
        if holder in holders:
            continue
        op.act(AcquireLock(lock=name, holder=holder, limit=limit, priority=priority))
        return False, name, f"Waiting for {name} lock. Lock status: {len(holders)}/{limit}"
    return True, "", ""


def _priority(spec: dict[str, Any]) -> int:
    value = spec.get("priority")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def try_acquire_node(
    op: Operation, node_id: str, sync: dict[str, Any], spec: dict[str, Any]
) -> tuple[bool, str, str]:
    return _try(op, f"{op.namespace}/{op.name}/{node_id}", sync, _priority(spec))


def try_acquire_workflow(op: Operation, sync: dict[str, Any], spec: dict[str, Any]) -> tuple[bool, str, str]:
    return _try(op, f"{op.namespace}/{op.name}", sync, _priority(spec))


def release_finished(op: Operation, workflow_done: bool) -> None:
    """ReleaseLock for every lock this workflow holds for a fulfilled node (all of them when done)."""
    wf_holder = f"{op.namespace}/{op.name}"
    prefix = wf_holder + "/"
    for name, lock in op.observed.locks.items():
        for holder in lock.holders:
            if holder == wf_holder:
                if workflow_done:
                    op.act(ReleaseLock(lock=name, holder=holder))
            elif holder.startswith(prefix):
                node = op.nodes.get(holder[len(prefix) :])
                if workflow_done or node is None or fulfilled(node):
                    op.act(ReleaseLock(lock=name, holder=holder))


def status(op: Operation) -> dict[str, Any] | None:
    """`status.synchronization`: what this workflow holds and waits for."""
    wf_holder = f"{op.namespace}/{op.name}"
    prefix = wf_holder + "/"
    sem_holding: list[dict[str, Any]] = []
    mutex_holding: list[dict[str, Any]] = []
    for name, lock in sorted(op.observed.locks.items()):
        mine = [h for h in lock.holders if h == wf_holder or h.startswith(prefix)]
        if not mine:
            continue
        shown = [op.name if h == wf_holder else h[len(prefix) :] for h in mine]
        if "/Mutex/" in name:
            mutex_holding.extend({"mutex": name, "holder": h} for h in shown)
        else:
            sem_holding.append({"semaphore": name, "holders": shown})
    waiting_sem: dict[str, list[str]] = {}
    waiting_mutex: list[dict[str, str]] = []
    for node in op.nodes.values():
        waiting = (node.get("synchronizationStatus") or {}).get("waiting")
        if waiting:
            if "/Mutex/" in waiting:
                waiting_mutex.append({"mutex": waiting, "holder": node["id"]})
            else:
                waiting_sem.setdefault(waiting, []).append(node["id"])
    out: dict[str, Any] = {}
    if sem_holding or waiting_sem:
        sem: dict[str, Any] = {}
        if sem_holding:
            sem["holding"] = sem_holding
        if waiting_sem:
            sem["waiting"] = [{"semaphore": k, "holders": v} for k, v in waiting_sem.items()]
        out["semaphore"] = sem
    if mutex_holding or waiting_mutex:
        mutex: dict[str, Any] = {}
        if mutex_holding:
            mutex["holding"] = mutex_holding
        if waiting_mutex:
            mutex["waiting"] = waiting_mutex
        out["mutex"] = mutex
    return out or None
