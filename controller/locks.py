"""The lock manager: semaphores and mutexes across workflows.

The engine never grants a lock (workflow/engine/locks.py): it emits AcquireLock / ReleaseLock and
proceeds once the observed lock lists its holder. This manager decides: a free slot goes to the
highest priority waiter, first come first served within a priority; a holder that asks again keeps its
slot. Holder keys are `<ns>/<wf>` (workflow-level) or `<ns>/<wf>/<nodeID>`.

Held locks survive restarts because every workflow's status records what it holds
(`status.synchronization.{semaphore,mutex}.holding`, written by the engine): a new leader calls
`rebuild` with all workflows before its first reconcile, and `drop_workflow` frees what a deleted
workflow held, so no lock leaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.engine import LockObservation


def workflow_key(holder: str) -> str:
    """`ns/wf` of a holder key `ns/wf` or `ns/wf/node`."""
    return "/".join(holder.split("/", 2)[:2])


@dataclass(slots=True)
class _Lock:
    limit: int
    holders: list[str] = field(default_factory=list)
    waiting: dict[str, tuple[int, int]] = field(default_factory=dict)  # holder -> (-priority, seq)


@dataclass(slots=True)
class LockManager:
    locks: dict[str, _Lock] = field(default_factory=dict)
    _seq: int = 0

    def _lock(self, name: str, limit: int) -> _Lock:
        # A semaphore limit of 0 grants nothing (Argo's weighted semaphore of size 0): a way to hold every
        # workflow that uses it until the ConfigMap raises it again.
        lock = self.locks.get(name)
        if lock is None:
            lock = self.locks[name] = _Lock(limit=max(0, limit))
        else:
            lock.limit = max(0, limit)
        return lock

    def acquire(self, name: str, holder: str, limit: int = 1, priority: int = 0) -> bool:
        """Grant `holder` a slot of `name` if one is free and no better waiter is ahead; else queue it."""
        lock = self._lock(name, limit)
        if holder in lock.holders:
            return True
        if holder not in lock.waiting:
            self._seq += 1
            lock.waiting[holder] = (-priority, self._seq)
        ahead = sorted(lock.waiting, key=lock.waiting.__getitem__)
        free = lock.limit - len(lock.holders)
        if free > 0 and holder in ahead[:free]:
            del lock.waiting[holder]
            lock.holders.append(holder)
            return True
        return False

    def release(self, name: str, holder: str) -> list[str]:
        """Free `holder`'s slot; the workflow keys of the waiters that may take a slot now."""
        lock = self.locks.get(name)
        if lock is None:
            return []
        if holder in lock.holders:
            lock.holders.remove(holder)
        lock.waiting.pop(holder, None)
        return self._next(lock)

    @staticmethod
    def _next(lock: _Lock) -> list[str]:
        free = lock.limit - len(lock.holders)
        if free <= 0:
            return []
        return [workflow_key(h) for h in sorted(lock.waiting, key=lock.waiting.__getitem__)[:free]]

    def drop_workflow(self, wf_key: str) -> list[str]:
        """Release and unqueue everything of a deleted workflow; the workflow keys to wake."""
        wake: list[str] = []
        for lock in self.locks.values():
            mine = [h for h in lock.holders if workflow_key(h) == wf_key]
            queued = [h for h in lock.waiting if workflow_key(h) == wf_key]
            for h in mine:
                lock.holders.remove(h)
            for h in queued:
                del lock.waiting[h]
            if mine:
                wake += self._next(lock)
        return wake

    def waiting_on_config_map(self, namespace: str, name: str) -> list[str]:
        """The workflow keys waiting for a semaphore whose limit lives in ConfigMap `namespace/name`
        (lock keys `<ns>/ConfigMap/<name>/<key>`, workflow/engine/locks.py lock_names)."""
        prefix = f"{namespace}/ConfigMap/{name}/"
        keys = {
            workflow_key(h)
            for lock_name, lock in self.locks.items()
            if lock_name.startswith(prefix)
            for h in lock.waiting
        }
        return sorted(keys)

    def holds(self, wf_key: str) -> int:
        return sum(1 for lock in self.locks.values() for h in lock.holders if workflow_key(h) == wf_key)

    def observation(self) -> dict[str, LockObservation]:
        return {
            name: LockObservation(
                name=name,
                limit=lock.limit,
                holders=tuple(lock.holders),
                queue=tuple(sorted(lock.waiting, key=lock.waiting.__getitem__)),
            )
            for name, lock in self.locks.items()
        }

    def rebuild(self, workflows: list[dict[str, Any]]) -> None:
        """Take the holders every workflow's status records (a new leader, before its first reconcile)."""
        for wf in workflows:
            meta = wf.get("metadata") or {}
            ns, name = meta.get("namespace") or "", meta.get("name") or ""
            status = wf.get("status") or {}
            if status.get("phase") in ("Succeeded", "Failed", "Error"):
                continue
            sync = status.get("synchronization") or {}
            for entry in (sync.get("semaphore") or {}).get("holding") or ():
                for shown in entry.get("holders") or ():
                    self._restore(entry.get("semaphore") or "", ns, name, shown)
            for entry in (sync.get("mutex") or {}).get("holding") or ():
                self._restore(entry.get("mutex") or "", ns, name, entry.get("holder") or "")

    def _restore(self, lock_name: str, ns: str, wf: str, shown: str) -> None:
        if not lock_name or not shown:
            return
        holder = f"{ns}/{wf}" if shown == wf else f"{ns}/{wf}/{shown}"
        lock = self.locks.get(lock_name) or self._lock(lock_name, 1)
        if holder not in lock.holders:
            lock.holders.append(holder)
            # A restored lock may be over its guessed limit until the engine states the real one.
            lock.limit = max(lock.limit, len(lock.holders))
