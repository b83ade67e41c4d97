"""The exceptions of the expression languages: every one is a clear one-line message, never a traceback.

Syntax errors carry the source and a 0-based character offset; they print the 1-based line and column so
that `sluice lint` and the webhook can point at the character. Validation turns them into `Problem`s
with `str(err)`.
"""

from __future__ import annotations


class ExpressionError(ValueError):
    """Base of every error raised by workflow.expr and workflow.templating."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ExprSyntaxError(ExpressionError):
    """Source text that does not parse. `pos` is a 0-based character offset into `source`."""

    def __init__(self, message: str, source: str = "", pos: int = 0) -> None:
        super().__init__(message)
        self.source = source
        self.pos = max(0, min(pos, len(source)))

    @property
    def line(self) -> int:
        return self.source.count("\n", 0, self.pos) + 1

    @property
    def column(self) -> int:
        return self.pos - (self.source.rfind("\n", 0, self.pos) + 1) + 1

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if "\n" in self.source else f"column {self.column}"
        return f"{self.message} ({where})"

    def shifted(self, source: str, offset: int) -> ExprSyntaxError:
        """The same error located inside a larger text (an expression tag inside a field, say)."""
        return type(self)(self.message, source, self.pos + offset)


class ExprRuntimeError(ExpressionError):
    """An expression that parsed but could not be evaluated (wrong types, unknown name, bad index...)."""


class WhenSyntaxError(ExprSyntaxError):
    """A `when` that govaluate would not parse."""


class WhenError(ExpressionError):
    """A `when` that could not be decided at run time (bad types, non-boolean result)."""


class DependsSyntaxError(ExprSyntaxError):
    """A DAG task `depends` that does not parse, or names an unknown task result."""


class TemplateSyntaxError(ExprSyntaxError):
    """A `{{` without its `}}`, or an expression tag whose expression does not parse."""


class TemplateError(ExpressionError):
    """A substitution Argo refuses: an unresolved tag in strict mode, a non-string value, a failed expression."""
