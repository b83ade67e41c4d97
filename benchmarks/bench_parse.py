"""Parsing benchmark: a Workflow whose status holds 10,000 nodes (target: parse under 100 ms), and the
modelling-library comparison behind the choice of msgspec (msgspec vs pydantic v2 vs dataclasses).

    .venv/bin/python benchmarks/bench_parse.py [--nodes 10000] [--repeat 7]

pydantic is not a project dependency; to include it in the comparison:
    .venv/bin/pip install --target /tmp/sluice-bench-libs pydantic
    PYTHONPATH=/tmp/sluice-bench-libs .venv/bin/python benchmarks/bench_parse.py
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec  # noqa: E402
from parse_alternatives import dataclass_parse, pydantic_models  # noqa: E402

from workflow.parse import parse_object, parse_workflow_status, to_dict, to_json  # noqa: E402
from workflow.types import Workflow  # noqa: E402
from workflow.types.base import dec_hook  # noqa: E402


def node(wf: str, i: int) -> dict:
    node_id = f"{wf}-{1000000 + i}"
    return {
        "id": node_id,
        "name": f"{wf}.fan-out({i}:item-{i})",
        "displayName": f"fan-out({i}:item-{i})",
        "type": "Pod",
        "templateName": "work",
        "templateScope": f"local/{wf}",
        "phase": "Succeeded",
        "boundaryID": wf,
        "startedAt": "2026-01-01T00:00:00Z",
        "finishedAt": "2026-01-01T00:00:09Z",
        "progress": "1/1",
        "resourcesDuration": {"cpu": 1, "memory": 9},
        "inputs": {"parameters": [{"name": "item", "value": f"item-{i}"}, {"name": "size", "value": "3"}]},
        "outputs": {
            "parameters": [{"name": "out", "value": f"result-{i}"}],
            "artifacts": [{"name": "main-logs", "s3": {"key": f"{wf}/{wf}-work-{i}/main.log"}}],
            "exitCode": "0",
        },
        "children": [f"{wf}-{2000000 + i}"] if i % 2 else [],
        "hostNodeName": "node-1",
        "taskResultSynced": True,
    }


def workflow_doc(count: int) -> dict:
    wf = "fan-out-x7k2p"
    nodes = {
        wf: {
            "id": wf,
            "name": wf,
            "displayName": wf,
            "type": "DAG",
            "phase": "Succeeded",
            "templateName": "main",
            "children": [],
        }
    }
    for i in range(count - 1):
        n = node(wf, i)
        nodes[n["id"]] = n
        nodes[wf]["children"].append(n["id"])
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": wf,
            "namespace": "default",
            "labels": {"workflows.argoproj.io/phase": "Succeeded"},
        },
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "dag": {"tasks": [{"name": "fan-out", "template": "work", "withParam": "{{x}}"}]},
                },
                {
                    "name": "work",
                    "inputs": {"parameters": [{"name": "item"}]},
                    "container": {"image": "busybox", "command": ["echo", "{{inputs.parameters.item}}"]},
                },
            ],
        },
        "status": {
            "phase": "Succeeded",
            "startedAt": "2026-01-01T00:00:00Z",
            "progress": f"{count - 1}/{count - 1}",
            "nodes": nodes,
        },
    }


def measure(fn, repeat: int) -> tuple[float, float]:
    """Median CPU time and median wall time of `fn()`, in ms (a full collection before each run).

    CPU time is the figure to compare: the machine is shared, and wall time includes waiting for a core.
    """
    cpu, wall = [], []
    for _ in range(repeat):
        gc.collect()
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start_wall) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def peak_mib(fn) -> float:
    gc.collect()
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return peak / 2**20


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    doc = workflow_doc(args.nodes)
    status = doc["status"]
    data = json.dumps(doc).encode()
    status_data = json.dumps(status).encode()
    assert parse_object(doc).ok

    def from_json_bytes():
        return msgspec.json.decode(data, type=Workflow, dec_hook=dec_hook, strict=True)

    parsed = parse_object(doc).obj
    rows = [
        ("parse_object(dict) [Workflow + 10k-node status]", measure(lambda: parse_object(doc), args.repeat)),
        ("parse_workflow_status(dict)", measure(lambda: parse_workflow_status(status), args.repeat)),
        ("msgspec.json.decode(bytes, type=Workflow)", measure(from_json_bytes, args.repeat)),
        ("json.loads(bytes) (for scale: no typing at all)", measure(lambda: json.loads(data), args.repeat)),
        ("to_dict(Workflow)", measure(lambda: to_dict(parsed), args.repeat)),
        ("to_json(Workflow)", measure(lambda: to_json(parsed), args.repeat)),
    ]
    print(f"nodes={args.nodes} JSON size={len(data) / 2**20:.1f} MiB repeat={args.repeat}")
    print(f"  {'':<52} {'CPU ms':>8} {'wall ms':>8}")
    for label, (cpu, wall) in rows:
        print(f"  {label:<52} {cpu:8.1f} {wall:8.1f}")
    print(f"  peak memory of parse_object(dict): {peak_mib(lambda: parse_object(doc)):.1f} MiB")

    print("\nLibrary comparison on the status subset (dict → typed, strict; median CPU / wall ms):")
    comparison = [
        (
            "msgspec Structs (the chosen types, full NodeStatus)",
            measure(lambda: parse_workflow_status(status), args.repeat),
        ),
        ("dataclasses + type-driven converter", measure(lambda: dataclass_parse(status), args.repeat)),
    ]
    if importlib.util.find_spec("pydantic") is not None:
        model = pydantic_models()
        import pydantic

        comparison.append(
            (
                f"pydantic {pydantic.VERSION} model_validate(dict)",
                measure(lambda: model.model_validate(status), args.repeat),
            )
        )
        comparison.append(
            (
                f"pydantic {pydantic.VERSION} model_validate_json(bytes)",
                measure(lambda: model.model_validate_json(status_data), args.repeat),
            )
        )
    else:
        print("  (pydantic not importable: see the module docstring to include it)")
    comparison.append(
        (
            "msgspec.json.decode(bytes, type=WorkflowStatus)",
            measure(
                lambda: msgspec.json.decode(
                    status_data, type=type(parsed.status), dec_hook=dec_hook, strict=True
                ),
                args.repeat,
            ),
        )
    )
    base = comparison[0][1][0]
    for label, (cpu, wall) in comparison:
        print(f"  {label:<52} {cpu:8.1f} {wall:8.1f}   x{cpu / base:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
