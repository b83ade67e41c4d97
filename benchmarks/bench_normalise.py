"""Benchmark: the one normalised form (workflow/parse/normalise.py), typed objects against a normalised dict.

Issue 9 asks for one model of a document that validation, resolution, expansion and the engine read,
chosen by measurement. Two candidates:

- typed: `parse_object` (msgspec Structs, legacy fields upgraded), readers use attributes;
- dict: `normalise_object` (legacy fields upgraded on the JSON, copy-on-write), readers use `.get`.

Measured on the two documents the budgets name: the 200-task admission DAG (bench_validate.py) and a
Workflow whose status holds 10,000 nodes (bench_parse.py), each as written today and with every template
in the v3 spelling (`synchronization.mutex`), plus the cost of reading every DAG task's fields both ways.
CPU time (time.process_time), median of N batches.

    .venv/bin/python benchmarks/bench_normalise.py [repeat]
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_parse import workflow_doc  # noqa: E402
from bench_validate import workflow as dag_workflow  # noqa: E402

from workflow.parse import normalised_workflow, parse_object, parse_workflow_status, to_dict  # noqa: E402
from workflow.parse.normalise import normalise_object  # noqa: E402


def per_call_ms(fn, repeat: int) -> float:
    """CPU ms per call: median over `repeat` batches, each at least 20 ms long."""
    t0 = time.process_time()
    fn()
    once = max(time.process_time() - t0, 1e-6)
    batch = max(1, int(0.02 / once))
    samples = []
    for _ in range(repeat):
        t0 = time.process_time()
        for _ in range(batch):
            fn()
        samples.append((time.process_time() - t0) * 1000 / batch)
    return statistics.median(samples)


def with_v3_mutexes(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    for i, tmpl in enumerate(doc["spec"]["templates"]):
        tmpl["synchronization"] = {"mutex": {"name": f"m{i}"}}
    return doc


def read_tasks_dict(doc: dict) -> int:
    n = 0
    for tmpl in doc["spec"]["templates"]:
        for task in (tmpl.get("dag") or {}).get("tasks") or ():
            n += len(task.get("name") or "") + len(task.get("depends") or "")
            ref = task.get("templateRef")
            if ref is not None:
                n += len(ref.get("template") or "")
            for p in (task.get("arguments") or {}).get("parameters") or ():
                n += len(p.get("value") or "")
    return n


def read_tasks_typed(obj) -> int:
    n = 0
    for tmpl in obj.spec.templates:
        for task in (tmpl.dag.tasks if tmpl.dag is not None else None) or ():
            n += len(task.name or "") + len(task.depends or "")
            if task.template_ref is not None:
                n += len(task.template_ref.template or "")
            for p in (task.arguments.parameters if task.arguments is not None else None) or ():
                n += len(p.value or "")
    return n


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    dag = dag_workflow("webhook")
    big = workflow_doc(10_000)
    rows = []
    for label, doc in (
        ("200-task DAG", dag),
        ("200-task DAG, v3 mutex on every template", with_v3_mutexes(dag)),
        ("10,000-node status", big),
    ):
        rows.append(
            (label, "normalise_object (dict)", per_call_ms(lambda d=doc: normalise_object(d), repeat))
        )
        rows.append((label, "parse_object (typed)", per_call_ms(lambda d=doc: parse_object(d), repeat)))
        rows.append(
            (
                label,
                "normalised_workflow (engine input)",
                per_call_ms(lambda d=doc: normalised_workflow(d), repeat),
            )
        )
    parsed = parse_object(dag)
    rows.append(
        ("200-task DAG", "to_dict(typed) back to JSON", per_call_ms(lambda: to_dict(parsed.obj), repeat))
    )
    rows.append(
        ("200-task DAG", "read every task's fields, dict", per_call_ms(lambda: read_tasks_dict(dag), repeat))
    )
    rows.append(
        (
            "200-task DAG",
            "read every task's fields, typed",
            per_call_ms(lambda: read_tasks_typed(parsed.obj), repeat),
        )
    )
    status = big["status"]
    rows.append(
        (
            "10,000-node status",
            "parse_workflow_status (typed)",
            per_call_ms(lambda: parse_workflow_status(status), 3),
        )
    )
    print(f"{'document':<42} {'operation':<34} {'CPU ms':>9}")
    for doc_label, op, ms in rows:
        print(f"{doc_label:<42} {op:<34} {ms:>9.3f}")


if __name__ == "__main__":
    main()
