"""A small LRU of the core's CheckReports, keyed by the object's content and the template store's
generation.

The same object is often admitted more than once: `kubectl apply --dry-run=server` then `apply`, an
Argo CD diff then its sync, the API server's retries, a pipeline resubmitted unchanged. Checking a
200-task DAG costs the core ~3-4 ms of CPU (benchmarks/RESULTS.md); a hit costs one JSON encoding
and a hash. Any change to a WorkflowTemplate or ClusterWorkflowTemplate bumps the store's generation,
so a cached report never outlives the templates it was resolved against. Policies are never cached:
they depend on the request (user, operation) and are cheap.

A report is kept compact (`Kept`): its expanded object and containers as msgpack bytes. What an entry
keeps alive is then its length, known without walking the objects (the walk cost ~2 ms per miss of a
200-task DAG, as much as a third of the check), ~10x less than the objects themselves, and invisible to
the cyclic garbage collector. The expanded object is decoded only when a policy reads it.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from workflow.check import CheckReport
from workflow.errors import Problem

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_PROBLEM_BYTES = sys.getsizeof(Problem("", ""))
_pack = msgspec.msgpack.Encoder().encode
_unpack = msgspec.msgpack.Decoder().decode


@dataclass(frozen=True, slots=True)
class Kept:
    """One kept report: as checked, with `expanded` and `containers` packed."""

    kind: str
    name: str
    namespace: str | None
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    skipped: bool
    expanded: bytes | None
    containers: bytes
    size: int  # the bytes this entry keeps alive

    @classmethod
    def of(cls, report: CheckReport) -> Kept | None:
        """None when the report's JSON is not msgpack's (an integer past 64 bits, a lone surrogate):
        such a report is not kept."""
        try:
            expanded = None if report.expanded is None else _pack(report.expanded)
            containers = _pack(report.containers)
        except (TypeError, ValueError, OverflowError, RecursionError, msgspec.MsgspecError):
            return None
        problems = (*report.errors, *report.warnings)
        size = (
            len(expanded or b"")
            + len(containers)
            + sum(_PROBLEM_BYTES + sys.getsizeof(p.field) + sys.getsizeof(p.message) for p in problems)
            + 512  # this object, its key and its place in the LRU
        )
        return cls(
            report.kind,
            report.name,
            report.namespace,
            tuple(report.errors),
            tuple(report.warnings),
            report.skipped,
            expanded,
            containers,
            size,
        )

    def report(self) -> CheckReport:
        """A fresh CheckReport (its lists are the caller's), without `expanded`: see expanded_source."""
        return CheckReport(
            self.kind,
            self.name,
            self.namespace,
            list(self.errors),
            list(self.warnings),
            None,
            _unpack(self.containers),
            self.skipped,
        )

    def expanded_source(self) -> Callable[[], dict[str, Any]] | None:
        """The expanded object, decoded when called (a fresh copy each time); None when there was none."""
        packed = self.expanded
        if packed is None:
            return None
        return lambda: _unpack(packed)


class CheckCache:
    def __init__(self, size: int = 128, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[bytes, Kept] = OrderedDict()
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

    def get(self, key: bytes) -> Kept | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: bytes, report: CheckReport) -> Kept | None:
        """Keep `report` (packed); the entry, or None when it is not kept (too big, or not packable)."""
        if self.size <= 0:
            return None
        kept = Kept.of(report)
        if kept is None or kept.size > self.max_bytes // 4:
            return None  # one huge object is not worth evicting everything else for
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._items[key] = kept
            self.bytes += kept.size
            while len(self._items) > self.size or self.bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.bytes -= dropped.size
        return kept

    def __len__(self) -> int:
        return len(self._items)
