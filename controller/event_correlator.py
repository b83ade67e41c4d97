"""Kubernetes Events correlated before they are sent, by the rules of client-go's EventCorrelator (the one
Argo's controller sends its events through), so a workflow of 1,000 nodes does not store 2,000 Events.

Three rules, applied to each core/v1 Event in this order (client-go's order):

1. *Aggregation*: events that differ only by message (same source, involved object, type, reason and
   reporting controller/instance) are similar. From the `aggregate_max_events`-th distinct message seen
   within `aggregate_interval_seconds` of the previous similar one, an event is replaced by one combined
   Event whose message is "(combined from similar events): " + its own message.
2. *De-duplication*: an event identical to one already recorded (same source, involved object, type,
   reason and message; a combined one: same group) is not a new object: the recorded Event's `count`,
   `lastTimestamp` and `message` are patched.
3. *Spam filter*: a token bucket per source and involved object (`spam_burst` tokens, one more every
   `spam_refill_seconds`); an event that finds it empty is dropped. As in client-go, a dropped event still
   counted in rule 2, so the next one that passes carries the true count.

Defaults are client-go's except the burst: Argo's controller passes `BurstSize: 10000`
(util/events/recorder.go in Argo v4) over client-go's 25, so a workflow's node events are not cut
after 25. Argo's `EVENT_AGGREGATION_WITH_ANNOTATIONS=true` (annotation values join the group key, so
node events are combined per node only) is `aggregate_with_annotations`.
Each cache is an LRU of `cache_entries` keys (client-go: 4,096), so memory is bounded however many
workflows pass. Pure: the caller passes the monotonic time; controller/event_sender.py sends the result.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

COMBINED_PREFIX = "(combined from similar events): "

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class CorrelatorSettings:
    spam_burst: int = 10_000  # Argo's; client-go's own default is 25
    spam_refill_seconds: float = 300.0  # client-go: qps 1/300
    aggregate_max_events: int = 10
    aggregate_interval_seconds: float = 600.0
    cache_entries: int = 4_096
    aggregate_with_annotations: bool = False


class Lru(Generic[K, V]):
    """At most `size` keys; a get or put makes a key the newest, a put past the size drops the oldest."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        if len(self.items) > self.size:
            self.items.popitem(last=False)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


@dataclass(slots=True)
class _Group:
    messages: dict[str, None]  # insertion-ordered set of the distinct messages seen
    last: float


@dataclass(slots=True)
class _Seen:
    count: int
    name: str
    first_timestamp: Any


@dataclass(frozen=True, slots=True)
class Correlated:
    """What to send: `body` is the whole Event (POST it); `patch`, when set, is what changed on the Event
    already recorded under `body`'s name (PATCH it; POST `body` if that Event is gone). `key` names that
    Event object: later observations of the same key are updates of it."""

    key: tuple[Any, ...]
    body: dict[str, Any]
    patch: dict[str, Any] | None
    combined: bool


def _source(ev: dict[str, Any]) -> tuple[str, ...]:
    src = ev.get("source") or {}
    obj = ev.get("involvedObject") or {}
    return (
        str(src.get("component") or ""),
        str(src.get("host") or ""),
        str(obj.get("kind") or ""),
        str(obj.get("namespace") or ""),
        str(obj.get("name") or ""),
        str(obj.get("uid") or ""),
        str(obj.get("apiVersion") or ""),
    )


def _event_key(ev: dict[str, Any]) -> tuple[Any, ...]:
    field_path = str((ev.get("involvedObject") or {}).get("fieldPath") or "")
    return (
        "event",
        *_source(ev),
        field_path,
        ev.get("type") or "",
        ev.get("reason") or "",
        ev.get("message"),
    )


class EventCorrelator:
    def __init__(self, settings: CorrelatorSettings | None = None) -> None:
        self.settings = settings or CorrelatorSettings()
        size = self.settings.cache_entries
        self._buckets: Lru[tuple[str, ...], _Bucket] = Lru(size)
        self._groups: Lru[tuple[Any, ...], _Group] = Lru(size)
        self._seen: Lru[tuple[Any, ...], _Seen] = Lru(size)

    def correlate(self, event: dict[str, Any], now: float) -> Correlated | None:
        """The request `event` becomes at monotonic time `now`, or None when the spam filter drops it."""
        event, key, combined = self._aggregate(event, now)
        event, patch = self._observe(event, key)
        if not self._admit(event, now):
            return None
        return Correlated(key, event, patch, combined)

    # --- rule 1 --------------------------------------------------------------------------------------

    def _group_key(self, ev: dict[str, Any]) -> tuple[Any, ...]:
        key: tuple[Any, ...] = (
            "group",
            *_source(ev),
            ev.get("type") or "",
            ev.get("reason") or "",
            ev.get("reportingComponent") or "",
            ev.get("reportingInstance") or "",
        )
        if self.settings.aggregate_with_annotations:
            annotations = (ev.get("metadata") or {}).get("annotations") or {}
            key += tuple(sorted(str(v) for v in annotations.values()))
        return key

    def _aggregate(self, ev: dict[str, Any], now: float) -> tuple[dict[str, Any], tuple[Any, ...], bool]:
        s = self.settings
        group_key = self._group_key(ev)
        group = self._groups.get(group_key)
        if group is None or now - group.last > s.aggregate_interval_seconds:
            group = _Group({}, now)
        message = str(ev.get("message") or "")
        group.messages[message] = None
        group.last = now
        self._groups.put(group_key, group)
        if len(group.messages) < s.aggregate_max_events:
            return ev, _event_key(ev), False
        # client-go keeps the set below the threshold by dropping one (any) message; the oldest here
        del group.messages[next(iter(group.messages))]
        meta = ev.get("metadata") or {}
        combined_meta: dict[str, Any] = {"name": meta.get("name"), "namespace": meta.get("namespace")}
        if s.aggregate_with_annotations and meta.get("annotations"):
            combined_meta["annotations"] = meta["annotations"]  # part of the group, so true of all
        combined = {k: v for k, v in ev.items() if k != "metadata"}
        # one node's annotations would mislabel an Event standing for many
        combined["metadata"] = combined_meta
        combined["message"] = COMBINED_PREFIX + message
        combined["count"] = 1
        combined["firstTimestamp"] = ev.get("lastTimestamp")
        return combined, group_key, True

    # --- rule 2 --------------------------------------------------------------------------------------

    def _observe(
        self, ev: dict[str, Any], key: tuple[Any, ...]
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        seen = self._seen.get(key)
        patch = None
        if seen is not None and seen.count > 0:
            ev = dict(ev, metadata=dict(ev.get("metadata") or {}, name=seen.name))
            ev["firstTimestamp"] = seen.first_timestamp
            ev["count"] = seen.count + 1
            patch = {
                "count": ev["count"],
                "lastTimestamp": ev.get("lastTimestamp"),
                "message": ev.get("message"),
            }
        name = (ev.get("metadata") or {}).get("name") or ""
        self._seen.put(key, _Seen(int(ev.get("count") or 1), name, ev.get("firstTimestamp")))
        return ev, patch

    # --- rule 3 --------------------------------------------------------------------------------------

    def _admit(self, ev: dict[str, Any], now: float) -> bool:
        s = self.settings
        key = _source(ev)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(s.spam_burst), now)
        elif s.spam_refill_seconds > 0:
            refill = (now - bucket.at) / s.spam_refill_seconds
            bucket.tokens = min(float(s.spam_burst), bucket.tokens + max(0.0, refill))
        bucket.at = now
        self._buckets.put(key, bucket)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True
