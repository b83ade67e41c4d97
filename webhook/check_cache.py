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


class CheckCache:
    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[bytes, CheckReport] = OrderedDict()
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

    def get(self, key: bytes) -> CheckReport | None:
        with self._lock:
            report = self._items.get(key)
            if report is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return report

    def put(self, key: bytes, report: CheckReport) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = report
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
