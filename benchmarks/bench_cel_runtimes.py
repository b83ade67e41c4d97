"""The CEL runtimes on issue 13 item 1's shape: N containers with 1,000 env entries each.

    .venv/bin/python benchmarks/bench_cel_runtimes.py cel-rust|cel-python|cel-expr-python [N]

One runtime per process (peak RSS is the process's). cel-expr-python is not a dependency of the project:
install it in a separate virtualenv (`pip install cel-expr-python`) and run this file with that Python.
"""

from __future__ import annotations

import resource
import sys
import time

EXPRESSIONS = [
    "containers.all(c, c.image.startsWith('e'))",
    "containers.filter(c, c.image.startsWith('e'))[0].image",
    "containers.map(c, {'image': c.image, 'path': c.path}).filter(c, c.image.startsWith('e'))[0].image",
]


def main() -> None:
    which = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    containers = [
        {
            "name": "main",
            "image": "evil.example/x",
            "path": f"spec.templates[{i}].container",
            "env": [{"name": f"E{j}", "value": "x"} for j in range(1000)],
        }
        for i in range(n)
    ]
    started = time.perf_counter()
    if which == "cel-expr-python":
        from cel_expr_python import cel as celcpp

        env = celcpp.NewEnv(variables={"containers": celcpp.Type.List(celcpp.Type.DYN)})
        activation = env.Activation({"containers": containers})

        def run(expression):
            return env.compile(expression).eval(activation).value()
    elif which == "cel-rust":
        import cel

        context = cel.Context(variables={"containers": containers})

        def run(expression):
            return cel.compile(expression).execute(context)
    else:
        import celpy
        from celpy.adapter import json_to_cel

        environment = celpy.Environment()
        activation = {"containers": json_to_cel(containers)}

        def run(expression):
            return environment.program(environment.compile(expression)).evaluate(activation)

    print(f"{which}, {n} containers: convert {time.perf_counter() - started:.3f} s")
    for expression in EXPRESSIONS:
        started = time.perf_counter()
        result = run(expression)
        print(f"  {time.perf_counter() - started:8.3f} s  {expression}  -> {str(result)[:20]}")
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
