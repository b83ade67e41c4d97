"""The series templates declare in `metrics.prometheus`, on the controller's /metrics.

The engine decides what to emit (workflow/engine/custom_metrics.py, EmitMetric actions); this registry
keeps the series: each name is one family, exported as `argo_workflows_<name>` as Argo exports them, of
the kind it was first emitted with. Counters add, gauges Set/Add/Sub, histograms observe into the
family's buckets. A real-time gauge reports the seconds since its start at every scrape until a final
value replaces it, or its workflow is deleted (its value is then frozen).

Bounded: at most MAX_SERIES series, and with `metricsConfig.metricsTTL` a series not emitted for that long
is dropped, as Argo's metricsTTL does; an emission that would add more, or that disagrees with its
family's kind or buckets, is refused and counted by cause (the controller's `argo_workflows_error_count`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from kube.metrics import Counter, Gauge, Histogram, LabelKey
from workflow.engine import EmitMetric
from workflow.engine.clock import parse_stamp

PREFIX = "argo_workflows_"
MAX_SERIES = 10_000


@dataclass(slots=True)
class CustomMetrics:
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    families: dict[str, Counter | Gauge | Histogram] = field(default_factory=dict)
    # Real-time gauges: (family, labels) -> (start, workflow key).
    realtime: dict[tuple[str, LabelKey], tuple[datetime, str]] = field(default_factory=dict)
    series: int = 0
    # metricsConfig.metricsTTL: a series not emitted for this long is dropped (None: kept for ever).
    ttl_seconds: float | None = None
    touched: dict[tuple[str, LabelKey], datetime] = field(default_factory=dict)

    def apply(self, metric: EmitMetric, workflow: str) -> str | None:
        """Record one emission; the reason when it is refused (None when recorded)."""
        name = PREFIX + metric.name
        family = self.families.get(name)
        if family is None:
            family = self._family(name, metric)
            self.families[name] = family
        elif not _same_kind(family, metric):
            return "kind"
        labels: LabelKey = tuple(sorted(metric.labels))
        if not _has(family, labels):
            self.expire()
            if self.series >= MAX_SERIES:
                return "series"
            self.series += 1
        self.touched[(name, labels)] = self.now()
        if isinstance(family, Counter):
            family.values[labels] += metric.value
        elif isinstance(family, Histogram):
            family.observe(metric.value, **dict(labels))
        else:
            self._gauge(family, labels, metric, workflow)
        return None

    def _family(self, name: str, metric: EmitMetric) -> Counter | Gauge | Histogram:
        text = metric.help.replace("\\", "\\\\").replace("\n", "\\n")  # one line, as the format wants
        if metric.kind == "counter":
            return Counter(name, text)
        if metric.kind == "histogram":
            return Histogram(name, text, bounds=metric.buckets)
        return Gauge(name, text)

    def _gauge(self, family: Gauge, labels: LabelKey, metric: EmitMetric, workflow: str) -> None:
        key = (family.name, labels)
        if metric.since is not None:
            start = parse_stamp(metric.since)
            if start is not None:
                self.realtime[key] = (start, workflow)
                family.values[labels] = self._elapsed(start)
            return
        self.realtime.pop(key, None)
        current = family.values.get(labels, 0.0)
        if metric.operation == "Add":
            family.values[labels] = current + metric.value
        elif metric.operation == "Sub":
            family.values[labels] = current - metric.value
        else:
            family.values[labels] = metric.value

    def forget_workflow(self, workflow: str) -> None:
        """A deleted workflow's real-time gauges stop counting (their last value stays)."""
        for key, (start, owner) in list(self.realtime.items()):
            if owner == workflow:
                del self.realtime[key]
                gauge = self.families.get(key[0])
                if isinstance(gauge, Gauge):
                    gauge.values[key[1]] = self._elapsed(start)

    def expire(self) -> None:
        """Drop the series not emitted within the TTL (a live real-time gauge is never stale)."""
        if self.ttl_seconds is None:
            return
        now = self.now()
        for key, when in list(self.touched.items()):
            if key in self.realtime or (now - when).total_seconds() <= self.ttl_seconds:
                continue
            del self.touched[key]
            family = self.families.get(key[0])
            if isinstance(family, Histogram):
                family.series.pop(key[1], None)
            elif family is not None:
                family.values.pop(key[1], None)
            self.series -= 1

    def _elapsed(self, start: datetime) -> float:
        return round(max((self.now() - start).total_seconds(), 0.0), 3)

    def render(self) -> list[str]:
        self.expire()
        for (name, labels), (start, _) in self.realtime.items():
            gauge = self.families.get(name)
            if isinstance(gauge, Gauge):
                gauge.values[labels] = self._elapsed(start)
        lines: list[str] = []
        for name in sorted(self.families):
            lines += self.families[name].render()
        return lines


def _same_kind(family: Counter | Gauge | Histogram, metric: EmitMetric) -> bool:
    if isinstance(family, Histogram):
        return metric.kind == "histogram" and tuple(family.bounds) == tuple(metric.buckets)
    return isinstance(family, Counter if metric.kind == "counter" else Gauge) and metric.kind != "histogram"


def _has(family: Counter | Gauge | Histogram, labels: LabelKey) -> bool:
    if isinstance(family, Histogram):
        return labels in family.series
    return labels in family.values
