"""The cost of session 3's controller additions (issue 11), in-process and on the CPU clock:

1. custom metrics: one engine step on the 10,001-node fan-out of bench_engine.py with `metrics.prometheus`
   on the pod template against the same step without (the steady step, nothing completes; and the step
   where the last 10 pods finish and emit);
2. the custom-metric registry's /metrics rendering at 10,000 series;
3. the cache check's comparison of a 10,000-object cache with a 10,000-object list (the list itself is the
   API server's work, not measured here);
4. the workflow-level podSpecPatch substitution: rendering one pod with and without it.

    .venv/bin/python benchmarks/bench_controller_checks.py
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import bench_engine as be  # noqa: E402

from controller.custom_metrics import CustomMetrics  # noqa: E402
from kube.cache_check import differences  # noqa: E402
from workflow.engine import EmitMetric, Observed, step  # noqa: E402

METRICS = {
    "prometheus": [
        {
            "name": "echo_runs",
            "help": "runs",
            "labels": [{"key": "status", "value": "{{status}}"}],
            "counter": {"value": "1"},
        },
        {"name": "echo_seconds", "help": "s", "histogram": {"value": "{{duration}}", "buckets": [1, 5, 30]}},
        {"name": "echo_rt", "help": "rt", "gauge": {"realtime": True, "value": "{{duration}}"}},
    ]
}


def cpu_ms(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        times.append((time.process_time() - c0) * 1000)
    return min(times), statistics.median(times)


def steady_state(with_metrics: bool, n: int):
    original = be.fan_out

    def fan_out(count: int, name: str = "fan") -> dict:
        wf = original(count, name)
        if with_metrics:
            wf["spec"]["templates"][1]["metrics"] = copy.deepcopy(METRICS)
        return wf

    be.fan_out = fan_out
    try:
        wf, pods, results, *_ = be.simulate(n, stop_running=10)
    finally:
        be.fan_out = original
    observed = Observed(pods=dict(pods), task_results=dict(results))
    now = be.T0 + timedelta(seconds=30)
    wf["status"] = step(wf, observed, now).status
    return wf, pods, results, observed, now


def bench_metrics_step(n: int, repeats: int) -> dict:
    out = {}
    for label, flag in (("without", False), ("with", True)):
        wf, pods, results, observed, now = steady_state(flag, n)
        out[f"steady_{label}"] = cpu_ms(
            lambda wf=wf, observed=observed, now=now: step(wf, observed, now), repeats
        )
        for node_id, pod in list(pods.items()):
            if pod.phase == "Running":
                pods[node_id], results[node_id] = be.finished(pod.name, node_id, now)
        done = Observed(pods=dict(pods), task_results=dict(results))
        decisions = []
        out[f"finish_{label}"] = cpu_ms(
            lambda wf=wf, done=done, now=now, decisions=decisions: decisions.append(step(wf, done, now)), 3
        )
        out[f"emitted_{label}"] = sum(isinstance(a, EmitMetric) for a in decisions[0].actions)
    return out


def bench_render(series: int, repeats: int) -> tuple[float, float]:
    reg = CustomMetrics()
    for i in range(series):
        reg.apply(
            EmitMetric("runs", "runs", "counter", 1, (("task", f"t{i}"), ("status", "Succeeded"))), "ns/w"
        )
    return cpu_ms(reg.render, repeats)


def bench_compare(objects: int, repeats: int) -> tuple[float, float]:
    cached = {("ns", f"wf-{i}"): str(1000 + i) for i in range(objects)}
    listed = dict(cached)
    listed[("ns", "wf-7")] = "99999"
    return cpu_ms(lambda: differences(cached, listed), repeats)


def bench_pod_patch(repeats: int) -> dict:
    from tests.unit.engine.engine_world import World  # noqa: PLC0415

    template = {"name": "t", "container": {"image": "busybox", "command": ["echo"]}}
    base = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf", "namespace": "ns"},
        "spec": {
            "entrypoint": "t",
            "templates": [template],
            "arguments": {"parameters": [{"name": "m", "value": "1Gi"}]},
        },
    }
    patched = copy.deepcopy(base)
    patched["spec"]["podSpecPatch"] = (
        'containers:\n  - name: main\n    resources: {limits: {memory: "{{workflow.parameters.m}}"}}\n'
    )
    out = {}
    for label, wf in (("plain", base), ("wf_podSpecPatch", patched)):
        out[label] = cpu_ms(lambda wf=wf: World(wf).step(), repeats)
    return out


def bench_check_caches(repeats: int) -> dict:
    """The controller's check of a new workflow that calls a 100-template WorkflowTemplate: a fresh
    CheckCaches per check (before) against the controller's one (after the first workflow)."""
    from workflow.check import CheckCaches, CheckOptions, check_object  # noqa: PLC0415
    from workflow.resolve.sources import ListSource  # noqa: PLC0415

    templates = [
        {"name": f"t{i}", "container": {"image": "busybox", "command": ["echo", str(i)]}} for i in range(100)
    ]
    templates.append(
        {"name": "main", "steps": [[{"name": f"s{i}", "template": f"t{i}"}] for i in range(100)]}
    )
    wft = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "WorkflowTemplate",
        "metadata": {"name": "lib", "namespace": "ns", "resourceVersion": "7"},
        "spec": {"templates": templates},
    }
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "w", "namespace": "ns"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [[{"name": "a", "templateRef": {"name": "lib", "template": "main"}}]],
                }
            ],
        },
    }
    source = ListSource([wft])
    shared = CheckCaches.create()
    assert check_object(wf, source, CheckOptions(), shared).ok
    return {
        "fresh caches": cpu_ms(lambda: check_object(wf, source, CheckOptions()), repeats),
        "the controller's caches": cpu_ms(lambda: check_object(wf, source, CheckOptions(), shared), repeats),
    }


def main() -> None:
    n = 10_000
    print("custom metrics, engine step on", n + 1, "nodes (CPU ms, min / median):")
    for key, value in bench_metrics_step(n, 9).items():
        print(f"  {key}: {value if isinstance(value, int) else f'{value[0]:.1f} / {value[1]:.1f}'}")
    lo, med = bench_render(10_000, 5)
    print(f"registry render, 10,000 series: {lo:.1f} / {med:.1f} ms CPU")
    lo, med = bench_compare(10_000, 9)
    print(f"cache check compare, 10,000 objects: {lo:.2f} / {med:.2f} ms CPU")
    for key, (lo, med) in bench_check_caches(9).items():
        print(
            f"check of a workflow calling a 100-template WorkflowTemplate, {key}: {lo:.1f} / {med:.1f} ms CPU"
        )
    for key, (lo, med) in bench_pod_patch(50).items():
        print(f"first step of a one-pod workflow, {key}: {lo:.2f} / {med:.2f} ms CPU")


if __name__ == "__main__":
    main()
