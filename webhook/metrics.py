"""Prometheus metrics in the text exposition format, kept in memory: counters and one histogram.

Small on purpose (no client library): the webhook exports a handful of series, and label values come
from a closed set (endpoint, kind, operation, result, policy name), so cardinality stays bounded.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
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
class Metrics:
    requests: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_requests_total",
            "Admission requests by endpoint, kind, operation and result (allowed, denied, error, malformed).",
        )
    )
    denials: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_denials_total", "Denied admission requests by kind and reason (invalid, policy, ...)."
        )
    )
    policy_results: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_policy_violations_total",
            "Policy rules that did not hold, by policy and action (Deny, Warn, Audit).",
        )
    )
    latency: Histogram = field(
        default_factory=lambda: Histogram(
            "sluice_webhook_request_duration_seconds", "Time to answer an admission request, by endpoint."
        )
    )
    cert_reloads: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_certificate_reloads_total", "Serving certificates loaded, by source and outcome."
        )
    )

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.requests, self.denials, self.policy_results, self.latency, self.cert_reloads):
            lines += metric.render()
        return "\n".join(lines) + "\n"
