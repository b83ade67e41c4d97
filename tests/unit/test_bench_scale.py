"""The scale benchmark's pure parts (benchmarks/scale_workloads.py, scale_observe.figures, scale_report):
the shapes are valid workflows of the size they claim, and the figures come out of known stamps."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from scale_observe import Observer, PodSeen, figures  # noqa: E402
from scale_report import table  # noqa: E402
from scale_workloads import SHAPES, workflow  # noqa: E402

from workflow.check import check_objects  # noqa: E402

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_is_a_valid_workflow_for_its_controller(name: str) -> None:
    wf = workflow(SHAPES[name], f"{name}-0", "bench-x", "b", kwok=True)
    [report] = check_objects([wf])
    assert report.errors == [], report.errors
    assert wf["metadata"]["labels"]["workflows.argoproj.io/controller-instanceid"] == "bench-x"
    assert wf["spec"]["tolerations"][0]["key"] == "sluice.dev/bench-kwok"
    assert "nodeSelector" not in workflow(SHAPES[name], "x", "i", "b", kwok=False)["spec"]


@pytest.mark.parametrize(
    ("shape", "node_name", "group"),
    [
        ("seq", "wf[0].s0", 0),
        ("seq", "wf[7].s7", 7),
        ("items", "wf[0].work(12:12)", 0),
        ("items", "wf[1].done", 1),
        ("dag", "wf.root", 0),
        ("dag", "wf.fan-42", 1),
        ("dag", "wf.join", 2),
        ("pod", "wf", 0),
    ],
)
def test_pods_are_grouped_by_step(shape: str, node_name: str, group: int) -> None:
    assert SHAPES[shape].group(node_name) == group


def _observer() -> Observer:
    return Observer(api=None, namespaces=["ns"], write_results=False)


def test_figures_from_known_stamps() -> None:
    obs = _observer()
    # two 3-pod sequences (as "seq" groups them): created/finished stamps in seconds
    obs.submitted = {"a": 0.0, "b": 1.0}
    obs.pods = {
        "a0": PodSeen("a", "a[0].s0", 0.5, 0.6, 2.0),
        "a1": PodSeen("a", "a[1].s1", 2.1, 2.2, 4.0),
        "a2": PodSeen("a", "a[2].s2", 4.3, 4.4, 6.0),
        "b0": PodSeen("b", "b[0].s0", 1.2, 1.3, 3.0),
        "b1": PodSeen("b", "b[1].s1", 3.2, None, None),  # never finished: b2 has no delay
        "other": PodSeen("zzz", "zzz", 0.0, None, None),  # not of this batch
    }
    obs.done = {"a": (7.0, "Succeeded"), "b": (13.0, "Failed")}
    fig = figures(obs, SHAPES["seq"], ["a", "b"])
    assert fig["workflows"] == fig["completed"] == 2
    assert fig["phases"] == {"Succeeded": 1, "Failed": 1}
    assert fig["pods"] == 5
    assert fig["seconds"] == pytest.approx(13.0)
    assert fig["workflows_per_minute"] == pytest.approx(2 / 13 * 60)
    assert fig["create_to_first_pod_s"]["n"] == 2
    assert fig["create_to_first_pod_s"]["p50"] == pytest.approx(0.2)  # of 0.5 and 0.2: the lower middle
    assert fig["step_delay_s"]["n"] == 3  # a1, a2, b1
    assert fig["step_delay_s"]["p50"] == pytest.approx(0.2)
    assert fig["step_delay_s"]["p99"] == pytest.approx(0.3)


def test_fan_in_waits_for_the_last_of_the_group() -> None:
    obs = _observer()
    obs.submitted = {"d": 0.0}
    obs.pods = {
        "r": PodSeen("d", "d.root", 0.1, 0.2, 1.0),
        "f0": PodSeen("d", "d.fan-0", 1.5, 1.6, 3.0),
        "f1": PodSeen("d", "d.fan-1", 1.25, 1.6, 5.0),
        "j": PodSeen("d", "d.join", 5.5, None, None),
    }
    fig = figures(obs, SHAPES["dag"], ["d"])
    # fans after the root's end (0.5, 0.25), the join after the last fan's end (0.5)
    assert fig["step_delay_s"]["n"] == 3
    assert fig["step_delay_s"]["p50"] == pytest.approx(0.5)
    assert fig["completed"] == 0 and fig["workflows_per_minute"] is None


def test_table_gives_both_controllers_and_the_ratio() -> None:
    load = {
        "load": "2 x 1 pod, all at once",
        "workflows_per_minute": 100.0,
        "step_delay_s": {"p50": None, "p99": None},
        "controller_cpu_s": 2.0,
    }
    result = {
        "runs": [
            {"controller": "sluice", "loads": [load]},
            {"controller": "argo", "loads": [load | {"workflows_per_minute": 50.0, "controller_cpu_s": 4.0}]},
        ]
    }
    text = table(result)
    assert "| 2 x 1 pod, all at once | workflows completed per minute | 100/min | 50.0/min | 2.00× |" in text
    assert "| 2 x 1 pod, all at once | controller CPU | 2.000 s | 4.000 s | 0.50× |" in text
    assert "step end" not in text  # no figure on either side: no row
    assert "2 x 1 pod, all at once: controller CPU: Sluice 2.000 s, Argo 4.000 s, ratio 0.50×" in text
