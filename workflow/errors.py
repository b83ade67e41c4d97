"""Problems as values (docs/architecture.md, contract 4): every error and warning carries the field path it is about.

Paths are written the way kubectl prints them: `spec.templates[2].dag.tasks[0].dependencies`.
Nothing here raises: checks append to a `Problems` and the caller decides what to do with the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def child(path: str, key: str | int) -> str:
    """The path of `key` (a field name or a list index) under `path`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def map_child(path: str, key: str) -> str:
    """The path of a map entry: `status.nodes[wf-123]`, `metadata.labels[app.kubernetes.io/name]`."""
    return f"{path}[{key}]"


@dataclass(slots=True)
class Problems:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.errors.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Problem(path, message))

    def extend(self, other: Problems) -> None:
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)

    @property
    def ok(self) -> bool:
        return not self.errors
