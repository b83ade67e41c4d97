"""Engine and local-runner figures (targets in benchmarks/RESULTS.md; issue 4).

1. one engine step on a workflow whose status already holds 10,000 nodes (target < 50 ms);
2. a simulated 10,000-pod fan-out with instant fake pods, start to finish: total engine time
   (target < 10 s) and peak memory (target < 200 MB);
3. local runner overhead per step beyond the command itself (target < 50 ms);
4. the first step of a new workflow, checking it itself or told that its driver just did
   (`Observed.checked`; controller/spec_check.py), on the scale benchmark's shapes.

    .venv/bin/python benchmarks/bench_engine.py [--pods N] [--runner-steps N] [--only step|fanout|runner|first]

CPU time is reported beside wall time: the development machine is shared.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflow.engine import (  # noqa: E402
    ContainerObservation,
    CreatePod,
    Observed,
    PodObservation,
    TaskResultObservation,
    step,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def fan_out(n: int, name: str = "fan", shape: str = "steps") -> dict:
    """`n` pods in one loop, then one pod after all of them: as steps (group 0, group 1) or as a DAG."""
    wf = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "steps": [
                        [
                            {
                                "name": "work",
                                "template": "echo",
                                "withSequence": {"count": str(n)},
                                "arguments": {"parameters": [{"name": "i", "value": "{{item}}"}]},
                            }
                        ],
                        [
                            {
                                "name": "after",
                                "template": "echo",
                                "arguments": {"parameters": [{"name": "i", "value": "done"}]},
                            }
                        ],
                    ],
                },
                {
                    "name": "echo",
                    "inputs": {"parameters": [{"name": "i"}]},
                    "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.i}}"]},
                    "outputs": {"parameters": [{"name": "o", "valueFrom": {"path": "/tmp/o"}}]},
                },
            ],
        },
    }
    if shape == "dag":
        main = wf["spec"]["templates"][0]
        work, after = main.pop("steps")
        main["dag"] = {"tasks": [work[0], {**after[0], "depends": "work"}]}
    return wf


def finished(pod_name: str, node_id: str, now: datetime) -> tuple[PodObservation, TaskResultObservation]:
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    pod = PodObservation(
        name=pod_name,
        node_id=node_id,
        phase="Succeeded",
        containers=(
            ContainerObservation("wait", "terminated", 0, finished_at=stamp),
            ContainerObservation("main", "terminated", 0, finished_at=stamp),
        ),
    )
    result = TaskResultObservation(node_id, {"parameters": [{"name": "o", "value": "x"}]})
    return pod, result


def simulate(n: int, stop_running: int | None = None, shape: str = "steps"):
    """Run the fan-out with instant pods. With `stop_running`, stop when that many pods still run."""
    wf = fan_out(n, shape=shape)
    pods: dict[str, PodObservation] = {}
    results: dict[str, TaskResultObservation] = {}
    now = T0
    engine_cpu = engine_wall = 0.0
    steps = 0
    while True:
        observed = Observed(pods=dict(pods), task_results=dict(results))
        c0, w0 = time.process_time(), time.perf_counter()
        decision = step(wf, observed, now)
        engine_cpu += time.process_time() - c0
        engine_wall += time.perf_counter() - w0
        steps += 1
        wf["status"] = decision.status
        if decision.status.get("phase") in ("Succeeded", "Failed", "Error"):
            return wf, pods, results, engine_cpu, engine_wall, steps
        created = [a for a in decision.actions if isinstance(a, CreatePod)]
        now += timedelta(seconds=1)
        for index, action in enumerate(created):
            if stop_running is not None and index >= len(created) - stop_running:
                pods[action.node_id] = PodObservation(
                    name=action.name,
                    node_id=action.node_id,
                    phase="Running",
                    containers=(ContainerObservation("main", "running"),),
                )
                continue
            pods[action.node_id], results[action.node_id] = finished(action.name, action.node_id, now)
        if stop_running is not None and created:
            return wf, pods, results, engine_cpu, engine_wall, steps


def _timed(run, repeats: int, gc_mode: str) -> tuple[list[float], list[float]]:
    """CPU and wall ms of `run()` `repeats` times with the cycle collector on, off, or on after
    gc.freeze() (what a driver could do once its caches are loaded; the engine itself never touches gc)."""
    cpu, wall = [], []
    gc.collect()
    if gc_mode == "freeze":
        gc.freeze()
    if gc_mode == "off":
        gc.disable()
    try:
        for _ in range(repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            run()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
    finally:
        gc.enable()
        gc.unfreeze()
    return cpu, wall


def bench_one_step(n: int, repeats: int, shape: str = "steps") -> dict:
    """A 10,000-node status, 10 pods still running: one step where nothing changes (the common case), and
    the step where those 10 finish (the group completes, the next group is created and hung under all
    10,000 pods, progress follows). The engine never changes its input, so each is repeated on the same
    status; with the cycle collector on (as a driver runs), off, and on after gc.freeze()."""
    wf, pods, results, *_ = simulate(n, stop_running=10, shape=shape)
    observed = Observed(pods=dict(pods), task_results=dict(results))
    now = T0 + timedelta(seconds=30)
    wf["status"] = step(wf, observed, now).status  # the finished pods are taken in: steady state from here
    nodes = len(wf["status"]["nodes"])
    finishing = dict(pods)
    finishing_results = dict(results)
    for node_id, pod in pods.items():
        if pod.phase == "Running":
            finishing[node_id], finishing_results[node_id] = finished(pod.name, node_id, now)
    last = Observed(pods=finishing, task_results=finishing_results)
    out: dict = {"nodes": nodes}
    for gc_mode in ("on", "off", "freeze"):
        out[("steady", gc_mode)] = _timed(lambda: step(wf, observed, now), repeats, gc_mode)
        out[("change", gc_mode)] = _timed(lambda: step(wf, last, now), repeats, gc_mode)
    return out


def bench_fan_out(n: int) -> dict:
    """Run in a fresh process each: engine time and max RSS untraced, then the traced Python peak."""
    code = (
        "import sys, resource, json; sys.path.insert(0, 'benchmarks'); import bench_engine as b; "
        f"wf, pods, r, cpu, wall, steps = b.simulate({n}); "
        "print(json.dumps({'pods': len(pods), 'phase': wf['status']['phase'], 'steps': steps, "
        "'engine_cpu_s': cpu, 'engine_wall_s': wall, "
        "'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    traced = (
        "import sys, json, tracemalloc; sys.path.insert(0, 'benchmarks'); import bench_engine as b; "
        f"tracemalloc.start(); b.simulate({n}); print(json.dumps(tracemalloc.get_traced_memory()[1] / 2**20))"
    )
    root = Path(__file__).resolve().parents[1]
    import json  # noqa: PLC0415

    out = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
        ).stdout
    )
    out["peak_mb"] = json.loads(
        subprocess.run(
            [sys.executable, "-c", traced], capture_output=True, text=True, cwd=root, check=True
        ).stdout
    )
    return out


def bench_first_step(repeats: int) -> dict[tuple[str, bool], list[float]]:
    """CPU ms of the first step of a new workflow of each scale shape (benchmarks/scale_workloads.py),
    with the engine's own check (`checked=False`) and without it (`checked=True`), interleaved."""
    from scale_workloads import SHAPES  # noqa: PLC0415

    out: dict[tuple[str, bool], list[float]] = {}
    for shape in ("pod", "seq", "dag", "items"):
        wf = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "metadata": {"name": "first", "namespace": "default", "uid": "u"},
            "spec": SHAPES[shape].spec(),
        }
        for checked in (False, True):
            step(wf, Observed(checked=checked), T0)  # warm
        for _ in range(repeats):
            for checked in (False, True):
                c0 = time.process_time()
                decision = step(wf, Observed(checked=checked), T0)
                out.setdefault((shape, checked), []).append((time.process_time() - c0) * 1000)
                assert decision.status.get("phase") == "Running", decision.status
    return out


