"""The CEL evaluator backed by the Rust `cel` interpreter (PyPI: common-expression-language).

Same interface and same answers as cel-python on the shared rule table (tests/unit/
test_webhook_cel_cases.py), an order of magnitude faster: the benchmark (benchmarks/RESULTS.md)
showed cel-python alone over the 20 ms admission budget. Variables are converted to CEL values once
per request, inside one `cel.Context` that every program of every policy reuses.
"""

from __future__ import annotations

from typing import Any

from webhook.policy.cel import VARIABLES, CelError, absent_field, one_line


class CelRust:
    name = "cel-rust"

    def __init__(self) -> None:
        import cel  # the Rust extension; imported here so cel-python-only processes do not load it

        self._cel = cel

    def compile(self, expression: str) -> _RustProgram:
        if not isinstance(expression, str) or not expression.strip():
            raise CelError("expression is empty")
        try:
            program = self._cel.compile(expression)
            names = program.variables()
        except Exception as exc:  # ValueError on syntax errors; anything else the binding raises
            raise CelError(f"does not compile: {_first_line(exc)}") from None
        return _RustProgram(expression, frozenset(names) & frozenset(VARIABLES), program)

    def activation(
        self, values: dict[str, Any], needed: frozenset[str] = frozenset(VARIABLES)
    ) -> _RustActivation:
        return _RustActivation(self._cel, values, needed)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # The parser's message repeats the expression with a caret under it; the first line says it all.
    return one_line(text.splitlines()[0] if text else type(exc).__name__)


class _RustActivation:
    __slots__ = ("_cel", "_raw", "_needed", "_context", "_names")

    def __init__(self, cel: Any, raw: dict[str, Any], needed: frozenset[str]) -> None:
        self._cel, self._raw, self._needed = cel, raw, needed
        self._context: Any = None
        self._names: frozenset[str] = frozenset()

    def context(self, names: frozenset[str]) -> Any:
        """One Context for the request; rebuilt only if a program needs a variable not yet in it."""
        if self._context is None or not names <= self._names:
            wanted = (self._needed | names) & frozenset(self._raw)
            values = {}
            for name in wanted:
                value = self._raw[name]
                values[name] = value() if callable(value) else value
            self._context = self._cel.Context(variables=values)
            self._names = frozenset(wanted)
        return self._context


class _RustProgram:
    __slots__ = ("expression", "variables", "_program")

    def __init__(self, expression: str, variables: frozenset[str], program: Any) -> None:
        self.expression = expression
        self.variables = variables
        self._program = program

    def evaluate(self, activation: _RustActivation) -> Any:
        try:
            return self._program.execute(activation.context(self.variables))
        except RecursionError:
            raise CelError("evaluation failed: nested too deeply") from None
        except KeyError as exc:  # a field the object does not have
            raise absent_field(str(exc.args[0]) if exc.args else "?") from None
        except Exception as exc:  # IndexError, TypeError, ValueError, ZeroDivisionError, RuntimeError
            detail = str(exc).strip("'\"") or type(exc).__name__
            raise CelError(f"evaluation failed: {type(exc).__name__}: {one_line(detail)}") from None
