"""Prometheus metrics in the text exposition format, kept in memory: counters, gauges, histograms.

Small on purpose (no client library): the webhook and the controller export a handful of series each,
and label values come from closed sets (endpoint, kind, result, phase, namespace), so cardinality
stays bounded. Each program keeps its own set (webhook/metrics.py, controller/metrics.py).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

LabelKey = tuple[tuple[str, str], ...]

# Seconds. Admission must answer in milliseconds; the tail buckets show deadline trouble.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _key(labels: dict[str, str]) -> LabelKey:
    return tuple(sorted(labels.items()))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(key: LabelKey, extra: tuple[tuple[str, str], ...] = ()) -> str:
    pairs = key + extra
    if not pairs:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(int(value)) if float(value).is_integer() else repr(value)


@dataclass(slots=True)
class Counter:
    name: str
    help: str
    values: dict[LabelKey, float] = field(default_factory=lambda: defaultdict(float))

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self.values[_key(labels)] += amount

    def get(self, **labels: str) -> float:
        return self.values.get(_key(labels), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        lines += [f"{self.name}{_labels(k)} {_number(v)}" for k, v in sorted(self.values.items())]
        return lines


@dataclass(slots=True)
class _Series:
    buckets: list[int]
    count: int = 0
    total: float = 0.0


@dataclass(slots=True)
class Histogram:
    name: str
    help: str
    bounds: tuple[float, ...] = LATENCY_BUCKETS
    series: dict[LabelKey, _Series] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        key = _key(labels)
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = _Series(buckets=[0] * len(self.bounds))
        index = bisect.bisect_left(self.bounds, value)
        if index < len(self.bounds):
            s.buckets[index] += 1
        s.count += 1
        s.total += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for key, s in sorted(self.series.items()):
            running = 0
            for bound, n in zip(self.bounds, s.buckets, strict=True):
                running += n
                lines.append(f"{self.name}_bucket{_labels(key, (('le', _number(bound)),))} {running}")
            lines.append(f"{self.name}_bucket{_labels(key, (('le', '+Inf'),))} {s.count}")
            lines.append(f"{self.name}_sum{_labels(key)} {_number(s.total)}")
            lines.append(f"{self.name}_count{_labels(key)} {s.count}")
        return lines


@dataclass(slots=True)
class Gauge:
    name: str
    help: str
    values: dict[LabelKey, float] = field(default_factory=dict)
    # Read at render time instead of set (e.g. a queue's depth); labels are then fixed.
    read: Callable[[], float] | None = None

    def set(self, value: float, **labels: str) -> None:
        self.values[_key(labels)] = value

    def get(self, **labels: str) -> float:
        return self.values.get(_key(labels), 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge"]
        if self.read is not None:
            return [*lines, f"{self.name} {_number(self.read())}"]
        lines += [f"{self.name}{_labels(k)} {_number(v)}" for k, v in sorted(self.values.items())]
        return lines


def render(*metrics: Counter | Gauge | Histogram) -> str:
    lines: list[str] = []
    for metric in metrics:
        lines += metric.render()
    return "\n".join(lines) + "\n"
