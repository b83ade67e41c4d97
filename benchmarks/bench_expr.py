"""Expression benchmark: expr-lang compile and evaluate rates, `{{ }}` rendering, a govaluate `when`, and a
`depends` over 200 tasks (parse once, evaluate on every reconcile).

    .venv/bin/python benchmarks/bench_expr.py [--repeat 5]

Reports CPU time per operation (median of --repeat runs, each long enough to be timed), and its inverse.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflow.expr import TaskState, compile_expr, compile_when, evaluate_when, expand_scope, parse_depends  # noqa: E402
from workflow.expr.depends import parse_depends as parse_depends_cached  # noqa: E402
from workflow.expr.govaluate import _compile as when_cached  # noqa: E402
from workflow.templating import render, render_json  # noqa: E402

EXPRESSIONS = {
    "comparison": "steps['flip-coin'].outputs.result == 'heads'",
    "arithmetic": "asInt(inputs.parameters['my-param']) * 10 + 1",
    "ternary": "asInt(inputs.parameters.num) == 1 ? 1 : asInt(inputs.parameters.num) == 2 ? 1 : 3",
    "filter+toJson": "toJson(filter([1, 3, 5, 7], {# > 1}))",
    "jsonpath": "jsonpath(workflow.parameters.config, '$.employees[?(@.age > 42)].name')",
    "sprig": "sprig.upper(sprig.trim(workflow.name)) + '-' + string(sprig.add(1, 2))",
}
FLAT_SCOPE = {
    "steps.flip-coin.outputs.result": "heads",
    "inputs.parameters.my-param": "7",
    "inputs.parameters.num": "2",
    "workflow.name": "  wf-abc ",
    "workflow.parameters.config": '{"employees": [{"name": "Baris", "age": 43}, {"name": "Mo", "age": 42}]}',
}
STEP = {
    "name": "consume",
    "template": "print",
    "arguments": {
        "parameters": [
            {"name": "a", "value": "{{steps.flip-coin.outputs.result}}"},
            {"name": "b", "value": "{{=asInt(inputs.parameters['my-param']) * 10}}"},
            {"name": "c", "value": "plain text, no tags"},
        ]
    },
    "when": "{{steps.flip-coin.outputs.result}} == heads",
}


def per_op(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds per call of fn."""
    n = 1
    while True:  # find a batch that takes at least 50 ms
        start = time.process_time()
        for _ in range(n):
            fn()
        if time.process_time() - start >= 0.05:
            break
        n *= 4
    samples = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(n):
            fn()
        samples.append((time.process_time() - start) / n)
    return statistics.median(samples)


def row(name: str, seconds: float) -> str:
    return f"| {name} | {seconds * 1e6:,.1f} | {1 / seconds:,.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    env = expand_scope(FLAT_SCOPE)
    lines = ["| operation | µs per op | ops per s |", "|---|---:|---:|"]

    for name, src in EXPRESSIONS.items():
        lines.append(
            row(f"compile `{name}` (uncached)", per_op(lambda s=src: compile_expr.__wrapped__(s), repeat))
        )
    for name, src in EXPRESSIONS.items():
        program = compile_expr(src)
        lines.append(row(f"run `{name}`", per_op(lambda p=program: p.run(env), repeat)))
    lines.append(
        row("compile_expr, cache hit", per_op(lambda: compile_expr(EXPRESSIONS["arithmetic"]), repeat))
    )
    lines.append(row("expand_scope (5 keys)", per_op(lambda: expand_scope(FLAT_SCOPE), repeat)))
    lines.append(
        row("render: 1 simple tag", per_op(lambda: render("{{workflow.name}}-x", FLAT_SCOPE), repeat))
    )
    lines.append(
        row(
            "render: 1 expression tag (scope expanded)",
            per_op(lambda: render("{{=asInt(inputs.parameters['my-param']) * 10}}", FLAT_SCOPE), repeat),
        )
    )
    lines.append(
        row("render_json: a step with 3 tags", per_op(lambda: render_json(STEP, FLAT_SCOPE), repeat))
    )
    big = dict(FLAT_SCOPE)
    big.update({f"steps.step-{i}.outputs.parameters.p{j}": "v" for i in range(60) for j in range(5)})
    lines.append(row("expand_scope (305 keys)", per_op(lambda: expand_scope(big), repeat)))
    lines.append(
        row(
            "render: 1 expression tag, 305-key scope",
            per_op(lambda: render("{{=asInt(inputs.parameters['my-param']) * 10}}", big), repeat),
        )
    )

    when = "( heads == heads && tails == tails ) || ( tails == heads && 3 < 10 )"
    lines.append(
        row("evaluate_when, parse each time", per_op(lambda: when_cached.__wrapped__(when)(), repeat))
    )
    lines.append(row("evaluate_when, cached parse", per_op(lambda: evaluate_when(when), repeat)))
    lines.append(row("compile_when (lint)", per_op(lambda: compile_when.__wrapped__(STEP["when"]), repeat)))

    tasks = [f"task-{i}" for i in range(200)]
    depends = " && ".join(f"({t} || {t}.Failed)" if i % 2 else t for i, t in enumerate(tasks))
    states = {t: TaskState("Succeeded") for t in tasks}
    lines.append(
        row(
            "depends over 200 tasks: parse", per_op(lambda: parse_depends_cached.__wrapped__(depends), repeat)
        )
    )
    parsed = parse_depends(depends)
    lines.append(row("depends over 200 tasks: evaluate", per_op(lambda: parsed.evaluate(states.get), repeat)))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
