"""Is an informer's cache still the API server's truth? A fresh list compared with the cache.

A watch can go quiet without failing (a half-open connection: the client waits for events that never
come) or an event can be lost; the cache then serves an old world until the next relist. `find_drift`
lists the resource again and compares object keys and resourceVersions with the cache. Changes in
flight make the two differ for a moment, so a key counts only when it still differs after `grace`
seconds and its cached version did not move in between: the watch did not deliver it.

The caller counts what was found and relists the informer (controller/run.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kube.informer import Informer, Store, key_of

Key = tuple[str, str]
LIST_TIMEOUT = 60.0


@dataclass(slots=True)
class Drift:
    missing: list[Key] = field(default_factory=list)  # on the server, not in the cache
    extra: list[Key] = field(default_factory=list)  # in the cache, gone from the server
    stale: list[Key] = field(default_factory=list)  # in both, the cache holding an older version

    def __len__(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.stale)


def _version(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def differences(cached: dict[Key, str], listed: dict[Key, str]) -> dict[Key, str]:
    """key -> "missing" | "extra" | "stale" for every key where the cache and the list disagree."""
    out = {k: "missing" for k in listed.keys() - cached.keys()}
    out.update({k: "extra" for k in cached.keys() - listed.keys()})
    out.update({k: "stale" for k in cached.keys() & listed.keys() if cached[k] != listed[k]})
    return out


def snapshot(store: Store) -> dict[Key, str]:
    return {k: _version(obj) for k, obj in store.objects.items()}


async def listed(informer: Informer) -> dict[Key, str]:
    out: dict[Key, str] = {}  # only versions kept, a page at a time: never a whole list of objects
    async for page, _ in informer.pages(_request_timeout=LIST_TIMEOUT):
        out.update((key_of(i), _version(i)) for i in page)
    return out


async def find_drift(
    informer: Informer,
    store: Store,
    grace: float = 10.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Drift:
    first = differences(snapshot(store), await listed(informer))
    if not first:
        return Drift()
    before = snapshot(store)
    await sleep(grace)
    second = differences(snapshot(store), await listed(informer))
    now = snapshot(store)
    drift = Drift()
    for key, kind in sorted(second.items()):
        if key in first and now.get(key) == before.get(key):
            getattr(drift, kind).append(key)
    return drift
