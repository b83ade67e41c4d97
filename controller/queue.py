"""The work queue: keys (`<namespace>/<name>`) waiting to be reconciled, as client-go's workqueue does it.

* Deduplicates: a key added many times before a worker takes it is processed once.
* Never one key twice at once: a key added while a worker holds it is marked dirty and handed out
  again only after `done(key)`.
* Delays: `add(key, after=s)` schedules a key (the engine's `requeue_after`); an earlier schedule for
  the same key wins, and an immediate add always wins.
* Per-key backoff: `retry(key)` re-adds after base * 2^failures (capped); `forget(key)` resets it
  after a success.

`Core` is the pure bookkeeping with the time passed in (unit-tested without sleeping);
`WorkQueue` wraps it for asyncio workers with the event loop's monotonic clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections import deque
from dataclasses import dataclass, field


@dataclass(slots=True)
class Core:
    base_backoff: float = 0.05
    max_backoff: float = 60.0
    ready: deque[str] = field(default_factory=deque)
    queued: set[str] = field(default_factory=set)  # in `ready`
    processing: set[str] = field(default_factory=set)
    dirty: set[str] = field(default_factory=set)  # added while processing
    waiting: list[tuple[float, int, str]] = field(default_factory=list)  # heap of (due, seq, key)
    due: dict[str, float] = field(default_factory=dict)  # earliest due time per delayed key
    failures: dict[str, int] = field(default_factory=dict)
    _seq: int = 0

    def add(self, key: str) -> bool:
        """Make `key` ready; True when a worker may now take it (it was neither queued nor held)."""
        self.due.pop(key, None)
        if key in self.processing:
            self.dirty.add(key)
            return False
        if key in self.queued:
            return False
        self.queued.add(key)
        self.ready.append(key)
        return True

    def add_after(self, key: str, delay: float, now: float) -> None:
        if delay <= 0:
            self.add(key)
            return
        when = now + delay
        if key in self.queued or self.due.get(key, float("inf")) <= when:
            return
        self.due[key] = when
        self._seq += 1
        heapq.heappush(self.waiting, (when, self._seq, key))

    def promote(self, now: float) -> float | None:
        """Move every delayed key that is due to ready; return the next due time, if any."""
        while self.waiting:
            when, _, key = self.waiting[0]
            if self.due.get(key) != when:  # superseded by an earlier schedule or an immediate add
                heapq.heappop(self.waiting)
                continue
            if when > now:
                return when
            heapq.heappop(self.waiting)
            del self.due[key]
            self.add(key)
        return None

    def take(self) -> str | None:
        if not self.ready:
            return None
        key = self.ready.popleft()
        self.queued.discard(key)
        self.processing.add(key)
        return key

    def done(self, key: str) -> None:
        self.processing.discard(key)
        if key in self.dirty:
            self.dirty.discard(key)
            self.add(key)

    def backoff(self, key: str) -> float:
        n = self.failures.get(key, 0)
        self.failures[key] = n + 1
        return min(self.base_backoff * (2**n), self.max_backoff)

    def forget(self, key: str) -> None:
        self.failures.pop(key, None)

    def __len__(self) -> int:
        return len(self.ready)


class WorkQueue:
    """`Core` for asyncio workers: `await get()` hands out a ready key, `done(key)` releases it."""

    def __init__(self, base_backoff: float = 0.05, max_backoff: float = 60.0) -> None:
        self.core = Core(base_backoff=base_backoff, max_backoff=max_backoff)
        self._wake = asyncio.Event()
        self.closed = False

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def add(self, key: str, after: float = 0.0) -> None:
        if after > 0:
            self.core.add_after(key, after, self._now())
        else:
            self.core.add(key)
        self._wake.set()

    def retry(self, key: str) -> float:
        delay = self.core.backoff(key)
        self.add(key, delay)
        return delay

    def forget(self, key: str) -> None:
        self.core.forget(key)

    def done(self, key: str) -> None:
        self.core.done(key)
        self._wake.set()

    def depth(self) -> int:
        return len(self.core) + len(self.core.due)

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def get(self) -> str | None:
        """The next ready key, or None once the queue is closed."""
        while not self.closed:
            next_due = self.core.promote(self._now())
            key = self.core.take()
            if key is not None:
                return key
            self._wake.clear()
            timeout = None if next_due is None else max(0.0, next_due - self._now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
        return None
