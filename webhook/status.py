"""Problems as a Kubernetes `Status` (docs/architecture.md contract 4) and as admission warnings.

The API server wraps a webhook's Status into the error kubectl shows. With reason `Invalid`, code 422
and `details.causes`, kubectl prints `The Workflow "x" is invalid:` followed by one line per cause, so
every field path reaches the user, not only the first. The message repeats them (bounded) for clients
that print only the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workflow.errors import Problem

MAX_CAUSES = 500  # a Status is part of an API response; keep it well under any size limit
MAX_MESSAGE_PROBLEMS = 20
MAX_WARNINGS = 50
MAX_WARNING_CHARS = 500


def invalid_status(
    problems: Iterable[Problem],
    *,
    group: str,
    kind: str,
    name: str | None,
    cause_type: str = "FieldValueInvalid",
) -> dict[str, Any]:
    problems = list(problems)
    causes = [{"type": cause_type, "message": p.message, "field": p.field} for p in problems[:MAX_CAUSES]]
    if len(problems) > MAX_CAUSES:
        causes.append(
            {
                "type": "TooMany",
                "message": f"{len(problems) - MAX_CAUSES} more problems not shown",
                "field": "",
            }
        )
    shown = "; ".join(str(p) for p in problems[:MAX_MESSAGE_PROBLEMS])
    more = len(problems) - MAX_MESSAGE_PROBLEMS
    if more > 0:
        shown += f"; and {more} more"
    label = f'{kind} "{name}"' if name else kind
    noun = "problem" if len(problems) == 1 else "problems"
    details: dict[str, Any] = {"group": group, "kind": kind, "causes": causes}
    if name:
        details["name"] = name
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": f"{label} is invalid ({len(problems)} {noun}): {shown}",
        "reason": "Invalid",
        "details": details,
        "code": 422,
    }


def error_status(message: str, *, code: int, reason: str) -> dict[str, Any]:
    """A denial that is not about the object's fields (internal error, deadline)."""
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def warning_lines(problems: Iterable[Problem]) -> list[str]:
    """AdmissionReview warnings: one line per problem, `field: message`, bounded in count and length."""
    problems = list(problems)
    lines = []
    for p in problems[:MAX_WARNINGS]:
        text = " ".join(str(p).split())
        if len(text) > MAX_WARNING_CHARS:
            text = text[: MAX_WARNING_CHARS - 3] + "..."
        lines.append(text)
    if len(problems) > MAX_WARNINGS:
        lines.append(f"and {len(problems) - MAX_WARNINGS} more warnings")
    return lines
