"""Where each field of a YAML document is written: field paths (as `workflow/errors.py` `child` spells
them) mapped to 1-based (line, column), so a problem reads `file.yaml:12:5: spec.templates[0]...` as a
compiler's would. Built from PyYAML's composed nodes in `workflow/load.py`; pure, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from workflow.errors import child

Position = tuple[int, int]

# The last step of a field path: `.name`, `[3]` or `[map key]`.
_LAST_STEP = re.compile(r"(\.[^.\[\]]+|\[[^\[\]]*\])$")


def _mark(node: Any) -> Position:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


def node_positions(root: Any) -> dict[str, Position]:
    """Every field path under `root` (a yaml.Node) with the position of its key (or list item).

    Each node is entered once, so aliases cost what their text costs (an alias bomb stays small); an
    aliased value's fields are reported where they were first written."""
    from yaml import MappingNode, ScalarNode, SequenceNode  # noqa: PLC0415 (the loader imports yaml already)

    out: dict[str, Position] = {"": _mark(root)}
    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        below: list[tuple[Any, str]] = []
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if not isinstance(key, ScalarNode):
                    continue
                at = child(path, key.value)
                out.setdefault(at, _mark(key))
                out.setdefault(f"{path}[{key.value}]", _mark(key))  # a map entry (`status.nodes[id]`)
                below.append((value, at))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                at = child(path, index)
                out.setdefault(at, _mark(item))
                below.append((item, at))
        stack.extend(reversed(below))  # in document order: an alias's fields are where first written
    return out


def locate(positions: dict[str, Position], field: str) -> Position | None:
    """The position of `field`, else of its nearest written ancestor (a missing field: where its parent
    is); None without positions."""
    if not positions:
        return None
    path = field
    while True:
        if path in positions:
            return positions[path]
        shorter = _LAST_STEP.sub("", path)
        if shorter == path:
            return positions.get("")
        path = shorter
