"""Kubernetes Events sent off the reconcile path, correlated and bounded as client-go's event broadcaster
sends Argo's.

A reconcile that emits events (WorkflowRunning, node events, ...) only queues them: each one is an API
request, and awaited inside the reconcile they held a workflow worker for a round trip apiece (a
one-pod workflow emits 4 to 9). Each event first passes controller/event_correlator.py (client-go's
rules: similar events combined, repeats counted on one Event, a spam limit per workflow), which turns it
into a create or a PATCH of an Event already recorded; `senders` tasks then send those in order of
arrival.

Writes to one Event object are spaced `update_interval` seconds apart and at most one is in flight: an
update that arrives while an earlier one for the same Event still waits is merged into it (the newer
count, timestamp and message), so a 1,000-node loop updates its few combined Events a few times a
second, not 1,000 times, and the API server ends with the same counts. A PATCH of an Event that is gone
(the API server's event TTL, 1 h by default) is sent again as a create, never lost.

Events are best effort, as before: a refusal is logged, and when too many are waiting (the API server
is far behind) the event is dropped and counted (`sluice_controller_events_dropped_total`), never waited
for. On a clean shutdown what waits is sent for a bounded time; after a lost Lease it is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from controller.event_correlator import Correlated, CorrelatorSettings, EventCorrelator, Lru
from controller.metrics import Metrics
from kube.rest import ApiError, Rest

log = logging.getLogger("sluice.controller")

# Events waiting, as client-go's broadcaster queues Argo's (maxQueuedEvents 1,000, then dropped): at 5,000
# workflows started at once a 10,000 queue filled anyway (benchmarks/bench_scale.py --live 5000).
CAPACITY = 1_000
SENDERS = 2
DROP_LOG_SECONDS = 10.0
UPDATE_INTERVAL = 1.0  # seconds between two writes to one Event object (Sluice's; client-go has none)

Key = tuple[Any, ...]


@dataclass(slots=True)
class _Write:
    body: dict[str, Any]
    patch: dict[str, Any] | None  # None: create `body`


class EventSender:
    def __init__(
        self,
        rest: Rest,
        metrics: Metrics,
        capacity: int = CAPACITY,
        settings: CorrelatorSettings | None = None,
        update_interval: float = UPDATE_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rest = rest
        self.metrics = metrics
        self.capacity = capacity
        self.clock = clock
        self.correlator = EventCorrelator(settings)
        self.update_interval = update_interval
        # keys ready to send, each at most once; a key is in `_busy` from its first pending write until
        # nothing is pending or in flight for it (queued, on a timer, or being sent)
        self.queue: asyncio.Queue[Key] = asyncio.Queue()
        self._pending: dict[Key, _Write] = {}
        self._busy: set[Key] = set()
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._written: Lru[Key, float] = Lru(self.correlator.settings.cache_entries)
        self._draining = False
        self.tasks: list[asyncio.Task] = []
        self._last_drop_log = -DROP_LOG_SECONDS

    def configure(self, settings: CorrelatorSettings, update_interval: float) -> None:
        """New rules from the controller's configuration (controller/config.py `events`); the caches
        start afresh only when the rules changed."""
        self.update_interval = update_interval
        if settings != self.correlator.settings:
            self.correlator = EventCorrelator(settings)
            self._written = Lru(settings.cache_entries)

    def start(self, senders: int = SENDERS) -> None:
        self._draining = False
        self.tasks = [asyncio.create_task(self._run(), name=f"events-{i}") for i in range(senders)]

    async def send(self, body: dict[str, Any]) -> None:
        """Queue `body` (a core/v1 Event); without started senders (a controller used in-process), send
        it now."""
        result = self.correlator.correlate(body, self.clock())
        if result is None:
            self.metrics.events_filtered.inc(rule="spam")
            return
        if result.combined:
            self.metrics.events_merged.inc(rule="combined")
        if result.patch is not None:
            self.metrics.events_merged.inc(rule="counted")
        if not self.tasks:
            await self._write(_Write(result.body, result.patch))
            return
        self._submit(result)

    def _submit(self, result: Correlated) -> None:
        waiting = self._pending.get(result.key)
        if waiting is not None:  # the newest state replaces it; a create stays a create
            waiting.body = result.body
            if waiting.patch is not None:
                waiting.patch = result.patch
            self.metrics.events_merged.inc(rule="coalesced")
            return
        if len(self._pending) >= self.capacity:
            self._dropped()
            return
        self._pending[result.key] = _Write(result.body, result.patch)
        if result.key not in self._busy:  # else the sender or timer holding the key picks it up
            self._busy.add(result.key)
            self._schedule(result.key)

    def _schedule(self, key: Key) -> None:
        last = self._written.get(key)
        wait = 0.0 if last is None or self._draining else self.update_interval - (self.clock() - last)
        if wait > 0:
            self._timers[key] = asyncio.get_running_loop().call_later(wait, self._ready, key)
        else:
            self.queue.put_nowait(key)

    def _ready(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.queue.put_nowait(key)

    def _dropped(self) -> None:
        self.metrics.events_dropped.inc()
        now = time.monotonic()
        if now - self._last_drop_log >= DROP_LOG_SECONDS:  # one line per burst, not one per event
            self._last_drop_log = now
            log.warning(
                "events dropped: too many waiting to be sent",
                extra={
                    "dropped_total": int(self.metrics.events_dropped.get()),
                    "waiting": len(self._pending),
                },
            )

    async def stop(self, grace: float) -> None:
        """Send what waits for up to `grace` seconds (0: drop it), then stop the senders."""
        if self.tasks and grace > 0:
            self._draining = True  # no more spacing: what a timer holds goes now
            for key in list(self._timers):
                self._timers.pop(key).cancel()
                self.queue.put_nowait(key)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.queue.join(), grace)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for handle in self._timers.values():
            handle.cancel()
        self.tasks = []
        self._timers.clear()
        self._pending.clear()
        self._busy.clear()
        self.queue = asyncio.Queue()

    async def _run(self) -> None:
        while True:
            key = await self.queue.get()
            write = self._pending.pop(key, None)
            try:
                if write is not None:
                    await self._write(write)
            finally:
                self._written.put(key, self.clock())
                if key in self._pending:  # arrived while this one was in flight
                    self._schedule(key)
                else:
                    self._busy.discard(key)
                self.queue.task_done()

    async def _write(self, write: _Write) -> None:
        body = write.body
        meta = body.get("metadata") or {}
        try:
            if write.patch is not None:
                try:
                    await self.rest.merge_patch(
                        "v1", "Event", meta.get("namespace"), meta["name"], write.patch, decode=False
                    )
                    return
                except ApiError as exc:
                    if exc.status != 404:
                        raise
                    # the Event expired or was deleted: record it anew, with the count so far
            await self.rest.create(body, meta.get("namespace"), decode=False)
        except asyncio.CancelledError:
            raise
        except ApiError as exc:  # events are best effort: a workflow never waits for one
            log.warning(
                "event not recorded",
                extra={
                    "workflow": (body.get("involvedObject") or {}).get("name"),
                    "reason": body.get("reason"),
                    "error": exc.message,
                },
            )
        except Exception as exc:  # a dropped connection: the event is lost, the sender goes on
            log.warning(
                "event not recorded",
                extra={"reason": body.get("reason"), "error": f"{type(exc).__name__}: {str(exc)[:200]}"},
            )
