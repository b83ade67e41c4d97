"""Which steps or tasks a template may read by name: a loop's aggregated outputs are built only for those.

A looped step's or task's outputs in scope (`steps.<name>.outputs.parameters`, `.outputs.result`: JSON
lists over every copy, engine/scope.py `aggregate`) cost a pass over all its copies, 10,000 for a large
fan-out, and were built on every step of the rest of the run even when nothing read them. Everything that
reads a steps template's scope is text inside that template (later groups' arguments, `when`,
`withParam`, hooks, `outputs.parameters[].valueFrom`), and a DAG task's scope is read only by the task
itself (its `outputs` by the DAG's `outputs`); so the aggregate is built when that text names the step or
task, and left out when it cannot.

The test is conservative: `steps.<word>` counts for every name starting with that word (`steps.a-b` is
`steps.a` minus `b` to an expression), and `steps` anywhere else (`steps['a']`, `toJson(steps)`, a space,
plain prose) counts for every name. A false "may read" costs only the aggregate's time, never a value.
"""

from __future__ import annotations

import re
from typing import Any


class Reads:
    """The names of `kind` ("steps" or "tasks") the strings of `value` may read."""

    __slots__ = ("_names", "_anything")

    def __init__(self, value: Any, kind: str):
        self._names: set[str] = set()
        self._anything = False
        self._scan(value, re.compile(rf"\b{kind}\b(?:\.(\w+))?"))

    def _scan(self, value: Any, pattern: re.Pattern[str]) -> None:
        stack = [value]
        while stack and not self._anything:
            item = stack.pop()
            if isinstance(item, str):
                for match in pattern.finditer(item):
                    word = match.group(1)
                    if word is None:
                        self._anything = True
                        return
                    self._names.add(word)
            elif isinstance(item, dict):
                # a key is rendered only when it holds a tag (`steps:` itself is structure, not a read)
                stack.extend(key for key in item if isinstance(key, str) and "{{" in key)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)

    def may_read(self, name: str) -> bool:
        """Whether `<kind>.<name>` may be read (False only when no string can refer to it)."""
        return self._anything or any(name.startswith(word) for word in self._names)
