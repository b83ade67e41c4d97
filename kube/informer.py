"""A list-then-watch informer over kubernetes_asyncio, shared by the webhook and the controller.

`Informer.run()` lists the resource, hands the full list to `on_list`, marks itself synced, then
watches from the list's resourceVersion (with bookmarks, so a quiet resource still advances its
version) and hands each change to `on_event`. A watch that ends (server timeout) resumes from the last
resourceVersion seen; one that is too old (410 Gone) relists; any other failure backs off
exponentially up to `max_backoff` and relists, while the cache keeps serving the last state.

`Store` is the cache most users want: objects by (namespace, name), replaced wholesale on a (re)list
with the differences reported as events, so a relist after a missed DELETE still tells the handler.
Reads return the stored objects themselves: callers must treat them as read-only (the controller
copies a Workflow before stepping it), so a read never changes what the next read sees.

Watch events are never turned into the client's models: every user reads the event's JSON as a dict,
and for the typed core API a model costs far more than the dict (a pod event ~2 ms of CPU, dateutil
parsing each timestamp: measured with benchmarks/bench_scale.py --profile, where it was half the
controller's CPU). `raw=True` lists the same way (the JSON decoded, no model, no `to_dict`).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("sluice.kube")

ListFn = Callable[..., Awaitable[Any]]
Handler = Callable[[str, dict[str, Any]], None]
WATCH_SECONDS = 300


class Gone(Exception):
    """The resourceVersion is too old: relist."""


def strip_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without `metadata.managedFields`: the API server's bookkeeping of who set which field, ~40%
    of a pod's or a Workflow's JSON here, that a cache never reads. A Workflow written back without it
    keeps its managedFields (the API server leaves them as they are when an update omits them)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or "managedFields" not in meta:
        return obj
    return {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}


def key_of(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


@dataclass(slots=True)
class Store:
    """Objects by (namespace, name); `handlers` see ADDED / MODIFIED / DELETED after the store changed."""

    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    handlers: list[Handler] = field(default_factory=list)
    # Optional secondary index: name -> function(obj) -> index value (e.g. the workflow label of a pod).
    indexers: dict[str, Callable[[dict[str, Any]], str | None]] = field(default_factory=dict)
    _indexes: dict[str, dict[str, set[tuple[str, str]]]] = field(default_factory=dict)
    # Applied to every object before it is stored (e.g. strip_managed_fields): what the cache keeps.
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get((namespace or "", name))

    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self.objects.values()))

    def by_index(self, index: str, value: str) -> list[dict[str, Any]]:
        keys = self._indexes.get(index, {}).get(value, ())
        return [self.objects[k] for k in keys if k in self.objects]

    def _index(self, key: tuple[str, str], obj: dict[str, Any] | None, old: dict[str, Any] | None) -> None:
        for name, fn in self.indexers.items():
            table = self._indexes.setdefault(name, {})
            if old is not None:
                value = fn(old)
                if value is not None and value in table:
                    table[value].discard(key)
                    if not table[value]:
                        del table[value]
            if obj is not None:
                value = fn(obj)
                if value is not None:
                    table.setdefault(value, set()).add(key)

    def _notify(self, kind: str, obj: dict[str, Any]) -> None:
        for handler in self.handlers:
            try:
                handler(kind, obj)
            except Exception:  # one bad handler must not stop the informer
                log.exception("informer handler failed", extra={"event": kind})

    def replace(self, items: list[dict[str, Any]]) -> None:
        if self.transform is not None:
            items = [self.transform(i) for i in items]
        fresh = {key_of(i): i for i in items}
        gone = [k for k in self.objects if k not in fresh]
        for k in gone:
            old = self.objects.pop(k)
            self._index(k, None, old)
            self._notify("DELETED", old)
        for k, obj in fresh.items():
            old = self.objects.get(k)
            self.objects[k] = obj
            self._index(k, obj, old)
            if old is None:
                self._notify("ADDED", obj)
            elif (old.get("metadata") or {}).get("resourceVersion") != (obj.get("metadata") or {}).get(
                "resourceVersion"
            ):
                self._notify("MODIFIED", obj)

    def apply(self, kind: str, obj: dict[str, Any]) -> None:
        if self.transform is not None:
            obj = self.transform(obj)
        k = key_of(obj)
        old = self.objects.get(k)
        if kind == "DELETED":
            if old is not None:
                del self.objects[k]
                self._index(k, None, old)
            self._notify("DELETED", obj)
            return
        self.objects[k] = obj
        self._index(k, obj, old)
        self._notify(kind, obj)


@functools.cache
def _json_watch_class() -> type:
    """kubernetes_asyncio's Watch, its events left as the API server's JSON: no model is built (the
    module docstring says why). Made on first use: kubernetes_asyncio is imported only when needed."""
    from kubernetes_asyncio import watch

    class JsonWatch(watch.Watch):
        def get_return_type(self, func: object) -> None:  # type: ignore[override]
            return None

    return JsonWatch


@dataclass(slots=True)
class Informer:
    name: str
    list_fn: ListFn
    kwargs: dict[str, Any]
    on_list: Callable[[list[dict[str, Any]]], None]
    on_event: Handler
    on_synced: Callable[[bool], None] = lambda synced: None
    to_dict: Callable[[Any], dict[str, Any]] = lambda obj: obj
    max_backoff: float = 30.0
    synced: bool = False
    store: Store | None = None  # the cache it keeps, when made with `into` (kube/cache_check.py reads it)
    raw: bool = False  # list_fn is a kubernetes_asyncio method: list as JSON, never as models
    # List in pages of this many objects (`limit`/`continue`), so a list of thousands of pods is never
    # held whole as JSON and dicts beside the cache (None: one request).
    page_size: int | None = None

    @classmethod
    def into(
        cls, name: str, list_fn: ListFn, kwargs: dict[str, Any], store: Store, **options: Any
    ) -> Informer:
        """An informer that keeps `store` up to date."""
        return cls(name, list_fn, kwargs, on_list=store.replace, on_event=store.apply, store=store, **options)

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                version = await self._list()
                self.synced = True
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
                # An ApiException's text carries every response header: its status and reason suffice.
                status = getattr(exc, "status", None)
                error = f"{status} {getattr(exc, 'reason', '')}" if status else str(exc)[:300]
                log.warning(
                    "list/watch failed; retrying",
                    extra={"resource": self.name, "error": error, "retry_seconds": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def fetch(self, **extra: Any) -> dict[str, Any]:
        """One list of the resource as a dict (`extra`: more arguments for list_fn, e.g. a timeout)."""
        if not self.raw:
            return self.to_dict(await self.list_fn(**self.kwargs, **extra))
        from kubernetes_asyncio.client.exceptions import ApiException
        from kubernetes_asyncio.client.rest import RESTResponse

        resp = await self.list_fn(**self.kwargs, **extra, _preload_content=False)
        try:
            data = await resp.read()
        finally:
            resp.release()
        if not 200 <= resp.status <= 299:  # without preloading, the client leaves the check to us
            raise ApiException(http_resp=RESTResponse(resp, data))
        result = json.loads(data)
        if not isinstance(result, dict):
            raise ValueError(f"{self.name}: the list is not a JSON object")
        return result

    async def pages(self, **extra: Any) -> AsyncIterator[tuple[list[dict[str, Any]], str]]:
        """The list, a page at a time: (its objects, the list's resourceVersion). Pages of one list are
        one snapshot (the continue token carries it); a token that expired fails the list (410)."""
        token = None
        while True:
            args = dict(extra)
            if self.page_size:
                args["limit"] = self.page_size
                if token:
                    args["_continue"] = token
            result = await self.fetch(**args)
            meta = result.get("metadata") or {}
            items = [i for i in result.get("items") or [] if isinstance(i, dict)]
            yield items, meta.get("resourceVersion") or ""
            token = meta.get("continue") if self.page_size else None
            if not token:
                return

    async def _list(self) -> str:
        items: list[dict[str, Any]] = []
        version = ""
        transform = self.store.transform if self.store is not None else None
        async for page, page_version in self.pages():
            # what the cache keeps, page by page: the whole list is never held as the server sent it
            items += [transform(i) for i in page] if transform is not None else page
            version = page_version
        self.on_list(items)
        log.info("listed", extra={"resource": self.name, "count": len(items)})
        return version

    async def _watch(self, version: str) -> str:
        from kubernetes_asyncio.client.exceptions import ApiException

        w = _json_watch_class()()
        try:
            async with w.stream(
                self.list_fn,
                **self.kwargs,
                resource_version=version,
                timeout_seconds=WATCH_SECONDS,
                allow_watch_bookmarks=True,
            ) as stream:
                async for event in stream:
                    kind = event.get("type")
                    raw = event.get("raw_object") or {}
                    if kind == "ERROR":
                        if raw.get("code") == 410:
                            raise Gone()
                        raise RuntimeError(f"watch error: {str(raw.get('message'))[:200]}")
                    # Bookmarks carry only a resourceVersion: taken, never handed on.
                    version = (raw.get("metadata") or {}).get("resourceVersion") or version
                    if kind in ("ADDED", "MODIFIED", "DELETED"):
                        self.on_event(kind, raw)
        except ApiException as exc:
            if exc.status == 410:
                raise Gone() from None
            raise
        return version
