"""A small LRU of the core's CheckReports, keyed by the object's content and the template store's
generation.

The same object is often admitted more than once: `kubectl apply --dry-run=server` then `apply`, an
Argo CD diff then its sync, the API server's retries, a pipeline resubmitted unchanged. Checking a
200-task DAG costs the core ~18 ms of CPU (benchmarks/RESULTS.md); a hit costs one JSON encoding
and a hash. Any change to a WorkflowTemplate or ClusterWorkflowTemplate bumps the store's generation,
so a cached report never outlives the templates it was resolved against. Policies are never cached:
they depend on the request (user, operation) and are cheap.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from typing import Any

import msgspec

from workflow.check import CheckReport

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class CheckCache:
    def __init__(self, size: int = 128, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[bytes, tuple[CheckReport, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(obj: Any, generation: int) -> bytes:
        """From the object alone (its namespace included; the review's uid, user and dry-run left out, as
        they do not change the check) and the template store's generation."""
        h = hashlib.blake2b(msgspec.json.encode(obj), digest_size=20)
        h.update(generation.to_bytes(8, "little"))
        return h.digest()

    def size_of(self, report: CheckReport) -> int:
        """The bytes a report keeps alive (its expanded object, containers and problems), measured object
        by object with sys.getsizeof, shared parts once; counting stops past what put() would keep.
        (The JSON size undercounted ~20x: a small JSON object is a few hundred bytes as Python objects.)"""
        limit = self.max_bytes // 4
        seen: set[int] = set()
        total = 0
        stack: list[Any] = [report.expanded, report.containers, report.errors, report.warnings]
        while stack and total <= limit:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            total += sys.getsizeof(item)
            if isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, (list, tuple)):
                stack.extend(item)
        return total

    def get(self, key: bytes) -> CheckReport | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: bytes, report: CheckReport, size: int) -> None:
        """`size`: what the report keeps alive, in bytes (size_of)."""
        weight = size
        if self.size <= 0 or weight > self.max_bytes // 4:
            return  # one huge object is not worth evicting everything else for
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._items[key] = (report, weight)
            self.bytes += weight
            while len(self._items) > self.size or self.bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._items)
