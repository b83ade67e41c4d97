"""The controller's custom-metric registry (controller/custom_metrics.py): what /metrics shows for the
engine's EmitMetric actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from controller import custom_metrics
from controller.custom_metrics import CustomMetrics
from controller.metrics import Metrics
from workflow.engine import EmitMetric

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def lines(reg: CustomMetrics) -> list[str]:
    return [line for line in reg.render() if not line.startswith("#")]


def test_counters_gauges_and_histograms_as_argo_names_them():
    reg = CustomMetrics()
    for _ in range(2):
        assert reg.apply(EmitMetric("runs", "Runs", "counter", 1, (("status", "Succeeded"),)), "ns/a") is None
    reg.apply(EmitMetric("level", "L", "gauge", 5), "ns/a")
    reg.apply(EmitMetric("level", "L", "gauge", 2, operation="Add"), "ns/a")
    reg.apply(EmitMetric("level", "L", "gauge", 1, operation="Sub"), "ns/a")
    reg.apply(EmitMetric("n", "N", "histogram", 7, buckets=(5.0, 10.0)), "ns/a")
    out = lines(reg)
    assert 'argo_workflows_runs{status="Succeeded"} 2' in out
    assert "argo_workflows_level 6" in out
    assert 'argo_workflows_n_bucket{le="5"} 0' in out and 'argo_workflows_n_bucket{le="10"} 1' in out
    assert "argo_workflows_n_count 1" in out and "argo_workflows_n_sum 7" in out
    assert "# TYPE argo_workflows_runs counter" in reg.render()


def test_a_realtime_gauge_counts_until_its_final_value_or_its_workflow_goes():
    clock = Clock()
    reg = CustomMetrics(now=clock)
    reg.apply(EmitMetric("d", "D", "gauge", labels=(("n", "a"),), since="2024-01-01T12:00:00Z"), "ns/a")
    reg.apply(EmitMetric("d", "D", "gauge", labels=(("n", "b"),), since="2024-01-01T12:00:00Z"), "ns/b")
    clock.now = T0 + timedelta(seconds=30)
    assert 'argo_workflows_d{n="a"} 30' in lines(reg)
    reg.apply(EmitMetric("d", "D", "gauge", 31.5, (("n", "a"),)), "ns/a")  # final: frozen at 31.5
    reg.forget_workflow("ns/b")  # deleted at 30 s
    clock.now = T0 + timedelta(seconds=90)
    assert 'argo_workflows_d{n="a"} 31.5' in lines(reg) and 'argo_workflows_d{n="b"} 30' in lines(reg)


def test_conflicting_kinds_and_too_many_series_are_refused(monkeypatch):
    reg = CustomMetrics()
    reg.apply(EmitMetric("x", "X", "counter", 1), "ns/a")
    assert reg.apply(EmitMetric("x", "X", "gauge", 1), "ns/a") == "kind"
    reg.apply(EmitMetric("h", "H", "histogram", 1, buckets=(1.0,)), "ns/a")
    assert reg.apply(EmitMetric("h", "H", "histogram", 1, buckets=(2.0,)), "ns/a") == "kind"
    monkeypatch.setattr(custom_metrics, "MAX_SERIES", 3)
    assert reg.apply(EmitMetric("x", "X", "counter", 1, (("k", "1"),)), "ns/a") is None
    assert reg.apply(EmitMetric("x", "X", "counter", 1, (("k", "2"),)), "ns/a") == "series"
    assert reg.apply(EmitMetric("x", "X", "counter", 1, (("k", "1"),)), "ns/a") is None  # existing: fine


def test_help_and_label_values_cannot_break_the_exposition_format():
    metrics = Metrics()
    metrics.custom.apply(EmitMetric("x", 'two\nlines "q"', "counter", 1, (("v", 'a"b\nc'),)), "ns/a")
    text = metrics.render()
    assert '# HELP argo_workflows_x two\\nlines "q"' in text
    assert 'argo_workflows_x{v="a\\"b\\nc"} 1' in text
    assert text.endswith("\n") and "sluice_controller_leader" in text


def test_metrics_ttl_drops_series_not_emitted_for_that_long_but_not_a_live_realtime_gauge():
    clock = Clock()
    reg = CustomMetrics(now=clock, ttl_seconds=60)
    reg.apply(EmitMetric("runs", "R", "counter", 1, (("t", "old"),)), "ns/a")
    reg.apply(EmitMetric("n", "N", "histogram", 1, buckets=(5.0,)), "ns/a")
    reg.apply(EmitMetric("d", "D", "gauge", since="2024-01-01T12:00:00Z"), "ns/b")
    clock.now = T0 + timedelta(seconds=45)
    reg.apply(EmitMetric("runs", "R", "counter", 1, (("t", "new"),)), "ns/c")
    clock.now = T0 + timedelta(seconds=90)
    out = lines(reg)
    assert not any("old" in line or line.startswith("argo_workflows_n_") for line in out), out
    assert 'argo_workflows_runs{t="new"} 1' in out and "argo_workflows_d 90" in out
    assert reg.series == 2
