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
import json
import threading
from collections import OrderedDict
from typing import Any

from workflow.check import CheckReport

# A report holds the expanded object too: count an entry as a few times the review it came from, and
# bound the total, so 128 objects near etcd's 1.5 MiB limit cannot take the pod's memory.
WEIGHT_PER_BYTE = 3
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
    def key(obj: Any, generation: int, content_key: bytes = b"") -> bytes:
        """From the review's own digest when there is one (free), else from the object's JSON."""
        if content_key:
            h = hashlib.blake2b(content_key, digest_size=20)
        else:
            text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
            h = hashlib.blake2b(text.encode(), digest_size=20)
        h.update(generation.to_bytes(8, "little"))
        return h.digest()

    @staticmethod
    def size_of(obj: Any, known: int = 0) -> int:
        return known or len(json.dumps(obj, separators=(",", ":"), default=str))

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
        """`size`: the review's size in bytes (the entry counts WEIGHT_PER_BYTE times that)."""
        weight = size * WEIGHT_PER_BYTE
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
