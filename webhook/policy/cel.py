"""The CEL evaluator interface and its cel-python implementation.

Policies are compiled once (when a WorkflowPolicy is loaded) and evaluated many times. Per request the
variables (`object`, `expanded`, `containers`, `request`) are converted to CEL values once, lazily,
only if some compiled program names them, and shared by every rule of every policy.

Any evaluator must give the same answers on the shared rule table (tests/unit/test_webhook_cel_cases.py).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

# object: as submitted; expanded: references resolved (Argo's shape: referenced templates under
# status.storedTemplates); containers: every container each reachable leaf template runs; request:
# operation and user. Derived for convenience: spec (the effective workflow spec, also of a
# CronWorkflow) and templates (every reachable template, local and referenced).
VARIABLES = ("object", "expanded", "containers", "request", "spec", "templates")


class CelError(ValueError):
    """A CEL expression that does not compile or does not evaluate; str() is one line."""


class Program(Protocol):
    expression: str
    variables: frozenset[str]  # which of VARIABLES it may read (over-approximated)

    def evaluate(self, activation: Activation) -> Any:
        """The result as a plain Python value (bool, int, float, str, list, dict, None); CelError."""
        ...


class Activation(Protocol):
    """The per-request variables, converted at most once each. A raw value may be a zero-argument
    callable: it is called (once) only when a program needs that variable."""


class Evaluator(Protocol):
    name: str

    def compile(self, expression: str) -> Program: ...

    def activation(self, values: dict[str, Any], needed: frozenset[str] = frozenset(VARIABLES)) -> Activation:
        """`needed`: the variables some program about to run reads (others need not be converted)."""
        ...


def one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CelPython:
    """cel-python (pure Python). Correct and dependency-light; slow on wide lists (see benchmarks)."""

    name = "cel-python"

    def __init__(self) -> None:
        import celpy  # imported here so a process that only uses another evaluator does not pay for it

        self._celpy = celpy
        self._env = celpy.Environment()

    def compile(self, expression: str) -> _CelPyProgram:
        if not isinstance(expression, str) or not expression.strip():
            raise CelError("expression is empty")
        try:
            ast = self._env.compile(expression)
            runner = self._env.program(ast)
        except Exception as exc:  # CELParseError, and lark's own errors on odd input
            raise CelError(f"does not compile: {one_line(exc)}") from None
        idents = {tok.value for tok in ast.scan_values(lambda v: getattr(v, "type", None) == "IDENT")}
        return _CelPyProgram(expression, frozenset(idents & set(VARIABLES)), runner)

    def activation(self, values: dict[str, Any], needed: frozenset[str] = frozenset()) -> _CelPyActivation:
        return _CelPyActivation(values)  # converts lazily, per variable, on first use


class _CelPyActivation:
    __slots__ = ("_raw", "_converted")

    def __init__(self, raw: dict[str, Any]) -> None:
        self._raw = raw
        self._converted: dict[str, Any] = {}

    def for_program(self, names: frozenset[str]) -> dict[str, Any]:
        from celpy.adapter import json_to_cel

        for name in names:
            if name not in self._converted and name in self._raw:
                value = self._raw[name]
                self._converted[name] = json_to_cel(value() if callable(value) else value)
        return self._converted


class _CelPyProgram:
    __slots__ = ("expression", "variables", "_runner")

    def __init__(self, expression: str, variables: frozenset[str], runner: Any) -> None:
        self.expression = expression
        self.variables = variables
        self._runner = runner

    def evaluate(self, activation: _CelPyActivation) -> Any:
        from celpy.evaluation import CELEvalError

        try:
            result = self._runner.evaluate(activation.for_program(self.variables))
        except CELEvalError as exc:
            detail = _celpy_detail(exc)
            absent = _ABSENT.match(detail)
            if absent:
                raise absent_field(absent.group(1)) from None
            raise CelError(f"evaluation failed: {detail}") from None
        except RecursionError:
            raise CelError("evaluation failed: nested too deeply") from None
        except Exception as exc:  # cel-python raises plain Python errors on some type mismatches
            raise CelError(f"evaluation failed: {type(exc).__name__}: {one_line(exc)}") from None
        if isinstance(result, CELEvalError):
            detail = _celpy_detail(result)
            absent = _ABSENT.match(detail)
            if absent:
                raise absent_field(absent.group(1))
            raise CelError(f"evaluation failed: {detail}")
        return to_python(result)


def _celpy_detail(error: Exception) -> str:
    """cel-python's message; for an index into a missing key (`m['k']`) it says only "no such key" and
    keeps the key in its arguments, `('no such key', KeyError, (key,))`: the key is named, as for `m.k`
    and as the Rust evaluator names it."""
    args = error.args
    if len(args) == 3 and args[0] == "no such key" and isinstance(args[2], tuple) and len(args[2]) == 1:
        return f"no such key: '{args[2][0]}'"
    return one_line(args[0] if args else error)


def to_python(value: Any) -> Any:
    """cel-python's result types are subclasses of Python's; turn them into the plain ones."""
    from celpy import celtypes

    if value is None or isinstance(value, celtypes.NullType):
        return None
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.BytesType):
        return bytes(value)
    if isinstance(value, celtypes.ListType):
        return [to_python(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {to_python(k): to_python(v) for k, v in value.items()}
    return value


EVALUATORS = ("cel-python", "cel-rust")


def absent_field(name: str) -> CelError:
    """A rule read a field the object does not have: said in CEL's terms, with the fix (both evaluators
    word it the same; the engine adds which policy and rule)."""
    return CelError(
        f"evaluation failed: no such key: '{name}' (the object has no field '{name}' there: guard "
        f"the read with has(), as in has(parent.{name}) && ...)"
    )


_ABSENT = re.compile(r"^no such (?:member in mapping|key): '([^']*)'$")


def evaluator(name: str = "cel-rust") -> Evaluator:
    if name == "cel-python":
        return CelPython()
    if name == "cel-rust":
        from webhook.policy.cel_rust import CelRust

        return CelRust()
    raise ValueError(f"unknown CEL evaluator {name!r} (known: {', '.join(EVALUATORS)})")
