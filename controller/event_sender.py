"""Kubernetes Events sent off the reconcile path, as client-go's event broadcaster sends Argo's.

A reconcile that emits events (WorkflowRunning, node events, ...) only queues them: each one is an API
request, and awaited inside the reconcile they held a workflow worker for a round trip apiece (a
one-pod workflow emits 4 to 9). `senders` tasks create them from a bounded queue in order of arrival.
Events are best effort, as before: a refusal is logged, and when the queue is full (the API server is
far behind) the event is dropped and counted (`sluice_controller_events_dropped_total`), never waited
for. On a clean shutdown the queue is drained for a bounded time; after a lost Lease it is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from controller.metrics import Metrics
from kube.rest import ApiError, Rest

log = logging.getLogger("sluice.controller")

# Events waiting, as client-go's broadcaster queues Argo's (maxQueuedEvents 1,000, then dropped): at 5,000
# workflows started at once a 10,000 queue filled anyway (benchmarks/bench_scale.py --live 5000).
CAPACITY = 1_000
SENDERS = 2
DROP_LOG_SECONDS = 10.0


class EventSender:
    def __init__(self, rest: Rest, metrics: Metrics, capacity: int = CAPACITY) -> None:
        self.rest = rest
        self.metrics = metrics
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=capacity)
        self.tasks: list[asyncio.Task] = []
        self._last_drop_log = -DROP_LOG_SECONDS

    def start(self, senders: int = SENDERS) -> None:
        self.tasks = [asyncio.create_task(self._run(), name=f"events-{i}") for i in range(senders)]

    async def send(self, body: dict[str, Any]) -> None:
        """Queue `body` (a core/v1 Event); without started senders (a controller used in-process), send
        it now."""
        if not self.tasks:
            await self._create(body)
            return
        try:
            self.queue.put_nowait(body)
        except asyncio.QueueFull:
            self.metrics.events_dropped.inc()
            now = time.monotonic()
            if now - self._last_drop_log >= DROP_LOG_SECONDS:  # one line per burst, not one per event
                self._last_drop_log = now
                log.warning(
                    "events dropped: too many waiting to be sent",
                    extra={
                        "dropped_total": int(self.metrics.events_dropped.get()),
                        "waiting": self.queue.qsize(),
                    },
                )

    async def stop(self, grace: float) -> None:
        """Send what is queued for up to `grace` seconds (0: drop it), then stop the senders."""
        if self.tasks and grace > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.queue.join(), grace)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []

    async def _run(self) -> None:
        while True:
            body = await self.queue.get()
            try:
                await self._create(body)
            finally:
                self.queue.task_done()

    async def _create(self, body: dict[str, Any]) -> None:
        meta = body.get("metadata") or {}
        try:
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
