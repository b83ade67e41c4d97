"""Resource templates' `successCondition` / `failureCondition`, and output parameters by `jsonPath`
(`jqFilter`: jqfilter.py, which runs jq in a bounded child process).

A condition is a Kubernetes label selector whose keys are paths into the object's JSON (Argo parses it
with `labels.ParseToRequirements` and reads each key with gjson): `status.succeeded > 0`,
`status.phase == Succeeded`, `status.phase in (Failed, Error)`, `status.active` (exists),
`!status.completionTime`, comma-separated requirements all holding. A key's value is its JSON value as
text (`1`, `true`, a string as is); a number compared with `>`/`<` must be a whole number.

Pure (no I/O): executor-sidecar/sluice_executor/resource.py polls the object and asks here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from workflow.expr import jsonpath

_MISSING = object()
_REQUIREMENT = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[^\s=!<>,()]+)\s*"
    r"(?:(?P<op>==|!=|=|>|<|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[^\s,()=!<>][^\s,()]*))?\s*$"
)


class ConditionError(ValueError):
    """A condition that does not parse; the message names it."""


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    op: str  # "in", "notin", "exists", "!exists", "gt", "lt"
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        shown = {"in": "in", "notin": "notin", "gt": ">", "lt": "<"}
        if self.op == "exists":
            return self.key
        if self.op == "!exists":
            return f"!{self.key}"
        if len(self.values) == 1 and self.op in ("in", "notin"):
            return f"{self.key} {'==' if self.op == 'in' else '!='} {self.values[0]}"
        if self.op in ("gt", "lt"):
            return f"{self.key} {shown[self.op]} {self.values[0]}"
        return f"{self.key} {shown[self.op]} ({', '.join(self.values)})"


def _split(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in (p.strip() for p in parts) if p]


def parse(condition: str) -> list[Requirement]:
    requirements = []
    for part in _split(condition or ""):
        m = _REQUIREMENT.match(part)
        if not m:
            raise ConditionError(f"cannot parse condition {part!r}")
        key, op, value = m.group("key"), (m.group("op") or "").strip(), m.group("value")
        if m.group("neg"):
            if op:
                raise ConditionError(f"cannot parse condition {part!r}: `!` takes a key alone")
            requirements.append(Requirement(key, "!exists"))
            continue
        if not op:
            requirements.append(Requirement(key, "exists"))
            continue
        if op in ("in", "notin"):
            if not (value.startswith("(") and value.endswith(")")):
                raise ConditionError(f"cannot parse condition {part!r}: `{op}` takes a list in parentheses")
            values = tuple(v.strip() for v in value[1:-1].split(",") if v.strip())
            requirements.append(Requirement(key, op, values))
        elif op in ("=", "=="):
            requirements.append(Requirement(key, "in", (value,)))
        elif op == "!=":
            requirements.append(Requirement(key, "notin", (value,)))
        else:
            try:
                int(value)
            except ValueError:
                raise ConditionError(
                    f"cannot parse condition {part!r}: `{op}` needs a whole number"
                ) from None
            requirements.append(Requirement(key, "gt" if op == ">" else "lt", (value,)))
    return requirements


def lookup(document: Any, path: str) -> Any:
    """gjson's dotted path: `status.conditions.0.type`; _MISSING when absent."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def matches(requirement: Requirement, document: Any) -> bool:
    value = lookup(document, requirement.key)
    has = value is not _MISSING and value is not None
    text = as_text(value) if has else ""
    if requirement.op == "exists":
        return has
    if requirement.op == "!exists":
        return not has
    if requirement.op == "in":
        return has and text in requirement.values
    if requirement.op == "notin":
        return not has or text not in requirement.values
    if not has:
        return False
    try:
        number = int(text)
    except ValueError:
        return False
    bound = int(requirement.values[0])
    return number > bound if requirement.op == "gt" else number < bound


def all_match(requirements: list[Requirement], document: Any) -> bool:
    return all(matches(r, document) for r in requirements)


def first_failure(requirements: list[Requirement], document: Any) -> Requirement | None:
    """Argo fails on the first failure requirement that holds (any, not all)."""
    return next((r for r in requirements if matches(r, document)), None)


def json_path(document: Any, template: str) -> str:
    """An output parameter's `jsonPath` (kubectl's template form `{.status.phase}`), as text."""
    text = template.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if not text.startswith("$"):
        text = "$" + (text if text.startswith((".", "[")) else "." + text)
    try:
        value = jsonpath.query(document, text)
    except Exception as exc:  # the evaluator's own error types
        raise ConditionError(f"jsonPath {template!r}: {exc}") from None
    if isinstance(value, list) and not isinstance(document, list) and not _definite(template):
        return " ".join(as_text(v) for v in value)
    return as_text(value)


def _definite(template: str) -> bool:
    return not any(token in template for token in ("*", "..", "[?", ",", ":"))
