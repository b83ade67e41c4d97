"""A small list-then-watch informer over kubernetes_asyncio: the webhook's caches never call the API
server on the request path (DESIGN.md: no API call per request).

`Informer.run()` lists the resource, hands the full list to `on_list`, marks itself synced, then
watches from the list's resourceVersion and hands each change to `on_event`. A watch that ends
(server timeout) resumes from the last resourceVersion seen; one that is too old (410 Gone) or
fails relists. Errors back off exponentially up to 30 s, and the cache keeps serving the last state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("sluice.webhook")

ListFn = Callable[..., Awaitable[Any]]
WATCH_SECONDS = 300


class Gone(Exception):
    """The resourceVersion is too old: relist."""


@dataclass(slots=True)
class Informer:
    name: str
    list_fn: ListFn
    kwargs: dict[str, Any]
    on_list: Callable[[list[dict[str, Any]]], None]
    on_event: Callable[[str, dict[str, Any]], None]
    on_synced: Callable[[bool], None] = lambda synced: None
    to_dict: Callable[[Any], dict[str, Any]] = lambda obj: obj
    max_backoff: float = 30.0

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                version = await self._list()
                self.on_synced(True)
                backoff = 1.0
                while True:
                    version = await self._watch(version)
            except asyncio.CancelledError:
                raise
            except Gone:
                log.info("watch expired; relisting", extra={"resource": self.name})
                continue
            except Exception as exc:
                log.warning("list/watch failed; retrying", extra={"resource": self.name, "error": str(exc)[:300],
                                                                  "retry_seconds": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _list(self) -> str:
        result = self.to_dict(await self.list_fn(**self.kwargs))
        items = [i for i in result.get("items") or [] if isinstance(i, dict)]
        self.on_list(items)
        version = (result.get("metadata") or {}).get("resourceVersion") or ""
        log.info("listed", extra={"resource": self.name, "count": len(items)})
        return version

    async def _watch(self, version: str) -> str:
        from kubernetes_asyncio import watch
        from kubernetes_asyncio.client.exceptions import ApiException

        w = watch.Watch()
        try:
            async with w.stream(self.list_fn, **self.kwargs, resource_version=version,
                                timeout_seconds=WATCH_SECONDS, allow_watch_bookmarks=True) as stream:
                async for event in stream:
                    kind = event.get("type")
                    raw = event.get("raw_object") or {}
                    if kind == "ERROR":
                        if raw.get("code") == 410:
                            raise Gone()
                        raise RuntimeError(f"watch error: {str(raw.get('message'))[:200]}")
                    version = (raw.get("metadata") or {}).get("resourceVersion") or version
                    if kind in ("ADDED", "MODIFIED", "DELETED"):
                        self.on_event(kind, raw)
        except ApiException as exc:
            if exc.status == 410:
                raise Gone() from None
            raise
        return version
