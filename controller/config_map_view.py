"""The engine's view of ConfigMaps, read from the controller's informer store without copying."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kube.informer import Store


class ConfigMapData(dict[str, dict[str, str]]):
    """Observed.config_maps ("<ns>/<name>" -> data) read straight from the informer's store: the engine
    only looks ConfigMaps up by key (workflow/engine/scope.py, locks.py), so nothing is copied per
    reconcile (a copy of every cached ConfigMap's data was, on every reconcile: with a cluster-wide
    informer, every ConfigMap of the cluster). The store's objects are shared: read-only."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        ns, _, name = key.partition("/")
        obj = self._store.get(ns, name)
        if obj is None:
            return default
        data = obj.get("data")
        return data if isinstance(data, dict) else {}

    def __getitem__(self, key: str) -> dict[str, str]:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    # The rest of a dict's reading methods, over the store too (the engine uses none of them today).
    def __iter__(self) -> Iterator[str]:
        return iter([f"{ns}/{name}" for ns, name in self._store.objects])

    def __len__(self) -> int:
        return len(self._store)

    def keys(self) -> Any:
        return list(self)

    def values(self) -> Any:
        return [self[k] for k in self]

    def items(self) -> Any:
        return [(k, self[k]) for k in self]
