"""The side-by-side table of a scale benchmark run (benchmarks/bench_scale.py's JSON).

    .venv/bin/python benchmarks/scale_report.py RESULT.json

One Markdown table per run: a row per load and figure, a column per controller, and the ratio
Sluice / Argo (for throughput higher is better; for the others lower is better); then one plain line per
figure, `figure: Sluice X, Argo Y, ratio Z`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# (key in a load's figures, title, unit, higher is better)
FIGURES = [
    ("workflows_per_minute", "workflows completed per minute", "/min", True),
    ("create_to_first_pod_s.p50", "create -> first pod p50", "s", False),
    ("create_to_first_pod_s.p99", "create -> first pod p99", "s", False),
    ("step_delay_s.p50", "step end -> next pod p50", "s", False),
    ("step_delay_s.p99", "step end -> next pod p99", "s", False),
    ("controller_cpu_s", "controller CPU", "s", False),
    ("controller_peak_rss_mib", "controller peak RSS", "MiB", False),
    ("api_requests_per_workflow", "API requests per workflow", "", False),
]


def _get(load: dict[str, Any], key: str) -> float | None:
    value: Any = load
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, (int, float)) else None


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"


def _ratio(sluice: float | None, argo: float | None) -> str:
    if sluice is None or argo is None or argo == 0:
        return "—"
    return f"{sluice / argo:.2f}×"


def rows(result: dict[str, Any]) -> list[tuple[str, str, float | None, float | None, str]]:
    runs = {run["controller"]: run for run in result.get("runs", [])}
    sluice = runs.get("sluice", {}).get("loads", [])
    argo = runs.get("argo", {}).get("loads", [])
    by_load_argo = {load["load"]: load for load in argo}
    out = []
    loads = sluice or argo
    for load in loads:
        other = by_load_argo.get(load["load"]) if sluice else None
        s_load, a_load = (load, other) if sluice else (None, load)
        for key, title, unit, _ in FIGURES:
            s = _get(s_load, key) if s_load else None
            a = _get(a_load, key) if a_load else None
            if s is None and a is None:
                continue
            out.append((load["load"], title, s, a, unit))
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        "| load | figure | Sluice | Argo v4.0.5 | Sluice / Argo |",
        "|---|---|---:|---:|---:|",
    ]
    plain = []
    for load, title, s, a, unit in rows(result):
        lines.append(f"| {load} | {title} | {_fmt(s, unit)} | {_fmt(a, unit)} | {_ratio(s, a)} |")
        plain.append(f"{load}: {title}: Sluice {_fmt(s, unit)}, Argo {_fmt(a, unit)}, ratio {_ratio(s, a)}")
    return "\n".join(lines) + "\n\n" + "\n".join(plain)


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        print(table(json.load(fh)))