def _runner_wall(steps: int, tmp: str) -> tuple[float, float, int, str]:
    doc = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": f"overhead-{steps}"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {"name": "main", "steps": [[{"name": f"s{i}", "template": "t"}] for i in range(steps)]},
                {"name": "t", "container": {"image": "busybox", "command": ["true"]}},
            ],
        },
    }
    import yaml  # noqa: PLC0415

    path = Path(tmp) / f"wf-{steps}.yaml"
    path.write_text(yaml.safe_dump(doc))
    env = dict(os.environ, SLUICE_HOME=tmp)
    code = (
        "import sys, time; from pathlib import Path; from sluice.runner.driver import Runner, RunOptions; "
        "from sluice.runner.load import load, prepare; "
        f"loaded = load(Path({str(path)!r})); wf = prepare(loaded.workflow, [], None); "
        f"opts = RunOptions(Path({tmp!r}) / 'run-{steps}', Path({tmp!r}) / 'art', handle_signals=False); "
        "r = Runner(wf, opts); t0 = time.perf_counter(); out = r.run(); wall = time.perf_counter() - t0; "
        "print(wall, r.engine_seconds - r.first_step_seconds, r.steps, out['status']['phase'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )
    wall, engine, engine_steps, phase = result.stdout.split()
    return float(wall), float(engine), int(engine_steps), phase


def bench_runner(steps: int) -> dict:
    """Sequential steps of `true` through the runner. Per-step overhead is the slope between a short and
    a long run (start-up, including the first step's validation, cancels out) minus spawning `true`."""
    spawn = []
    for _ in range(20):
        t0 = time.perf_counter()
        subprocess.run(["true"], check=True)
        spawn.append(time.perf_counter() - t0)
    spawn_s = statistics.median(spawn)
    short = max(2, steps // 6)
    with tempfile.TemporaryDirectory() as tmp:
        w1, e1, s1, _ = _runner_wall(short, tmp)
        w2, e2, s2, phase = _runner_wall(steps, tmp)
    per_step = (w2 - w1) / (steps - short)
    return {
        "steps": steps,
        "phase": phase,
        "wall_s": w2,
        "engine_s": e2,
        "engine_steps": s2,
        "spawn_ms": spawn_s * 1000,
        "startup_s": w1 - short * per_step,
        "engine_ms_per_step": e2 / (s2 - 1) * 1000,
        "overhead_ms_per_step": (per_step - spawn_s) * 1000,
    }


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--runner-steps", type=int, default=60)
    parser.add_argument("--only", choices=["step", "fanout", "runner", "first"])
    parser.add_argument("--shape", choices=["steps", "dag"], default="steps", help="of the one-step figures")
    args = parser.parse_args()
    if args.only in (None, "step"):
        one_step(args)
    if args.only in (None, "fanout"):
        fan_out_figures(args)
    if args.only in (None, "runner"):
        runner_figures(args)
    if args.only in (None, "first"):
        first_step_figures(args)


def one_step(args) -> None:
    one = bench_one_step(args.pods, args.repeats, args.shape)
    print(
        f"one step on {one['nodes']} nodes ({args.shape}), {args.repeats} runs each, ms min / median "
        f"(load {_load()}):"
    )
    for what, label in (("steady", "nothing changes"), ("change", "the last 10 pods finish")):
        for gc_mode in ("on", "off", "freeze"):
            cpu, wall = one[(what, gc_mode)]
            print(
                f"  {label:24} gc {gc_mode:6}: cpu {min(cpu):6.1f} / {statistics.median(cpu):6.1f}, "
                f"wall {min(wall):6.1f} / {statistics.median(wall):6.1f}"
            )


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def fan_out_figures(args) -> None:
    fan = bench_fan_out(args.pods)
    print(
        f"fan-out {fan['pods']} pods -> {fan['phase']} in {fan['steps']} steps: engine cpu {fan['engine_cpu_s']:.2f} s, "
        f"wall {fan['engine_wall_s']:.2f} s, max RSS of the whole process {fan['max_rss_mb']:.0f} MiB, "
        f"peak Python allocations {fan['peak_mb']:.0f} MiB"
    )


def first_step_figures(args) -> None:
    first = bench_first_step(args.repeats)
    print(f"first step of a new workflow, {args.repeats} runs each, cpu ms min / median (load {_load()}):")
    for shape in ("pod", "seq", "dag", "items"):
        own, told = first[(shape, False)], first[(shape, True)]
        print(
            f"  {shape:6}: engine checks {min(own):6.2f} / {statistics.median(own):6.2f}, "
            f"told it was checked {min(told):6.2f} / {statistics.median(told):6.2f}"
        )


def runner_figures(args) -> None:
    run = bench_runner(args.runner_steps)
    print(
        f"runner: {run['steps']} sequential steps -> {run['phase']}: wall {run['wall_s']:.2f} s, "
        f"engine {run['engine_s']:.2f} s in {run['engine_steps']} engine steps ({run['engine_ms_per_step']:.1f} ms "
        f"each after the first), start-up {run['startup_s']:.2f} s, spawning `true` {run['spawn_ms']:.1f} ms, "
        f"overhead {run['overhead_ms_per_step']:.1f} ms/step"
    )


if __name__ == "__main__":
    main()
