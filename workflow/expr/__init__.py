"""The expression languages of Argo workflows, owned by the core (docs/architecture.md, contract 6).

* expr-lang, for `{{= }}` tags, `depends`, hooks, retry and other expressions: `compile_expr(src)` gives a
  `Program` with `.run(env, now=...)`, `.names()` and `.paths()`; `expand_scope` turns Argo's flat scope
  into the nested maps expressions read.
* govaluate, for step/task `when` after substitution: `compile_when` (a lint-time check with tags replaced
  by placeholders) and `evaluate_when`.
* DAG `depends`: `parse_depends(src) -> Depends` and `dependencies_as_depends` for the legacy list.

Syntax errors are ExprSyntaxError subclasses (a message and a position); run-time failures are
ExprRuntimeError, WhenError or TemplateError. None of them is ever a bare traceback.
"""

from workflow.expr.depends import RESULTS, Depends, TaskState, dependencies_as_depends, parse_depends
from workflow.expr.errors import (
    DependsSyntaxError,
    ExpressionError,
    ExprRuntimeError,
    ExprSyntaxError,
    TemplateError,
    TemplateSyntaxError,
    WhenError,
    WhenSyntaxError,
)
from workflow.expr.govaluate import WhenProgram, compile_when, evaluate_when
from workflow.expr.program import Program, compile_expr
from workflow.expr.scope import expand_scope

__all__ = [
    "RESULTS",
    "Depends",
    "DependsSyntaxError",
    "ExprRuntimeError",
    "ExprSyntaxError",
    "ExpressionError",
    "Program",
    "TaskState",
    "TemplateError",
    "TemplateSyntaxError",
    "WhenError",
    "WhenProgram",
    "WhenSyntaxError",
    "compile_expr",
    "compile_when",
    "dependencies_as_depends",
    "evaluate_when",
    "expand_scope",
    "parse_depends",
]
