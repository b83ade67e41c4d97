"""Argo's flat scope (`inputs.parameters.x`, `steps.a.outputs.result`) as the nested maps expressions read.

A key that is also the dotted prefix of another key is dropped, as Argo's util/expand does: with both
`inputs.parameters` (the JSON of all parameters) and `inputs.parameters.x`, the map wins, so that
`inputs.parameters['x']` works.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

_ABSENT = object()


def expand_scope(flat: Mapping[str, Any], roots: Collection[str] | None = None) -> dict[str, Any]:
    """The nested form of `flat`; with `roots`, only the keys under those first names (`inputs`, `steps`),
    which is all an expression needs when Program.names() says what it reads."""
    if roots is not None:
        flat = {k: v for k, v in flat.items() if k.partition(".")[0] in roots}
    prefixes: set[str] = set()
    for key in flat:
        dot = key.find(".")
        while dot > 0:
            prefixes.add(key[:dot])
            dot = key.find(".", dot + 1)
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if key in prefixes:
            continue
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return out


def has_path(expanded: Mapping[str, Any], path: str) -> bool:
    """Whether `a.b.c` leads to a value (None counts: an absent optional output is present, and nil)."""
    return lookup(expanded, path) is not _ABSENT


def lookup(expanded: Mapping[str, Any], path: str) -> Any:
    node: Any = expanded
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node
