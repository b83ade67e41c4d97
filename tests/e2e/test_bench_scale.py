"""The scale benchmark's harness (benchmarks/bench_scale.py) runs: a smoke run against Sluice only, with
real pods and a small N (no kwok, no Argo: those are built by benchmarks/build-anchors.sh, never in CI).
It asserts the harness's output is well-formed and every workflow finished, never a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CLUSTER_DIR, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

FIGURES = ("controller_cpu_s", "controller_peak_rss_mib", "api_requests_per_workflow", "seconds")


def test_bench_scale_smoke_on_real_pods(kubeconfig: Path, tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    env = dict(os.environ, KUBECTL=str(CLUSTER_DIR / "bin" / "kubectl"))
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_scale.py"),
            "--kubeconfig",
            str(kubeconfig),
            "--controllers",
            "sluice",
            "--pods",
            "real",
            "--timeout",
            "600",
            "--json",
            str(out),
            "--log-dir",
            str(tmp_path / "logs"),
        ],
        capture_output=True,
        text=True,
        timeout=840,
        env=env,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())
    assert json.loads(proc.stdout) == result
    assert result["pods"] == "real" and result["kubernetes"]
    [run] = result["runs"]
    assert run["controller"] == "sluice"
    loads = {load["shape"]: load for load in run["loads"]}
    assert set(loads) == {"pod", "seq"}
    for shape, pods_each in (("pod", 1), ("seq", 10)):
        load = loads[shape]
        assert load["all_finished"] is True
        assert load["phases"] == {"Succeeded": load["workflows"]}, load
        assert load["completed"] == load["workflows"] >= 1
        assert load["pods"] == pods_each * load["workflows"]
        assert load["workflows_per_minute"] > 0
        assert load["create_to_first_pod_s"]["n"] == load["workflows"]
        assert load["create_to_first_pod_s"]["p50"] >= 0
        for key in FIGURES:
            assert isinstance(load[key], (int, float)) and load[key] >= 0, (key, load[key])
        assert load["api_requests_per_workflow"] > 0  # the controller's own request counter moved
    # nine step ends, each followed by the next step's pod
    assert loads["seq"]["step_delay_s"]["n"] == 9 * loads["seq"]["workflows"]
    assert loads["seq"]["step_delay_s"]["p99"] >= loads["seq"]["step_delay_s"]["p50"] >= 0
    # the table names every figure for Sluice
    assert "| 2 x 1 pod, all at once | workflows completed per minute |" in proc.stderr
